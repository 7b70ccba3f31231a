//! Offline base map benchmarks of the phone core, on a real MBTiles file the size of a district's package:
//! - install: the SHA-256 check and the move into place of a finished download (`Basemaps::finish`);
//! - tile: one tile read as the map asks for it (`Basemaps::tile`, the row flipped), random tiles of the
//!   package's zooms, the package open (as while the map is shown).
//!
//! Run: `cargo bench -p tiejiaoban-device --bench tiles` (figures go to BENCHMARKS.md). The tile served to
//! the web view is this read plus the scheme's hand-over to the web view (a thread and a copy of the bytes).

use std::time::{Duration, Instant};

use device::basemaps::Basemaps;

const TILE_BYTES: usize = 20_000;
const READS: usize = 20_000;

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A package around Shenyang's centre, zoom 12 to 18 over about 6 × 6 km: the tiles a district's package
/// holds (3,600 tiles of 20 KB, about 70 MB). Returns the tiles written, as (z, x, y counted from the north).
fn package(path: &std::path::Path) -> Vec<(u8, u32, u32)> {
    let (lat, lon, half_km) = (41.7968f64, 123.4328f64, 3.0);
    let mut written = Vec::new();
    let mut tiles = Vec::new();
    for z in 12u8..=18 {
        let n = f64::from(1u32 << z);
        let tile = |la: f64, lo: f64| {
            let x = ((lo + 180.0) / 360.0 * n) as u32;
            let y = ((1.0 - la.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n) as u32;
            (x, y)
        };
        let dlat = half_km / 111.0;
        let dlon = half_km / (111.0 * lat.to_radians().cos());
        let (x0, y0) = tile(lat + dlat, lon - dlon);
        let (x1, y1) = tile(lat - dlat, lon + dlon);
        for x in x0..=x1 {
            for y in y0..=y1 {
                let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
                bytes.extend((0..TILE_BYTES).map(|i| (i as u32 ^ x ^ (y << 3) ^ u32::from(z)) as u8));
                tiles.push((z, x, (1u32 << z) - 1 - y, bytes));
                written.push((z, x, y));
            }
        }
    }
    let metadata = [("format", "png"), ("minzoom", "12"), ("maxzoom", "18")];
    mbtiles::write(path, &metadata, tiles.iter().map(|(z, x, row, b)| (*z, *x, *row, b.as_slice()))).unwrap();
    written
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let made = tmp.path().join("district.mbtiles");
    let tiles = package(&made);
    let bytes = std::fs::read(&made).unwrap();
    println!("package: {} tiles, {:.1} MB", tiles.len(), bytes.len() as f64 / 1048576.0);

    let offered: protocol::Basemap = serde_json::from_value(serde_json::json!({
        "name": "district", "format": "mbtiles", "datum": "wgs84", "bounds": [123.39, 41.77, 123.47, 41.82],
        "minzoom": 12, "maxzoom": 18, "bytes": bytes.len(),
        "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
        "updated_at": "2026-12-04T08:00:00+08:00"
    }))
    .unwrap();
    let home = tmp.path().join("phone");
    let maps = Basemaps::open(&home).unwrap();
    maps.begin(&offered).unwrap();
    for (i, piece) in bytes.chunks(1 << 20).enumerate() {
        maps.append("district", (i << 20) as u64, piece).unwrap();
    }
    let t = Instant::now();
    maps.finish(&offered).unwrap();
    let finish = t.elapsed();
    println!(
        "install (SHA-256 check, MBTiles check, move into place): {:.0} ms, {:.0} MB/s",
        ms(finish),
        bytes.len() as f64 / 1048576.0 / finish.as_secs_f64()
    );

    // Random tiles, as panning and zooming ask for them; the first read opens the package.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let t = Instant::now();
    maps.tile("district", tiles[0].0, tiles[0].1, tiles[0].2).unwrap().unwrap();
    println!("first tile (opens the package): {:.2} ms", ms(t.elapsed()));
    let mut reads = Vec::with_capacity(READS);
    for _ in 0..READS {
        let (z, x, y) = tiles[(next() % tiles.len() as u64) as usize];
        let t = Instant::now();
        let tile = maps.tile("district", z, x, y).unwrap();
        reads.push(t.elapsed());
        assert!(tile.is_some_and(|t| t.bytes.len() > TILE_BYTES));
    }
    println!(
        "tile read ({READS} random tiles of 20 KB): p50 {:.3} ms, p99 {:.3} ms, max {:.2} ms (target median ≤ 2 ms)",
        ms(percentile(&mut reads, 0.5)),
        ms(percentile(&mut reads, 0.99)),
        ms(percentile(&mut reads, 1.0))
    );
}
