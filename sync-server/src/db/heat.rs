//! Where problems cluster: the positions of the findings or cases of a period, filtered, for the heat map.

use super::conn::{Db, Param, Stmt};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::error::StoreResult;
use crate::policy::Scope;

/// Findings (as reported) or cases (as filed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeatKind {
    Findings,
    Cases,
}

impl HeatKind {
    pub fn parse(s: &str) -> Option<HeatKind> {
        match s {
            "findings" => Some(HeatKind::Findings),
            "cases" => Some(HeatKind::Cases),
            _ => None,
        }
    }
}

/// What to count, besides the period: each filter when given.
#[derive(Debug, Clone)]
pub struct HeatFilter {
    pub kind: HeatKind,
    pub category: Option<String>,
    pub state: Option<String>,
    pub team: Option<String>,
}

/// One finding or case on the heat map.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct HeatPoint {
    pub lat: f64,
    pub lon: f64,
    pub category: String,
    pub state: String,
    pub grid: Option<String>,
}

/// The findings observed (cases first observed) in `[from, to)` that the scope sees and the filter keeps.
pub(super) fn points(
    conn: &impl Db,
    scope: &Scope,
    filter: &HeatFilter,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<HeatPoint>> {
    let (table, time) = match filter.kind {
        HeatKind::Findings => ("findings", "observed_ts"),
        HeatKind::Cases => ("cases", "first_observed_ts"),
    };
    let (start, end) = (from.timestamp(), to.timestamp());
    let scope_team = match scope {
        Scope::All => None,
        Scope::Team(team) => Some(team.clone().unwrap_or_default()),
        // No other scope is given the heat map.
        Scope::Department(_) | Scope::Reporter(_) => return Ok(Vec::new()),
    };
    let mut sql = format!("SELECT lat, lon, category, state, grid FROM {table} WHERE {time} >= ?1 AND {time} < ?2");
    let mut args: Vec<&dyn Param> = vec![&start, &end];
    for (column, value) in
        [("category", &filter.category), ("state", &filter.state), ("team", &filter.team), ("team", &scope_team)]
    {
        if let Some(v) = value {
            args.push(v);
            sql.push_str(&format!(" AND {column} = ?{}", args.len()));
        }
    }
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(args.as_slice(), |r| {
        Ok(HeatPoint { lat: r.get(0)?, lon: r.get(1)?, category: r.get(2)?, state: r.get(3)?, grid: r.get(4)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
