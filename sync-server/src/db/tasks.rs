//! Verification tasks (核查): issued to the reporter when a case is handled (to an inspector of the case's grid
//! when the reporter can no longer receive it), reassigned (改派) or cancelled from the console, completed by the inspector's `task.complete` op (pass closes, fail sends back: 返工).

use chrono::{DateTime, Utc};
use protocol::{
    ApiError, CaseState, ChangeBody, ErrorCode, OpResult, OpStatus, TaskAck, TaskAssigned, TaskComplete, TaskResult,
    TaskState, TaskType,
};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::changes::{announce_case, insert_change};
use super::dict::DictIndex;
use super::error::{StoreError, StoreResult};
use super::history::{Details, step};
use super::sql::{Sql, bad_data, stored, ts};
use crate::domain::EngineSettings;
use crate::domain::lifecycle::CaseEvent;
use crate::policy::verifies_on_the_spot;
use crate::principal::User;

pub(super) fn cancel_tasks(tx: &Connection, case_no: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let open = tx
        .prepare_cached("SELECT id, assignee_id FROM tasks WHERE case_no = ?1 AND state = 'open'")?
        .query_map([case_no], |r| Ok((r.get::<_, Sql<Uuid>>(0)?.0, r.get::<_, Sql<Uuid>>(1)?.0)))?
        .collect::<Result<Vec<_>, _>>()?;
    for (task_id, user) in open {
        tx.execute(
            "UPDATE tasks SET state = 'cancelled', completed_at = ?2 WHERE id = ?1",
            params![task_id.to_string(), ts(now)],
        )?;
        insert_change(tx, Some(user), None, &ChangeBody::TaskCancelled(protocol::TaskCancelled { task_id }), now)?;
    }
    Ok(())
}

/// Whether a user can receive a task: active, with a device that is not revoked.
fn reachable(tx: &Connection, user_id: &str) -> StoreResult<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT u.active AND EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id AND d.revoked_at IS NULL)
             FROM users u WHERE u.id = ?1",
        )?
        .query_row([user_id], |r| r.get::<_, bool>(0))
        .optional()?
        .unwrap_or(false))
}

/// The first of the case's grid's inspectors (网格员, in the dictionary's order) who can receive a task.
fn grid_inspector(tx: &Connection, dict: &DictIndex, case_no: &str) -> StoreResult<Option<String>> {
    let grid: Option<String> = tx.query_row("SELECT grid FROM cases WHERE case_no = ?1", [case_no], |r| r.get(0))?;
    let Some(grid) = grid.and_then(|code| dict.current.as_ref()?.grids.iter().find(|g| g.code == code).cloned()) else {
        return Ok(None);
    };
    let mut by_name = tx.prepare_cached("SELECT id FROM users WHERE username = ?1 AND role = 'inspector'")?;
    for username in &grid.inspectors {
        let id: Option<String> = by_name.query_row([username], |r| r.get(0)).optional()?;
        if let Some(id) = id
            && reachable(tx, &id)?
        {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// After handling, one verification task goes to the reporter of the case's first finding; when the reporter
/// can no longer receive it (disabled, or every device revoked), to an inspector of the case's grid.
pub(super) fn assign_verification(
    tx: &Connection,
    settings: &EngineSettings,
    dict: &DictIndex,
    case_no: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    cancel_tasks(tx, case_no, now)?;
    let reporter: String = tx.query_row(
        "SELECT f.reporter_id FROM findings f WHERE f.case_no = ?1 ORDER BY f.state = 'merged', f.observed_ts, f.id LIMIT 1",
        [case_no],
        |r| r.get(0),
    )?;
    let assignee = if reachable(tx, &reporter)? {
        reporter.clone()
    } else {
        grid_inspector(tx, dict, case_no)?.unwrap_or(reporter)
    };
    let due = settings.verify_due(now);
    issue_task(tx, settings, case_no, &assignee, due, now)
}

/// Writes an open verification task of the case for `assignee` (a user id) and sends it to their devices.
fn issue_task(
    tx: &Connection,
    settings: &EngineSettings,
    case_no: &str,
    assignee: &str,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let (body, category): (String, String) = tx.query_row(
        "SELECT f.body, c.category FROM findings f JOIN cases c ON c.case_no = f.case_no
         WHERE f.case_no = ?1 ORDER BY f.state = 'merged', f.observed_ts, f.id LIMIT 1",
        [case_no],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let finding: protocol::Finding = serde_json::from_str(&body).map_err(bad_data)?;
    let id = Uuid::now_v7();
    tx.execute(
        "INSERT INTO tasks (id, case_no, assignee_id, state, created_at, due_at) VALUES (?1, ?2, ?3, 'open', ?4, ?5)",
        params![id.to_string(), case_no, assignee, ts(now), ts(due)],
    )?;
    let mut photos: Vec<String> = finding.photos.iter().map(|p| p.sha256.clone()).collect();
    let handled_photos: Option<String> = tx
        .query_row(
            "SELECT photos FROM case_history WHERE case_no = ?1 AND action = 'handle' ORDER BY id DESC LIMIT 1",
            [case_no],
            |r| r.get(0),
        )
        .optional()?;
    photos.extend(handled_photos.and_then(|p| serde_json::from_str::<Vec<String>>(&p).ok()).unwrap_or_default());
    let task = protocol::Task {
        id,
        task_type: TaskType::Verify,
        case_no: case_no.to_owned(),
        category,
        location: finding.location,
        address: finding.address.or(finding.road),
        description: finding.description,
        due_at: Some(settings.zone.at(due)),
        photos,
    };
    let user = Uuid::parse_str(assignee).map_err(bad_data)?;
    insert_change(tx, Some(user), None, &ChangeBody::TaskAssigned(TaskAssigned { task }), now)
}

/// What the console may do with an open verification task.
#[derive(Debug, Clone)]
pub enum TaskChange {
    /// To another inspector (by username), with the same deadline.
    Reassign { assignee: String },
    /// Nobody verifies on the spot; the dispatcher decides with `verify` instead.
    Cancel,
}

/// Reassigns (改派) or cancels an open verification task (who may ask is the policy's, checked before). The old assignee's devices hear `task.cancelled`, the new one's
/// `task.assigned`; the case's history records it. Returns the case number.
pub(super) fn change_task(
    tx: &Connection,
    settings: &EngineSettings,
    actor: &User,
    task_id: Uuid,
    change: &TaskChange,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<String> {
    let (case_no, state, assignee, due, case_state): (String, String, String, String, String) = tx
        .query_row(
            "SELECT t.case_no, t.state, u.username, t.due_at, c.state FROM tasks t
             JOIN users u ON u.id = t.assignee_id JOIN cases c ON c.case_no = t.case_no WHERE t.id = ?1",
            [task_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?
        .ok_or_else(|| StoreError::not_found(format!("no verification task {task_id}")))?;
    if state != TaskState::Open.as_str() {
        return Err(StoreError::invalid_transition(format!("this task is already {state}")));
    }
    let (event, text) = match change {
        TaskChange::Reassign { assignee: to } => {
            let target: Option<(String, String)> = tx
                .query_row("SELECT id, role FROM users WHERE username = ?1 AND active = 1", [to], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let Some((target_id, role)) = target else {
                return Err(StoreError::invalid("assignee", format!("no active user `{to}`")));
            };
            let role: protocol::Role = stored(&role)?;
            if !verifies_on_the_spot(role) {
                return Err(StoreError::invalid(
                    "assignee",
                    format!("`{to}` is a {role}; verification is done on the spot by inspectors"),
                ));
            }
            cancel_tasks(tx, &case_no, now)?;
            let due: DateTime<Utc> = stored(&due)?;
            issue_task(tx, settings, &case_no, &target_id, due, now)?;
            (CaseEvent::TaskReassign, format!("{assignee} → {to}"))
        }
        TaskChange::Cancel => {
            cancel_tasks(tx, &case_no, now)?;
            (CaseEvent::TaskCancel, assignee)
        }
    };
    let note = match note.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => format!("{text}: {n}"),
        None => text,
    };
    let state: CaseState = stored(&case_state)?;
    step(tx, &case_no, now, actor, event, state, Details { note: Some(&note), ..Details::default() })?;
    Ok(case_no)
}

/// `task.complete` inside the ingest transaction: pass closes the case, fail sends it back (返工).
pub(super) fn complete_task(
    tx: &Connection,
    settings: &EngineSettings,
    user: &User,
    now: DateTime<Utc>,
    seq: u64,
    t: &TaskComplete,
) -> StoreResult<Result<OpResult, (OpStatus, ApiError)>> {
    let row: Option<(String, String, String)> = tx
        .query_row("SELECT case_no, assignee_id, state FROM tasks WHERE id = ?1", [t.task_id.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((case_no, assignee, state)) = row else {
        return Ok(Err((
            OpStatus::Rejected,
            ApiError::invalid("task_id", format!("no verification task {}", t.task_id)),
        )));
    };
    if assignee != user.id.to_string() {
        return Ok(Err((
            OpStatus::Rejected,
            ApiError::new(ErrorCode::Forbidden, "this task is assigned to someone else"),
        )));
    }
    if state != TaskState::Open.as_str() {
        return Ok(Err((
            OpStatus::Rejected,
            ApiError::new(ErrorCode::InvalidTransition, format!("this task is already {state}")),
        )));
    }
    for (i, p) in t.photos.iter().enumerate() {
        if let Err(e) = p.validate(&format!("photos[{i}]")) {
            return Ok(Err((OpStatus::Rejected, e.into())));
        }
    }
    let mut missing = Vec::new();
    for p in &t.photos {
        let held: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM blobs WHERE sha256 = ?1)", [&p.sha256], |r| r.get(0))?;
        if !held && !missing.contains(&p.sha256) {
            missing.push(p.sha256.clone());
        }
    }
    if !missing.is_empty() {
        let e = ApiError::new(ErrorCode::MissingBlobs, "photos must be uploaded before the task result")
            .with_details(serde_json::json!({ "missing": missing }));
        return Ok(Err((OpStatus::Retry, e)));
    }
    let (task_state, result) = match t.result {
        TaskResult::Pass => (TaskState::Passed, "pass"),
        TaskResult::Fail => (TaskState::Failed, "fail"),
    };
    let photos: Vec<String> = t.photos.iter().map(|p| p.sha256.clone()).collect();
    tx.execute(
        "UPDATE tasks SET state = ?2, completed_at = ?3, result = ?4, note = ?5, photos = ?6 WHERE id = ?1",
        params![
            t.task_id.to_string(),
            task_state.as_str(),
            ts(t.completed_at.with_timezone(&Utc).min(now)),
            result,
            t.note,
            serde_json::to_string(&photos).unwrap_or_default()
        ],
    )?;
    let (case_state, due) = tx.query_row("SELECT state, due_at FROM cases WHERE case_no = ?1", [&case_no], |r| {
        Ok((r.get::<_, Sql<CaseState>>(0)?.0, r.get::<_, Option<Sql<DateTime<Utc>>>>(1)?.map(|t| t.0)))
    })?;
    // A task of a case that is no longer `handled` (voided, say) is still recorded; the case stays.
    if case_state == CaseState::Handled {
        let note = if t.note.is_empty() { None } else { Some(t.note.as_str()) };
        // Pass closes the case (the verifier is its closer); fail sends it back to the department (返工).
        let event = match t.result {
            TaskResult::Pass => CaseEvent::VerifyPass,
            TaskResult::Fail => CaseEvent::VerifyFail,
        };
        let to = step(tx, &case_no, now, user, event, case_state, Details { note, photos: &photos, due_at: due })?;
        tx.execute(
            "UPDATE cases SET state = ?2, closed_at = CASE WHEN ?2 = 'closed' THEN ?3 ELSE closed_at END,
                    rework_count = rework_count + ?4 WHERE case_no = ?1",
            params![case_no, to.as_str(), ts(now), i64::from(event == CaseEvent::VerifyFail)],
        )?;
        announce_case(tx, settings, &case_no, now)?;
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

/// The case of a verification task, for the permission check; `None` when there is no such task.
pub(super) fn task_case(conn: &Connection, task_id: Uuid) -> StoreResult<Option<String>> {
    Ok(conn.query_row("SELECT case_no FROM tasks WHERE id = ?1", [task_id.to_string()], |r| r.get(0)).optional()?)
}
