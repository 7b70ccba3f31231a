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
/// report is filled in with, and for the roads a patrol's track walked (the `places` crate applies it).
pub const ROAD_MATCH_M: f64 = 30.0;

impl Dictionary {
    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
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
