//! Unit grids (单元网格) as shapes: checking one, and finding the grid a position lies in.

use geo::algorithm::Validation;
use geo::{BoundingRect, Coord, Intersects, LineString, MultiPolygon, Point, Polygon};
use protocol::Grid;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

/// A ring of `[lat, lon]` points as geo's `x = lon, y = lat`.
fn ring(points: &[[f64; 2]]) -> LineString<f64> {
    LineString::from(points.iter().map(|&[lat, lon]| Coord { x: lon, y: lat }).collect::<Vec<_>>())
}

/// One polygon (outer ring first, holes after) as geo's.
fn polygon(rings: &[Vec<[f64; 2]>]) -> Polygon<f64> {
    match rings {
        [] => Polygon::new(LineString::new(Vec::new()), Vec::new()),
        [outer, holes @ ..] => Polygon::new(ring(outer), holes.iter().map(|h| ring(h)).collect()),
    }
}

/// A grid's whole shape: its polygon and, for a grid in several pieces, the other parts.
pub fn shape(grid: &Grid) -> MultiPolygon<f64> {
    MultiPolygon::new(std::iter::once(&grid.polygon).chain(&grid.parts).map(|rings| polygon(rings)).collect())
}

/// Why a grid's shape is refused, in words for the admin who drew it.
pub fn check(grid: &Grid) -> Result<(), String> {
    if grid.code.trim().is_empty() {
        return Err("a grid has no code".into());
    }
    for (part, rings) in std::iter::once(&grid.polygon).chain(&grid.parts).enumerate() {
        let which_part = if grid.parts.is_empty() { String::new() } else { format!("part {} ", part + 1) };
        if rings.is_empty() {
            return Err(format!("{which_part}has no ring"));
        }
        for (i, points) in rings.iter().enumerate() {
            let which = if i == 0 { format!("{which_part}outer ring") } else { format!("{which_part}hole {i}") };
            if let Some([lat, lon]) = points
                .iter()
                .find(|[lat, lon]| !lat.is_finite() || !lon.is_finite() || lat.abs() > 90.0 || lon.abs() > 180.0)
            {
                return Err(format!("{which} has a point outside the earth: [{lat}, {lon}]"));
            }
            if points.len() < 4 {
                return Err(format!(
                    "{which} has {} points; a ring needs at least 4, the last repeating the first",
                    points.len()
                ));
            }
            if points.first() != points.last() {
                return Err(format!("{which} is not closed: its last point is not its first"));
            }
        }
    }
    shape(grid).check_validation().map_err(|e| e.to_string())
}

type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// The grids of a dictionary, indexed for "which grid is this position in".
#[derive(Debug)]
pub struct GridIndex {
    tree: RTree<Entry>,
    /// Sorted by code: where a point lies on the border of two grids, the first code wins, on every side.
    grids: Vec<(String, MultiPolygon<f64>)>,
}

impl GridIndex {
    pub fn new(grids: &[Grid]) -> GridIndex {
        let mut shapes: Vec<(String, MultiPolygon<f64>)> = grids.iter().map(|g| (g.code.clone(), shape(g))).collect();
        shapes.sort_by(|a, b| a.0.cmp(&b.0));
        let entries = shapes
            .iter()
            .enumerate()
            .filter_map(|(i, (_, s))| {
                let r = s.bounding_rect()?;
                Some(GeomWithData::new(Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]), i))
            })
            .collect();
        GridIndex { tree: RTree::bulk_load(entries), grids: shapes }
    }

    pub fn is_empty(&self) -> bool {
        self.grids.is_empty()
    }

    pub fn len(&self) -> usize {
        self.grids.len()
    }

    /// The code of the grid whose shape holds the position (its border included), if any.
    pub fn locate(&self, lat: f64, lon: f64) -> Option<&str> {
        let point = Point::new(lon, lat);
        self.tree
            .locate_in_envelope_intersecting(&AABB::from_point([lon, lat]))
            .map(|e| e.data)
            .filter(|&i| self.grids[i].1.intersects(&point))
            .min()
            .map(|i| self.grids[i].0.as_str())
    }

    /// The grid a record at this position carries: where there are grids, the one holding it (none: null,
    /// whatever was sent); without grids, what the device sent. The rule of the phone and the server alike.
    pub fn assign(&self, lat: f64, lon: f64, sent: Option<&str>) -> Option<String> {
        if self.is_empty() { sent.map(str::to_owned) } else { self.locate(lat, lon).map(str::to_owned) }
    }

    /// The shape of a grid by code.
    pub fn shape(&self, code: &str) -> Option<&MultiPolygon<f64>> {
        self.grids.binary_search_by(|(c, _)| c.as_str().cmp(code)).ok().map(|i| &self.grids[i].1)
    }

    /// Every grid, by code, with its shape.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &MultiPolygon<f64>)> {
        self.grids.iter().map(|(c, s)| (c.as_str(), s))
    }

    /// Grids whose bounding boxes meet the given box (`[lat, lon]` corners), by index order.
    pub(crate) fn candidates(&self, min: [f64; 2], max: [f64; 2]) -> impl Iterator<Item = usize> + '_ {
        let envelope = AABB::from_corners([min[1], min[0]], [max[1], max[0]]);
        self.tree.locate_in_envelope_intersecting(&envelope).map(|e| e.data)
    }

    pub(crate) fn at(&self, i: usize) -> (&str, &MultiPolygon<f64>) {
        (self.grids[i].0.as_str(), &self.grids[i].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A square grid from (lat0, lon0) to (lat1, lon1).
    pub(crate) fn square(code: &str, lat0: f64, lon0: f64, lat1: f64, lon1: f64) -> Grid {
        Grid {
            code: code.into(),
            name: code.into(),
            team: None,
            inspectors: Vec::new(),
            polygon: vec![vec![[lat0, lon0], [lat0, lon1], [lat1, lon1], [lat1, lon0], [lat0, lon0]]],
            parts: Vec::new(),
        }
    }

    #[test]
    fn a_point_inside_on_the_border_and_outside() {
        let index =
            GridIndex::new(&[square("B", 41.80, 123.41, 41.81, 123.42), square("A", 41.80, 123.40, 41.81, 123.41)]);
        assert_eq!(index.locate(41.805, 123.405), Some("A"));
        assert_eq!(index.locate(41.805, 123.415), Some("B"));
        // On the border the two share: the first code, whichever order they came in.
        assert_eq!(index.locate(41.805, 123.41), Some("A"));
        // On the outer border, and at a corner: inside.
        assert_eq!(index.locate(41.80, 123.415), Some("B"));
        assert_eq!(index.locate(41.81, 123.42), Some("B"));
        // Outside both.
        assert_eq!(index.locate(41.79, 123.405), None);
        assert_eq!(index.locate(41.805, 123.43), None);
    }

    #[test]
    fn a_hole_is_not_the_grid() {
        let mut g = square("A", 41.80, 123.40, 41.81, 123.41);
        g.polygon.push(vec![
            [41.804, 123.404],
            [41.804, 123.406],
            [41.806, 123.406],
            [41.806, 123.404],
            [41.804, 123.404],
        ]);
        check(&g).unwrap();
        let index = GridIndex::new(&[g, square("H", 41.804, 123.404, 41.806, 123.406)]);
        assert_eq!(index.locate(41.802, 123.402), Some("A"));
        // In the hole: the grid that fills it.
        assert_eq!(index.locate(41.805, 123.405), Some("H"));
    }

    #[test]
    fn a_grid_in_two_parts() {
        let mut g = square("A", 41.80, 123.40, 41.81, 123.41);
        g.parts.push(square("", 41.82, 123.40, 41.83, 123.41).polygon);
        check(&g).unwrap();
        let index = GridIndex::new(&[g]);
        assert_eq!(index.locate(41.805, 123.405), Some("A"));
        assert_eq!(index.locate(41.825, 123.405), Some("A"));
        assert_eq!(index.locate(41.815, 123.405), None);
    }

    #[test]
    fn broken_shapes_are_refused_in_words() {
        let mut open = square("A", 41.80, 123.40, 41.81, 123.41);
        open.polygon[0].pop();
        assert!(check(&open).unwrap_err().contains("not closed"), "{:?}", check(&open));

        // A bow tie: the ring crosses itself.
        let mut bow = square("B", 41.80, 123.40, 41.81, 123.41);
        bow.polygon[0] = vec![[41.80, 123.40], [41.81, 123.41], [41.80, 123.41], [41.81, 123.40], [41.80, 123.40]];
        let e = check(&bow).unwrap_err();
        assert!(e.contains("self-intersection"), "{e}");

        let mut short = square("C", 41.80, 123.40, 41.81, 123.41);
        short.polygon[0] = vec![[41.80, 123.40], [41.81, 123.41], [41.80, 123.40]];
        assert!(check(&short).unwrap_err().contains("at least 4"));

        let mut far = square("D", 41.80, 123.40, 41.81, 123.41);
        far.polygon[0][1] = [123.41, 41.80];
        assert!(check(&far).unwrap_err().contains("outside the earth"));

        let mut hole_outside = square("E", 41.80, 123.40, 41.81, 123.41);
        hole_outside.polygon.push(square("", 41.90, 123.40, 41.91, 123.41).polygon.remove(0));
        assert!(check(&hole_outside).is_err());

        assert!(check(&square(" ", 41.80, 123.40, 41.81, 123.41)).unwrap_err().contains("no code"));
    }
}
