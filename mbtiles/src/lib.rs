//! MBTiles packages (an SQLite file of map tiles), as the server and the phone both read them: opened
//! read-only and as immutable, checked to be a package of raster tiles (and what it covers), and read one
//! tile at a time with rows counted from the north as web maps count them (MBTiles counts from the south).

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

/// What checking a package found out about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspected {
    /// `png`, `jpg` or `webp`.
    pub tile_format: String,
    /// `[west, south, east, north]`.
    pub bounds: [f64; 4],
    pub minzoom: u8,
    pub maxzoom: u8,
}

/// A tile's bytes and media type.
#[derive(Debug, Clone, PartialEq)]
pub struct Tile {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

/// The tile at zoom `z`, column `x`, row `y` counted from the north; `None` where the package has none or
/// the address is outside the zoom's grid.
pub fn tile(conn: &Connection, z: u8, x: u32, y: u32) -> rusqlite::Result<Option<Tile>> {
    if z > 24 || u64::from(x) >= 1 << z || u64::from(y) >= 1 << z {
        return Ok(None);
    }
    let row = (1u32 << z) - 1 - y;
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached("SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3")?
        .query_row(rusqlite::params![z, x, row], |r| r.get(0))
        .optional()?;
    Ok(bytes.map(|bytes| Tile { content_type: media_type(&bytes), bytes }))
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
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(
        immutable_uri(path),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

/// Checks that a file is an MBTiles package of raster tiles and reads what the listing needs. The error
/// says what is wrong in words an admin can act on.
pub fn inspect(path: &Path) -> Result<Inspected, String> {
    let conn = open(path).map_err(|e| format!("the file cannot be opened: {e}"))?;
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
pub fn media_type(bytes: &[u8]) -> &'static str {
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
    let sniffed = match media_type(sample) {
        "image/png" => Some("png"),
        "image/jpeg" => Some("jpg"),
        "image/webp" => Some("webp"),
        _ => None,
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

/// Writes a package: `metadata` pairs and `tiles` as MBTiles stores them, `(zoom, column, row counted from
/// the south, bytes)`, in one transaction. For tests, benchmarks and demo packages; real ones come from GIS
/// tools (README, "Offline base maps").
pub fn write<'a>(
    path: &Path,
    metadata: &[(&str, &str)],
    tiles: impl IntoIterator<Item = (u8, u32, u32, &'a [u8])>,
) -> rusqlite::Result<()> {
    let mut conn = Connection::open(path)?;
    let tx = conn.transaction()?;
    tx.execute_batch(
        "CREATE TABLE metadata (name TEXT, value TEXT);
         CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
         CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);",
    )?;
    for (k, v) in metadata {
        tx.execute("INSERT INTO metadata VALUES (?1, ?2)", [k, v])?;
    }
    {
        let mut insert = tx.prepare("INSERT INTO tiles VALUES (?1, ?2, ?3, ?4)")?;
        for (z, x, row, data) in tiles {
            insert.execute(rusqlite::params![z, x, row, data])?;
        }
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n-a-tile";

    fn package(dir: &Path, metadata: &[(&str, &str)], tiles: &[(u8, u32, u32, &[u8])]) -> PathBuf {
        static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.join(format!("package-{n}.mbtiles"));
        write(&path, metadata, tiles.iter().copied()).unwrap();
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
    fn tiles_are_read_with_rows_from_the_north() {
        let dir = tempfile::tempdir().unwrap();
        // Zoom 1, x=1, TMS row 1: the north-eastern quarter, row 0 counted from the north.
        let p = package(dir.path(), &[("format", "png")], &[(1, 1, 1, PNG)]);
        let conn = open(&p).unwrap();
        let t = tile(&conn, 1, 1, 0).unwrap().unwrap();
        assert_eq!((t.bytes.as_slice(), t.content_type), (PNG, "image/png"));
        assert_eq!(tile(&conn, 1, 1, 1).unwrap(), None);
        assert_eq!(tile(&conn, 1, 2, 0).unwrap(), None, "outside the zoom's grid");
        assert_eq!(media_type(&[0xFF, 0xD8, 0xFF, 0xE0]), "image/jpeg");
        assert_eq!(media_type(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
    }
}
