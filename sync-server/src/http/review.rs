//! `GET /api/v1/review`: the findings of a calendar day, for section chiefs and the centre.

use axum::Json;
use axum::extract::State;

use super::extract::Query;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::db::ReviewItem;
use crate::error::{AppError, AppResult};
use crate::policy::Listing;
use crate::principal::Principal;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct ReviewQuery {
    date: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ReviewList {
    findings: Vec<ReviewItem>,
}

fn number(v: &Option<String>, field: &str) -> AppResult<Option<u32>> {
    v.as_deref()
        .map(|s| s.parse::<u32>().map_err(|_| AppError::invalid(field, format!("{field} must be a whole number"))))
        .transpose()
}

pub async fn review(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ReviewQuery>,
) -> AppResult<Json<ReviewList>> {
    let date = q.date.as_deref().ok_or_else(|| AppError::invalid("date", "date=YYYY-MM-DD is required"))?;
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|_| AppError::invalid("date", "date must be YYYY-MM-DD"))?;
    let limit = number(&q.limit, "limit")?;
    let offset = number(&q.offset, "offset")?.unwrap_or(0);
    let scope = principal.scope(Listing::Findings)?;
    let (from, to) = state.config.zone.day_bounds(day);
    let findings = state.blocking(move |store| store.review(&scope, from, to, limit, offset)).await?;
    Ok(Json(ReviewList { findings }))
}
