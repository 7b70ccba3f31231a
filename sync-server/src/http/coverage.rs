//! Place in the console: `GET /api/v1/coverage`, for a period every road or grid with what the patrols walked
//! there (巡查覆盖), as JSON or CSV; `GET /api/v1/heatmap`, where the findings or cases of a period are.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::extract::Query;
use super::{Period, period};
use crate::db::{HeatFilter, HeatKind, HeatPoint};
use crate::domain::coverage::{CoverageBy, CoverageRow, rows, to_csv};
use crate::error::{AppError, AppResult};
use crate::policy::{Listing, Scope};
use crate::principal::Principal;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct CoverageQuery {
    from: Option<String>,
    to: Option<String>,
    by: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CoverageAnswer {
    from: String,
    to: String,
    by: String,
    rows: Vec<CoverageRow>,
}

/// Chiefs see their team's patrols (and the grids of their team); dispatchers and admins everything.
pub async fn coverage(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Query(q): Query<CoverageQuery>,
) -> AppResult<Response> {
    let Period { from, to, start, end } = period(&q.from, &q.to, &state.config.zone)?;
    let by_name = q.by.clone().unwrap_or_else(|| "road".into());
    let by = CoverageBy::parse(&by_name).ok_or_else(|| AppError::invalid("by", "by is road or grid"))?;
    let scope = principal.scope(Listing::Coverage)?;
    let zone = state.config.zone;
    let dictionary =
        state.blocking(|s| s.dictionary()).await?.ok_or_else(|| AppError::not_found("no dictionary yet"))?;
    let team = match &scope {
        Scope::Team(team) => Some(team.clone()),
        _ => None,
    };
    let tallies = state.blocking(move |s| s.coverage(&scope, by, start, end)).await?;
    let today = zone.at(Utc::now()).date_naive();
    let rows = rows(
        &dictionary,
        by,
        team.as_ref().map(|t| t.as_deref()),
        &tallies.walked,
        &tallies.findings,
        &zone,
        to.min(today),
    );
    let wants_csv = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/csv"));
    if wants_csv {
        let mut entry = principal.audit("export", "coverage CSV");
        entry.detail = Some(format!("{} rows", rows.len()));
        state.audit(entry).await;
        let mut r = to_csv(&rows).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
        return Ok(r);
    }
    Ok(Json(CoverageAnswer { from: from.to_string(), to: to.to_string(), by: by_name, rows }).into_response())
}

#[derive(Debug, Deserialize)]
pub struct HeatQuery {
    from: Option<String>,
    to: Option<String>,
    kind: Option<String>,
    category: Option<String>,
    state: Option<String>,
    team: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct HeatAnswer {
    kind: String,
    points: Vec<HeatPoint>,
}

/// `GET /api/v1/heatmap` (extension): where the findings or cases of a period are, for the heat map; chiefs
/// see their team's, dispatchers and admins all.
pub async fn heatmap(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<HeatQuery>,
) -> AppResult<Json<HeatAnswer>> {
    let Period { start, end, .. } = period(&q.from, &q.to, &state.config.zone)?;
    let kind_name = q.kind.clone().unwrap_or_else(|| "findings".into());
    let kind = HeatKind::parse(&kind_name).ok_or_else(|| AppError::invalid("kind", "kind is findings or cases"))?;
    let scope = principal.scope(Listing::Heatmap)?;
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let filter = HeatFilter { kind, category: nonempty(q.category), state: nonempty(q.state), team: nonempty(q.team) };
    let points = state.blocking(move |s| s.heat_points(&scope, &filter, start, end)).await?;
    Ok(Json(HeatAnswer { kind: kind_name, points }))
}
