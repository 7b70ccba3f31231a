//! Offline base maps on the phone: MBTiles packages downloaded from the server into `basemaps/` of the
//! app's home, resumed after a cut, checked against their SHA-256 before use, and read tile by tile for the
//! map (the Tauri shell serves them to the web view through its `tiles` scheme).
//!
//! A package is `NAME.mbtiles` with its description `NAME.json` (the server's listing entry). While it
//! downloads it is `NAME.part` with `NAME.part.json`, the entry it is the download of: a download resumes
//! only when the server still offers that very file (same SHA-256), else it starts again. A package is
//! used only once it is whole, verified and moved into place, so nothing half-installed is ever drawn.

use std::collections::HashMap;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use protocol::{Basemap, is_basemap_name};
use rusqlite::Connection;

use crate::error::{DeviceError, DeviceResult};
use crate::store::write_replacing;

/// Room kept free besides a package, so that a download never fills the phone.
const SPARE_BYTES: u64 = 64 << 20;

/// The packages of this device, and the open packages the map reads tiles from.
pub struct Basemaps {
    dir: PathBuf,
    open: Mutex<HashMap<String, Connection>>,
}

pub use mbtiles::Tile;

/// Where a download of a package stands: bytes on the phone of all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DownloadProgress {
    pub done: u64,
    pub total: u64,
}

fn valid(name: &str) -> DeviceResult<()> {
    if is_basemap_name(name) { Ok(()) } else { Err(DeviceError::Invalid(format!("`{name}` is not a base map name"))) }
}

impl Basemaps {
    /// The packages under `home/basemaps` (created when missing).
    pub fn open(home: &Path) -> DeviceResult<Basemaps> {
        let dir = home.join("basemaps");
        std::fs::create_dir_all(&dir)?;
        Ok(Basemaps { dir, open: Mutex::new(HashMap::new()) })
    }

    fn file(&self, name: &str, ext: &str) -> PathBuf {
        self.dir.join(format!("{name}.{ext}"))
    }

    fn read_entry(path: &Path) -> Option<Basemap> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    /// The packages installed and usable, by name.
    pub fn installed(&self) -> DeviceResult<Vec<Basemap>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let is_entry = path.extension().is_some_and(|e| e == "json")
                && !path.file_stem().is_some_and(|s| s.to_string_lossy().ends_with(".part"));
            if !is_entry {
                continue;
            }
            if let Some(b) = Self::read_entry(&path).filter(|b| self.file(&b.name, "mbtiles").is_file()) {
                out.push(b);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The download under way of a package, if any: the entry it is for and the bytes already here.
    pub fn partial(&self, name: &str) -> Option<(Basemap, u64)> {
        let entry = Self::read_entry(&self.file(name, "part.json"))?;
        let len = std::fs::metadata(self.file(name, "part")).map(|m| m.len()).unwrap_or(0);
        Some((entry, len))
    }

    /// Removes a package (and any download of it).
    pub fn remove(&self, name: &str) -> DeviceResult<()> {
        valid(name)?;
        self.open.lock().unwrap_or_else(|e| e.into_inner()).remove(name);
        for ext in ["json", "mbtiles", "part", "part.json"] {
            match std::fs::remove_file(self.file(name, ext)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        Ok(())
    }

    /// The tile at zoom `z`, column `x`, row `y` counted from the north (as web maps count; MBTiles
    /// counts rows from the south); `None` where the package has no tile.
    pub fn tile(&self, name: &str, z: u8, x: u32, y: u32) -> DeviceResult<Option<Tile>> {
        valid(name)?;
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if !open.contains_key(name) {
            let path = self.file(name, "mbtiles");
            if !path.is_file() {
                return Ok(None);
            }
            open.insert(name.to_owned(), mbtiles::open(&path)?);
        }
        Ok(mbtiles::tile(&open[name], z, x, y)?)
    }

    /// Prepares the download of `offered`: the bytes already here when they are of the same file (same
    /// SHA-256), else a fresh start. Refuses when the phone has not the room for the rest.
    pub fn begin(&self, offered: &Basemap) -> DeviceResult<u64> {
        valid(&offered.name)?;
        let have = match self.partial(&offered.name) {
            Some((entry, len)) if entry.sha256 == offered.sha256 && len <= offered.bytes => len,
            _ => {
                let _ = std::fs::remove_file(self.file(&offered.name, "part"));
                write_replacing(&self.file(&offered.name, "part.json"), &serde_json::to_vec(offered)?)?;
                0
            }
        };
        let free = fs4::available_space(&self.dir)?;
        let needed = offered.bytes - have;
        if free < needed.saturating_add(SPARE_BYTES) {
            return Err(DeviceError::NoSpace { needed, free });
        }
        Ok(have)
    }

    /// Appends downloaded bytes (from byte `at`, which must be what is here) to the package's download.
    pub fn append(&self, name: &str, at: u64, bytes: &[u8]) -> DeviceResult<()> {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(self.file(name, "part"))?;
        let len = f.seek(std::io::SeekFrom::End(0))?;
        if len != at {
            return Err(DeviceError::Invalid(format!("download of {name} out of step: {len} bytes here, {at} sent")));
        }
        f.write_all(bytes)?;
        Ok(())
    }

    /// Starts the download's bytes over (the server sent the whole file instead of the rest).
    pub fn restart(&self, name: &str) -> DeviceResult<()> {
        std::fs::File::create(self.file(name, "part"))?;
        Ok(())
    }

    /// Checks a finished download (its SHA-256, and that it reads as MBTiles with tiles) and puts it in place
    /// of the package of that name. A damaged download is removed, so the next attempt starts again.
    pub fn finish(&self, offered: &Basemap) -> DeviceResult<Basemap> {
        let part = self.file(&offered.name, "part");
        let checked = (|| {
            let mut f = std::fs::File::open(&part)?;
            f.sync_all()?;
            let mut hash = ring::digest::Context::new(&ring::digest::SHA256);
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hash.update(&buf[..n]);
            }
            if hex::encode(hash.finish()) != offered.sha256 {
                return Err(DeviceError::Invalid(format!(
                    "the downloaded base map {} is damaged (its SHA-256 differs); download it again",
                    offered.name
                )));
            }
            // The same check the server made before offering it: a package of raster tiles, with tiles.
            mbtiles::inspect(&part).map_err(|reason| {
                DeviceError::Invalid(format!("the base map {} cannot be used: {reason}", offered.name))
            })?;
            Ok(())
        })();
        if let Err(e) = checked {
            let _ = std::fs::remove_file(&part);
            let _ = std::fs::remove_file(self.file(&offered.name, "part.json"));
            return Err(e);
        }
        // The old entry goes first: at every moment the entry on disk describes the file beside it, or
        // there is none and the package is simply not installed.
        self.open.lock().unwrap_or_else(|e| e.into_inner()).remove(&offered.name);
        let _ = std::fs::remove_file(self.file(&offered.name, "json"));
        std::fs::rename(&part, self.file(&offered.name, "mbtiles"))?;
        std::fs::rename(self.file(&offered.name, "part.json"), self.file(&offered.name, "json"))?;
        std::fs::File::open(&self.dir)?.sync_all()?;
        Ok(offered.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, bytes: &[u8]) -> Basemap {
        serde_json::from_value(serde_json::json!({
            "name": name, "format": "mbtiles", "datum": "wgs84", "bounds": [123.3, 41.7, 123.5, 41.9],
            "minzoom": 1, "maxzoom": 1, "bytes": bytes.len(),
            "sha256": hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes)),
            "updated_at": "2026-12-04T08:00:00+08:00"
        }))
        .unwrap()
    }

    /// A package with two tiles at zoom 1: x=0 in the northern row (TMS row 1), x=1 in the southern (row 0).
    fn package(dir: &Path) -> Vec<u8> {
        let path = dir.join("made.mbtiles");
        let tiles: [(u8, u32, u32, &[u8]); 2] =
            [(1, 0, 1, b"\x89PNG-north-west"), (1, 1, 0, b"\xFF\xD8\xFF-south-east")];
        mbtiles::write(&path, &[("format", "png")], tiles).unwrap();
        std::fs::read(path).unwrap()
    }

    #[test]
    fn a_download_in_pieces_is_verified_installed_and_read_with_rows_from_the_north() {
        let home = tempfile::tempdir().unwrap();
        let maps = Basemaps::open(home.path()).unwrap();
        let bytes = package(home.path());
        let offered = entry("shenhe", &bytes);
        assert_eq!(maps.begin(&offered).unwrap(), 0);
        maps.append("shenhe", 0, &bytes[..1000]).unwrap();
        assert!(maps.installed().unwrap().is_empty(), "nothing half-downloaded is used");
        assert_eq!(maps.tile("shenhe", 1, 0, 0).unwrap(), None);

        // Cut: a new start resumes from the bytes here, since the server offers the same file.
        let maps = Basemaps::open(home.path()).unwrap();
        assert_eq!(maps.begin(&offered).unwrap(), 1000);
        assert!(maps.append("shenhe", 999, b"x").is_err(), "bytes out of step are refused");
        maps.append("shenhe", 1000, &bytes[1000..]).unwrap();
        assert_eq!(maps.finish(&offered).unwrap(), offered);
        assert_eq!(maps.installed().unwrap(), vec![offered.clone()]);

        let nw = maps.tile("shenhe", 1, 0, 0).unwrap().unwrap();
        assert_eq!((nw.bytes.as_slice(), nw.content_type), (&b"\x89PNG-north-west"[..], "image/png"));
        let se = maps.tile("shenhe", 1, 1, 1).unwrap().unwrap();
        assert_eq!(se.content_type, "image/jpeg");
        assert_eq!(maps.tile("shenhe", 1, 1, 0).unwrap(), None, "no tile there");
        assert_eq!(maps.tile("shenhe", 1, 2, 0).unwrap(), None, "outside the zoom's grid");
        assert_eq!(maps.tile("elsewhere", 1, 0, 0).unwrap(), None);
        assert!(maps.tile("../x", 1, 0, 0).is_err());

        maps.remove("shenhe").unwrap();
        assert!(maps.installed().unwrap().is_empty());
        assert_eq!(maps.tile("shenhe", 1, 0, 0).unwrap(), None);
    }

    #[test]
    fn a_changed_file_on_the_server_restarts_the_download() {
        let home = tempfile::tempdir().unwrap();
        let maps = Basemaps::open(home.path()).unwrap();
        let bytes = package(home.path());
        maps.begin(&entry("shenhe", &bytes)).unwrap();
        maps.append("shenhe", 0, &bytes[..500]).unwrap();
        let mut newer = bytes.clone();
        newer.extend_from_slice(b"another version");
        assert_eq!(maps.begin(&entry("shenhe", &newer)).unwrap(), 0, "another file: from the start");
    }

    #[test]
    fn a_damaged_download_is_refused_and_forgotten() {
        let home = tempfile::tempdir().unwrap();
        let maps = Basemaps::open(home.path()).unwrap();
        let bytes = package(home.path());
        let offered = entry("shenhe", &bytes);
        maps.begin(&offered).unwrap();
        let mut damaged = bytes.clone();
        damaged[200] ^= 0xFF;
        maps.append("shenhe", 0, &damaged).unwrap();
        let err = maps.finish(&offered).unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");
        assert!(maps.installed().unwrap().is_empty());
        assert!(maps.partial("shenhe").is_none(), "the next attempt starts again");

        // A file whose hash matches but that is no MBTiles (the server would not offer one, but still).
        let text = b"plain text, not a database".to_vec();
        let fake = entry("fake", &text);
        maps.begin(&fake).unwrap();
        maps.append("fake", 0, &text).unwrap();
        assert!(maps.finish(&fake).unwrap_err().to_string().contains("not an MBTiles package"));
    }

    #[test]
    fn a_package_larger_than_the_free_space_is_refused_before_it_starts() {
        let home = tempfile::tempdir().unwrap();
        let maps = Basemaps::open(home.path()).unwrap();
        let mut huge = entry("huge", b"x");
        huge.bytes = u64::MAX / 2;
        let err = maps.begin(&huge).unwrap_err();
        assert_eq!(err.code(), "no_space");
        assert!(err.to_string().contains("MB"), "{err}");
    }
}
