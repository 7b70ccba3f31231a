//! Offline base map packages: MBTiles files under `basemaps/` of the data directory. A package arrives whole
//! (streamed to a temporary file and hashed on the way), is inspected, and only then moved into place under
//! its name, so a refused or broken upload leaves nothing behind and a phone downloading the old package
//! keeps reading it. The store keeps each package's description (`db/basemaps.rs`).
//!
//! An MBTiles file is itself an SQLite database (tables `metadata` and `tiles`); it is read here, read-only
//! and as immutable, because it is a file format, not the server's store.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use protocol::{Basemap, BasemapFormat, Datum};
use rusqlite::{Connection, OpenFlags, OptionalExtension};

/// The directory of the packages, and the packages open for serving tiles to the console.
#[derive(Debug)]
pub struct BasemapFiles {
    dir: PathBuf,
    open: std::sync::Mutex<HashMap<String, Connection>>,
}

/// A tile's bytes and media type.
#[derive(Debug, Clone, PartialEq)]
pub struct Tile {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

/// What inspecting a package found out: what the listing says besides the name, datum, size and hash.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspected {
    /// `png`, `jpg` or `webp`.
    pub tile_format: String,
    /// `[west, south, east, north]`.
    pub bounds: [f64; 4],
    pub minzoom: u8,
    pub maxzoom: u8,
}

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
        if !protocol::is_basemap_name(name) || z > 24 || u64::from(x) >= 1 << z || u64::from(y) >= 1 << z {
            return Ok(None);
        }
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if !open.contains_key(name) {
            let path = self.path(name);
            if !path.is_file() {
                return Ok(None);
            }
            open.insert(name.to_owned(), open_mbtiles(&path)?);
        }
        let row = (1u32 << z) - 1 - y;
        let bytes: Option<Vec<u8>> = open[name]
            .prepare_cached("SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3")?
            .query_row(rusqlite::params![z, x, row], |r| r.get(0))
            .optional()?;
        Ok(bytes.map(|bytes| Tile { content_type: media_type(&bytes), bytes }))
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

/// An SQLite URI naming the file as immutable: it is only read, and it may have been written in WAL mode
/// without its log.
fn immutable_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// Opens an MBTiles file read-only.
pub fn open_mbtiles(path: &Path) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(
        immutable_uri(path),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

/// Checks that a file is an MBTiles package of raster tiles and reads what the listing needs. The error
/// says what is wrong in words an admin can act on.
pub fn inspect(path: &Path) -> Result<Inspected, String> {
    let conn = open_mbtiles(path).map_err(|e| format!("the file cannot be opened: {e}"))?;
    let tables: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name IN ('metadata', 'tiles')",
            [],
            |r| r.get(0),
        )
        .map_err(|_| "the file is not an MBTiles package (not an SQLite database)".to_owned())?;
    if tables != 2 {
        return Err("the file is not an MBTiles package (it needs the tables `metadata` and `tiles`)".into());
    }
    let unreadable = |e: rusqlite::Error| format!("the MBTiles package cannot be read: {e}");
    let metadata: HashMap<String, String> = conn
        .prepare("SELECT name, value FROM metadata")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(unreadable)?;
    let first_tile: Option<(u8, Vec<u8>)> = conn
        .query_row("SELECT zoom_level, tile_data FROM tiles LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(unreadable)?;
    let Some((_, sample)) = first_tile else {
        return Err("the MBTiles package holds no tiles".into());
    };
    let tile_format = tile_format(metadata.get("format").map(String::as_str), &sample)?;

    let zoom = |key: &str| metadata.get(key).and_then(|v| v.trim().parse::<u8>().ok()).filter(|z| *z <= 24);
    let (minzoom, maxzoom) = match (zoom("minzoom"), zoom("maxzoom")) {
        (Some(min), Some(max)) if min <= max => (min, max),
        _ => conn
            .query_row("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(unreadable)?,
    };
    if maxzoom > 24 {
        return Err(format!("zoom level {maxzoom} is beyond 24"));
    }
    let bounds = match metadata.get("bounds").map(|b| parse_bounds(b)) {
        Some(Ok(b)) => b,
        Some(Err(e)) => return Err(e),
        None => tile_bounds(&conn, minzoom).map_err(unreadable)?,
    };
    Ok(Inspected { tile_format, bounds, minzoom, maxzoom })
}

/// A tile's media type, told by its first bytes.
fn media_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        "application/octet-stream"
    }
}

/// The tiles' image type: what the metadata says, else what the first tile's bytes are.
fn tile_format(declared: Option<&str>, sample: &[u8]) -> Result<String, String> {
    let sniffed = if sample.starts_with(b"\x89PNG") {
        Some("png")
    } else if sample.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpg")
    } else if sample.len() >= 12 && &sample[..4] == b"RIFF" && &sample[8..12] == b"WEBP" {
        Some("webp")
    } else {
        None
    };
    match declared.map(|f| f.trim().to_ascii_lowercase()).as_deref() {
        Some("png") => Ok("png".into()),
        Some("jpg" | "jpeg") => Ok("jpg".into()),
        Some("webp") => Ok("webp".into()),
        Some("pbf" | "mvt") => {
            Err("vector tiles (pbf) are not supported: make a package of raster tiles (png, jpg or webp)".into())
        }
        Some(other) if sniffed.is_none() => {
            Err(format!("tiles of format `{other}` are not supported (png, jpg, webp)"))
        }
        _ => sniffed.map(str::to_owned).ok_or_else(|| "the tiles are not png, jpg or webp images".to_owned()),
    }
}

/// `"west,south,east,north"` in degrees.
fn parse_bounds(text: &str) -> Result<[f64; 4], String> {
    let bad = || format!("the bounds `{text}` are not west,south,east,north in degrees");
    let parts: Vec<f64> =
        text.split(',').map(|p| p.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| bad())?;
    let [w, s, e, n] = <[f64; 4]>::try_from(parts).map_err(|_| bad())?;
    let lon = |v: f64| (-180.0..=180.0).contains(&v);
    let lat = |v: f64| (-90.0..=90.0).contains(&v);
    if !(lon(w) && lon(e) && lat(s) && lat(n) && w < e && s < n) {
        return Err(bad());
    }
    Ok([w, s, e, n])
}

/// The bounds the tiles of one zoom level cover (rows are TMS: counted from the south).
fn tile_bounds(conn: &Connection, zoom: u8) -> rusqlite::Result<[f64; 4]> {
    let (x0, x1, row0, row1): (i64, i64, i64, i64) = conn.query_row(
        "SELECT MIN(tile_column), MAX(tile_column), MIN(tile_row), MAX(tile_row) FROM tiles WHERE zoom_level = ?1",
        [zoom],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let n = f64::from(1u32 << zoom);
    let lon = |x: i64| x as f64 / n * 360.0 - 180.0;
    // XYZ row y counts from the north: y = n - 1 - row; the northern edge of y is lat(y), the southern lat(y + 1).
    let lat = |y: f64| (std::f64::consts::PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
    let north = lat(n - 1.0 - row1 as f64);
    let south = lat(n - row0 as f64);
    Ok([lon(x0), south, lon(x1 + 1), north])
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n-a-tile";

    fn package(dir: &Path, metadata: &[(&str, &str)], tiles: &[(u8, i64, i64, &[u8])]) -> PathBuf {
        let path = dir.join(format!("{}.mbtiles", uuid::Uuid::new_v4()));
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE metadata (name TEXT, value TEXT);
             CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
             CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);",
        )
        .unwrap();
        for (k, v) in metadata {
            conn.execute("INSERT INTO metadata VALUES (?1, ?2)", [k, v]).unwrap();
        }
        for (z, x, y, data) in tiles {
            conn.execute("INSERT INTO tiles VALUES (?1, ?2, ?3, ?4)", rusqlite::params![z, x, y, data]).unwrap();
        }
        path
    }

    #[test]
    fn a_package_with_full_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let meta = [
            ("name", "沈河"),
            ("format", "png"),
            ("bounds", "123.3,41.7,123.5,41.9"),
            ("minzoom", "12"),
            ("maxzoom", "17"),
        ];
        let p = package(dir.path(), &meta, &[(12, 3450, 2560, PNG)]);
        assert_eq!(
            inspect(&p).unwrap(),
            Inspected { tile_format: "png".into(), bounds: [123.3, 41.7, 123.5, 41.9], minzoom: 12, maxzoom: 17 }
        );
    }

    #[test]
    fn what_the_metadata_leaves_out_is_read_from_the_tiles() {
        let dir = tempfile::tempdir().unwrap();
        // Zoom 1: the tile x=1, TMS row 1 (the north-eastern quarter of the world).
        let jpeg: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0];
        let p = package(dir.path(), &[("name", "x")], &[(1, 1, 1, jpeg), (3, 4, 4, jpeg)]);
        let got = inspect(&p).unwrap();
        assert_eq!((got.tile_format.as_str(), got.minzoom, got.maxzoom), ("jpg", 1, 3));
        let [w, s, e, n] = got.bounds;
        assert_eq!((w, s, e), (0.0, 0.0, 180.0));
        assert!((n - 85.0511).abs() < 1e-3, "{n}");
    }

    #[test]
    fn what_is_not_a_raster_package_is_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.mbtiles");
        std::fs::write(&junk, b"this is not a database at all, just text").unwrap();
        assert!(inspect(&junk).unwrap_err().contains("not an MBTiles package"));

        let other = dir.path().join("other.sqlite");
        Connection::open(&other).unwrap().execute_batch("CREATE TABLE things (a);").unwrap();
        assert!(inspect(&other).unwrap_err().contains("`metadata` and `tiles`"));

        let empty = package(dir.path(), &[("format", "png")], &[]);
        assert!(inspect(&empty).unwrap_err().contains("no tiles"));

        let vector = package(dir.path(), &[("format", "pbf")], &[(0, 0, 0, b"\x1f\x8b")]);
        assert!(inspect(&vector).unwrap_err().contains("vector tiles"));

        let bad_bounds = package(dir.path(), &[("format", "png"), ("bounds", "123.5,41.7,123.3")], &[(0, 0, 0, PNG)]);
        assert!(inspect(&bad_bounds).unwrap_err().contains("bounds"));
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
