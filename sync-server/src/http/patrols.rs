//! `GET /api/v1/patrols?date=` (extension): the day's patrols with their tracks and the roads walked.

use axum::Json;
use axum::extract::State;

use super::extract::Query;
use serde::{Deserialize, Serialize};

use super::date;
use crate::error::AppResult;
use crate::policy::Listing;
use crate::principal::Principal;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct DayQuery {
    date: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PatrolList {
    patrols: Vec<crate::db::PatrolView>,
}

/// `GET /api/v1/patrols?date=` (extension): the day's patrols with tracks; chief: own team.
pub async fn patrols(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<DayQuery>,
) -> AppResult<Json<PatrolList>> {
    let day = date(&q.date, "date")?;
    let scope = principal.scope(Listing::Patrols)?;
    let (from, to) = state.config.zone.day_bounds(day);
    Ok(Json(PatrolList { patrols: state.blocking(move |s| s.patrols(&scope, from, to)).await? }))
}
