//! Distances on the WGS-84 sphere, as both ends need them (track length, nearby cases).

/// Mean Earth radius in metres (IUGG).
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance in metres between two WGS-84 points (haversine).
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// Half-sizes in degrees of a box that holds every point within `radius_m` of a point at `lat`.
pub fn degree_box(lat: f64, radius_m: f64) -> (f64, f64) {
    let dlat = radius_m / 111_195.0;
    let dlon = radius_m / (111_195.0 * lat.to_radians().cos().abs().max(1e-6));
    (dlat, dlon)
}

/// Metres per degree of latitude on the mean sphere.
const METRES_PER_DEGREE: f64 = 111_195.0;

/// Distance in metres from a point to the segment `a`–`b` (`[lat, lon]`), on a flat projection around the
/// point: exact enough over the few hundred metres a street segment spans.
pub fn distance_to_segment_m(lat: f64, lon: f64, a: [f64; 2], b: [f64; 2]) -> f64 {
    let k = lat.to_radians().cos();
    let (ax, ay) = ((a[1] - lon) * k, a[0] - lat);
    let (bx, by) = ((b[1] - lon) * k, b[0] - lat);
    let (dx, dy) = (bx - ax, by - ay);
    let length_squared = dx * dx + dy * dy;
    let s = if length_squared == 0.0 { 0.0 } else { (-(ax * dx + ay * dy) / length_squared).clamp(0.0, 1.0) };
    let (x, y) = (ax + s * dx, ay + s * dy);
    (x * x + y * y).sqrt() * METRES_PER_DEGREE
}

/// Distance in metres from a point to a polyline of `[lat, lon]` points (a single point counts as one).
pub fn distance_to_polyline_m(lat: f64, lon: f64, line: &[[f64; 2]]) -> Option<f64> {
    match line {
        [] => None,
        [only] => Some(distance_to_segment_m(lat, lon, *only, *only)),
        _ => line.windows(2).map(|w| distance_to_segment_m(lat, lon, w[0], w[1])).min_by(f64::total_cmp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distances() {
        // One degree of latitude is about 111.2 km everywhere.
        assert!((distance_m(41.0, 123.0, 42.0, 123.0) - 111_195.0).abs() < 10.0);
        assert_eq!(distance_m(41.8, 123.4, 41.8, 123.4), 0.0);
        let (dlat, dlon) = degree_box(60.0, 1000.0);
        assert!(dlon > dlat * 1.9 && dlon < dlat * 2.1);
    }

    #[test]
    fn distance_to_a_line() {
        // A road running east along latitude 41.8; a point 0.0009° (about 100 m) north of its middle.
        let line = [[41.8, 123.40], [41.8, 123.41]];
        let d = distance_to_polyline_m(41.8009, 123.405, &line).unwrap();
        assert!((d - 100.0).abs() < 1.0, "{d}");
        // Beyond the end, the distance is to the end point.
        let beyond = distance_to_polyline_m(41.8, 123.42, &line).unwrap();
        assert!((beyond - distance_m(41.8, 123.42, 41.8, 123.41)).abs() < 2.0, "{beyond}");
        assert_eq!(distance_to_polyline_m(41.8, 123.4, &[]), None);
    }
}
