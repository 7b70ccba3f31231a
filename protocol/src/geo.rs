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
}
