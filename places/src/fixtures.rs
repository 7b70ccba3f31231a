//! A synthetic city for benchmarks and tests (the `fixtures` feature): 10,000 unit grids and 200 roads over
//! about 8 × 11 km of Shenyang, shaped as cities draw them (rings of 16 points, roads of 20).

use protocol::{Grid, Road};

/// 100 × 100 grids of about 110 × 85 m from (41.75, 123.35): each ring with 16 points, as drawn along streets.
pub fn city_grids() -> Vec<Grid> {
    let (lat0, lon0, d) = (41.75, 123.35, 0.001);
    let mut grids = Vec::with_capacity(10_000);
    for i in 0..100 {
        for j in 0..100 {
            let (s, w) = (lat0 + i as f64 * d, lon0 + j as f64 * d);
            let (n, e) = (s + d, w + d);
            let mut ring = Vec::with_capacity(17);
            for k in 0..4 {
                ring.push([s, w + d * k as f64 / 4.0]);
            }
            for k in 0..4 {
                ring.push([s + d * k as f64 / 4.0, e]);
            }
            for k in 0..4 {
                ring.push([n, e - d * k as f64 / 4.0]);
            }
            for k in 0..4 {
                ring.push([n - d * k as f64 / 4.0, w]);
            }
            ring.push([s, w]);
            grids.push(Grid {
                code: format!("G{i:03}{j:03}"),
                name: format!("网格 {i}-{j}"),
                team: None,
                inspectors: Vec::new(),
                polygon: vec![ring],
                parts: Vec::new(),
            });
        }
    }
    grids
}

/// 100 east–west and 100 north–south roads through the grids, each of 20 points.
pub fn city_roads() -> Vec<Road> {
    let mut roads = Vec::new();
    for i in 0..100 {
        let lat = 41.75 + i as f64 * 0.001 + 0.0005;
        roads.push(Road {
            name: format!("东西{i}路"),
            grid: None,
            points: (0..20).map(|k| [lat, 123.35 + k as f64 * 0.1 / 19.0]).collect(),
            chief: None,
        });
        let lon = 123.35 + i as f64 * 0.001 + 0.0005;
        roads.push(Road {
            name: format!("南北{i}街"),
            grid: None,
            points: (0..20).map(|k| [41.75 + k as f64 * 0.1 / 19.0, lon]).collect(),
            chief: None,
        });
    }
    roads
}
