//! What a patrol's track walked: metres along each road (matched to the nearest centre line within reach)
//! and inside each grid, and when last. The chief's coverage (who walked what, what went unwalked) and a
//! patrol's roads on the console map both come from here.

use protocol::Road;
use protocol::geo::{degree_box, distance_m, distance_to_segment_m};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::GridIndex;

/// A segment's box, with (road, first point of the segment).
type Segment = GeomWithData<Rectangle<[f64; 2]>, (usize, usize)>;

/// The dictionary's roads, their centre lines' segments indexed for "which road is this position on".
#[derive(Debug)]
pub struct RoadIndex {
    tree: RTree<Segment>,
    roads: Vec<(String, Vec<[f64; 2]>)>,
}

impl RoadIndex {
    pub fn new(roads: &[Road]) -> RoadIndex {
        let mut segments = Vec::new();
        for (r, road) in roads.iter().enumerate() {
            let points = &road.points;
            let pairs: Vec<(usize, [f64; 2], [f64; 2])> = match points.len() {
                0 => Vec::new(),
                1 => vec![(0, points[0], points[0])],
                _ => points.windows(2).enumerate().map(|(i, w)| (i, w[0], w[1])).collect(),
            };
            for (i, a, b) in pairs {
                // x = lon, y = lat, as the grids are indexed.
                let corner_a = [a[1].min(b[1]), a[0].min(b[0])];
                let corner_b = [a[1].max(b[1]), a[0].max(b[0])];
                segments.push(GeomWithData::new(Rectangle::from_corners(corner_a, corner_b), (r, i)));
            }
        }
        RoadIndex {
            tree: RTree::bulk_load(segments),
            roads: roads.iter().map(|r| (r.name.clone(), r.points.clone())).collect(),
        }
    }

    /// The road whose centre line is nearest to the position, if within `max_m`; of two as near, the first
    /// in the dictionary's order.
    pub fn nearest(&self, lat: f64, lon: f64, max_m: f64) -> Option<usize> {
        let (dlat, dlon) = degree_box(lat, max_m);
        let reach = AABB::from_corners([lon - dlon, lat - dlat], [lon + dlon, lat + dlat]);
        self.tree
            .locate_in_envelope_intersecting(&reach)
            .map(|s| {
                let (r, i) = s.data;
                let points = &self.roads[r].1;
                let (a, b) = (points[i], *points.get(i + 1).unwrap_or(&points[i]));
                (r, distance_to_segment_m(lat, lon, a, b))
            })
            .filter(|(_, d)| *d <= max_m)
            .min_by(|x, y| x.1.total_cmp(&y.1).then(x.0.cmp(&y.0)))
            .map(|(r, _)| r)
    }

    pub fn name(&self, road: usize) -> &str {
        &self.roads[road].0
    }

    pub fn len(&self) -> usize {
        self.roads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.roads.is_empty()
    }
}

/// A point of a patrol's track: position and time (seconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackPoint {
    pub lat: f64,
    pub lon: f64,
    pub t: i64,
}

/// Metres walked on one road or in one grid, and the time of the last step there.
#[derive(Debug, Clone, PartialEq)]
pub struct Walked {
    pub key: String,
    pub metres: f64,
    pub last_t: i64,
}

/// What one track walked, longest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Walks {
    pub roads: Vec<Walked>,
    pub grids: Vec<Walked>,
}

fn tally(into: &mut Vec<Walked>, key: &str, metres: f64, t: i64) {
    match into.iter_mut().find(|w| w.key == key) {
        Some(w) => {
            w.metres += metres;
            w.last_t = w.last_t.max(t);
        }
        None => into.push(Walked { key: key.to_owned(), metres, last_t: t }),
    }
}

/// Walks a track (in time order): a step counts for a road when both its ends are on that road (the nearest
/// centre line within `max_m`), and for a grid when both ends lie in that grid.
pub fn walk(track: &[TrackPoint], roads: &RoadIndex, grids: &GridIndex, max_m: f64) -> Walks {
    let mut out = Walks::default();
    let mut previous: Option<(TrackPoint, Option<usize>, Option<&str>)> = None;
    for &p in track {
        let road = roads.nearest(p.lat, p.lon, max_m);
        let grid = grids.locate(p.lat, p.lon);
        if let Some((q, q_road, q_grid)) = previous {
            let step = distance_m(q.lat, q.lon, p.lat, p.lon);
            if let Some(r) = road.filter(|r| Some(*r) == q_road) {
                tally(&mut out.roads, roads.name(r), step, p.t);
            }
            if let Some(g) = grid.filter(|g| Some(*g) == q_grid) {
                tally(&mut out.grids, g, step, p.t);
            }
        }
        previous = Some((p, road, grid));
    }
    out.roads.sort_by(|a, b| b.metres.total_cmp(&a.metres));
    out.grids.sort_by(|a, b| b.metres.total_cmp(&a.metres));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::Grid;

    fn road(name: &str, points: &[[f64; 2]]) -> Road {
        Road { name: name.into(), grid: None, points: points.to_vec(), chief: None }
    }

    /// East–west 人民路 along 41.800, north–south 解放街 along 123.410 from its east end, and a road with no
    /// centre line.
    fn roads() -> RoadIndex {
        RoadIndex::new(&[
            road("人民路", &[[41.800, 123.400], [41.800, 123.410]]),
            road("解放街", &[[41.800, 123.410], [41.810, 123.410]]),
            road("无线路", &[]),
        ])
    }

    fn point(lat: f64, lon: f64, t: i64) -> TrackPoint {
        TrackPoint { lat, lon, t }
    }

    #[test]
    fn the_nearest_road_within_reach() {
        let r = roads();
        assert_eq!(r.nearest(41.8001, 123.405, 30.0).map(|i| r.name(i)), Some("人民路"));
        assert_eq!(r.nearest(41.805, 123.4101, 30.0).map(|i| r.name(i)), Some("解放街"));
        // 100 m off both roads: none.
        assert_eq!(r.nearest(41.8009, 123.405, 30.0), None);
        // At the corner both are 0 m away: the first in the dictionary.
        assert_eq!(r.nearest(41.800, 123.410, 30.0).map(|i| r.name(i)), Some("人民路"));
    }

    #[test]
    fn a_track_walks_roads_and_grids() {
        let r = roads();
        // A grid over the west half of 人民路.
        let west = Grid {
            code: "W".into(),
            name: "W".into(),
            team: None,
            inspectors: Vec::new(),
            polygon: vec![vec![[41.79, 123.39], [41.79, 123.405], [41.81, 123.405], [41.81, 123.39], [41.79, 123.39]]],
            parts: Vec::new(),
        };
        let grids = GridIndex::new(&[west]);
        // 人民路 from 123.402 to 123.408, a jump off-road, then 0.003° up 解放街.
        let track = [
            point(41.8, 123.402, 100),
            point(41.8, 123.404, 110),
            point(41.8, 123.406, 120),
            point(41.8, 123.408, 130),
            point(41.805, 123.405, 140),
            point(41.803, 123.4101, 150),
            point(41.806, 123.4101, 160),
        ];
        let walks = walk(&track, &r, &grids, 30.0);
        let names: Vec<&str> = walks.roads.iter().map(|w| w.key.as_str()).collect();
        assert_eq!(names, ["人民路", "解放街"]);
        assert!((walks.roads[0].metres - distance_m(41.8, 123.402, 41.8, 123.408)).abs() < 0.5, "{walks:?}");
        assert_eq!(walks.roads[0].last_t, 130);
        assert!((walks.roads[1].metres - distance_m(41.803, 123.4101, 41.806, 123.4101)).abs() < 0.5);
        assert_eq!(walks.roads[1].last_t, 160);
        // In W: the steps 123.402 → 123.404 (both ends inside); 123.404 → 123.406 leaves it.
        let [w] = &walks.grids[..] else { panic!("{walks:?}") };
        assert!((w.metres - distance_m(41.8, 123.402, 41.8, 123.404)).abs() < 0.5, "{w:?}");
        assert_eq!(w.last_t, 110);
        assert_eq!(walk(&[], &r, &grids, 30.0), Walks::default());
    }
}
