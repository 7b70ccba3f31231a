//! Property-based fuzzing of grid import: GeoJSON as GIS tools export it, then broken in every way a file
//! can be. Import answers grids or an error naming the feature, never a panic; the grids it answers have
//! closed rings of real coordinates and an index that places points in them.
//!
//! CI runs 2,048 cases per property; `scripts/fuzz.sh` runs many more. Failures are kept in
//! `tests/fuzz.proptest-regressions` and replayed first.

use places::{GridIndex, import_geojson};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{Value, json};

/// 2,048 cases per property unless `PROPTEST_CASES` says otherwise (an import of a small file is cheap).
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2048);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fuzz.proptest-regressions"
        )))),
        ..ProptestConfig::default()
    }
}

fn square(code: &str, lon: f64, lat: f64, size: f64) -> Value {
    json!({"type": "Feature", "properties": {"code": code, "name": "网格", "team": "一中队", "inspectors": "inspector1"},
           "geometry": {"type": "Polygon", "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size],
                                                           [lon, lat + size], [lon, lat]]]}})
}

fn collection() -> Value {
    json!({"type": "FeatureCollection", "features": [square("A", 123.42, 41.79, 0.005), square("B", 123.43, 41.79, 0.005)]})
}

/// What an accepted import promises.
fn accepted_grids_are_sane(text: &str) {
    let Ok(import) = import_geojson(text) else { return };
    for grid in &import.grids {
        for ring in std::iter::once(&grid.polygon).chain(&grid.parts).flatten() {
            assert!(ring.len() >= 4 && ring.first() == ring.last(), "ring of {}", grid.code);
            for [lat, lon] in ring {
                assert!(lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0);
            }
        }
    }
    let index = GridIndex::new(&import.grids);
    for grid in &import.grids {
        let [lat, lon] = grid.polygon[0][0];
        let _ = index.locate(lat, lon);
    }
}

fn coordinate() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-200.0..200.0f64).prop_map(|n| json!(n)),
        prop::sample::select(vec![1e308, -1e308, 0.0, -0.0, 90.0, 180.0, 5e-324, 123.42, 41.79]).prop_map(|n| json!(n)),
        Just(json!("123.4")),
        Just(Value::Null),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_is_answered(text in ".{0,400}") {
        accepted_grids_are_sane(&text);
    }

    /// A valid file with characters replaced, inserted or removed.
    #[test]
    fn a_mutated_file_is_answered(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<char>(), 0..3u8), 1..8)) {
        let mut chars: Vec<char> = collection().to_string().chars().collect();
        for (at, c, how) in edits {
            let i = at.index(chars.len());
            match how {
                0 => chars[i] = c,
                1 => chars.insert(i, c),
                _ => { chars.remove(i); }
            }
        }
        accepted_grids_are_sane(&chars.into_iter().collect::<String>());
    }

    /// Any coordinate anywhere in a ring, rings of any length, open or closed, crossing themselves or not.
    #[test]
    fn any_ring_is_answered(points in prop::collection::vec((coordinate(), coordinate()), 0..9), close in any::<bool>()) {
        let mut ring: Vec<Value> = points.into_iter().map(|(a, b)| json!([a, b])).collect();
        if close && !ring.is_empty() {
            ring.push(ring[0].clone());
        }
        let mut file = collection();
        file["features"][1]["geometry"]["coordinates"] = json!([ring]);
        accepted_grids_are_sane(&file.to_string());
    }

    /// Properties of any kind: codes as numbers, lists, nested objects; inspectors as anything.
    #[test]
    fn any_properties_are_answered(code in prop_oneof![Just(json!(null)), Just(json!(42)), Just(json!([])), ".{0,20}".prop_map(Value::String)],
                                   inspectors in prop_oneof![Just(json!(null)), Just(json!([1, {"a": 2}])), ".{0,30}".prop_map(Value::String)]) {
        let mut file = collection();
        file["features"][0]["properties"]["code"] = code;
        file["features"][0]["properties"]["inspectors"] = inspectors;
        accepted_grids_are_sane(&file.to_string());
    }
}

/// The file the mutations start from is a good one: what they break is a working import.
#[test]
fn the_unbroken_file_is_imported() {
    let import = import_geojson(&collection().to_string()).unwrap();
    assert_eq!(import.grids.len(), 2);
}
