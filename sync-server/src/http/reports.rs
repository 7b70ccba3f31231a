//! `/api/v1/reports` and `/api/v1/tasks`: the centre's intake (受理) of reports from other channels, and free
//! tasks (点名抽查, 领导交办) for inspectors. Both are idempotent by the client's id: a hotline system that
//! resends never makes two reports.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use protocol::TaskType;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::extract::{Path, Query};
use super::{limit, read_json};
use crate::db::{ReportFilter, TaskFilter};
use crate::domain::reports::{Channel, NewReport, NewTask, Report, ReportAnswer, ReportState, TaskItem};
use crate::error::{AppError, AppResult};
use crate::policy::{Target, Verb};
use crate::principal::Principal;
use crate::state::AppState;

/// The report as the caller may see it: the caller's name and phone only for the dispatcher and the admin.
fn for_caller(principal: &Principal, mut report: Report) -> Report {
    if principal.may(Verb::SeeContact, &Target::Server).is_err() {
        report.contact = None;
    }
    report
}

fn created(new: bool, body: impl Serialize) -> Response {
    let status = if new { StatusCode::CREATED } else { StatusCode::OK };
    (status, Json(body)).into_response()
}

/// `POST /api/v1/reports` (dispatcher, chief, admin): 201 with the report, or 200 with it as it is now when
/// the same id and body come again.
pub async fn receive(State(state): State<AppState>, principal: Principal, body: Body) -> AppResult<Response> {
    principal.may(Verb::ReceiveReport, &Target::Server)?;
    let input: NewReport = read_json(body).await?;
    input.validate()?;
    // A chief sends a 核实 to the own team's inspectors only, as free tasks.
    if let Some(username) = input.assignee.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        let name = username.to_owned();
        let team = state
            .blocking(move |s| s.user_team(&name))
            .await?
            .ok_or_else(|| AppError::invalid("assignee", format!("no user `{username}`")))?;
        principal.may(Verb::AssignTask, &Target::Team(team.as_deref()))?;
    }
    let actor = principal.user.clone();
    let (report, new) = state.blocking(move |s| s.receive_report(&actor, &input, Utc::now())).await?;
    Ok(created(new, ReportAnswer { report: for_caller(&principal, report) }))
}

#[derive(Debug, Deserialize)]
pub struct ReportsQuery {
    state: Option<String>,
    channel: Option<String>,
    limit: Option<u32>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ReportList {
    reports: Vec<Report>,
}

fn parsed<T: std::str::FromStr>(field: &str, value: Option<&str>, what: &str) -> AppResult<Option<T>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| AppError::invalid(field, format!("`{v}` is not {what}"))),
    }
}

/// `GET /api/v1/reports?state=&channel=&limit=`: the newest first.
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<ReportsQuery>,
) -> AppResult<Json<ReportList>> {
    principal.may(Verb::ReceiveReport, &Target::Server)?;
    let filter = ReportFilter {
        state: parsed::<ReportState>("state", q.state.as_deref(), "a report state (verifying, filed, not_confirmed)")?,
        channel: parsed::<Channel>(
            "channel",
            q.channel.as_deref(),
            "a channel (hotline, leader, citizen, camera, other)",
        )?,
        limit: limit(q.limit, 200, 1000)?,
    };
    let reports = state.blocking(move |s| s.reports(&filter)).await?;
    Ok(Json(ReportList { reports: reports.into_iter().map(|r| for_caller(&principal, r)).collect() }))
}

/// `GET /api/v1/reports/{id}`.
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<ReportAnswer>> {
    principal.may(Verb::ReceiveReport, &Target::Server)?;
    let id = Uuid::parse_str(&id).map_err(|_| AppError::not_found("no such report"))?;
    let report = state.blocking(move |s| s.report(id)).await?.ok_or_else(|| AppError::not_found("no such report"))?;
    Ok(Json(ReportAnswer { report: for_caller(&principal, report) }))
}

/// `POST /api/v1/tasks` (dispatcher, admin, a chief for the own team): a free task; 201, or 200 when the same
/// id and body come again.
pub async fn create(State(state): State<AppState>, principal: Principal, body: Body) -> AppResult<Response> {
    principal.may(Verb::AssignTask, &Target::Server)?;
    let input: NewTask = read_json(body).await?;
    input.validate(Utc::now())?;
    let username = input.assignee.trim().to_owned();
    let team = state
        .blocking(move |s| s.user_team(&username))
        .await?
        .ok_or_else(|| AppError::invalid("assignee", format!("no user `{}`", input.assignee.trim())))?;
    principal.may(Verb::AssignTask, &Target::Team(team.as_deref()))?;
    let actor = principal.user.clone();
    let (task, new) = state.blocking(move |s| s.create_task(&actor, &input, Utc::now())).await?;
    Ok(created(new, task))
}

#[derive(Debug, Deserialize)]
pub struct TasksQuery {
    #[serde(rename = "type")]
    task_type: Option<String>,
    limit: Option<u32>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TaskList {
    tasks: Vec<TaskItem>,
}

/// `GET /api/v1/tasks?type=confirm|inspect|verify&limit=`: tasks that are not a case's unless a type is asked
/// for, the newest first; a chief's own team's.
pub async fn list_tasks(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<TasksQuery>,
) -> AppResult<Json<TaskList>> {
    principal.may(Verb::AssignTask, &Target::Server)?;
    let team = match principal.user.role {
        protocol::Role::Chief => Some(principal.user.team.clone().unwrap_or_default()),
        _ => None,
    };
    let filter = TaskFilter {
        task_type: parsed::<TaskType>("type", q.task_type.as_deref(), "a task type (verify, confirm, inspect)")?,
        team,
        limit: limit(q.limit, 200, 1000)?,
    };
    let tasks = state.blocking(move |s| s.tasks(&filter)).await?;
    Ok(Json(TaskList { tasks }))
}
