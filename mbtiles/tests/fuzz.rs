//! Property-based fuzzing of reading MBTiles packages an admin uploads: a real package with bytes broken
//! anywhere (header, schema, pages, tiles), cut short, or no package at all. `inspect` answers what the
//! package holds or says what is wrong; it never panics, and what it accepts has sane zooms and bounds.
//!
//! CI runs 64 cases per property (each writes a file); `scripts/fuzz.sh` runs many more. Failures are kept in
//! `tests/fuzz.proptest-regressions` and replayed first.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fuzz.proptest-regressions"
        )))),
        ..ProptestConfig::default()
    }
}

/// A small valid package: a PNG tile at zooms 10 to 12, with metadata.
fn package() -> Vec<u8> {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("p.mbtiles");
            let tile: &[u8] = b"\x89PNG\r\n\x1a\n0000";
            let metadata = [
                ("name", "测试"),
                ("format", "png"),
                ("minzoom", "10"),
                ("maxzoom", "12"),
                ("bounds", "123.40,41.78,123.46,41.81"),
            ];
            mbtiles::write(&path, &metadata, (10u8..=12).map(|z| (z, 1u32, 2u32, tile))).unwrap();
            std::fs::read(&path).unwrap()
        })
        .clone()
}

fn inspect_bytes(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upload.mbtiles");
    std::fs::write(&path, bytes).unwrap();
    if let Ok(found) = mbtiles::inspect(&path) {
        assert!(found.minzoom <= found.maxzoom && found.maxzoom <= 24, "{found:?}");
        let conn = mbtiles::open(&path).unwrap();
        // Reading tiles of an accepted package answers a tile, none, or an error, for any address.
        for (z, x, y) in [(found.minzoom, 0, 0), (found.maxzoom, u32::MAX, u32::MAX), (24, 1, 2)] {
            let _ = mbtiles::tile(&conn, z, x, y);
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// Bytes of a valid package overwritten at random places, in the header (first 100 bytes) or anywhere.
    #[test]
    fn a_damaged_package_is_answered(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), any::<bool>()), 1..16)) {
        let mut bytes = package();
        for (at, byte, in_header) in edits {
            let i = if in_header { at.index(100) } else { at.index(bytes.len()) };
            bytes[i] = byte;
        }
        inspect_bytes(&bytes);
    }

    #[test]
    fn a_package_cut_short_is_answered(at in any::<prop::sample::Index>()) {
        let bytes = package();
        inspect_bytes(&bytes[..at.index(bytes.len())]);
    }

    #[test]
    fn any_bytes_are_answered(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        inspect_bytes(&bytes);
        let _ = mbtiles::media_type(&bytes);
    }
}

/// The package the damage starts from is a good one: what the properties break is a working package.
#[test]
fn the_undamaged_package_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.mbtiles");
    std::fs::write(&path, package()).unwrap();
    let found = mbtiles::inspect(&path).unwrap();
    assert_eq!((found.minzoom, found.maxzoom, found.tile_format.as_str()), (10, 12, "png"));
}
