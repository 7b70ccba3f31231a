//! Grids from GeoJSON, as a GIS tool exports them: a FeatureCollection of Polygon and MultiPolygon features in
//! WGS-84 (`[lon, lat]`), whose properties carry `code`, `name`, and optionally `team` and `inspectors`.
//! Everything is checked before anything is kept: the first problem names its feature.

use std::collections::HashMap;

use geo::{BooleanOps, BoundingRect, GeodesicArea, Intersects};
use geojson::{GeoJson, Value};
use protocol::Grid;
use serde_json::Value as Json;

use crate::grids::{GridIndex, check};

/// Why a GeoJSON file cannot be imported; `feature` is the index in its `features` (from 0), when one is
/// to blame.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{message}", feature_prefix(*feature, code.as_deref()))]
pub struct ImportError {
    pub feature: Option<usize>,
    pub code: Option<String>,
    pub message: String,
}

fn feature_prefix(feature: Option<usize>, code: Option<&str>) -> String {
    match (feature, code) {
        (Some(i), Some(c)) => format!("features[{i}] (code {c}): "),
        (Some(i), None) => format!("features[{i}]: "),
        _ => String::new(),
    }
}

/// Two grids that share more than a border, and by how much.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlap {
    pub a: String,
    pub b: String,
    pub area_m2: f64,
}

/// What a file holds: its grids, in the file's order, and the overlaps worth a warning.
#[derive(Debug, Clone)]
pub struct GridImport {
    pub grids: Vec<Grid>,
    pub overlaps: Vec<Overlap>,
}

/// Overlaps smaller than this are drawing noise along a shared road, not two owners for one place.
pub const OVERLAP_WARN_M2: f64 = 1.0;

fn whole_file(message: impl Into<String>) -> ImportError {
    ImportError { feature: None, code: None, message: message.into() }
}

/// A property as text: strings as they are, numbers written out (GIS tools often store codes as numbers).
fn text(value: Option<&Json>) -> Option<String> {
    match value? {
        Json::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `inspectors` as a JSON array, or as one text separated by commas (what a shapefile's field can hold).
fn usernames(value: Option<&Json>) -> Result<Vec<String>, String> {
    let names: Vec<String> = match value {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(items)) => items
            .iter()
            .map(|v| text(Some(v)).ok_or_else(|| "`inspectors` holds something that is not a username".to_owned()))
            .collect::<Result<_, _>>()?,
        Some(Json::String(s)) => {
            s.split([',', '，', ';', '；']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
        }
        Some(_) => return Err("`inspectors` is neither a list of usernames nor a text".into()),
    };
    Ok(names)
}

/// GeoJSON rings (`[lon, lat]`) as the dictionary's (`[lat, lon]`), refusing the obvious swap.
fn rings(polygon: &[Vec<Vec<f64>>]) -> Result<Vec<Vec<[f64; 2]>>, String> {
    polygon
        .iter()
        .map(|ring| {
            ring.iter()
                .map(|p| match p.as_slice() {
                    [lon, lat, ..] if lat.abs() > 90.0 && lon.abs() <= 90.0 => Err(format!(
                        "the point [{lon}, {lat}] has a latitude beyond 90°: the coordinates look like \
                         [lat, lon], GeoJSON wants [lon, lat]"
                    )),
                    [lon, lat, ..] => Ok([*lat, *lon]),
                    _ => Err("a position has fewer than two numbers".to_owned()),
                })
                .collect()
        })
        .collect()
}

/// Reads grids from GeoJSON text. Refuses the whole file at the first problem: not GeoJSON, not a
/// FeatureCollection, a feature without a code, a repeated code, a geometry that is not a (multi)polygon,
/// swapped coordinates, or a ring that is open, too short or crosses itself.
pub fn import_geojson(text_in: &str) -> Result<GridImport, ImportError> {
    let geojson: GeoJson = text_in.parse().map_err(|e| whole_file(format!("not GeoJSON: {e}")))?;
    let GeoJson::FeatureCollection(collection) = geojson else {
        return Err(whole_file("the file is GeoJSON but not a FeatureCollection of grids"));
    };
    if collection.features.is_empty() {
        return Err(whole_file("the FeatureCollection has no features"));
    }
    let mut grids = Vec::with_capacity(collection.features.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, feature) in collection.features.iter().enumerate() {
        let fail = |code: Option<&str>, message: String| ImportError {
            feature: Some(i),
            code: code.map(str::to_owned),
            message,
        };
        let property = |name: &str| feature.properties.as_ref().and_then(|p| p.get(name));
        let code = text(property("code")).ok_or_else(|| fail(None, "has no `code` property".into()))?;
        if let Some(first) = seen.insert(code.clone(), i) {
            return Err(fail(Some(&code), format!("repeats the code of features[{first}]")));
        }
        let name = text(property("name")).unwrap_or_else(|| code.clone());
        let team = text(property("team"));
        let inspectors = usernames(property("inspectors")).map_err(|m| fail(Some(&code), m))?;
        let polygons: Vec<&Vec<Vec<Vec<f64>>>> = match feature.geometry.as_ref().map(|g| &g.value) {
            Some(Value::Polygon(p)) => vec![p],
            Some(Value::MultiPolygon(ps)) if !ps.is_empty() => ps.iter().collect(),
            Some(other) => {
                return Err(fail(Some(&code), format!("is a {}, not a Polygon or MultiPolygon", other.type_name())));
            }
            None => return Err(fail(Some(&code), "has no geometry".into())),
        };
        let mut parts =
            polygons.into_iter().map(|p| rings(p)).collect::<Result<Vec<_>, _>>().map_err(|m| fail(Some(&code), m))?;
        let polygon = parts.remove(0);
        let grid = Grid { code: code.clone(), name, team, inspectors, polygon, parts };
        check(&grid).map_err(|m| fail(Some(&code), m))?;
        grids.push(grid);
    }
    let overlaps = overlaps(&grids);
    Ok(GridImport { grids, overlaps })
}

/// Pairs of grids that share more than `OVERLAP_WARN_M2`, with the shared area.
pub fn overlaps(grids: &[Grid]) -> Vec<Overlap> {
    let index = GridIndex::new(grids);
    let mut found = Vec::new();
    for (code, shape) in index.iter() {
        let Some(r) = shape.bounding_rect() else { continue };
        for j in index.candidates([r.min().y, r.min().x], [r.max().y, r.max().x]) {
            let (other, other_shape) = index.at(j);
            if other <= code || !shape.intersects(other_shape) {
                continue;
            }
            let area_m2 = shape.intersection(other_shape).geodesic_area_unsigned();
            if area_m2 > OVERLAP_WARN_M2 {
                found.push(Overlap { a: code.to_owned(), b: other.to_owned(), area_m2 });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feature(props: &str, coordinates: &str) -> String {
        format!(
            r#"{{"type": "Feature", "properties": {props}, "geometry": {{"type": "Polygon", "coordinates": {coordinates}}}}}"#
        )
    }

    /// A square ring from (lon0, lat0) to (lon1, lat1), GeoJSON order.
    fn square(lon0: f64, lat0: f64, lon1: f64, lat1: f64) -> String {
        format!("[[[{lon0}, {lat0}], [{lon1}, {lat0}], [{lon1}, {lat1}], [{lon0}, {lat1}], [{lon0}, {lat0}]]]")
    }

    fn collection(features: &[String]) -> String {
        format!(r#"{{"type": "FeatureCollection", "features": [{}]}}"#, features.join(","))
    }

    #[test]
    fn reads_codes_names_teams_and_inspectors() {
        let text = collection(&[
            feature(
                r#"{"code": "210102001", "name": "中山路北", "team": "一中队", "inspectors": ["inspector1"]}"#,
                &square(123.40, 41.80, 123.41, 41.81),
            ),
            feature(
                r#"{"code": 210102002, "inspectors": "inspector2, inspector3"}"#,
                &square(123.41, 41.80, 123.42, 41.81),
            ),
        ]);
        let imported = import_geojson(&text).unwrap();
        assert_eq!(imported.grids.len(), 2);
        let [a, b] = &imported.grids[..] else { unreachable!() };
        assert_eq!((a.code.as_str(), a.name.as_str(), a.team.as_deref()), ("210102001", "中山路北", Some("一中队")));
        assert_eq!(a.polygon[0][1], [41.80, 123.41], "[lon, lat] in the file, [lat, lon] in the dictionary");
        assert_eq!(b.name, "210102002", "a grid without a name is called by its code");
        assert_eq!(b.inspectors, ["inspector2", "inspector3"]);
        assert!(imported.overlaps.is_empty(), "neighbours that share a border do not overlap");
    }

    #[test]
    fn warns_of_an_overlap_with_its_area() {
        // The second square reaches 0.001° (about 83 m) into the first, along its whole 0.01° (1.1 km) side.
        let text = collection(&[
            feature(r#"{"code": "A"}"#, &square(123.40, 41.80, 123.41, 41.81)),
            feature(r#"{"code": "B"}"#, &square(123.409, 41.80, 123.42, 41.81)),
        ]);
        let imported = import_geojson(&text).unwrap();
        let [overlap] = &imported.overlaps[..] else { panic!("{:?}", imported.overlaps) };
        assert_eq!((overlap.a.as_str(), overlap.b.as_str()), ("A", "B"));
        // 83 m × 1112 m ≈ 92,000 m².
        assert!((overlap.area_m2 - 92_000.0).abs() < 2_000.0, "{}", overlap.area_m2);
    }

    #[test]
    fn takes_multipolygons() {
        let text = collection(&[format!(
            r#"{{"type": "Feature", "properties": {{"code": "M"}}, "geometry": {{"type": "MultiPolygon", "coordinates": [{}, {}]}}}}"#,
            square(123.40, 41.80, 123.41, 41.81),
            square(123.40, 41.82, 123.41, 41.83)
        )]);
        let imported = import_geojson(&text).unwrap();
        assert_eq!(imported.grids[0].parts.len(), 1);
    }

    fn refusal(text: &str) -> ImportError {
        import_geojson(text).unwrap_err()
    }

    #[test]
    fn refuses_what_it_cannot_keep_and_names_the_feature() {
        let good = feature(r#"{"code": "A"}"#, &square(123.40, 41.80, 123.41, 41.81));

        assert!(refusal("{ not json").message.starts_with("not GeoJSON"));
        assert!(refusal(r#"{"type": "Point", "coordinates": [1, 2]}"#).message.contains("not a FeatureCollection"));
        assert!(refusal(&collection(&[])).message.contains("no features"));

        let e = refusal(&collection(&[
            good.clone(),
            feature(r#"{"name": "无编码"}"#, &square(123.41, 41.80, 123.42, 41.81)),
        ]));
        assert_eq!((e.feature, e.code.as_deref()), (Some(1), None));
        assert_eq!(e.to_string(), "features[1]: has no `code` property");

        let e = refusal(&collection(&[good.clone(), good.clone()]));
        assert_eq!((e.feature, e.code.as_deref()), (Some(1), Some("A")));
        assert!(e.message.contains("repeats the code of features[0]"));

        // [lat, lon] instead of [lon, lat].
        let e = refusal(&collection(&[feature(r#"{"code": "S"}"#, &square(41.80, 123.40, 41.81, 123.41))]));
        assert!(e.message.contains("look like [lat, lon]"), "{e}");

        let open = r#"[[[123.40, 41.80], [123.41, 41.80], [123.41, 41.81], [123.40, 41.81]]]"#;
        assert!(refusal(&collection(&[feature(r#"{"code": "O"}"#, open)])).message.contains("not closed"));

        let bow = r#"[[[123.40, 41.80], [123.41, 41.81], [123.41, 41.80], [123.40, 41.81], [123.40, 41.80]]]"#;
        let e = refusal(&collection(&[good.clone(), feature(r#"{"code": "X"}"#, bow)]));
        assert_eq!((e.feature, e.code.as_deref()), (Some(1), Some("X")));
        assert!(e.message.contains("self-intersection"), "{e}");

        let line = r#"{"type": "Feature", "properties": {"code": "L"}, "geometry": {"type": "LineString", "coordinates": [[123.4, 41.8], [123.5, 41.9]]}}"#;
        assert!(refusal(&collection(&[line.to_owned()])).message.contains("is a LineString"));
    }
}
