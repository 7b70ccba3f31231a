//! Offline base map packages: MBTiles files under `basemaps/` of the data directory. A package arrives whole
//! (streamed to a temporary file and hashed on the way), is inspected, and only then moved into place under
//! its name, so a refused or broken upload leaves nothing behind and a phone downloading the old package
//! keeps reading it. The store keeps each package's description (`db/basemaps.rs`).
//!
//! An MBTiles file is itself an SQLite database; the `mbtiles` crate reads it (as the phone does), not the
//! server's store.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use protocol::{Basemap, BasemapFormat, Datum};
use rusqlite::Connection;

/// The directory of the packages, and the packages open for serving tiles to the console.
#[derive(Debug)]
pub struct BasemapFiles {
    dir: PathBuf,
    open: std::sync::Mutex<HashMap<String, Connection>>,
}

pub use mbtiles::{Inspected, Tile, inspect};

/// A package received in full: where it lies until installed, its size and its SHA-256.
#[derive(Debug)]
pub struct Received {
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
}

impl BasemapFiles {
    /// Opens (creating) the directory and removes what an interrupted upload left.
    pub fn open(dir: PathBuf) -> std::io::Result<BasemapFiles> {
        std::fs::create_dir_all(&dir)?;
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with(".incoming-") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(BasemapFiles { dir, open: std::sync::Mutex::new(HashMap::new()) })
    }

    /// Forgets an open package (replaced or deleted): the next tile opens the file now in place.
    fn forget(&self, name: &str) {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).remove(name);
    }

    /// The tile at zoom `z`, column `x`, row `y` counted from the north (as web maps count; MBTiles counts
    /// from the south) of an installed package; `None` where there is none.
    pub fn tile(&self, name: &str, z: u8, x: u32, y: u32) -> rusqlite::Result<Option<Tile>> {
        if !protocol::is_basemap_name(name) {
            return Ok(None);
        }
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if !open.contains_key(name) {
            let path = self.path(name);
            if !path.is_file() {
                return Ok(None);
            }
            open.insert(name.to_owned(), mbtiles::open(&path)?);
        }
        mbtiles::tile(&open[name], z, x, y)
    }

    /// The file of an installed package.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.mbtiles"))
    }

    /// A fresh temporary file name for a package on its way in.
    pub fn incoming_path(&self) -> PathBuf {
        self.dir.join(format!(".incoming-{}", uuid::Uuid::new_v4()))
    }

    /// Moves a received (and flushed) package into place under `name`, replacing the previous one; a
    /// reader of the previous file keeps reading it until it closes it.
    pub fn install(&self, received: &Received, name: &str) -> std::io::Result<()> {
        std::fs::rename(&received.path, self.path(name))?;
        self.forget(name);
        std::fs::File::open(&self.dir)?.sync_all()
    }

    pub fn remove(&self, name: &str) -> std::io::Result<()> {
        self.forget(name);
        match std::fs::remove_file(self.path(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Copies a package from a file (the command line's import) to a temporary file of the directory,
    /// hashing it on the way, and flushes it.
    pub fn receive_file(&self, from: &Path) -> std::io::Result<Received> {
        let mut source = std::fs::File::open(from)?;
        let path = self.incoming_path();
        let mut out = std::fs::File::create(&path)?;
        let mut hash = ring::digest::Context::new(&ring::digest::SHA256);
        let mut buf = vec![0u8; 1 << 20];
        let mut bytes = 0u64;
        let copied = (|| {
            loop {
                let n = source.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hash.update(&buf[..n]);
                out.write_all(&buf[..n])?;
                bytes += n as u64;
            }
            out.sync_all()
        })();
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        Ok(Received { path, bytes, sha256: hex::encode(hash.finish()) })
    }
}

/// The description the listing gives of an inspected package.
pub fn describe(name: &str, datum: Datum, inspected: Inspected, received: &Received, now: DateTime<Utc>) -> Basemap {
    Basemap {
        name: name.to_owned(),
        format: BasemapFormat::Mbtiles,
        datum,
        bounds: inspected.bounds,
        minzoom: inspected.minzoom,
        maxzoom: inspected.maxzoom,
        bytes: received.bytes,
        sha256: received.sha256.clone(),
        updated_at: now.fixed_offset(),
        tile_format: Some(inspected.tile_format),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n-a-tile";

    fn package(dir: &Path, metadata: &[(&str, &str)], tiles: &[(u8, u32, u32, &[u8])]) -> PathBuf {
        let path = dir.join(format!("{}.mbtiles", uuid::Uuid::new_v4()));
        mbtiles::write(&path, metadata, tiles.iter().copied()).unwrap();
        path
    }

    #[test]
    fn a_received_file_is_hashed_and_installed_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let files = BasemapFiles::open(dir.path().join("basemaps")).unwrap();
        std::fs::write(files.incoming_path(), b"left by a crash").unwrap();
        let files = BasemapFiles::open(dir.path().join("basemaps")).unwrap();
        let source = dir.path().join("in.bin");
        std::fs::write(&source, b"abc").unwrap();
        let received = files.receive_file(&source).unwrap();
        assert_eq!(received.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(received.bytes, 3);
        files.install(&received, "shenhe").unwrap();
        assert_eq!(std::fs::read(files.path("shenhe")).unwrap(), b"abc");
        let left: Vec<_> =
            std::fs::read_dir(dir.path().join("basemaps")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["shenhe.mbtiles"], "nothing else remains");
    }

    #[test]
    fn tiles_are_served_rows_from_the_north_and_follow_a_replaced_package() {
        let dir = tempfile::tempdir().unwrap();
        let files = BasemapFiles::open(dir.path().join("basemaps")).unwrap();
        // Zoom 1, x=1, TMS row 1: the north-eastern quarter, row 0 counted from the north.
        let first = package(dir.path(), &[("format", "png")], &[(1, 1, 1, PNG)]);
        files.install(&files.receive_file(&first).unwrap(), "shenhe").unwrap();
        let tile = files.tile("shenhe", 1, 1, 0).unwrap().unwrap();
        assert_eq!((tile.bytes.as_slice(), tile.content_type), (PNG, "image/png"));
        assert_eq!(files.tile("shenhe", 1, 1, 1).unwrap(), None);
        assert_eq!(files.tile("shenhe", 1, 2, 0).unwrap(), None);
        assert_eq!(files.tile("other", 1, 1, 0).unwrap(), None);

        let jpeg: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0];
        let second = package(dir.path(), &[("format", "jpg")], &[(1, 1, 1, jpeg)]);
        files.install(&files.receive_file(&second).unwrap(), "shenhe").unwrap();
        assert_eq!(files.tile("shenhe", 1, 1, 0).unwrap().unwrap().content_type, "image/jpeg", "the new package");
        files.remove("shenhe").unwrap();
        assert_eq!(files.tile("shenhe", 1, 1, 0).unwrap(), None);
    }
}
