//! Tasks as issued: 核查 (verification) tasks go to the reporter when a case is handled (to an inspector of the
//! case's grid when the reporter can no longer receive it) and are reassigned (改派) or cancelled from the
//! console; every task is written and sent to the phone here. Results are `task_results`'.

use super::conn::{Db, OptionalExtension, Stmt, params};
use chrono::{DateTime, Utc};
use protocol::{CaseState, ChangeBody, TaskAssigned, TaskState, TaskType};
use uuid::Uuid;

use super::changes::insert_change;
use super::dict::DictIndex;
use super::error::{StoreError, StoreResult};
use super::history::{Details, step};
use super::sql::{Sql, bad_data, json, stored, ts};
use crate::domain::EngineSettings;
use crate::domain::lifecycle::CaseEvent;
use crate::policy::verifies_on_the_spot;
use crate::principal::User;

pub(super) fn cancel_tasks(tx: &impl Db, case_no: &str, now: DateTime<Utc>) -> StoreResult<()> {
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

/// Whether a user can receive a task: active, and not cut off (a user with devices, all of them revoked). A
/// user who has not registered a device yet receives it with everything else on the first sync.
pub(super) fn reachable(tx: &impl Db, user_id: &str) -> StoreResult<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT u.active = 1 AND (NOT EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id)
                                  OR EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id AND d.revoked_at IS NULL))
             FROM users u WHERE u.id = ?1",
        )?
        .query_row([user_id], |r| r.get::<_, bool>(0))
        .optional()?
        .unwrap_or(false))
}

/// The first of these users (usernames, in order) who can be given a task on the spot and can receive it.
pub(super) fn first_reachable<'a>(
    tx: &impl Db,
    usernames: impl IntoIterator<Item = &'a String>,
) -> StoreResult<Option<String>> {
    let mut by_name = tx.prepare_cached("SELECT id, role FROM users WHERE username = ?1")?;
    for username in usernames {
        let found: Option<(String, String)> =
            by_name.query_row([username], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        if let Some((id, role)) = found
            && verifies_on_the_spot(stored(&role)?)
            && reachable(tx, &id)?
        {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// The first of the case's grid's inspectors (网格员, in the dictionary's order) who can receive a task.
fn grid_inspector(tx: &impl Db, dict: &DictIndex, case_no: &str) -> StoreResult<Option<String>> {
    let grid: Option<String> = tx.query_row("SELECT grid FROM cases WHERE case_no = ?1", [case_no], |r| r.get(0))?;
    let Some(grid) = grid.and_then(|code| dict.current.as_ref()?.grids.iter().find(|g| g.code == code).cloned()) else {
        return Ok(None);
    };
    first_reachable(tx, &grid.inspectors)
}

/// After handling, one verification task goes to the reporter of the case's first finding; when the reporter
/// can no longer receive it (disabled, or every device revoked), to an inspector of the case's grid.
pub(super) fn assign_verification(
    tx: &impl Db,
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
    // A report filed at once by the centre has a console user as its reporter: not one who goes on site.
    let role: String = tx.query_row("SELECT role FROM users WHERE id = ?1", [&reporter], |r| r.get(0))?;
    let on_site = verifies_on_the_spot(stored(&role)?);
    let assignee = if on_site && reachable(tx, &reporter)? {
        reporter.clone()
    } else {
        grid_inspector(tx, dict, case_no)?.unwrap_or(reporter)
    };
    let due = settings.verify_due(now);
    issue_task(tx, settings, case_no, &assignee, due, now)
}

/// Writes an open verification task of the case for `assignee` (a user id) and sends it to their devices.
fn issue_task(
    tx: &impl Db,
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
        id: Uuid::now_v7(),
        task_type: TaskType::Verify,
        case_no: Some(case_no.to_owned()),
        category,
        location: Some(finding.location),
        address: finding.address.or(finding.road),
        description: finding.description,
        due_at: Some(settings.zone.at(due)),
        photos,
        title: None,
        report_id: None,
    };
    send_task(tx, &task, assignee, due, TaskOrigin::default(), now)
}

/// Who asked for a task that is not a case's, and the fingerprint of the request (to answer a resend).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct TaskOrigin<'a> {
    pub created_by: Option<&'a str>,
    pub body_hash: Option<&'a str>,
}

/// Writes an open task for `assignee` (a user id) and sends it to their devices as `task.assigned`. A task
/// that is not a case's keeps its body, to be read back as sent.
pub(super) fn send_task(
    tx: &impl Db,
    task: &protocol::Task,
    assignee: &str,
    due: DateTime<Utc>,
    origin: TaskOrigin<'_>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let body = (task.task_type != TaskType::Verify).then(|| json(task)).transpose()?;
    tx.execute(
        "INSERT INTO tasks (id, kind, case_no, report_id, assignee_id, state, created_at, due_at, body, body_hash, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, 'open', ?6, ?7, ?8, ?9, ?10)",
        params![
            task.id.to_string(),
            task.task_type.as_str(),
            task.case_no,
            task.report_id.map(|r| r.to_string()),
            assignee,
            ts(now),
            ts(due),
            body,
            origin.body_hash,
            origin.created_by
        ],
    )?;
    let user = Uuid::parse_str(assignee).map_err(bad_data)?;
    insert_change(tx, Some(user), None, &ChangeBody::TaskAssigned(TaskAssigned { task: task.clone() }), now)
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
    tx: &impl Db,
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

/// The case of a verification task, for the permission check; `None` when there is no such task.
pub(super) fn task_case(conn: &impl Db, task_id: Uuid) -> StoreResult<Option<String>> {
    // A task that is not a case's (核实, a free task) is no verification task.
    let case_no: Option<Option<String>> =
        conn.query_row("SELECT case_no FROM tasks WHERE id = ?1", [task_id.to_string()], |r| r.get(0)).optional()?;
    Ok(case_no.flatten())
}
