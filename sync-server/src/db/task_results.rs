//! Task results (`task.complete`), whatever the task: a 核查 result moves its case, a 核实 result files or ends
//! its report, a free task is recorded as done.

use super::conn::{Db, OptionalExtension, params};
use chrono::{DateTime, Utc};
use protocol::{
    ApiError, CaseState, ErrorCode, OpResult, OpStatus, TaskAck, TaskComplete, TaskResult, TaskState, TaskType,
};

use super::changes::announce_case;
use super::dict::DictIndex;
use super::error::StoreResult;
use super::history::{Details, step};
use super::reports;
use super::sql::{Sql, bad_data, ts};
use super::webhooks::{Emit, emit};
use crate::domain::EngineSettings;
use crate::domain::lifecycle::CaseEvent;
use crate::domain::webhooks::Event;
use crate::principal::User;

/// What a result is checked against.
struct TaskRow {
    kind: String,
    case_no: Option<String>,
    report_id: Option<String>,
    assignee: String,
    state: String,
}

/// `task.complete` inside the ingest transaction. 核查: pass closes the case, fail sends it back (返工); 核实:
/// confirmed files the report as a case, not found ends it; a free task is done. Everything that can refuse
/// the op is checked before anything is written (a refused op leaves the batch's transaction going).
#[allow(clippy::too_many_arguments)]
pub(super) fn complete_task(
    tx: &impl Db,
    settings: &EngineSettings,
    dict: &DictIndex,
    user: &User,
    now: DateTime<Utc>,
    seq: u64,
    t: &TaskComplete,
) -> StoreResult<Result<OpResult, (OpStatus, ApiError)>> {
    let refuse = |e: ApiError| Ok(Err((OpStatus::Rejected, e)));
    let row = tx
        .query_row(
            "SELECT kind, case_no, report_id, assignee_id, state FROM tasks WHERE id = ?1",
            [t.task_id.to_string()],
            |r| {
                Ok(TaskRow {
                    kind: r.get(0)?,
                    case_no: r.get(1)?,
                    report_id: r.get(2)?,
                    assignee: r.get(3)?,
                    state: r.get(4)?,
                })
            },
        )
        .optional()?;
    let Some(TaskRow { kind, case_no, report_id, assignee, state }) = row else {
        return refuse(ApiError::invalid("task_id", format!("no task {}", t.task_id)));
    };
    if assignee != user.id.to_string() {
        return refuse(ApiError::new(ErrorCode::Forbidden, "this task is assigned to someone else"));
    }
    if state != TaskState::Open.as_str() {
        return refuse(ApiError::new(ErrorCode::InvalidTransition, format!("this task is already {state}")));
    }
    let kind = TaskType::parse(&kind).ok_or_else(|| bad_data(format!("task kind `{kind}`")))?;
    if !t.result.fits(kind) {
        let allowed: Vec<&str> = TaskResult::of(kind).iter().map(|r| r.as_str()).collect();
        return refuse(ApiError::invalid(
            "result",
            format!("a {} task ends with {}, not {}", kind.as_str(), allowed.join(" or "), t.result.as_str()),
        ));
    }
    for (i, p) in t.photos.iter().enumerate() {
        if let Err(e) = p.validate(&format!("photos[{i}]")) {
            return refuse(e.into());
        }
    }
    let mut missing = Vec::new();
    for p in &t.photos {
        let held: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM blobs WHERE sha256 = ?1 AND purged_at IS NULL)",
            [&p.sha256],
            |r| r.get(0),
        )?;
        if !held && !missing.contains(&p.sha256) {
            missing.push(p.sha256.clone());
        }
    }
    if !missing.is_empty() {
        let e = ApiError::new(ErrorCode::MissingBlobs, "photos must be uploaded before the task result")
            .with_details(serde_json::json!({ "missing": missing }));
        return Ok(Err((OpStatus::Retry, e)));
    }
    let settle = match (kind, &report_id) {
        (TaskType::Confirm, Some(report_id)) => match reports::plan_settle(tx, dict, report_id, t)? {
            Ok(plan) => Some(plan),
            Err(e) => return refuse(e),
        },
        _ => None,
    };
    let task_state = t.result.state();
    let photos: Vec<String> = t.photos.iter().map(|p| p.sha256.clone()).collect();
    tx.execute(
        "UPDATE tasks SET state = ?2, completed_at = ?3, result = ?4, note = ?5, photos = ?6 WHERE id = ?1",
        params![
            t.task_id.to_string(),
            task_state.as_str(),
            ts(t.completed_at.with_timezone(&Utc).min(now)),
            t.result.as_str(),
            t.note,
            serde_json::to_string(&photos).unwrap_or_default()
        ],
    )?;
    if kind != TaskType::Verify {
        // The centre reads the photos of a 核实 or free task's result, whatever it was.
        reports::attach(tx, &t.task_id.to_string(), &photos)?;
    }
    let change = serde_json::json!({
        "action": "complete", "actor": user.username, "role": user.role.as_str(), "type": kind.as_str(),
        "result": t.result.as_str(), "note": t.note, "photos": photos, "case_no": case_no, "report_id": report_id,
        "at": ts(now),
    });
    let subject = t.task_id.to_string();
    let e = Emit { event: Event::TaskCompleted, subject: &subject, action: Some("complete"), change, at: now };
    emit(tx, e, || {
        let Some(no) = &case_no else { return Ok(None) };
        Ok(tx.query_row("SELECT department FROM cases WHERE case_no = ?1", [no], |r| r.get(0)).optional()?.flatten())
    })?;
    match (kind, case_no, settle) {
        (TaskType::Verify, Some(case_no), _) => verified(tx, settings, user, now, t, &case_no, &photos)?,
        (TaskType::Confirm, _, Some(plan)) => reports::settle(tx, settings, dict, user, plan, t, now)?,
        _ => {}
    }
    Ok(Ok(OpResult {
        seq,
        status: OpStatus::Applied,
        finding: None,
        patrol: None,
        task: Some(TaskAck { id: t.task_id, state: task_state }),
        error: None,
    }))
}

/// A verification's result on its case: pass closes it (the verifier is its closer), fail sends it back to the
/// department (返工). A task of a case that is no longer `handled` (voided, say) is recorded; the case stays.
fn verified(
    tx: &impl Db,
    settings: &EngineSettings,
    user: &User,
    now: DateTime<Utc>,
    t: &TaskComplete,
    case_no: &str,
    photos: &[String],
) -> StoreResult<()> {
    let (case_state, due) = tx.query_row("SELECT state, due_at FROM cases WHERE case_no = ?1", [case_no], |r| {
        Ok((r.get::<_, Sql<CaseState>>(0)?.0, r.get::<_, Option<Sql<DateTime<Utc>>>>(1)?.map(|t| t.0)))
    })?;
    if case_state != CaseState::Handled {
        return Ok(());
    }
    let note = if t.note.is_empty() { None } else { Some(t.note.as_str()) };
    let event = if t.result == TaskResult::Pass { CaseEvent::VerifyPass } else { CaseEvent::VerifyFail };
    let to = step(tx, case_no, now, user, event, case_state, Details { note, photos, due_at: due })?;
    tx.execute(
        "UPDATE cases SET state = ?2, closed_at = CASE WHEN ?2 = 'closed' THEN ?3 ELSE closed_at END,
                rework_count = rework_count + ?4 WHERE case_no = ?1",
        params![case_no, to.as_str(), ts(now), i64::from(event == CaseEvent::VerifyFail)],
    )?;
    announce_case(tx, settings, case_no, now)
}
