//! Teams (中队) and departments (专业部门), for the admin and the centre.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::policy::{Target, Verb};
use crate::principal::Principal;
use crate::state::AppState;

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TeamList {
    teams: Vec<crate::db::TeamView>,
}

/// `GET /api/v1/teams` (extension, admin and dispatcher): the teams (中队) with their active members.
pub async fn list_teams(State(state): State<AppState>, principal: Principal) -> AppResult<Json<TeamList>> {
    principal.may(Verb::ListTeams, &Target::Server)?;
    Ok(Json(TeamList { teams: state.blocking(|s| s.teams()).await? }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
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
    state.audit(principal.audit("team.add", team.name.clone())).await;
    Ok(super::created(team))
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct DepartmentList {
    departments: Vec<crate::db::DepartmentView>,
}

/// `GET /api/v1/departments` (extension, admin and dispatcher): the dictionary's departments with their
/// users and open cases.
pub async fn list_departments(State(state): State<AppState>, principal: Principal) -> AppResult<Json<DepartmentList>> {
    principal.may(Verb::ListDepartments, &Target::Server)?;
    Ok(Json(DepartmentList { departments: state.blocking(|s| s.departments()).await? }))
}
