//! The case engine's console endpoints: review decisions, case lists and details, lifecycle actions.

use axum::Json;
use axum::body::Body;
use axum::extract::State;

use super::extract::{Path, Query};
use chrono::Utc;
use protocol::{CaseState, FindingState, is_case_no, is_sha256_hex};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{MAX_NOTE_CHARS, at_most, read_json, text};
use crate::db::{ActionInput, CaseFilter, CaseView, Decision, ReviewItem};
use crate::domain::lifecycle::CaseAction;
use crate::error::{AppError, AppResult};
use crate::policy::{Listing, Target, Verb};
use crate::principal::Principal;
use crate::state::AppState;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ReviewRequest {
    decision: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    case_no: Option<String>,
    #[serde(default)]
    category: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ReviewAnswer {
    finding: ReviewItem,
    case: Option<CaseView>,
}

/// The case with the actions the caller may take on it now: a decision only while a request waits, a request
/// only while none does.
fn for_caller(principal: &Principal, mut case: CaseView) -> CaseView {
    let pending = case.requests.iter().any(|r| r.state == "pending");
    case.allowed_actions = principal
        .case_actions(case.state, case.team.as_deref(), case.department.as_deref())
        .into_iter()
        .filter(|a| if pending { !a.is_request() } else { !a.is_decision() })
        .collect();
    case
}

pub async fn review_finding(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Body,
) -> AppResult<Json<ReviewAnswer>> {
    let id = Uuid::parse_str(&id).map_err(|_| AppError::not_found("no such finding"))?;
    let meta =
        state.blocking(move |s| s.finding_meta(id)).await?.ok_or_else(|| AppError::not_found("no such finding"))?;
    let req: ReviewRequest = read_json(body).await?;
    at_most("reason", req.reason.as_deref().unwrap_or_default(), MAX_NOTE_CHARS)?;
    let decision = match req.decision.as_str() {
        "approve" => {
            if let Some(code) = text(&req.category) {
                let known = state.store.dictionary()?.is_some_and(|d| d.category(&code).is_some());
                if !known {
                    return Err(AppError::invalid("category", format!("category {code} is not in the dictionary")));
                }
            }
            Decision::Approve { category: text(&req.category), note: text(&req.reason) }
        }
        "reject" => Decision::Reject {
            reason: text(&req.reason).ok_or_else(|| AppError::invalid("reason", "a rejection needs a reason"))?,
        },
        "merge" => {
            let case_no = text(&req.case_no)
                .ok_or_else(|| AppError::invalid("case_no", "a merge needs the case_no to merge into"))?;
            if !is_case_no(&case_no) {
                return Err(AppError::invalid("case_no", "a case number has letters, digits and dashes"));
            }
            let c = case_no.clone();
            if state.blocking(move |s| s.case_meta(&c)).await?.is_none() {
                return Err(AppError::not_found(format!("no case {case_no}")));
            }
            Decision::Merge { case_no, note: text(&req.reason) }
        }
        other => return Err(AppError::invalid("decision", format!("`{other}` is not approve, reject or merge"))),
    };
    principal.may(Verb::ReviewFinding, &Target::Finding { team: meta.team.as_deref() })?;
    if meta.state != FindingState::PendingReview {
        return Err(AppError::invalid_transition(format!(
            "this finding was already reviewed ({})",
            meta.state.as_str()
        )));
    }
    let user = principal.user.clone();
    let (finding, case) = state.blocking(move |s| s.review_finding(&user, id, &decision, Utc::now())).await?;
    Ok(Json(ReviewAnswer { finding, case: case.map(|c| for_caller(&principal, c)) }))
}

#[derive(Debug, Deserialize)]
pub struct CasesQuery {
    state: Option<String>,
    department: Option<String>,
    overdue: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CaseList {
    cases: Vec<CaseView>,
}

pub async fn list_cases(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<CasesQuery>,
) -> AppResult<Json<CaseList>> {
    let case_state = match text(&q.state) {
        None => None,
        Some(s) => {
            Some(CaseState::parse(&s).ok_or_else(|| AppError::invalid("state", format!("`{s}` is not a case state")))?)
        }
    };
    let overdue = match q.overdue.as_deref() {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(AppError::invalid("overdue", "overdue is true or false")),
    };
    let filter = CaseFilter {
        scope: principal.scope(Listing::Cases)?,
        state: case_state,
        department: text(&q.department),
        overdue,
        filed: None,
        limit: None,
    };
    let cases = state.blocking(move |s| s.cases(&filter, Utc::now())).await?;
    Ok(Json(CaseList { cases: cases.into_iter().map(|c| for_caller(&principal, c)).collect() }))
}

/// A case with its findings, history and tasks, as the caller may see it: 404 for no such case, 403 for a
/// case the caller may not read.
pub(super) async fn readable_case(state: &AppState, principal: &Principal, case_no: String) -> AppResult<CaseView> {
    if !is_case_no(&case_no) {
        return Err(AppError::not_found("no such case"));
    }
    let view = state
        .blocking(move |s| s.case_detail(&case_no, Utc::now()))
        .await?
        .ok_or_else(|| AppError::not_found("no such case"))?;
    let reported_by_caller =
        view.findings.as_ref().is_some_and(|fs| fs.iter().any(|f| f.reporter == principal.user.username));
    let target =
        Target::Case { team: view.team.as_deref(), department: view.department.as_deref(), reported_by_caller };
    principal.may(Verb::ReadCase, &target)?;
    Ok(for_caller(principal, view))
}

pub async fn get_case(
    State(state): State<AppState>,
    principal: Principal,
    Path(case_no): Path<String>,
) -> AppResult<Json<CaseView>> {
    Ok(Json(readable_case(&state, &principal, case_no).await?))
}

/// The most hours one `extend` may add (the contract: `hours` in (0, 720]).
const MAX_EXTEND_HOURS: f64 = 720.0;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ActionRequest {
    action: String,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    photos: Vec<String>,
    #[serde(default)]
    hours: Option<f64>,
}

pub async fn case_action(
    State(state): State<AppState>,
    principal: Principal,
    Path(case_no): Path<String>,
    body: Body,
) -> AppResult<Json<CaseView>> {
    if !is_case_no(&case_no) {
        return Err(AppError::not_found("no such case"));
    }
    let c = case_no.clone();
    let meta = state.blocking(move |s| s.case_meta(&c)).await?.ok_or_else(|| AppError::not_found("no such case"))?;
    let req: ActionRequest = read_json(body).await?;
    let action = CaseAction::parse(&req.action)
        .ok_or_else(|| AppError::invalid("action", format!("`{}` is not a case action", req.action)))?;
    let note = text(&req.note);
    at_most("note", note.as_deref().unwrap_or_default(), MAX_NOTE_CHARS)?;
    let needs_note =
        matches!(action, CaseAction::Return | CaseAction::Extend | CaseAction::Void | CaseAction::Supervise)
            || action.is_request()
            || action.is_decision();
    if needs_note && note.is_none() {
        return Err(AppError::invalid("note", format!("{} needs a reason in note", action.as_str())));
    }
    let needs_hours = matches!(action, CaseAction::Extend | CaseAction::RequestExtension);
    if needs_hours && !req.hours.is_some_and(|h| h > 0.0 && h <= MAX_EXTEND_HOURS) {
        return Err(AppError::invalid("hours", format!("{} needs hours in (0, {MAX_EXTEND_HOURS}]", action.as_str())));
    }
    let department = text(&req.department);
    if let Some(d) = &department {
        let known = state.store.dictionary()?.is_some_and(|dict| dict.departments.iter().any(|x| &x.code == d));
        if !known {
            return Err(AppError::invalid("department", format!("department {d} is not in the dictionary")));
        }
    }
    for (i, sha) in req.photos.iter().enumerate() {
        if !is_sha256_hex(sha) {
            return Err(AppError::invalid(format!("photos[{i}]"), "photos are named by their SHA-256"));
        }
        let s = sha.clone();
        if state.blocking(move |st| st.blob(&s)).await?.is_none() {
            return Err(AppError::invalid(format!("photos[{i}]"), "upload the photo before naming it"));
        }
    }
    let target =
        Target::Case { team: meta.team.as_deref(), department: meta.department.as_deref(), reported_by_caller: false };
    principal.may(Verb::Act(action), &target)?;
    let input = ActionInput { action, department, note, photos: req.photos, hours: req.hours };
    let actor = principal.user.clone();
    let view = state.blocking(move |s| s.case_action(&actor, &case_no, &input, Utc::now())).await?;
    Ok(Json(for_caller(&principal, view)))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct TaskChangeRequest {
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /api/v1/tasks/{id}/reassign` (extension): the open verification task goes to another inspector.
pub async fn reassign_task(
    state: State<AppState>,
    principal: Principal,
    id: Path<String>,
    body: Body,
) -> AppResult<Json<CaseView>> {
    change_task(state, principal, id, body, true).await
}

/// `POST /api/v1/tasks/{id}/cancel` (extension): nobody verifies on the spot; the case waits in `handled`.
pub async fn cancel_task(
    state: State<AppState>,
    principal: Principal,
    id: Path<String>,
    body: Body,
) -> AppResult<Json<CaseView>> {
    change_task(state, principal, id, body, false).await
}

async fn change_task(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Body,
    reassign: bool,
) -> AppResult<Json<CaseView>> {
    let id = Uuid::parse_str(&id).map_err(|_| AppError::not_found("no such verification task"))?;
    let req: TaskChangeRequest = read_json(body).await?;
    let change = if reassign {
        let assignee =
            text(&req.assignee).ok_or_else(|| AppError::invalid("assignee", "name the inspector by username"))?;
        crate::db::TaskChange::Reassign { assignee }
    } else {
        crate::db::TaskChange::Cancel
    };
    let note = text(&req.note);
    at_most("note", note.as_deref().unwrap_or_default(), MAX_NOTE_CHARS)?;
    let case = state
        .blocking(move |s| s.task_case(id))
        .await?
        .ok_or_else(|| AppError::not_found(format!("no verification task {id}")))?;
    let target =
        Target::Case { team: case.team.as_deref(), department: case.department.as_deref(), reported_by_caller: false };
    principal.may(Verb::ChangeTask, &target)?;
    let user = principal.user.clone();
    let view = state.blocking(move |s| s.change_task(&user, id, &change, note.as_deref(), Utc::now())).await?;
    Ok(Json(for_caller(&principal, view)))
}
