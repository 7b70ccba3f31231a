//! Reports from other channels and free tasks, as stored. A report is placed (its point, else the road its
//! address names), then either sent to an inspector of its place as a 核实 (`confirm`) task or filed at once.
//! Filing makes a finding of the report (its id is the report's, its reporter the confirming inspector or the
//! 受理员) and files it as the phone's findings are filed: it joins an open case of the same category nearby,
//! else a new case is filed and dispatched.

use super::conn::{Db, OptionalExtension, Row, Stmt, params};
use chrono::{DateTime, Utc};
use protocol::{ApiError, Finding, FindingAck, FindingState, PhotoRef, PhotoRole, TaskComplete, TaskResult, TaskType};
use uuid::Uuid;

use super::dict::DictIndex;
use super::error::{StoreError, StoreResult};
use super::filing::{file_case, nearest_open_case};
use super::findings::{FindingRow, insert_finding};
use super::history::{Details, step};
use super::sql::{Sql, bad_data, json, stored, ts};
use super::tasks::{TaskOrigin, first_reachable, reachable, send_task};
use super::webhooks::{Emit, emit};
use crate::config::Zone;
use crate::domain::EngineSettings;
use crate::domain::GeoPoint;
use crate::domain::lifecycle::CaseEvent;
use crate::domain::reports::{NewReport, NewTask, Report, ReportState, TaskItem};
use crate::domain::webhooks::Event;
use crate::policy::verifies_on_the_spot;
use crate::principal::User;

/// The device a report's finding is recorded as coming from.
const CENTRE_DEVICE: &str = "centre";
/// How far from a road a point still lies on it, for the road of a report placed on the map.
const ON_ROAD_M: f64 = 50.0;

/// Where a report is: its point and road, as given or as its address names them, and its grid.
struct Place {
    point: Option<GeoPoint>,
    road: Option<String>,
    grid: Option<String>,
}

fn place(dict: &DictIndex, input: &NewReport) -> Place {
    let (point, road) = match (&input.location, input.address()) {
        (Some(p), _) => (Some(*p), dict.roads.nearest(p.lat, p.lon, ON_ROAD_M).map(|i| dict.roads.name(i).to_owned())),
        (None, Some(address)) => {
            let roads = dict.current.as_ref().map(|d| d.roads.as_slice()).unwrap_or_default();
            match places::road_in_address(address, roads) {
                Some((road, [lat, lon])) => (Some(GeoPoint { lat, lon }), Some(road.name.clone())),
                None => (None, None),
            }
        }
        (None, None) => (None, None),
    };
    let grid = point.and_then(|p| dict.grid_of(p.lat, p.lon, None));
    Place { point, road, grid }
}

/// The user id of a named inspector who can take a task on the spot and receive it; else the field's error.
fn named_inspector(tx: &impl Db, username: &str) -> StoreResult<String> {
    let row: Option<(String, String, bool)> = tx
        .query_row("SELECT id, role, active FROM users WHERE username = ?1", [username], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((id, role, active)) = row else {
        return Err(StoreError::invalid("assignee", format!("no user `{username}`")));
    };
    let role: protocol::Role = stored(&role)?;
    if !verifies_on_the_spot(role) {
        return Err(StoreError::invalid("assignee", format!("`{username}` is a {role}; tasks go to inspectors")));
    }
    if !active || !reachable(tx, &id)? {
        return Err(StoreError::invalid(
            "assignee",
            format!("`{username}` cannot receive tasks (disabled, or every device of theirs revoked)"),
        ));
    }
    Ok(id)
}

/// Who checks a report: the one named, else the first reachable inspector of its grid (网格员), else its
/// road's 路长 or the inspectors of the road's grid.
fn confirmer(tx: &impl Db, dict: &DictIndex, named: Option<&str>, place: &Place) -> StoreResult<String> {
    if let Some(username) = named.map(str::trim).filter(|n| !n.is_empty()) {
        return named_inspector(tx, username);
    }
    let dictionary = dict.current.as_ref();
    let grid_of = |code: &str| dictionary.and_then(|d| d.grids.iter().find(|g| g.code == code));
    let mut candidates: Vec<String> = Vec::new();
    if let Some(grid) = place.grid.as_deref().and_then(grid_of) {
        candidates.extend(grid.inspectors.iter().cloned());
    }
    if let Some(road) = place.road.as_deref().and_then(|name| dictionary?.roads.iter().find(|r| r.name == name)) {
        candidates.extend(road.chief.iter().cloned());
        if let Some(grid) = road.grid.as_deref().and_then(grid_of) {
            candidates.extend(grid.inspectors.iter().cloned());
        }
    }
    first_reachable(tx, &candidates)?.ok_or_else(|| {
        StoreError::invalid("assignee", "no inspector of this place can receive a task: name one in `assignee`")
    })
}

/// A category code of the current dictionary, else the field's error.
fn known_category(dict: &DictIndex, code: &str, field: &str) -> Result<(), ApiError> {
    match dict.current.as_ref().and_then(|d| d.category(code)) {
        Some(_) => Ok(()),
        None => Err(ApiError::invalid(field, format!("`{code}` is not a category of the dictionary"))),
    }
}

/// Receives a report (checked by `NewReport::validate` first): stores it and sends its 核实 task, or files it.
/// The same id again answers what the first did (true only the first time); another body under that id is a
/// conflict.
pub(super) fn receive_report(
    tx: &impl Db,
    settings: &EngineSettings,
    dict: &DictIndex,
    actor: &User,
    input: &NewReport,
    now: DateTime<Utc>,
) -> StoreResult<(Report, bool)> {
    let id = input.id.to_string();
    let hash = input.fingerprint();
    let before: Option<String> =
        tx.query_row("SELECT body_hash FROM reports WHERE id = ?1", [&id], |r| r.get(0)).optional()?;
    if let Some(before) = before {
        if before != hash {
            return Err(StoreError::conflict(format!("report {id} was received before with another body")));
        }
        let report = report(tx, &settings.zone, input.id)?.ok_or_else(|| StoreError::internal("report vanished"))?;
        return Ok((report, false));
    }
    let finding_held: bool =
        tx.query_row("SELECT EXISTS (SELECT 1 FROM findings WHERE id = ?1)", [&id], |r| r.get(0))?;
    if finding_held {
        return Err(StoreError::conflict(format!("{id} is already the id of a finding")));
    }
    if let Some(code) = input.category() {
        known_category(dict, code, "category").map_err(|e| StoreError::invalid("category", e.message))?;
    }
    for (i, p) in input.photos.iter().enumerate() {
        let held: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM blobs WHERE sha256 = ?1 AND purged_at IS NULL)",
            [&p.sha256],
            |r| r.get(0),
        )?;
        if !held {
            return Err(StoreError::invalid(
                format!("photos[{i}]"),
                format!("photo {} is not uploaded (PUT /api/v1/blobs/{{sha256}} first)", p.sha256),
            ));
        }
    }
    let place = place(dict, input);
    if !input.verify {
        if input.category().is_none() {
            return Err(StoreError::invalid("category", "a report filed without 核实 needs a category"));
        }
        if place.point.is_none() {
            return Err(StoreError::invalid(
                "location",
                "the address names no road of the dictionary: pick the place on the map, or send it for 核实",
            ));
        }
    }
    let confirmer = if input.verify { Some(confirmer(tx, dict, input.assignee.as_deref(), &place)?) } else { None };
    tx.execute(
        "INSERT INTO reports (id, body_hash, body, channel, state, category, lat, lon, grid, road, received_by, received_at)
         VALUES (?1, ?2, ?3, ?4, 'verifying', ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            id,
            hash,
            json(input)?,
            input.channel.as_str(),
            input.category(),
            place.point.map(|p| p.lat),
            place.point.map(|p| p.lon),
            place.grid,
            place.road,
            actor.id.to_string(),
            ts(now)
        ],
    )?;
    let photos: Vec<String> = input.photos.iter().map(|p| p.sha256.clone()).collect();
    attach(tx, &id, &photos)?;
    match confirmer {
        Some(assignee) => {
            let due = settings.confirm_due(now);
            let task = protocol::Task {
                id: Uuid::now_v7(),
                task_type: TaskType::Confirm,
                case_no: None,
                category: input.category().unwrap_or_default().to_owned(),
                location: place.point.map(|p| p.pin(settings.zone.at(now))),
                address: input.address().map(str::to_owned).or(place.road.clone()),
                description: input.description.clone(),
                due_at: Some(settings.zone.at(due)),
                photos,
                title: None,
                report_id: Some(input.id),
            };
            let origin = TaskOrigin { created_by: Some(&actor.username), body_hash: None };
            send_task(tx, &task, &assignee, due, origin, now)?;
        }
        None => {
            let plan = SettlePlan {
                report_id: id.clone(),
                category: input.category().unwrap_or_default().to_owned(),
                point: place.point.ok_or_else(|| StoreError::internal("checked above"))?,
            };
            file_report(tx, settings, dict, actor, &plan, &[], "", now)?;
        }
    }
    let report = report(tx, &settings.zone, input.id)?.ok_or_else(|| StoreError::internal("report vanished"))?;
    report_changed(tx, &id, "receive", actor, None, now)?;
    Ok((report, true))
}

/// What confirming a report will file, worked out (and refused) before anything is written.
pub(super) struct SettlePlan {
    report_id: String,
    category: String,
    point: GeoPoint,
}

/// What a `confirm` task's result does to its report.
pub(super) enum Settlement {
    File(SettlePlan),
    NotFound { report_id: String },
}

/// Checks a `confirm` task's result against its report: a confirmed report needs a category (the report's,
/// or the one the inspector chose) and a place (the report's, or where the inspector stood); "not found"
/// needs a note saying what was there.
pub(super) fn plan_settle(
    tx: &impl Db,
    dict: &DictIndex,
    report_id: &str,
    t: &TaskComplete,
) -> StoreResult<Result<Settlement, ApiError>> {
    if t.result == TaskResult::NotFound {
        if t.note.trim().is_empty() {
            return Ok(Err(ApiError::invalid("note", "say what was found at the place")));
        }
        return Ok(Ok(Settlement::NotFound { report_id: report_id.to_owned() }));
    }
    let (category, lat, lon): (Option<String>, Option<f64>, Option<f64>) =
        tx.query_row("SELECT category, lat, lon FROM reports WHERE id = ?1", [report_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let chosen = t.category.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let Some(category) = chosen.map(str::to_owned).or(category) else {
        return Ok(Err(ApiError::invalid("category", "this report came without a category: choose one")));
    };
    if let Err(e) = known_category(dict, &category, "category") {
        return Ok(Err(e));
    }
    let point = match (lat.zip(lon), &t.location) {
        (Some((lat, lon)), _) => GeoPoint { lat, lon },
        (None, Some(l)) => {
            if let Err(e) = l.validate("location") {
                return Ok(Err(e.into()));
            }
            GeoPoint { lat: l.lat, lon: l.lon }
        }
        (None, None) => {
            return Ok(Err(ApiError::invalid("location", "this report has no place on the map: send where you are")));
        }
    };
    Ok(Ok(Settlement::File(SettlePlan { report_id: report_id.to_owned(), category, point })))
}

/// A `confirm` task's result on its report: confirmed files it (the inspector's photos added), not found ends
/// it `not_confirmed` with the note.
pub(super) fn settle(
    tx: &impl Db,
    settings: &EngineSettings,
    dict: &DictIndex,
    inspector: &User,
    settlement: Settlement,
    t: &TaskComplete,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let report_id = match &settlement {
        Settlement::File(plan) => &plan.report_id,
        Settlement::NotFound { report_id } => report_id,
    };
    let state: String = tx.query_row("SELECT state FROM reports WHERE id = ?1", [report_id], |r| r.get(0))?;
    if state != ReportState::Verifying.as_str() {
        return Ok(());
    }
    let action = match &settlement {
        Settlement::File(plan) => {
            file_report(tx, settings, dict, inspector, plan, &t.photos, &t.note, now)?;
            "confirmed"
        }
        Settlement::NotFound { report_id } => {
            tx.execute(
                "UPDATE reports SET state = ?2, note = ?3, decided_at = ?4 WHERE id = ?1",
                params![report_id, ReportState::NotConfirmed.as_str(), t.note, ts(now)],
            )?;
            "not_found"
        }
    };
    report_changed(tx, report_id, action, inspector, Some(&t.note), now)
}

/// Tells the webhooks that want it of a report's new state.
fn report_changed(
    tx: &impl Db,
    report_id: &str,
    action: &str,
    actor: &User,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let (state, case_no): (String, Option<String>) =
        tx.query_row("SELECT state, case_no FROM reports WHERE id = ?1", [report_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let change = serde_json::json!({
        "action": action, "actor": actor.username, "role": actor.role.as_str(), "state": state, "case_no": case_no,
        "note": note.filter(|n| !n.is_empty()), "at": ts(now),
    });
    let e = Emit { event: Event::ReportChanged, subject: report_id, action: Some(action), change, at: now };
    emit(tx, e, || match &case_no {
        None => Ok(None),
        Some(no) => Ok(tx.query_row("SELECT department FROM cases WHERE case_no = ?1", [no], |r| r.get(0))?),
    })
}

/// Files a report as a case: a finding made of it (its photos and the inspector's), joined to an open case of
/// its category nearby or filed as a new one and dispatched.
#[allow(clippy::too_many_arguments)]
fn file_report(
    tx: &impl Db,
    settings: &EngineSettings,
    dict: &DictIndex,
    filer: &User,
    plan: &SettlePlan,
    more_photos: &[PhotoRef],
    note: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let (body, road, received_at): (String, Option<String>, String) =
        tx.query_row("SELECT body, road, received_at FROM reports WHERE id = ?1", [&plan.report_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let input: NewReport = serde_json::from_str(&body).map_err(bad_data)?;
    let received: DateTime<Utc> = stored(&received_at)?;
    let (dict_version, mut category) = dict
        .categories
        .get(&plan.category)
        .cloned()
        .ok_or_else(|| StoreError::invalid("category", format!("`{}` is not a category", plan.category)))?;
    let grid = dict.grid_of(plan.point.lat, plan.point.lon, None);
    category.department = dict.route(&plan.category, road.as_deref(), grid.as_deref()).unwrap_or(category.department);
    let mut photos = input.photos.clone();
    photos.extend(more_photos.iter().map(|p| PhotoRef { role: PhotoRole::Before, ..p.clone() }));
    let observed_at = settings.zone.at(received);
    let mut description = input.description.clone();
    if !note.trim().is_empty() {
        description = format!("{description}\n核实: {}", note.trim()).trim().to_owned();
    }
    let finding = Finding {
        id: input.id,
        patrol_id: None,
        category: plan.category.clone(),
        description,
        urgent: false,
        fixed_on_spot: false,
        location: plan.point.pin(observed_at),
        address: input.address().map(str::to_owned),
        road,
        grid: grid.clone(),
        facility_code: None,
        observed_at,
        photos,
        gps: None,
    };
    let duplicate_of =
        nearest_open_case(tx, settings, &plan.category, plan.point.lat, plan.point.lon, observed_at.timestamp())?;
    let (state, case_no) = match &duplicate_of {
        Some((case_no, open)) => {
            let note =
                format!("{} {}", input.channel.as_str(), input.external_ref.as_deref().unwrap_or(&plan.report_id));
            step(
                tx,
                case_no,
                now,
                filer,
                CaseEvent::Merge,
                *open,
                Details { note: Some(&note), ..Details::default() },
            )?;
            (FindingState::Merged, case_no.clone())
        }
        None => {
            let reporter = (filer.id, filer.team.as_deref());
            let case_no = file_case(tx, settings, now, &category, &finding, grid.as_deref(), reporter, filer, true)?;
            (FindingState::Filed, case_no)
        }
    };
    let body = json(&finding)?;
    let ack = FindingAck { id: finding.id, state, case_no: Some(case_no.clone()) };
    insert_finding(
        tx,
        &FindingRow {
            finding: &finding,
            id: &plan.report_id,
            hash: &protocol::digest::sha256_hex(body.as_bytes()),
            json: &body,
            device: CENTRE_DEVICE,
            reporter: filer,
            dict_version,
            ack: &ack,
            duplicate_of: None,
            received_at: &ts(now),
            grid: grid.as_deref(),
        },
    )?;
    tx.execute(
        "UPDATE reports SET state = ?2, case_no = ?3, category = ?4, lat = ?5, lon = ?6, grid = ?7, note = ?8,
                decided_at = ?9 WHERE id = ?1",
        params![
            plan.report_id,
            ReportState::Filed.as_str(),
            case_no,
            plan.category,
            plan.point.lat,
            plan.point.lon,
            grid,
            (!note.trim().is_empty()).then(|| note.trim()),
            ts(now)
        ],
    )?;
    Ok(())
}

/// Records photos as belonging to a report or a task (for who may read them).
pub(super) fn attach(tx: &impl Db, owner: &str, photos: &[String]) -> StoreResult<()> {
    let mut stmt =
        tx.prepare_cached("INSERT INTO attachments (owner_id, sha256) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?;
    for sha in photos {
        stmt.execute(params![owner, sha])?;
    }
    Ok(())
}

const REPORT_COLUMNS: &str =
    "r.id, r.body, r.state, r.grid, r.case_no, r.category, r.lat, r.lon, u.username, r.received_at,
     r.note, r.decided_at, t.id, a.username, t.due_at";
const REPORT_FROM: &str = "FROM reports r JOIN users u ON u.id = r.received_by
     LEFT JOIN tasks t ON t.id = (SELECT id FROM tasks WHERE report_id = r.id ORDER BY created_at DESC LIMIT 1)
     LEFT JOIN users a ON a.id = t.assignee_id";

fn report_row(zone: &Zone, r: &Row<'_>) -> StoreResult<Report> {
    let input: NewReport = serde_json::from_str(&r.get::<_, String>(1)?).map_err(bad_data)?;
    let at = |t: Option<Sql<DateTime<Utc>>>| t.map(|t| zone.at(t.0));
    let (lat, lon): (Option<f64>, Option<f64>) = (r.get(6)?, r.get(7)?);
    Ok(Report {
        id: r.get::<_, Sql<Uuid>>(0)?.0,
        channel: input.channel,
        state: r.get::<_, Sql<ReportState>>(2)?.0,
        grid: r.get(3)?,
        case_no: r.get(4)?,
        task_id: r.get::<_, Option<Sql<Uuid>>>(12)?.map(|t| t.0),
        external_ref: input.external_ref.clone(),
        category: r.get(5)?,
        description: input.description.clone(),
        location: lat.zip(lon).map(|(lat, lon)| GeoPoint { lat, lon }),
        address: input.address().map(str::to_owned),
        contact: input.contact,
        photos: input.photos.iter().map(|p| p.sha256.clone()).collect(),
        received_by: r.get(8)?,
        received_at: zone.at(r.get::<_, Sql<DateTime<Utc>>>(9)?.0),
        assignee: r.get(13)?,
        due_at: at(r.get(14)?),
        note: r.get(10)?,
        decided_at: at(r.get(11)?),
    })
}

/// One report, contact included (whoever may not see it is the caller's to hide).
pub(super) fn report(conn: &impl Db, zone: &Zone, id: Uuid) -> StoreResult<Option<Report>> {
    let sql = format!("SELECT {REPORT_COLUMNS} {REPORT_FROM} WHERE r.id = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    let found = stmt.query_row([id.to_string()], |r| Ok(report_row(zone, r))).optional()?;
    found.transpose()
}

/// What the report list keeps.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub state: Option<ReportState>,
    pub channel: Option<crate::domain::reports::Channel>,
    pub limit: u32,
}

/// Reports, the newest first.
pub(super) fn reports(conn: &impl Db, zone: &Zone, filter: &ReportFilter) -> StoreResult<Vec<Report>> {
    let sql = format!(
        "SELECT {REPORT_COLUMNS} {REPORT_FROM}
         WHERE (?1 IS NULL OR r.state = ?1) AND (?2 IS NULL OR r.channel = ?2)
         ORDER BY r.received_at DESC, r.id LIMIT ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![filter.state.map(|s| s.as_str()), filter.channel.map(|c| c.as_str()), filter.limit.max(1)],
        |r| Ok(report_row(zone, r)),
    )?;
    rows.map(|r| r?).collect()
}

/// Creates a free task (checked by `NewTask::validate` first) and sends it to the inspector; the same id again
/// answers the task as it is now (true only the first time), another body under it is a conflict.
pub(super) fn create_task(
    tx: &impl Db,
    settings: &EngineSettings,
    actor: &User,
    input: &NewTask,
    now: DateTime<Utc>,
) -> StoreResult<(TaskItem, bool)> {
    let hash = input.fingerprint();
    let before: Option<Option<String>> =
        tx.query_row("SELECT body_hash FROM tasks WHERE id = ?1", [input.id.to_string()], |r| r.get(0)).optional()?;
    if let Some(before) = before {
        if before.as_deref() != Some(hash.as_str()) {
            return Err(StoreError::conflict(format!("task {} was created before with another body", input.id)));
        }
        let item = task(tx, &settings.zone, input.id)?.ok_or_else(|| StoreError::internal("task vanished"))?;
        return Ok((item, false));
    }
    let assignee = named_inspector(tx, input.assignee.trim())?;
    let due = input.due_at.with_timezone(&Utc);
    let sent = protocol::Task {
        id: input.id,
        task_type: TaskType::Inspect,
        case_no: None,
        category: String::new(),
        location: input.location.map(|p| p.pin(settings.zone.at(now))),
        address: input.address.clone().filter(|a| !a.trim().is_empty()),
        description: input.description.clone(),
        due_at: Some(settings.zone.at(due)),
        photos: Vec::new(),
        title: Some(input.title.trim().to_owned()),
        report_id: None,
    };
    let origin = TaskOrigin { created_by: Some(&actor.username), body_hash: Some(&hash) };
    send_task(tx, &sent, &assignee, due, origin, now)?;
    let item = task(tx, &settings.zone, input.id)?.ok_or_else(|| StoreError::internal("task vanished"))?;
    Ok((item, true))
}

/// The team of the inspector a task would go to (for a chief, who gives tasks to the own team only).
pub(super) fn user_team(conn: &impl Db, username: &str) -> StoreResult<Option<Option<String>>> {
    Ok(conn.query_row("SELECT team FROM users WHERE username = ?1", [username], |r| r.get(0)).optional()?)
}

const TASK_SELECT: &str = "SELECT t.id, t.kind, t.state, u.username, u.display_name, t.body, t.case_no, t.report_id,
            t.created_at, t.created_by, t.due_at, t.completed_at, t.result, t.note, t.photos
     FROM tasks t JOIN users u ON u.id = t.assignee_id";

fn task_row(zone: &Zone, r: &Row<'_>) -> StoreResult<TaskItem> {
    let body: Option<protocol::Task> =
        r.get::<_, Option<String>>(5)?.map(|b| serde_json::from_str(&b)).transpose().map_err(bad_data)?;
    Ok(TaskItem {
        id: r.get::<_, Sql<Uuid>>(0)?.0,
        task_type: r.get::<_, Sql<TaskType>>(1)?.0,
        state: r.get::<_, Sql<protocol::TaskState>>(2)?.0,
        assignee: r.get(3)?,
        assignee_name: r.get(4)?,
        title: body.as_ref().and_then(|b| b.title.clone()),
        description: body.as_ref().map(|b| b.description.clone()).unwrap_or_default(),
        location: body.as_ref().and_then(|b| b.location.as_ref()).map(|l| GeoPoint { lat: l.lat, lon: l.lon }),
        address: body.and_then(|b| b.address),
        case_no: r.get(6)?,
        report_id: r.get::<_, Option<Sql<Uuid>>>(7)?.map(|t| t.0),
        created_at: zone.at(r.get::<_, Sql<DateTime<Utc>>>(8)?.0),
        created_by: r.get(9)?,
        due_at: zone.at(r.get::<_, Sql<DateTime<Utc>>>(10)?.0),
        completed_at: r.get::<_, Option<Sql<DateTime<Utc>>>>(11)?.map(|t| zone.at(t.0)),
        result: r.get::<_, Option<Sql<TaskResult>>>(12)?.map(|t| t.0),
        note: r.get(13)?,
        photos: serde_json::from_str(&r.get::<_, String>(14)?).map_err(bad_data)?,
    })
}

pub(super) fn task(conn: &impl Db, zone: &Zone, id: Uuid) -> StoreResult<Option<TaskItem>> {
    let mut stmt = conn.prepare_cached(&format!("{TASK_SELECT} WHERE t.id = ?1"))?;
    let found = stmt.query_row([id.to_string()], |r| Ok(task_row(zone, r))).optional()?;
    found.transpose()
}

/// What the task list keeps: tasks of one type (`confirm`, `inspect`), of a chief's team.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub task_type: Option<TaskType>,
    pub team: Option<String>,
    pub limit: u32,
}

/// Tasks that are not a case's (and 核查 tasks when asked by type), the newest first.
pub(super) fn tasks(conn: &impl Db, zone: &Zone, filter: &TaskFilter) -> StoreResult<Vec<TaskItem>> {
    let sql = format!(
        "{TASK_SELECT} WHERE (?1 IS NULL OR t.kind = ?1) AND (?1 IS NOT NULL OR t.kind != 'verify')
           AND (?2 IS NULL OR u.team = ?2)
         ORDER BY t.created_at DESC, t.id LIMIT ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params![filter.task_type.map(|t| t.as_str()), filter.team, filter.limit.max(1)], |r| {
            Ok(task_row(zone, r))
        })?;
    rows.map(|r| r?).collect()
}
