//! `GET /api/v1/stats`: the evaluation indicators (综合评价) of a period, grouped, as JSON or CSV.

use axum::Json;
use axum::extract::State;

use super::extract::Query;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{Period, period};
use crate::domain::stats::{GroupBy, StatsRow, aggregate, to_csv};
use crate::error::{AppError, AppResult};
use crate::policy::{Listing, Scope};
use crate::principal::Principal;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct StatsQuery {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
    /// Only the facts of a campaign: its categories, its days and (when it names some) its grids.
    campaign: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct StatsAnswer {
    from: String,
    to: String,
    group_by: String,
    rows: Vec<StatsRow>,
}

pub async fn stats(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Query(q): Query<StatsQuery>,
) -> AppResult<Response> {
    let Period { from, to, start, end } = period(&q.from, &q.to, &state.config.zone)?;
    let group_name = q.group_by.clone().unwrap_or_else(|| "team".into());
    let group_by = GroupBy::parse(&group_name).ok_or_else(|| {
        AppError::invalid("group_by", "group_by is inspector, team, department, category, day, grid or road")
    })?;
    let scope = principal.scope(Listing::Indicators)?;
    let mut events = state.blocking(move |s| s.stat_events(start, end)).await?;
    match &scope {
        Scope::All => {}
        Scope::Team(team) => events.retain(|e| team.is_some() && e.team == *team),
        Scope::Department(department) => events.retain(|e| department.is_some() && e.department == *department),
        // Indicators are not counted per reporter id; no role is given this scope for them.
        Scope::Reporter(_) => events.clear(),
    }
    if let Some(id) = q.campaign.as_deref().filter(|c| !c.is_empty()) {
        let id = id.to_owned();
        let campaign = state
            .blocking(move |s| s.campaign(&id))
            .await?
            .ok_or_else(|| AppError::invalid("campaign", "no such campaign"))?;
        let zone = state.config.zone;
        events.retain(|e| in_campaign(&campaign, e, &zone));
    }
    let rows = aggregate(&events, group_by, &state.config.zone);
    let wants_csv = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/csv"));
    if wants_csv {
        let mut entry = principal.audit("export", "indicators CSV");
        entry.detail = Some(format!("{} rows", rows.len()));
        state.audit(entry).await;
        let mut r = to_csv(&rows).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
        return Ok(r);
    }
    Ok(Json(StatsAnswer { from: from.to_string(), to: to.to_string(), group_by: group_name, rows }).into_response())
}

/// Whether a fact is the campaign's: one of its categories, on one of its days, in one of its grids (if any).
fn in_campaign(campaign: &protocol::Campaign, e: &crate::domain::stats::StatEvent, zone: &crate::config::Zone) -> bool {
    let category = e.category.as_ref().is_some_and(|c| campaign.categories.contains(c));
    let grid = campaign.grids.is_empty() || e.grid.as_ref().is_some_and(|g| campaign.grids.contains(g));
    category && grid && campaign.runs_on(zone.at(e.at).date_naive())
}
