//! Place benchmarks, in process:
//! - locate: the grid of a position among 10,000 unit grids (a city's), through the R-tree index, against a
//!   scan of every grid's shape in the same run (the ratio is the figure that travels between machines);
//! - walk: a patrol's track matched to 200 roads and the grids, per point.
//!
//! Run: `cargo bench -p tiejiaoban-places --features fixtures --bench places` (figures go to BENCHMARKS.md).

use std::time::{Duration, Instant};

use geo::Intersects;
use places::fixtures::{city_grids, city_roads};
use places::{GridIndex, RoadIndex, TrackPoint, walk};
use rand::{Rng, SeedableRng};

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn micros(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e6 / n as f64
}

fn main() {
    let grids = city_grids();
    let t = Instant::now();
    let index = GridIndex::new(&grids);
    let build = t.elapsed();
    let shapes: Vec<(String, geo::MultiPolygon<f64>)> =
        grids.iter().map(|g| (g.code.clone(), places::shape(g))).collect();

    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let points: Vec<(f64, f64)> =
        (0..200_000).map(|_| (41.745 + rng.random::<f64>() * 0.11, 123.345 + rng.random::<f64>() * 0.11)).collect();

    // In turns: a batch through the index, then the same batch by scanning every shape.
    let (mut indexed, mut scanned) = (Vec::new(), Vec::new());
    let mut found = 0usize;
    for batch in points.chunks(1_000).take(200) {
        let t = Instant::now();
        for &(lat, lon) in batch {
            found += usize::from(index.locate(lat, lon).is_some());
        }
        indexed.push(micros(t.elapsed(), batch.len()));
        if scanned.len() < 20 {
            let t = Instant::now();
            for &(lat, lon) in batch {
                let p = geo::Point::new(lon, lat);
                let hit = shapes.iter().find(|(_, s)| s.intersects(&p)).map(|(c, _)| c.as_str());
                std::hint::black_box(hit);
            }
            scanned.push(micros(t.elapsed(), batch.len()));
        }
    }
    let (ix, sc) = (median(&mut indexed), median(&mut scanned));
    println!(
        "locate among {} grids (16-point rings): index built in {:.1} ms; {:.2} µs per position (median of 200 batches of 1,000), \
         scanning every shape {:.0} µs ({:.0}× slower); {} of {} positions in a grid",
        grids.len(),
        build.as_secs_f64() * 1e3,
        ix,
        sc,
        sc / ix,
        found,
        200_000
    );

    let roads = city_roads();
    let road_index = RoadIndex::new(&roads);
    // A day's walk: 1,440 points (one every 20 s over 8 h), along a road and across the grids.
    let track: Vec<TrackPoint> = (0..1_440)
        .map(|k| TrackPoint {
            lat: 41.7505 + (k / 720) as f64 * 0.001,
            lon: 123.35 + (k % 720) as f64 * 0.00013,
            t: k as i64 * 20,
        })
        .collect();
    let mut per_point = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let walks = walk(&track, &road_index, &index, protocol::ROAD_MATCH_M);
        per_point.push(micros(t.elapsed(), track.len()));
        std::hint::black_box(walks);
    }
    let walks = walk(&track, &road_index, &index, protocol::ROAD_MATCH_M);
    println!(
        "walk a day's track of {} points over {} roads and {} grids: {:.2} µs per point (median of 30); {} roads and {} grids walked",
        track.len(),
        roads.len(),
        grids.len(),
        median(&mut per_point),
        walks.roads.len(),
        walks.grids.len()
    );
}
