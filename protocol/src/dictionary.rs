//! The category dictionary: categories, departments, roads and grids, versioned and pushed to phones.

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// 部件 (component, a fixed facility) or 事件 (event, a situation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Branch {
    Component,
    Event,
}

/// Whether a section chief reviews a finding before it is filed, or it is filed and dispatched at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ReviewMode {
    Chief,
    Auto,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Category {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub branch: Branch,
    /// The big class (大类) code, e.g. `C01`.
    #[serde(default)]
    pub parent: Option<String>,
    pub department: String,
    pub time_limit_hours: f64,
    pub review: ReviewMode,
    #[serde(default)]
    pub urgent: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Department {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Road {
    pub name: String,
    #[serde(default)]
    pub grid: Option<String>,
    /// The road's centre line as `[lat, lon]` pairs.
    #[serde(default)]
    pub points: Vec<[f64; 2]>,
    /// The username of the road's 路长 (road chief), who answers for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chief: Option<String>,
}

/// A unit grid (单元网格): the unit of patrol areas, about 10,000 m² bounded by roads, rivers and walls, with
/// the team and inspectors (网格员) responsible for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Grid {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub team: Option<String>,
    /// Usernames of the grid's inspectors.
    #[serde(default)]
    pub inspectors: Vec<String>,
    /// Rings of `[lat, lon]` points, as in `roads`: the outer ring first, holes after; each ring closed (its
    /// last point repeats its first).
    pub polygon: Vec<Vec<[f64; 2]>>,
    /// The other pieces of a grid in several (a MultiPolygon), each as `polygon` (extension).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Vec<Vec<[f64; 2]>>>,
}

/// A routing rule that sends a category's cases (or all cases) on a road or in a grid to another
/// department than the category's own (路长制, street-office areas). An extension of the dictionary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RouteOverride {
    /// The category it applies to; none: every category.
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub road: Option<String>,
    #[serde(default)]
    pub grid: Option<String>,
    pub department: String,
}

impl RouteOverride {
    fn matches(&self, category: &str, road: Option<&str>, grid: Option<&str>) -> bool {
        self.category.as_deref().is_none_or(|c| c == category)
            && self.road.as_deref().is_none_or(|r| Some(r) == road)
            && self.grid.as_deref().is_none_or(|g| Some(g) == grid)
            && (self.road.is_some() || self.grid.is_some())
    }

    /// More conditions, more specific.
    fn specificity(&self) -> usize {
        usize::from(self.category.is_some()) + usize::from(self.road.is_some()) + usize::from(self.grid.is_some())
    }
}

/// A big class (大类) of the category tree; an extension that lets the phone group categories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CategoryClass {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Dictionary {
    pub version: i64,
    pub categories: Vec<Category>,
    pub departments: Vec<Department>,
    #[serde(default)]
    pub roads: Vec<Road>,
    #[serde(default)]
    pub grids: Vec<Grid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<CategoryClass>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteOverride>,
}

/// A road whose centre line is further than this from a position is not "the road here": for the road a
/// report is filled in with, and for the roads a patrol's track walked.
pub const ROAD_MATCH_M: f64 = 30.0;

impl Dictionary {
    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    /// The nearest road with a centre line within `max_m` of the point.
    pub fn nearest_road(&self, lat: f64, lon: f64, max_m: f64) -> Option<&Road> {
        self.roads
            .iter()
            .filter_map(|r| crate::geo::distance_to_polyline_m(lat, lon, &r.points).map(|d| (r, d)))
            .filter(|(_, d)| *d <= max_m)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(r, _)| r)
    }

    /// Metres walked on each road along a track of `[lat, lon]` points: a step counts for a road when both
    /// its ends are within `max_m` of that road (the nearest one). Longest first.
    pub fn roads_walked(&self, track: &[[f64; 2]], max_m: f64) -> Vec<(String, f64)> {
        let mut walked: Vec<(String, f64)> = Vec::new();
        let mut previous: Option<(&[f64; 2], Option<&str>)> = None;
        for point in track {
            let road = self.nearest_road(point[0], point[1], max_m).map(|r| r.name.as_str());
            if let Some((p, Some(prev_road))) = previous
                && road == Some(prev_road)
            {
                let step = crate::geo::distance_m(p[0], p[1], point[0], point[1]);
                match walked.iter_mut().find(|(name, _)| name == prev_road) {
                    Some(entry) => entry.1 += step,
                    None => walked.push((prev_road.to_owned(), step)),
                }
            }
            previous = Some((point, road));
        }
        walked.sort_by(|a, b| b.1.total_cmp(&a.1));
        walked
    }

    /// The department a case goes to: the most specific matching route override, else the category's.
    pub fn route(&self, category: &str, road: Option<&str>, grid: Option<&str>) -> Option<&str> {
        self.routes
            .iter()
            .filter(|r| r.matches(category, road, grid))
            .max_by_key(|r| r.specificity())
            .map(|r| r.department.as_str())
            .or_else(|| self.category(category).map(|c| c.department.as_str()))
    }

    /// Every category names a known department, codes are unique, limits are positive.
    pub fn validate(&self) -> Result<(), FieldError> {
        let mut seen = std::collections::HashSet::new();
        for (i, c) in self.categories.iter().enumerate() {
            if c.code.trim().is_empty() || !seen.insert(c.code.as_str()) {
                return Err(FieldError::new(
                    format!("categories[{i}].code"),
                    format!("empty or repeated code `{}`", c.code),
                ));
            }
            if !self.departments.iter().any(|d| d.code == c.department) {
                return Err(FieldError::new(
                    format!("categories[{i}].department"),
                    format!("department `{}` is not in the dictionary", c.department),
                ));
            }
            if !c.time_limit_hours.is_finite() || c.time_limit_hours <= 0.0 {
                return Err(FieldError::new(
                    format!("categories[{i}].time_limit_hours"),
                    "time limit must be positive",
                ));
            }
        }
        for (i, r) in self.routes.iter().enumerate() {
            if !self.departments.iter().any(|d| d.code == r.department) {
                return Err(FieldError::new(
                    format!("routes[{i}].department"),
                    format!("department `{}` is not in the dictionary", r.department),
                ));
            }
            if r.road.is_none() && r.grid.is_none() {
                return Err(FieldError::new(format!("routes[{i}]"), "a route override names a road or a grid"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_roads() -> Dictionary {
        serde_json::from_value(serde_json::json!({
            "version": 1, "categories": [], "departments": [],
            "roads": [
                // East–west along 41.800; north–south along 123.410, meeting at its east end.
                {"name": "人民路", "points": [[41.800, 123.400], [41.800, 123.410]]},
                {"name": "解放街", "points": [[41.800, 123.410], [41.810, 123.410]]},
                {"name": "无线路"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn nearest_road_within_reach() {
        let d = with_roads();
        assert_eq!(d.nearest_road(41.8001, 123.405, 30.0).map(|r| r.name.as_str()), Some("人民路"));
        assert_eq!(d.nearest_road(41.805, 123.4101, 30.0).map(|r| r.name.as_str()), Some("解放街"));
        // 100 m off both roads: none.
        assert!(d.nearest_road(41.8009, 123.405, 30.0).is_none());
    }

    #[test]
    fn roads_walked_along_a_track() {
        let d = with_roads();
        // 人民路 from 123.402 to 123.408 (about 498 m), then a jump off-road, then 0.003° up 解放街 (~334 m).
        let track = [
            [41.8, 123.402],
            [41.8, 123.405],
            [41.8, 123.408],
            [41.805, 123.405],
            [41.803, 123.4101],
            [41.806, 123.4101],
        ];
        let walked = d.roads_walked(&track, 30.0);
        assert_eq!(walked.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["人民路", "解放街"]);
        let along = crate::geo::distance_m(41.8, 123.402, 41.8, 123.408);
        assert!((walked[0].1 - along).abs() < 0.5, "{walked:?}");
        assert!((walked[1].1 - crate::geo::distance_m(41.803, 123.4101, 41.806, 123.4101)).abs() < 0.5);
        assert!(d.roads_walked(&[], 30.0).is_empty());
    }
}
