//! A place from an address typed by the centre's 受理员 (a hotline caller says "人民路 88号 门口"): the
//! dictionary road the address names, and a point on it. No geocoder runs offline; the road's name is the
//! one part of an address the city's own data knows.

use geo::{Coord, Euclidean, InterpolatableLine, LineString};
use protocol::Road;

/// The road an address names (the longest road name it contains, so that 中山北路 wins over 中山路 when
/// both are known) and the point halfway along its centre line, as `[lat, lon]`.
pub fn road_in_address<'a>(address: &str, roads: &'a [Road]) -> Option<(&'a Road, [f64; 2])> {
    let road = roads
        .iter()
        .filter(|r| !r.name.trim().is_empty() && !r.points.is_empty() && address.contains(r.name.trim()))
        .max_by_key(|r| r.name.trim().chars().count())?;
    let line: LineString<f64> = road.points.iter().map(|&[lat, lon]| Coord { x: lon, y: lat }).collect();
    let middle = line.point_at_ratio_from_start(&Euclidean, 0.5)?;
    Some((road, [middle.y(), middle.x()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn road(name: &str, points: &[[f64; 2]]) -> Road {
        Road { name: name.into(), grid: None, points: points.to_vec(), chief: None }
    }

    #[test]
    fn the_longest_road_name_in_the_address_wins_and_its_middle_is_the_place() {
        let roads = [
            road("中山路", &[[41.80, 123.40], [41.80, 123.42]]),
            road("中山北路", &[[41.81, 123.40], [41.81, 123.41], [41.83, 123.41]]),
        ];
        let (found, [lat, lon]) = road_in_address("沈河区中山北路88号门口", &roads).unwrap();
        assert_eq!(found.name, "中山北路");
        // Halfway along 0.01 + 0.02 of line: 0.015 from the start, on the second leg.
        assert!((lat - 41.815).abs() < 1e-9 && (lon - 123.41).abs() < 1e-9, "{lat},{lon}");
        let (found, [lat, lon]) = road_in_address("中山路与青年大街交口", &roads).unwrap();
        assert_eq!(found.name, "中山路");
        assert!((lat - 41.80).abs() < 1e-9 && (lon - 123.41).abs() < 1e-9);
    }

    #[test]
    fn an_address_naming_no_known_road_has_no_place() {
        let roads = [road("中山路", &[[41.80, 123.40], [41.80, 123.42]]), road("无线路", &[])];
        assert!(road_in_address("青年大街 3号", &roads).is_none());
        assert!(road_in_address("无线路 5号", &roads).is_none(), "a road without a line gives no point");
    }
}
