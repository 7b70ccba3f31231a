//! Cases as the console reads them (list, detail with findings, history and tasks) and the lifecycle actions
//! of the console (派遣, 处置, 挂起, 延期, 结案 ...), checked against `domain::lifecycle`.

use super::conn::{Db, DbResult, OptionalExtension, Row, Stmt, params};
use chrono::{DateTime, Utc};
use protocol::{CaseState, TaskResult, TaskState, Timestamp};
use serde::Serialize;
use uuid::Uuid;

use super::changes::announce_case;
use super::dict::DictIndex;
use super::error::{StoreError, StoreResult};
use super::findings::{ReviewItem, review_items};
use super::history::{Details, record};
use super::sql::{Sql, bad_data, ts};
use super::tasks::{assign_verification, cancel_tasks};
use crate::domain::EngineSettings;
use crate::domain::exports::ExportFilter;
use crate::domain::lifecycle::{CaseAction, CaseEvent, Light, deadline_applies, light};
use crate::policy::Scope;
use crate::principal::User;

pub use crate::domain::GeoPoint;

/// One entry of a case's history.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct HistoryEntry {
    pub at: Timestamp,
    /// Username, or `system` for automatic routing.
    pub actor: String,
    pub role: String,
    pub action: String,
    pub from: Option<CaseState>,
    pub to: Option<CaseState>,
    pub note: Option<String>,
    pub photos: Vec<String>,
    /// The deadline the action was measured against.
    pub due_at: Option<Timestamp>,
}

/// A verification task as the console shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TaskView {
    pub id: Uuid,
    pub assignee: String,
    pub state: TaskState,
    pub created_at: Timestamp,
    pub due_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    pub result: Option<TaskResult>,
    pub note: Option<String>,
}

/// A case as the console endpoints return it; `findings`, `history` and `tasks` only in the detail.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CaseView {
    pub case_no: String,
    pub state: CaseState,
    pub category: String,
    pub category_name: Option<String>,
    pub department: Option<String>,
    pub team: Option<String>,
    pub due_at: Option<Timestamp>,
    pub overdue: bool,
    pub self_handled: bool,
    pub rework_count: i64,
    pub urgent: bool,
    pub filed_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub location: GeoPoint,
    /// The unit grid (单元网格) the case lies in.
    pub grid: Option<String>,
    pub address: Option<String>,
    pub description: String,
    pub photos: Vec<String>,
    /// 红黄绿灯: red overdue, yellow with 80 % of the time used.
    pub light: Light,
    /// How often the centre supervised (督办) the case.
    pub supervisions: i64,
    /// The department's requests (more time, return) and their decisions, oldest first.
    pub requests: Vec<CaseRequest>,
    /// What the caller may do with the case now, by its state and the caller's role (the HTTP layer fills it
    /// in for each answer; the console shows these buttons and no others).
    pub allowed_actions: Vec<CaseAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<ReviewItem>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEntry>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<TaskView>>,
}

/// A department's request and the dispatcher's decision.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CaseRequest {
    /// `extension` or `return`.
    pub kind: String,
    /// `pending`, `approved`, `denied`, or `withdrawn` (the department returned the case meanwhile).
    pub state: String,
    pub hours: Option<f64>,
    pub note: String,
    pub by: String,
    pub at: Timestamp,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct CaseFilter {
    pub scope: Scope,
    pub state: Option<CaseState>,
    pub department: Option<String>,
    pub overdue: bool,
    /// Filed in `[from, to)`.
    pub filed: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// At most this many, the newest first (without it: all, the nearest deadline first).
    pub limit: Option<u32>,
}

impl CaseFilter {
    /// Every case in the scope.
    pub fn all(scope: Scope) -> Self {
        CaseFilter { scope, state: None, department: None, overdue: false, filed: None, limit: None }
    }
}

/// What permission checks need to know of a case.
#[derive(Debug, Clone)]
pub struct CaseMeta {
    pub state: CaseState,
    pub team: Option<String>,
    pub department: Option<String>,
}

/// A validated case action.
#[derive(Debug, Clone)]
pub struct ActionInput {
    pub action: CaseAction,
    pub department: Option<String>,
    pub note: Option<String>,
    pub photos: Vec<String>,
    pub hours: Option<f64>,
}

pub(super) fn case_meta(conn: &impl Db, case_no: &str) -> StoreResult<Option<CaseMeta>> {
    Ok(conn
        .query_row("SELECT state, team, department FROM cases WHERE case_no = ?1", [case_no], |r| {
            Ok(CaseMeta { state: r.get::<_, Sql<CaseState>>(0)?.0, team: r.get(1)?, department: r.get(2)? })
        })
        .optional()?)
}

const CASE_COLUMNS: &str =
    "c.case_no, c.state, c.category, c.department, c.team, c.due_at, c.self_handled, c.rework_count,
     c.urgent, c.filed_at, c.closed_at, c.lat, c.lon, c.grid, COALESCE(c.clock_from, c.filed_at)";

fn case_row(r: &Row<'_>) -> DbResult<CaseRow> {
    Ok(CaseRow {
        case_no: r.get(0)?,
        state: r.get::<_, Sql<CaseState>>(1)?.0,
        category: r.get(2)?,
        department: r.get(3)?,
        team: r.get(4)?,
        due_at: r.get::<_, Option<Sql<DateTime<Utc>>>>(5)?.map(|t| t.0),
        self_handled: r.get(6)?,
        rework_count: r.get(7)?,
        urgent: r.get(8)?,
        filed_at: r.get::<_, Sql<DateTime<Utc>>>(9)?.0,
        closed_at: r.get::<_, Option<Sql<DateTime<Utc>>>>(10)?.map(|t| t.0),
        lat: r.get(11)?,
        lon: r.get(12)?,
        grid: r.get(13)?,
        clock_from: r.get::<_, Sql<DateTime<Utc>>>(14)?.0,
    })
}

struct CaseRow {
    case_no: String,
    state: CaseState,
    category: String,
    department: Option<String>,
    team: Option<String>,
    due_at: Option<DateTime<Utc>>,
    self_handled: bool,
    rework_count: i64,
    urgent: bool,
    filed_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    lat: f64,
    lon: f64,
    grid: Option<String>,
    /// Where the deadline clock started, moved on by suspensions (the light's reference).
    clock_from: DateTime<Utc>,
}

fn view(
    conn: &impl Db,
    settings: &EngineSettings,
    dict: &DictIndex,
    row: CaseRow,
    now: DateTime<Utc>,
) -> StoreResult<CaseView> {
    let zone = &settings.zone;
    let state = row.state;
    let due = row.due_at;
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
    let overdue = deadline_applies(state) && due.is_some_and(|d| d < now);
    let supervisions: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM case_history WHERE case_no = ?1 AND action = 'supervise'")?
        .query_row([&row.case_no], |r| r.get(0))?;
    let requests = conn
        .prepare_cached(
            "SELECT kind, state, hours, note, by_user, at, decided_by, decided_at FROM case_requests
             WHERE case_no = ?1 ORDER BY id",
        )?
        .query_map([&row.case_no], |r| {
            Ok(CaseRequest {
                kind: r.get(0)?,
                state: r.get(1)?,
                hours: r.get(2)?,
                note: r.get(3)?,
                by: r.get(4)?,
                at: zone.at(r.get::<_, Sql<DateTime<Utc>>>(5)?.0),
                decided_by: r.get(6)?,
                decided_at: r.get::<_, Option<Sql<DateTime<Utc>>>>(7)?.map(|t| zone.at(t.0)),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CaseView {
        overdue,
        light: light(overdue, row.clock_from, due, deadline_applies(state), now),
        supervisions,
        requests,
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
        filed_at: zone.at(row.filed_at),
        closed_at: row.closed_at.map(|t| zone.at(t)),
        location: GeoPoint { lat: row.lat, lon: row.lon },
        grid: row.grid,
        address,
        description,
        photos,
        allowed_actions: Vec::new(),
        findings: None,
        history: None,
        tasks: None,
    })
}

pub(super) fn case_view(
    conn: &impl Db,
    settings: &EngineSettings,
    dict: &DictIndex,
    case_no: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<CaseView>> {
    let row = conn
        .query_row(&format!("SELECT {CASE_COLUMNS} FROM cases c WHERE c.case_no = ?1"), [case_no], case_row)
        .optional()?;
    row.map(|r| view(conn, settings, dict, r, now)).transpose()
}

pub(super) fn cases(
    conn: &impl Db,
    settings: &EngineSettings,
    dict: &DictIndex,
    filter: &CaseFilter,
    now: DateTime<Utc>,
) -> StoreResult<Vec<CaseView>> {
    let (scope_sql, scope_arg) = scope_sql(&filter.scope);
    let order = match filter.limit {
        None => "ORDER BY c.due_at IS NULL, c.due_at, c.case_no".to_owned(),
        Some(n) => format!("ORDER BY c.filed_at DESC, c.case_no DESC LIMIT {n}"),
    };
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases c WHERE {scope_sql} AND (?2 IS NULL OR c.state = ?2) AND (?3 IS NULL OR c.department = ?3)
           AND (?4 IS NULL OR c.filed_at >= ?4) AND (?5 IS NULL OR c.filed_at < ?5)
         {order}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let (from, to) = (filter.filed.map(|(f, _)| ts(f)), filter.filed.map(|(_, t)| ts(t)));
    let rows = stmt
        .query_map(params![scope_arg, filter.state.map(CaseState::as_str), filter.department, from, to], case_row)?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let v = view(conn, settings, dict, row, now)?;
        if !filter.overdue || v.overdue {
            out.push(v);
        }
    }
    Ok(out)
}

/// Where a scope's cases are, as SQL on `cases c` with its value as `?1`.
fn scope_sql(scope: &Scope) -> (&'static str, Option<String>) {
    match scope {
        Scope::All => ("1 = 1", None),
        // `=`, not `IS`: a user without a team or department sees no case.
        Scope::Team(t) => ("c.team = ?1", t.clone()),
        Scope::Department(d) => ("c.department = ?1", d.clone()),
        Scope::Reporter(id) => ("c.reporter_id = ?1", Some(id.to_string())),
    }
}

/// The cases an export takes: filed in the filter's period, the oldest first, after `after` (a case's
/// `filed_at` as stored and its number), at most `limit`.
#[allow(clippy::too_many_arguments)]
pub(super) fn export_page(
    conn: &impl Db,
    settings: &EngineSettings,
    dict: &DictIndex,
    scope: &Scope,
    filter: &ExportFilter,
    after: Option<(String, String)>,
    limit: u32,
    now: DateTime<Utc>,
) -> StoreResult<Vec<CaseView>> {
    let (who, owner) = scope_sql(scope);
    let after_sql =
        if after.is_some() { "AND (c.filed_at, c.case_no) > (?8, ?9)" } else { "AND ?8 IS NULL AND ?9 IS NULL" };
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases c WHERE {who} {EXPORT_WHERE} {after_sql} ORDER BY c.filed_at, c.case_no LIMIT {limit}"
    );
    let (after_at, after_no) = after.unzip();
    let mut args = export_args(owner, filter).to_vec();
    args.extend([after_at, after_no]);
    let rows = conn.prepare_cached(&sql)?.query_map(args.clone(), case_row)?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(|row| view(conn, settings, dict, row, now)).collect()
}

/// The filters of an export on `cases c`: `?2`..`?7` are from, to, state, category, department, grid.
const EXPORT_WHERE: &str = "AND (?2 IS NULL OR c.filed_at >= ?2) AND (?3 IS NULL OR c.filed_at < ?3)
    AND (?4 IS NULL OR c.state = ?4) AND (?5 IS NULL OR c.category = ?5) AND (?6 IS NULL OR c.department = ?6)
    AND (?7 IS NULL OR c.grid = ?7)";

/// The values of `?1`..`?7`: the scope's owner, then `EXPORT_WHERE`'s.
fn export_args(owner: Option<String>, f: &ExportFilter) -> [Option<String>; 7] {
    [owner, f.from.map(ts), f.to.map(ts), f.state.clone(), f.category.clone(), f.department.clone(), f.grid.clone()]
}

/// How many cases an export takes in all.
pub(super) fn export_count(conn: &impl Db, scope: &Scope, filter: &ExportFilter) -> StoreResult<u64> {
    let (who, owner) = scope_sql(scope);
    let sql = format!("SELECT COUNT(*) FROM cases c WHERE {who} {EXPORT_WHERE}");
    let args = export_args(owner, filter);
    Ok(conn.prepare_cached(&sql)?.query_row(args.clone(), |r| r.get::<_, i64>(0))? as u64)
}

pub(super) fn case_detail(
    conn: &impl Db,
    settings: &EngineSettings,
    dict: &DictIndex,
    case_no: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<CaseView>> {
    let Some(mut v) = case_view(conn, settings, dict, case_no, now)? else { return Ok(None) };
    let zone = &settings.zone;
    v.findings = Some(review_items(conn, settings, "f.case_no = ?1", &[&case_no], -1, 0)?);
    let mut stmt = conn.prepare_cached(
        "SELECT at, actor, role, action, from_state, to_state, note, photos, due_at FROM case_history WHERE case_no = ?1 ORDER BY id",
    )?;
    let history = stmt
        .query_map([case_no], |r| {
            Ok((
                r.get::<_, Sql<DateTime<Utc>>>(0)?.0,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<Sql<CaseState>>>(4)?.map(|s| s.0),
                r.get::<_, Option<Sql<CaseState>>>(5)?.map(|s| s.0),
                r.get::<_, Option<String>>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, Option<Sql<DateTime<Utc>>>>(8)?.map(|t| t.0),
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    v.history = Some(
        history
            .into_iter()
            .map(|(at, actor, role, action, from, to, note, photos, due)| {
                Ok(HistoryEntry {
                    at: zone.at(at),
                    actor,
                    role,
                    action,
                    from,
                    to,
                    note,
                    photos: serde_json::from_str(&photos).map_err(bad_data)?,
                    due_at: due.map(|t| zone.at(t)),
                })
            })
            .collect::<StoreResult<_>>()?,
    );
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, u.username, t.state, t.created_at, t.due_at, t.completed_at, t.result, t.note
         FROM tasks t JOIN users u ON u.id = t.assignee_id WHERE t.case_no = ?1 ORDER BY t.created_at",
    )?;
    let tasks = stmt
        .query_map([case_no], |r| {
            Ok((
                r.get::<_, Sql<Uuid>>(0)?.0,
                r.get::<_, String>(1)?,
                r.get::<_, Sql<TaskState>>(2)?.0,
                r.get::<_, Sql<DateTime<Utc>>>(3)?.0,
                r.get::<_, Sql<DateTime<Utc>>>(4)?.0,
                r.get::<_, Option<Sql<DateTime<Utc>>>>(5)?.map(|t| t.0),
                r.get::<_, Option<Sql<TaskResult>>>(6)?.map(|r| r.0),
                r.get::<_, Option<String>>(7)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let t = |t: DateTime<Utc>| zone.at(t);
    v.tasks = Some(
        tasks
            .into_iter()
            .map(|(id, assignee, state, created, due, completed, result, note)| TaskView {
                id,
                assignee,
                state,
                created_at: t(created),
                due_at: t(due),
                completed_at: completed.map(t),
                result,
                note,
            })
            .collect(),
    );
    Ok(Some(v))
}

/// A department's request waiting for the dispatcher.
struct PendingRequest {
    id: i64,
    kind: String,
    hours: Option<f64>,
    note: String,
    by: String,
}

fn pending_request(tx: &impl Db, case_no: &str) -> StoreResult<Option<PendingRequest>> {
    Ok(tx
        .prepare_cached(
            "SELECT id, kind, hours, note, by_user FROM case_requests WHERE case_no = ?1 AND state = 'pending'",
        )?
        .query_row([case_no], |r| {
            Ok(PendingRequest { id: r.get(0)?, kind: r.get(1)?, hours: r.get(2)?, note: r.get(3)?, by: r.get(4)? })
        })
        .optional()?)
}

pub(super) fn case_action(
    tx: &impl Db,
    settings: &EngineSettings,
    dict: &DictIndex,
    actor: &User,
    case_no: &str,
    input: &ActionInput,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let (from, department, mut due, suspended_from, suspended_at, urgent) = tx
        .query_row(
            "SELECT state, department, due_at, suspended_from, suspended_at, urgent FROM cases WHERE case_no = ?1",
            [case_no],
            |r| {
                Ok((
                    r.get::<_, Sql<CaseState>>(0)?.0,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<Sql<DateTime<Utc>>>>(2)?.map(|t| t.0),
                    r.get::<_, Option<Sql<CaseState>>>(3)?.map(|s| s.0),
                    r.get::<_, Option<Sql<DateTime<Utc>>>>(4)?.map(|t| t.0),
                    r.get::<_, bool>(5)?,
                ))
            },
        )
        .optional()?
        .ok_or_else(|| StoreError::not_found(format!("no case {case_no}")))?;
    let event = CaseEvent::Act(input.action);
    let to = event.next(Some(from), suspended_from).ok_or_else(|| {
        StoreError::invalid_transition(format!("a {} case cannot be {}ed", from.as_str(), input.action.as_str()))
    })?;
    let note = input.note.as_deref();
    let pending = pending_request(tx, case_no)?;
    // A request is about the case as it was asked for: once the case moves to another department, is returned,
    // handled or ended, a request still waiting is withdrawn.
    if matches!(
        input.action,
        CaseAction::Dispatch | CaseAction::Return | CaseAction::Handle | CaseAction::Close | CaseAction::Void
    ) && let Some(request) = &pending
    {
        tx.execute("UPDATE case_requests SET state = 'withdrawn' WHERE id = ?1", [request.id])?;
    }
    match input.action {
        CaseAction::Supervise => {}
        CaseAction::RequestExtension | CaseAction::RequestReturn => {
            if pending.is_some() {
                return Err(StoreError::conflict("the case has a request waiting for the dispatcher's decision"));
            }
            let kind = if input.action == CaseAction::RequestExtension { "extension" } else { "return" };
            tx.execute(
                "INSERT INTO case_requests (case_no, kind, state, hours, note, by_user, at) VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6)",
                params![case_no, kind, input.hours, note.unwrap_or(""), actor.username, ts(now)],
            )?;
        }
        CaseAction::ApproveRequest | CaseAction::DenyRequest => {
            let Some(request) = pending else {
                return Err(StoreError::conflict("the case has no request waiting for a decision"));
            };
            let approved = input.action == CaseAction::ApproveRequest;
            tx.execute(
                "UPDATE case_requests SET state = ?2, decided_by = ?3, decided_at = ?4, decision_note = ?5 WHERE id = ?1",
                params![request.id, if approved { "approved" } else { "denied" }, actor.username, ts(now), note],
            )?;
            let details = Details { note, ..Details::default() };
            record(tx, case_no, now, actor, event, (Some(from), Some(to)), details)?;
            if approved {
                // What was asked for, as the dispatcher's own action after the decision.
                let (action, hours) = match request.kind.as_str() {
                    "extension" => (CaseAction::Extend, request.hours),
                    _ => (CaseAction::Return, None),
                };
                let granted = ActionInput {
                    action,
                    department: None,
                    note: Some(format!("{} ({})", request.note, request.by)),
                    photos: Vec::new(),
                    hours,
                };
                // (which announces the case)
                return case_action(tx, settings, dict, actor, case_no, &granted, now);
            }
            announce_case(tx, settings, case_no, now)?;
            return Ok(());
        }
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
            if let (Some(d), Some(at)) = (due, suspended_at) {
                due = Some(d + (now - at));
            }
            // The light's clock moves on with the deadline: the parked time counts in neither.
            let parked = suspended_at.map(|at| now - at).unwrap_or_default();
            let clock_from: Option<Sql<DateTime<Utc>>> =
                tx.query_row("SELECT clock_from FROM cases WHERE case_no = ?1", [case_no], |r| r.get(0))?;
            tx.execute(
                "UPDATE cases SET state = ?2, suspended_from = NULL, suspended_at = NULL, due_at = ?3, clock_from = ?4,
                        overdue_noticed = 0
                 WHERE case_no = ?1",
                params![case_no, to.as_str(), due.map(ts), clock_from.map(|c| ts(c.0 + parked))],
            )?;
        }
        CaseAction::Extend => {
            let hours = input.hours.unwrap_or(0.0);
            due = Some(settings.deadline(due.unwrap_or(now), hours, urgent));
            // A later deadline is told of again when it passes.
            tx.execute(
                "UPDATE cases SET due_at = ?2, overdue_noticed = 0 WHERE case_no = ?1",
                params![case_no, due.map(ts)],
            )?;
        }
        CaseAction::Close | CaseAction::Void => {
            tx.execute(
                "UPDATE cases SET state = ?2, closed_at = ?3 WHERE case_no = ?1",
                params![case_no, to.as_str(), (to == CaseState::Closed).then(|| ts(now))],
            )?;
            cancel_tasks(tx, case_no, now)?;
        }
        CaseAction::Accept | CaseAction::Return | CaseAction::Handle => {
            tx.execute("UPDATE cases SET state = ?2 WHERE case_no = ?1", params![case_no, to.as_str()])?;
        }
    }
    let mut note_text = note.map(str::to_owned);
    if input.action == CaseAction::Dispatch
        && let Some(d) = &input.department
    {
        note_text = Some(match note_text {
            Some(n) => format!("{n} (→ {d})"),
            None => format!("→ {d}"),
        });
    }
    let details = Details { note: note_text.as_deref(), photos: &input.photos, due_at: due };
    record(tx, case_no, now, actor, event, (Some(from), Some(to)), details)?;
    if input.action == CaseAction::Handle {
        // After the history entry: the task carries the photos of this handling.
        assign_verification(tx, settings, dict, case_no, now)?;
    }
    announce_case(tx, settings, case_no, now)?;
    Ok(())
}
