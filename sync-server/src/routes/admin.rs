//! Statistics and device administration.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use protocol::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::stats::{GroupBy, StatsRow, aggregate, to_csv};
use crate::store::DeviceView;

#[derive(Debug, Deserialize)]
pub struct StatsQuery {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct StatsAnswer {
    from: String,
    to: String,
    group_by: String,
    rows: Vec<StatsRow>,
}

fn date(v: &Option<String>, field: &str) -> AppResult<NaiveDate> {
    let s = v.as_deref().ok_or_else(|| AppError::invalid(field, format!("{field}=YYYY-MM-DD is required")))?;
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| AppError::invalid(field, format!("{field} must be YYYY-MM-DD")))
}

pub async fn stats(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Query(q): Query<StatsQuery>,
) -> AppResult<Response> {
    let from = date(&q.from, "from")?;
    let to = date(&q.to, "to")?;
    if to < from {
        return Err(AppError::invalid("to", "to is before from"));
    }
    let group_name = q.group_by.clone().unwrap_or_else(|| "team".into());
    let group_by = GroupBy::parse(&group_name)
        .ok_or_else(|| AppError::invalid("group_by", "group_by is inspector, team, department, category or day"))?;
    let team_only = match principal.role() {
        Role::Dispatcher | Role::Admin => None,
        Role::Chief => Some(principal.user.team.clone()),
        other => return Err(AppError::forbidden(format!("role `{other}` may not read statistics"))),
    };
    let (start, _) = state.config.zone.day_bounds(from);
    let (_, end) = state.config.zone.day_bounds(to);
    let mut events = state.blocking(move |s| s.stat_events(start, end)).await?;
    if let Some(team) = team_only {
        events.retain(|e| team.is_some() && e.team == team);
    }
    let rows = aggregate(&events, group_by, &state.config.zone);
    let wants_csv = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/csv"));
    if wants_csv {
        let mut r = to_csv(&rows).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
        return Ok(r);
    }
    Ok(Json(StatsAnswer { from: from.to_string(), to: to.to_string(), group_by: group_name, rows }).into_response())
}

#[derive(Debug, Serialize)]
pub struct DeviceList {
    devices: Vec<DeviceView>,
}

pub async fn list_devices(State(state): State<AppState>, principal: Principal) -> AppResult<Json<DeviceList>> {
    principal.require(&[Role::Admin], "list devices")?;
    let devices = state.blocking(|s| s.devices()).await?;
    Ok(Json(DeviceList { devices }))
}

pub async fn revoke_device(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<DeviceView>> {
    let id = Uuid::parse_str(&id).map_err(|_| AppError::not_found("no such device"))?;
    let known = state.blocking(|s| s.devices()).await?.iter().any(|d| d.id == id);
    if !known {
        return Err(AppError::not_found("no such device"));
    }
    principal.require(&[Role::Admin], "revoke devices")?;
    let device = state
        .blocking(move |s| s.revoke_device(id, Utc::now()))
        .await?
        .ok_or_else(|| AppError::not_found("no such device"))?;
    Ok(Json(device))
}
