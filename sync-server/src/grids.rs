//! Importing unit grids (单元网格) from GeoJSON, for `PUT /api/v1/grids` and `sync-server grid import` alike:
//! the file is read and its shapes checked by the `places` crate, its teams and inspectors against the
//! accounts, and only then stored, as a new version of the dictionary with the grids replaced. Nothing of a
//! refused file is kept.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use protocol::{ApiError, Dictionary, ErrorCode, Grid};
use serde::Serialize;

use crate::db::Store;
use crate::error::{AppError, AppResult};

/// Largest GeoJSON file of grids taken: a whole city's grids are a few megabytes; every phone receives them
/// with the dictionary.
pub const MAX_GRIDS_BYTES: usize = 32 * 1024 * 1024;

/// Two grids that share more than a border (a warning: both are kept).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct OverlapView {
    pub a: String,
    pub b: String,
    pub area_m2: f64,
}

/// The answer to an import: `version` and `grids` as the contract has them; the overlaps, and whether it
/// was only a check (`dry_run`: nothing stored, `version` is the one an import would make), as extensions.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GridsImported {
    pub version: i64,
    pub grids: usize,
    pub overlaps: Vec<OverlapView>,
    pub dry_run: bool,
}

/// A 422 naming the feature (its index in `features`, and its code when known) in `details`.
fn refused(feature: Option<usize>, code: Option<&str>, message: String) -> AppError {
    let mut details = serde_json::Map::new();
    if let Some(i) = feature {
        details.insert("feature".into(), i.into());
    }
    if let Some(c) = code {
        details.insert("code".into(), c.into());
    }
    ApiError::new(ErrorCode::Invalid, message).with_details(serde_json::Value::Object(details)).into()
}

/// Refuses a file too large to be a sensible set of grids, before reading it.
pub fn check_size(bytes: u64) -> AppResult<()> {
    if bytes > MAX_GRIDS_BYTES as u64 {
        return Err(AppError::too_large(format!(
            "the grid file is {} MB; at most {} MB is taken (every phone receives the grids): simplify the \
             polygons or import a district at a time",
            bytes / (1024 * 1024),
            MAX_GRIDS_BYTES / (1024 * 1024)
        )));
    }
    Ok(())
}

/// The grids a GeoJSON text holds, checked against the accounts: every team and inspector must exist.
pub fn read(store: &dyn Store, text: &str) -> AppResult<(Vec<Grid>, Vec<OverlapView>)> {
    let imported = places::import_geojson(text).map_err(|e| refused(e.feature, e.code.as_deref(), e.to_string()))?;
    let users = store.users()?;
    let inspectors: HashSet<&str> =
        users.iter().filter(|u| u.role == protocol::Role::Inspector).map(|u| u.username.as_str()).collect();
    let teams = store.teams()?;
    let teams: HashSet<&str> = teams.iter().map(|t| t.name.as_str()).collect();
    for (i, g) in imported.grids.iter().enumerate() {
        if let Some(team) = g.team.as_deref().filter(|t| !teams.contains(t)) {
            let message = format!("features[{i}] (code {}): team `{team}` does not exist; add it first", g.code);
            return Err(refused(Some(i), Some(&g.code), message));
        }
        if let Some(name) = g.inspectors.iter().find(|n| !inspectors.contains(n.as_str())) {
            let message = format!("features[{i}] (code {}): `{name}` is not an inspector's username", g.code);
            return Err(refused(Some(i), Some(&g.code), message));
        }
    }
    let overlaps = imported.overlaps.into_iter().map(|o| OverlapView { a: o.a, b: o.b, area_m2: o.area_m2 }).collect();
    Ok((imported.grids, overlaps))
}

/// Reads, checks and (unless `dry_run`) stores the grids of a GeoJSON text as a new dictionary version.
pub fn import(store: &dyn Store, text: &str, dry_run: bool, now: DateTime<Utc>) -> AppResult<GridsImported> {
    let (grids, overlaps) = read(store, text)?;
    let current =
        store.dictionary()?.ok_or_else(|| AppError::conflict("there is no dictionary to add grids to yet"))?;
    let count = grids.len();
    let next = Dictionary { version: current.version + 1, grids, ..current };
    let version = if dry_run { next.version } else { store.import_dictionary(next, now)? };
    Ok(GridsImported { version, grids: count, overlaps, dry_run })
}
