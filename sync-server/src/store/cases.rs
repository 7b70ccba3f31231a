//! The case engine on SQLite: review decisions, the lifecycle of cases, verification tasks, and the facts
//! the indicators are counted from. Every change writes history and tells the findings' reporters.

use chrono::{DateTime, Duration, Utc};
use protocol::{
    ApiError, CaseState, ChangeBody, ErrorCode, FindingState, OpResult, OpStatus, TaskAck, TaskAssigned, TaskComplete,
    TaskResult, TaskState, TaskType,
};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::ingest::{file_case, insert_change, nearest_open_case, notify_finding, record_history};
use super::sqlite::{DictIndex, SqliteStore, parse_ts, ts};
use super::{
    ActionInput, CaseFilter, CaseMeta, CaseScope, CaseView, Decision, DeviceUser, DeviceView, EngineSettings,
    FindingMeta, GeoPoint, HistoryEntry, ReviewItem, StatEvent, SyncContext, TaskView,
};
use crate::auth::User;
use crate::engine::{CaseAction, deadline_applies};
use crate::error::{AppError, AppResult};
use crate::stats::Metric;

fn bad_data(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("stored data unreadable: {e}"))
}

/// Review items matching `where_sql` (on table alias `f`), oldest first, paged by `limit` (-1: all).
pub(super) fn review_items(
    conn: &Connection,
    settings: &EngineSettings,
    where_sql: &str,
    args: &[&dyn rusqlite::ToSql],
    limit: i64,
    offset: u32,
) -> AppResult<Vec<ReviewItem>> {
    let sql = format!(
        "SELECT f.body, u.username, f.state, f.case_no, f.possible_duplicate_of, f.team, f.reason, f.category
         FROM findings f JOIN users u ON u.id = f.reporter_id WHERE {where_sql}
         ORDER BY f.observed_ts, f.id LIMIT {limit} OFFSET {offset}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(args, |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, String>(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (body, reporter, state, case_no, dup, team, reason, category) = row?;
        let f: protocol::Finding = serde_json::from_str(&body).map_err(bad_data)?;
        let state = FindingState::parse(&state).unwrap_or(FindingState::PendingReview);
        // The suggestion is only worth showing while the finding waits, against cases still open now.
        let possible_duplicate_of = if state == FindingState::PendingReview {
            nearest_open_case(conn, settings, &category, f.location.lat, f.location.lon, f.observed_at.timestamp())?
        } else {
            dup
        };
        out.push(ReviewItem {
            id: f.id,
            reporter,
            category,
            description: f.description,
            address: f.address,
            observed_at: f.observed_at,
            location: f.location,
            photos: f.photos,
            fixed_on_spot: f.fixed_on_spot,
            urgent: f.urgent,
            state,
            case_no,
            possible_duplicate_of,
            team,
            road: f.road,
            facility_code: f.facility_code,
            reason,
        });
    }
    Ok(out)
}

pub(super) fn finding_meta(conn: &Connection, id: Uuid) -> AppResult<Option<FindingMeta>> {
    Ok(conn
        .query_row("SELECT state, team FROM findings WHERE id = ?1", [id.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })
        .optional()?
        .map(|(s, team)| FindingMeta { state: FindingState::parse(&s).unwrap_or(FindingState::PendingReview), team }))
}

pub(super) fn case_meta(conn: &Connection, case_no: &str) -> AppResult<Option<CaseMeta>> {
    Ok(conn
        .query_row("SELECT state, team, department FROM cases WHERE case_no = ?1", [case_no], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?))
        })
        .optional()?
        .map(|(s, team, department)| CaseMeta {
            state: CaseState::parse(&s).unwrap_or(CaseState::Filed),
            team,
            department,
        }))
}

const CASE_COLUMNS: &str =
    "c.case_no, c.state, c.category, c.department, c.team, c.due_at, c.self_handled, c.rework_count,
     c.urgent, c.filed_at, c.closed_at, c.lat, c.lon";

fn case_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseRow> {
    Ok(CaseRow {
        case_no: r.get(0)?,
        state: r.get(1)?,
        category: r.get(2)?,
        department: r.get(3)?,
        team: r.get(4)?,
        due_at: r.get(5)?,
        self_handled: r.get(6)?,
        rework_count: r.get(7)?,
        urgent: r.get(8)?,
        filed_at: r.get(9)?,
        closed_at: r.get(10)?,
        lat: r.get(11)?,
        lon: r.get(12)?,
    })
}

struct CaseRow {
    case_no: String,
    state: String,
    category: String,
    department: Option<String>,
    team: Option<String>,
    due_at: Option<String>,
    self_handled: bool,
    rework_count: i64,
    urgent: bool,
    filed_at: String,
    closed_at: Option<String>,
    lat: f64,
    lon: f64,
}

fn view(
    conn: &Connection,
    store: &SqliteStore,
    dict: &DictIndex,
    row: CaseRow,
    now: DateTime<Utc>,
) -> AppResult<CaseView> {
    let zone = &store.settings.zone;
    let state = CaseState::parse(&row.state).unwrap_or(CaseState::Filed);
    let due = row.due_at.as_deref().and_then(parse_ts);
    let (address, description, photos) = {
        let mut stmt = conn.prepare_cached(
            "SELECT body FROM findings WHERE case_no = ?1 ORDER BY state = 'merged', observed_ts, id",
        )?;
        let bodies = stmt.query_map([&row.case_no], |r| r.get::<_, String>(0))?;
        let mut address = None;
        let mut description = String::new();
        let mut photos = Vec::new();
        for (i, body) in bodies.enumerate() {
            let f: protocol::Finding = serde_json::from_str(&body?).map_err(bad_data)?;
            if i == 0 {
                address = f.address.clone().or(f.road.clone());
                description = f.description.clone();
            }
            photos.extend(f.photos.into_iter().map(|p| p.sha256));
        }
        (address, description, photos)
    };
    Ok(CaseView {
        overdue: deadline_applies(state) && due.is_some_and(|d| d < now),
        category_name: dict.categories.get(&row.category).map(|(_, c)| c.name.clone()),
        case_no: row.case_no,
        state,
        category: row.category,
        department: row.department,
        team: row.team,
        due_at: due.map(|d| zone.at(d)),
        self_handled: row.self_handled,
        rework_count: row.rework_count,
        urgent: row.urgent,
        filed_at: parse_ts(&row.filed_at).map(|t| zone.at(t)).unwrap_or_else(|| zone.now()),
        closed_at: row.closed_at.as_deref().and_then(parse_ts).map(|t| zone.at(t)),
        location: GeoPoint { lat: row.lat, lon: row.lon },
        address,
        description,
        photos,
        findings: None,
        history: None,
        tasks: None,
    })
}

pub(super) fn case_view(
    conn: &Connection,
    store: &SqliteStore,
    dict: &DictIndex,
    case_no: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<CaseView>> {
    let row = conn
        .query_row(&format!("SELECT {CASE_COLUMNS} FROM cases c WHERE c.case_no = ?1"), [case_no], case_row)
        .optional()?;
    row.map(|r| view(conn, store, dict, r, now)).transpose()
}

pub(super) fn cases(
    conn: &Connection,
    store: &SqliteStore,
    dict: &DictIndex,
    filter: &CaseFilter,
    now: DateTime<Utc>,
) -> AppResult<Vec<CaseView>> {
    let (scope_sql, scope_arg): (&str, Option<String>) = match &filter.scope {
        CaseScope::All => ("1 = 1", None),
        CaseScope::Team(t) => ("c.team IS ?1", t.clone()),
        CaseScope::Department(d) => ("c.department IS ?1", d.clone()),
        CaseScope::Reporter(id) => ("c.reporter_id = ?1", Some(id.to_string())),
    };
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases c WHERE {scope_sql} AND (?2 IS NULL OR c.state = ?2) AND (?3 IS NULL OR c.department = ?3)
         ORDER BY c.due_at IS NULL, c.due_at, c.case_no"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params![scope_arg, filter.state.map(CaseState::as_str), filter.department], case_row)?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let v = view(conn, store, dict, row, now)?;
        if !filter.overdue || v.overdue {
            out.push(v);
        }
    }
    Ok(out)
}

pub(super) fn case_detail(
    conn: &Connection,
    store: &SqliteStore,
    dict: &DictIndex,
    case_no: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<CaseView>> {
    let Some(mut v) = case_view(conn, store, dict, case_no, now)? else { return Ok(None) };
    let zone = &store.settings.zone;
    v.findings = Some(review_items(conn, &store.settings, "f.case_no = ?1", &[&case_no], -1, 0)?);
    let mut stmt = conn.prepare_cached(
        "SELECT at, actor, role, action, from_state, to_state, note, photos, due_at FROM case_history WHERE case_no = ?1 ORDER BY id",
    )?;
    let history = stmt
        .query_map([case_no], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, Option<String>>(8)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    v.history = Some(
        history
            .into_iter()
            .map(|(at, actor, role, action, from, to, note, photos, due)| HistoryEntry {
                at: parse_ts(&at).map(|t| zone.at(t)).unwrap_or_else(|| zone.now()),
                actor,
                role,
                action,
                from,
                to,
                note,
                photos: serde_json::from_str(&photos).unwrap_or_default(),
                due_at: due.as_deref().and_then(parse_ts).map(|t| zone.at(t)),
            })
            .collect(),
    );
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, u.username, t.state, t.created_at, t.due_at, t.completed_at, t.result, t.note
         FROM tasks t JOIN users u ON u.id = t.assignee_id WHERE t.case_no = ?1 ORDER BY t.created_at",
    )?;
    let tasks = stmt
        .query_map([case_no], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let t = |s: &str| parse_ts(s).map(|t| zone.at(t)).unwrap_or_else(|| zone.now());
    v.tasks = Some(
        tasks
            .into_iter()
            .map(|(id, assignee, state, created, due, completed, result, note)| TaskView {
                id: Uuid::parse_str(&id).unwrap_or_default(),
                assignee,
                state,
                created_at: t(&created),
                due_at: t(&due),
                completed_at: completed.as_deref().map(t),
                result,
                note,
            })
            .collect(),
    );
    Ok(Some(v))
}

/// Tells every reporter of a case's findings the case's new state, and the team's devices the area case.
fn announce_case(tx: &Connection, settings: &EngineSettings, case_no: &str, now: DateTime<Utc>) -> AppResult<()> {
    let rows = tx
        .prepare_cached("SELECT id, reporter_id, state FROM findings WHERE case_no = ?1")?
        .query_map([case_no], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    for (id, reporter, state) in rows {
        let (Ok(id), Ok(reporter)) = (Uuid::parse_str(&id), Uuid::parse_str(&reporter)) else { continue };
        let state = FindingState::parse(&state).unwrap_or(FindingState::Filed);
        notify_finding(tx, &settings.zone, reporter, id, state, None, Some(case_no), now)?;
    }
    let zone = &settings.zone;
    let area = tx
        .query_row(
            "SELECT c.case_no, c.category, c.state, c.lat, c.lon, c.first_observed_ts, c.team FROM cases c WHERE c.case_no = ?1",
            [case_no],
            |r| {
                let observed_at = zone.at(DateTime::from_timestamp(r.get::<_, i64>(5)?, 0).unwrap_or(now));
                let area = protocol::AreaCase {
                    case_no: r.get(0)?,
                    category: r.get(1)?,
                    state: CaseState::parse(&r.get::<_, String>(2)?).unwrap_or(CaseState::Filed),
                    location: protocol::Location {
                        lat: r.get(3)?,
                        lon: r.get(4)?,
                        accuracy_m: 0.0,
                        source: protocol::LocationSource::Gps,
                        fixed_at: observed_at,
                    },
                    observed_at,
                };
                Ok((area, r.get::<_, Option<String>>(6)?))
            },
        )
        .optional()?;
    if let Some((area, Some(team))) = area {
        insert_change(tx, None, Some(&team), &ChangeBody::AreaCase(area), now)?;
    }
    Ok(())
}

/// A review decision in the finding's own history (it always leaves `pending_review`).
fn finding_history(
    tx: &Connection,
    id: Uuid,
    actor: &User,
    action: &str,
    to: FindingState,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    tx.execute(
        "INSERT INTO finding_history (finding_id, at, actor, role, action, from_state, to_state, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![id.to_string(), ts(now), actor.username, actor.role.as_str(), action, FindingState::PendingReview.as_str(), to.as_str(), note],
    )?;
    Ok(())
}

pub(super) fn review_finding(
    store: &SqliteStore,
    tx: &Connection,
    dict: &DictIndex,
    actor: &User,
    id: Uuid,
    decision: &Decision,
    now: DateTime<Utc>,
) -> AppResult<Option<String>> {
    let (body, state, reporter, team): (String, String, String, Option<String>) = tx
        .query_row("SELECT body, state, reporter_id, team FROM findings WHERE id = ?1", [id.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?
        .ok_or_else(|| AppError::not_found("no such finding"))?;
    if state != FindingState::PendingReview.as_str() {
        return Err(AppError::invalid_transition(format!("this finding was already reviewed ({state})")));
    }
    let mut finding: protocol::Finding = serde_json::from_str(&body).map_err(bad_data)?;
    let reporter = Uuid::parse_str(&reporter).map_err(bad_data)?;
    let (to, case_no, reason, action) = match decision {
        Decision::Approve { category, note } => {
            if let Some(code) = category {
                finding.category = code.clone();
            }
            let (_, mut cat) = dict
                .categories
                .get(&finding.category)
                .cloned()
                .ok_or_else(|| AppError::invalid("category", "unknown category"))?;
            cat.department = dict
                .route(&finding.category, finding.road.as_deref(), finding.grid.as_deref())
                .unwrap_or(cat.department);
            let case_no =
                file_case(tx, &store.settings, now, &cat, &finding, (reporter, team.as_deref()), actor, false)?;
            tx.execute("UPDATE findings SET category = ?2 WHERE id = ?1", params![id.to_string(), finding.category])?;
            (FindingState::Filed, Some(case_no), note.clone(), "approve")
        }
        Decision::Reject { reason } => (FindingState::Rejected, None, Some(reason.clone()), "reject"),
        Decision::Merge { case_no, note } => {
            let meta = case_meta(tx, case_no)?.ok_or_else(|| AppError::not_found(format!("no case {case_no}")))?;
            if !meta.state.is_open() {
                return Err(AppError::conflict(format!(
                    "case {case_no} is {} and takes no more reports",
                    meta.state.as_str()
                )));
            }
            record_history(tx, case_no, now, actor, "merge", None, None, Some(&id.to_string()), &[], None)?;
            (FindingState::Merged, Some(case_no.clone()), note.clone(), "merge")
        }
    };
    tx.execute(
        "UPDATE findings SET state = ?2, case_no = ?3, reason = ?4 WHERE id = ?1",
        params![id.to_string(), to.as_str(), case_no, reason],
    )?;
    finding_history(tx, id, actor, action, to, reason.as_deref(), now)?;
    notify_finding(tx, &store.settings.zone, reporter, id, to, reason, case_no.as_deref(), now)?;
    if let Some(no) = &case_no {
        announce_case(tx, &store.settings, no, now)?;
    }
    Ok(case_no)
}

/// The deadline `hours` after `from`: clock hours for urgent categories, working hours otherwise.
pub(super) fn deadline(settings: &EngineSettings, from: DateTime<Utc>, hours: f64, urgent: bool) -> DateTime<Utc> {
    if urgent {
        from + Duration::milliseconds((hours * 3_600_000.0).round() as i64)
    } else {
        settings.calendar.add_working_hours(&settings.zone, from, hours)
    }
}

pub(super) fn case_action(
    store: &SqliteStore,
    tx: &Connection,
    actor: &User,
    case_no: &str,
    input: &ActionInput,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (state, department, due, suspended_from, suspended_at, urgent): (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        bool,
    ) = tx
        .query_row(
            "SELECT state, department, due_at, suspended_from, suspended_at, urgent FROM cases WHERE case_no = ?1",
            [case_no],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("no case {case_no}")))?;
    let from = CaseState::parse(&state).unwrap_or(CaseState::Filed);
    let to = input.action.next(from, suspended_from.as_deref().and_then(CaseState::parse)).ok_or_else(|| {
        AppError::invalid_transition(format!("a {} case cannot be {}ed", from.as_str(), input.action.as_str()))
    })?;
    let mut due = due.as_deref().and_then(parse_ts);
    let note = input.note.as_deref();
    match input.action {
        CaseAction::Dispatch => {
            let department = input.department.clone().or(department);
            tx.execute(
                "UPDATE cases SET state = ?2, department = ?3 WHERE case_no = ?1",
                params![case_no, to.as_str(), department],
            )?;
        }
        CaseAction::Suspend => {
            tx.execute(
                "UPDATE cases SET state = ?2, suspended_from = ?3, suspended_at = ?4 WHERE case_no = ?1",
                params![case_no, to.as_str(), from.as_str(), ts(now)],
            )?;
        }
        CaseAction::Resume => {
            // The deadline clock stood still while the case was parked.
            if let (Some(d), Some(at)) = (due, suspended_at.as_deref().and_then(parse_ts)) {
                due = Some(d + (now - at));
            }
            tx.execute(
                "UPDATE cases SET state = ?2, suspended_from = NULL, suspended_at = NULL, due_at = ?3 WHERE case_no = ?1",
                params![case_no, to.as_str(), due.map(ts)],
            )?;
        }
        CaseAction::Extend => {
            let hours = input.hours.unwrap_or(0.0);
            due = Some(deadline(&store.settings, due.unwrap_or(now), hours, urgent));
            tx.execute("UPDATE cases SET due_at = ?2 WHERE case_no = ?1", params![case_no, due.map(ts)])?;
        }
        CaseAction::Close | CaseAction::Void => {
            tx.execute(
                "UPDATE cases SET state = ?2, closed_at = ?3 WHERE case_no = ?1",
                params![case_no, to.as_str(), (to == CaseState::Closed).then(|| ts(now))],
            )?;
            cancel_tasks(tx, case_no, now)?;
        }
        CaseAction::Handle => {
            tx.execute("UPDATE cases SET state = ?2 WHERE case_no = ?1", params![case_no, to.as_str()])?;
            assign_verification(tx, &store.settings, case_no, now)?;
        }
        CaseAction::Accept | CaseAction::Return => {
            tx.execute("UPDATE cases SET state = ?2 WHERE case_no = ?1", params![case_no, to.as_str()])?;
        }
    }
    let due_text = due.map(ts);
    let mut note_text = note.map(str::to_owned);
    if input.action == CaseAction::Dispatch
        && let Some(d) = &input.department
    {
        note_text = Some(match note_text {
            Some(n) => format!("{n} (→ {d})"),
            None => format!("→ {d}"),
        });
    }
    record_history(
        tx,
        case_no,
        now,
        actor,
        input.action.as_str(),
        Some(from),
        Some(to),
        note_text.as_deref(),
        &input.photos,
        due_text.as_deref(),
    )?;
    announce_case(tx, &store.settings, case_no, now)?;
    Ok(())
}

fn cancel_tasks(tx: &Connection, case_no: &str, now: DateTime<Utc>) -> AppResult<()> {
    let open = tx
        .prepare_cached("SELECT id, assignee_id FROM tasks WHERE case_no = ?1 AND state = 'open'")?
        .query_map([case_no], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    for (id, assignee) in open {
        tx.execute("UPDATE tasks SET state = 'cancelled', completed_at = ?2 WHERE id = ?1", params![id, ts(now)])?;
        if let (Ok(task_id), Ok(user)) = (Uuid::parse_str(&id), Uuid::parse_str(&assignee)) {
            insert_change(tx, Some(user), None, &ChangeBody::TaskCancelled(protocol::TaskCancelled { task_id }), now)?;
        }
    }
    Ok(())
}

/// After handling, one verification task goes to the reporter of the case's first finding.
fn assign_verification(tx: &Connection, settings: &EngineSettings, case_no: &str, now: DateTime<Utc>) -> AppResult<()> {
    cancel_tasks(tx, case_no, now)?;
    let reporter: String = tx.query_row(
        "SELECT f.reporter_id FROM findings f WHERE f.case_no = ?1 ORDER BY f.state = 'merged', f.observed_ts, f.id LIMIT 1",
        [case_no],
        |r| r.get(0),
    )?;
    let due = now + Duration::milliseconds((settings.verify_hours * 3_600_000.0) as i64);
    issue_task(tx, settings, case_no, &reporter, due, now)
}

/// Writes an open verification task of the case for `assignee` (a user id) and sends it to their devices.
fn issue_task(
    tx: &Connection,
    settings: &EngineSettings,
    case_no: &str,
    assignee: &str,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<()> {
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

/// Reassigns (改派) or cancels an open verification task. Dispatchers and admins may do it for any case, a
/// chief for the cases of the team. The old assignee's devices hear `task.cancelled`, the new one's
/// `task.assigned`; the case's history records it. Returns the case number.
pub(super) fn change_task(
    tx: &Connection,
    settings: &EngineSettings,
    actor: &User,
    task_id: Uuid,
    change: &TaskChange,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let (case_no, state, assignee, due, team, case_state): (String, String, String, String, Option<String>, String) =
        tx.query_row(
            "SELECT t.case_no, t.state, u.username, t.due_at, c.team, c.state FROM tasks t
             JOIN users u ON u.id = t.assignee_id JOIN cases c ON c.case_no = t.case_no WHERE t.id = ?1",
            [task_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("no verification task {task_id}")))?;
    let allowed = match actor.role {
        protocol::Role::Dispatcher | protocol::Role::Admin => true,
        protocol::Role::Chief => team.is_some() && actor.team == team,
        _ => false,
    };
    if !allowed {
        return Err(AppError::forbidden(format!("role `{}` may not change this verification task", actor.role)));
    }
    if state != TaskState::Open.as_str() {
        return Err(AppError::invalid_transition(format!("this task is already {state}")));
    }
    let (action, text) = match change {
        TaskChange::Reassign { assignee: to } => {
            let target: Option<(String, String)> = tx
                .query_row("SELECT id, role FROM users WHERE username = ?1 AND active = 1", [to], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let Some((target_id, role)) = target else {
                return Err(AppError::invalid("assignee", format!("no active user `{to}`")));
            };
            if role != protocol::Role::Inspector.as_str() && role != protocol::Role::Chief.as_str() {
                return Err(AppError::invalid(
                    "assignee",
                    format!("`{to}` is a {role}; verification is done on the spot by inspectors"),
                ));
            }
            cancel_tasks(tx, &case_no, now)?;
            let due = parse_ts(&due).ok_or_else(|| bad_data("task deadline"))?;
            issue_task(tx, settings, &case_no, &target_id, due, now)?;
            ("task_reassign", format!("{assignee} → {to}"))
        }
        TaskChange::Cancel => {
            cancel_tasks(tx, &case_no, now)?;
            ("task_cancel", assignee)
        }
    };
    let note = match note.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => format!("{text}: {n}"),
        None => text,
    };
    let state = CaseState::parse(&case_state);
    record_history(tx, &case_no, now, actor, action, state, state, Some(&note), &[], None)?;
    Ok(case_no)
}

/// `task.complete` inside the ingest transaction: pass closes the case, fail sends it back (返工).
pub(super) fn complete_task(
    tx: &Connection,
    store: &SqliteStore,
    ctx: &SyncContext<'_>,
    seq: u64,
    t: &TaskComplete,
) -> AppResult<Result<OpResult, (OpStatus, ApiError)>> {
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
    let user = &ctx.principal.user;
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
            ts(t.completed_at.with_timezone(&Utc).min(ctx.now)),
            result,
            t.note,
            serde_json::to_string(&photos).unwrap_or_default()
        ],
    )?;
    let case_state: String = tx.query_row("SELECT state FROM cases WHERE case_no = ?1", [&case_no], |r| r.get(0))?;
    if case_state == CaseState::Handled.as_str() {
        let due: Option<String> =
            tx.query_row("SELECT due_at FROM cases WHERE case_no = ?1", [&case_no], |r| r.get(0))?;
        let note = if t.note.is_empty() { None } else { Some(t.note.as_str()) };
        // Pass closes the case (the verifier is its closer); fail sends it back to the department (返工).
        let to = match t.result {
            TaskResult::Pass => {
                tx.execute(
                    "UPDATE cases SET state = 'closed', closed_at = ?2 WHERE case_no = ?1",
                    params![case_no, ts(ctx.now)],
                )?;
                CaseState::Closed
            }
            TaskResult::Fail => {
                tx.execute(
                    "UPDATE cases SET state = 'dispatched', rework_count = rework_count + 1 WHERE case_no = ?1",
                    [&case_no],
                )?;
                CaseState::Dispatched
            }
        };
        record_history(
            tx,
            &case_no,
            ctx.now,
            user,
            "verify",
            Some(CaseState::Handled),
            Some(to),
            note,
            &photos,
            due.as_deref(),
        )?;
        announce_case(tx, &store.settings, &case_no, ctx.now)?;
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

/// Facts with a deadline: `sql` selects (inspector, team, department, category, due_at, done_at) of the
/// deadlines falling in the period; a fact is in time when it was done at or before its deadline.
fn deadline_events(
    conn: &Connection,
    sql: &str,
    metric: Metric,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    out: &mut Vec<StatEvent>,
) -> AppResult<()> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![ts(from), ts(to)], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    for row in rows {
        let (user, team, department, category, due, done) = row?;
        let due = parse_ts(&due).unwrap_or(from);
        let in_time = done.as_deref().and_then(parse_ts).is_some_and(|d| d <= due);
        out.push(StatEvent {
            metric,
            inspector: Some(user),
            team,
            department,
            category: Some(category),
            at: due,
            in_time,
        });
    }
    Ok(())
}

pub(super) fn stat_events(
    conn: &Connection,
    dict: &DictIndex,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<StatEvent>> {
    let department_of = |category: &str| dict.categories.get(category).map(|(_, c)| c.department.clone());
    let mut out = Vec::new();
    // Findings reported, valid, fixed on the spot.
    let mut stmt = conn.prepare_cached(
        "SELECT u.username, f.team, f.category, f.observed_ts, f.state, f.fixed_on_spot
         FROM findings f JOIN users u ON u.id = f.reporter_id WHERE f.observed_ts >= ?1 AND f.observed_ts < ?2",
    )?;
    let rows = stmt.query_map(params![from.timestamp(), to.timestamp()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, bool>(5)?,
        ))
    })?;
    for row in rows {
        let (user, team, category, observed, state, fixed) = row?;
        let at = DateTime::from_timestamp(observed, 0).unwrap_or(from);
        let valid = state == "filed" || state == "merged";
        let base = StatEvent {
            metric: Metric::Reported,
            inspector: Some(user),
            team,
            department: department_of(&category),
            category: Some(category),
            at,
            in_time: valid,
        };
        if fixed {
            out.push(StatEvent { metric: Metric::SelfHandled, in_time: true, ..base.clone() });
        }
        out.push(base);
    }
    // Verification tasks due in the period, done in time when completed before the deadline.
    deadline_events(
        conn,
        "SELECT u.username, u.team, c.department, c.category, t.due_at, t.completed_at
         FROM tasks t JOIN users u ON u.id = t.assignee_id JOIN cases c ON c.case_no = t.case_no
         WHERE t.state != 'cancelled' AND t.due_at >= ?1 AND t.due_at < ?2",
        Metric::VerifyDue,
        (from, to),
        &mut out,
    )?;
    // Cases by their handling deadline, in time when first handled before it (from the history).
    deadline_events(
        conn,
        "SELECT u.username, c.team, c.department, c.category, c.due_at,
                (SELECT MIN(h.at) FROM case_history h WHERE h.case_no = c.case_no AND h.action = 'handle')
         FROM cases c JOIN users u ON u.id = c.reporter_id
         WHERE c.self_handled = 0 AND c.state != 'voided' AND c.due_at >= ?1 AND c.due_at < ?2",
        Metric::Due,
        (from, to),
        &mut out,
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT h.action, h.to_state, h.at, u.username, c.team, c.department, c.category, c.due_at
         FROM case_history h JOIN cases c ON c.case_no = h.case_no JOIN users u ON u.id = c.reporter_id
         WHERE h.at >= ?1 AND h.at < ?2 AND (h.action = 'handle' OR (h.action = 'verify' AND h.to_state = 'dispatched') OR h.to_state = 'closed')",
    )?;
    let rows = stmt.query_map(params![ts(from), ts(to)], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, Option<String>>(7)?,
        ))
    })?;
    for row in rows {
        let (action, to_state, at, user, team, department, category, due) = row?;
        let at = parse_ts(&at).unwrap_or(from);
        let metric = match (action.as_str(), to_state.as_deref()) {
            ("handle", _) => Metric::Handled,
            ("verify", Some("dispatched")) => Metric::Rework,
            _ => Metric::Closed,
        };
        let in_time = due.as_deref().and_then(parse_ts).is_none_or(|d| at <= d);
        out.push(StatEvent { metric, inspector: Some(user), team, department, category: Some(category), at, in_time });
    }
    Ok(out)
}

pub(super) fn devices(conn: &Connection, zone: &crate::config::Zone, only: Option<Uuid>) -> AppResult<Vec<DeviceView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id, d.name, d.platform, d.app_version, u.username, u.display_name, d.registered_at, d.last_sync_at, d.revoked_at, d.backlog,
                d.dictionary_version,
                (SELECT COUNT(*) FROM ops o WHERE o.device_id = d.id),
                (SELECT COUNT(*) FROM rejected_ops r WHERE r.device_id = d.id)
         FROM devices d JOIN users u ON u.id = d.user_id WHERE (?1 IS NULL OR d.id = ?1) ORDER BY u.username, d.registered_at",
    )?;
    let t = |s: Option<String>| s.as_deref().and_then(parse_ts).map(|t| zone.at(t));
    let rows = stmt.query_map([only.map(|u| u.to_string())], |r| {
        Ok(DeviceView {
            id: Uuid::parse_str(&r.get::<_, String>(0)?).unwrap_or_default(),
            name: r.get(1)?,
            platform: r.get(2)?,
            app_version: r.get(3)?,
            user: DeviceUser { username: r.get(4)?, display_name: r.get(5)? },
            registered_at: t(r.get(6)?),
            last_sync_at: t(r.get(7)?),
            revoked_at: t(r.get(8)?),
            backlog: r.get(9)?,
            dictionary_version: r.get(10)?,
            ops_applied: r.get(11)?,
            ops_rejected: r.get(12)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
