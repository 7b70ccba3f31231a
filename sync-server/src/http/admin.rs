//! Statistics and device administration.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use protocol::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::DeviceView;
use crate::domain::stats::{GroupBy, StatsRow, aggregate, to_csv};
use crate::error::{AppError, AppResult};
use crate::policy::{Listing, Scope, Target, Verb};
use crate::principal::Principal;
use crate::state::AppState;

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
    let scope = principal.scope(Listing::Indicators)?;
    let (start, _) = state.config.zone.day_bounds(from);
    let (_, end) = state.config.zone.day_bounds(to);
    let mut events = state.blocking(move |s| s.stat_events(start, end)).await?;
    match &scope {
        Scope::All => {}
        Scope::Team(team) => events.retain(|e| team.is_some() && e.team == *team),
        Scope::Department(department) => events.retain(|e| department.is_some() && e.department == *department),
        // Indicators are not counted per reporter id; no role is given this scope for them.
        Scope::Reporter(_) => events.clear(),
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
    principal.may(Verb::ListDevices, &Target::Server)?;
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
    principal.may(Verb::RevokeDevice, &Target::Server)?;
    let device = state
        .blocking(move |s| s.revoke_device(id, Utc::now()))
        .await?
        .ok_or_else(|| AppError::not_found("no such device"))?;
    Ok(Json(device))
}

#[derive(Debug, Serialize)]
pub struct Me {
    user: protocol::UserInfo,
}

/// `GET /api/v1/me`: who the token belongs to (extension).
pub async fn me(principal: Principal) -> Json<Me> {
    Json(Me { user: principal.user.info() })
}

/// `GET /api/v1/dictionary`: the current dictionary (extension).
pub async fn get_dictionary(State(state): State<AppState>, _p: Principal) -> AppResult<Json<protocol::Dictionary>> {
    state.blocking(|s| s.dictionary()).await?.map(Json).ok_or_else(|| AppError::not_found("no dictionary yet"))
}

#[derive(Debug, Serialize)]
pub struct Imported {
    version: i64,
}

/// `POST /api/v1/dictionary`: imports a new version and pushes it to devices (extension, admin).
pub async fn import_dictionary(
    State(state): State<AppState>,
    principal: Principal,
    body: axum::body::Body,
) -> AppResult<Json<Imported>> {
    let dict: protocol::Dictionary = super::read_json(body).await?;
    dict.validate()?;
    principal.may(Verb::ImportDictionary, &Target::Server)?;
    let version = state.blocking(move |s| s.import_dictionary(dict, Utc::now())).await?;
    Ok(Json(Imported { version }))
}

#[derive(Debug, Serialize)]
pub struct UserList {
    users: Vec<crate::db::UserView>,
}

pub async fn list_users(State(state): State<AppState>, principal: Principal) -> AppResult<Json<UserList>> {
    principal.may(Verb::ListUsers, &Target::Server)?;
    Ok(Json(UserList { users: state.blocking(|s| s.users()).await? }))
}

#[derive(Debug, Deserialize)]
pub struct NewUserRequest {
    username: String,
    password: String,
    #[serde(default)]
    display_name: Option<String>,
    role: Role,
    #[serde(default)]
    team: Option<String>,
    #[serde(default)]
    department: Option<String>,
}

/// `POST /api/v1/users` (extension, admin): adds a user; the team is created when new.
pub async fn add_user(
    State(state): State<AppState>,
    principal: Principal,
    body: axum::body::Body,
) -> AppResult<axum::response::Response> {
    let req: NewUserRequest = super::read_json(body).await?;
    if req.username.trim().is_empty() {
        return Err(AppError::invalid("username", "a username is needed"));
    }
    if req.password.len() < 6 {
        return Err(AppError::invalid("password", "a password has at least 6 characters"));
    }
    if req.role == Role::Department && req.department.is_none() {
        return Err(AppError::invalid("department", "a department user needs a department"));
    }
    principal.may(Verb::AddUser, &Target::Server)?;
    let user = state
        .blocking(move |s| {
            s.add_user(
                crate::db::NewUser {
                    display_name: req
                        .display_name
                        .filter(|n| !n.trim().is_empty())
                        .unwrap_or_else(|| req.username.clone()),
                    password_hash: crate::auth::hash_password(&req.password)?,
                    username: req.username,
                    role: req.role,
                    team: req.team.filter(|t| !t.trim().is_empty()),
                    department: req.department.filter(|d| !d.trim().is_empty()),
                },
                Utc::now(),
            )
        })
        .await?;
    Ok(super::created(user.info()))
}

#[derive(Debug, Deserialize)]
pub struct DayQuery {
    date: Option<String>,
}

#[derive(Debug, Serialize)]
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

/// `GET /api/v1/sync-health` (extension, admin).
pub async fn sync_health(
    State(state): State<AppState>,
    principal: Principal,
) -> AppResult<Json<crate::db::SyncHealth>> {
    principal.may(Verb::SeeSyncHealth, &Target::Server)?;
    Ok(Json(state.blocking(|s| s.sync_health(Utc::now())).await?))
}

/// Absent → `None` (leave as is); `null` → `Some(None)` (clear); a value → `Some(Some(v))`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::<String>::deserialize(d)?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    role: Option<Role>,
    #[serde(default, deserialize_with = "present")]
    team: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    department: Option<Option<String>>,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    password: Option<String>,
}

/// `PATCH /api/v1/users/{username}` (extension, admin): name, role, team, department, active, password.
pub async fn update_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(username): Path<String>,
    body: axum::body::Body,
) -> AppResult<Json<crate::db::UserView>> {
    let patch: UserPatch = super::read_json(body).await?;
    if patch.display_name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(AppError::invalid("display_name", "a display name cannot be empty"));
    }
    if patch.password.as_deref().is_some_and(|p| p.len() < 6) {
        return Err(AppError::invalid("password", "a password has at least 6 characters"));
    }
    principal.may(Verb::ChangeUser, &Target::Server)?;
    if username == principal.user.username {
        if patch.active == Some(false) {
            return Err(AppError::invalid("active", "an admin cannot lock themselves out"));
        }
        if patch.role.is_some_and(|r| r != Role::Admin) {
            return Err(AppError::invalid("role", "an admin cannot take away their own admin role"));
        }
    }
    let blank_to_none = |v: Option<Option<String>>| v.map(|t| t.filter(|t| !t.trim().is_empty()));
    let update = crate::db::UserUpdate {
        display_name: patch.display_name.map(|n| n.trim().to_owned()),
        role: patch.role,
        team: blank_to_none(patch.team),
        department: blank_to_none(patch.department),
        active: patch.active,
        password_hash: patch.password.as_deref().map(crate::auth::hash_password).transpose()?,
    };
    state
        .blocking(move |s| s.update_user(&username, update, Utc::now()))
        .await?
        .map(Json)
        .ok_or_else(|| AppError::not_found("no such user"))
}

#[derive(Debug, Serialize)]
pub struct TeamList {
    teams: Vec<crate::db::TeamView>,
}

/// `GET /api/v1/teams` (extension, admin and dispatcher): the teams (中队) with their active members.
pub async fn list_teams(State(state): State<AppState>, principal: Principal) -> AppResult<Json<TeamList>> {
    principal.may(Verb::ListTeams, &Target::Server)?;
    Ok(Json(TeamList { teams: state.blocking(|s| s.teams()).await? }))
}

#[derive(Debug, Deserialize)]
pub struct NewTeam {
    name: String,
}

/// `POST /api/v1/teams` (extension, admin): creates a team.
pub async fn add_team(
    State(state): State<AppState>,
    principal: Principal,
    body: axum::body::Body,
) -> AppResult<axum::response::Response> {
    let req: NewTeam = super::read_json(body).await?;
    let name = req.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(AppError::invalid("name", "a team name has 1 to 40 characters"));
    }
    principal.may(Verb::AddTeam, &Target::Server)?;
    let team = state.blocking(move |s| s.add_team(&name, Utc::now())).await?;
    Ok(super::created(team))
}

#[derive(Debug, Serialize)]
pub struct DepartmentList {
    departments: Vec<crate::db::DepartmentView>,
}

/// `GET /api/v1/departments` (extension, admin and dispatcher): the dictionary's departments with their
/// users and open cases.
pub async fn list_departments(State(state): State<AppState>, principal: Principal) -> AppResult<Json<DepartmentList>> {
    principal.may(Verb::ListDepartments, &Target::Server)?;
    Ok(Json(DepartmentList { departments: state.blocking(|s| s.departments()).await? }))
}
