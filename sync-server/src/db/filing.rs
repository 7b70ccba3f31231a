//! Filing (立案) in storage: a case's row and first history entries as `domain::filing` plans them, its
//! number counted per day, and the candidates of the duplicate check (open cases of a category near a
//! point, within the window; 50 m / 72 h by default) for `domain::filing::nearest_within` to choose from.

use super::conn::{Db, DbResult, Stmt, params};
use chrono::{DateTime, Utc};
use protocol::{CaseState, Category, Finding};
use uuid::Uuid;

use super::error::{StoreError, StoreResult};
use super::history::{Details, SYSTEM, record};
use super::sql::{Sql, ts};
use crate::domain::EngineSettings;
use crate::domain::filing::{FilingPlan, case_day, case_number, nearest_within};
use crate::domain::lifecycle::CaseEvent;
use crate::principal::User;

/// Opens a case for a finding. `auto` routing dispatches it at once to the category's department; a
/// finding fixed on the spot becomes a closed, self-handled case.
#[allow(clippy::too_many_arguments)] // who reported and who files differ when a chief approves
pub(super) fn file_case(
    tx: &impl Db,
    settings: &EngineSettings,
    now: DateTime<Utc>,
    category: &Category,
    f: &Finding,
    grid: Option<&str>,
    reporter: (Uuid, Option<&str>),
    actor: &User,
    dispatch: bool,
) -> StoreResult<String> {
    let day = case_day(&settings.zone, now);
    let n: i64 = tx.query_row(
        "INSERT INTO case_numbers (day, last) VALUES (?1, 1) ON CONFLICT (day) DO UPDATE SET last = case_numbers.last + 1 RETURNING last",
        [&day],
        |r| r.get(0),
    )?;
    let case_no = case_number(&day, n);
    let plan = FilingPlan::new(settings, now, category, f.urgent, f.fixed_on_spot, dispatch)
        .map_err(|e| StoreError::internal(format!("the lifecycle refuses {e:?} when filing")))?;
    let FilingPlan { filed, then, state, due_at, .. } = plan;
    tx.prepare_cached(
        "INSERT INTO cases (case_no, state, category, department, team, reporter_id, lat, lon, first_observed_ts, filed_at,
                            due_at, self_handled, urgent, closed_at, grid, road, clock_from)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?10)",
    )?
    .execute(params![
        case_no,
        state.as_str(),
        f.category,
        category.department,
        reporter.1,
        reporter.0.to_string(),
        f.location.lat,
        f.location.lon,
        f.observed_at.timestamp(),
        ts(now),
        ts(due_at),
        plan.self_handled,
        plan.urgent,
        (state == CaseState::Closed).then(|| ts(now)),
        grid,
        f.road,
    ])?;
    let details = Details { due_at: Some(due_at), ..Details::default() };
    record(tx, &case_no, now, actor, CaseEvent::File, (None, Some(filed)), details)?;
    match then {
        Some(CaseEvent::SelfClose) => {
            let note = Some("当场整改 fixed on the spot");
            record(
                tx,
                &case_no,
                now,
                actor,
                CaseEvent::SelfClose,
                (Some(filed), Some(state)),
                Details { note, ..details },
            )?;
        }
        Some(event) => {
            let note = format!("→ {}", category.department);
            let details = Details { note: Some(&note), ..details };
            record(tx, &case_no, now, SYSTEM, event, (Some(filed), Some(state)), details)?;
        }
        None => {}
    }
    Ok(case_no)
}

/// The nearest open case of a category within the duplicate radius whose first finding was observed
/// within the duplicate window of `observed_ts`.
pub(super) fn nearest_open_case(
    conn: &impl Db,
    settings: &EngineSettings,
    category: &str,
    lat: f64,
    lon: f64,
    observed_ts: i64,
) -> StoreResult<Option<(String, CaseState)>> {
    let window = (settings.duplicate_window_hours * 3600.0) as i64;
    let (dlat, dlon) = protocol::geo::degree_box(lat, settings.duplicate_radius_m);
    let mut stmt = conn.prepare_cached(
        "SELECT case_no, lat, lon, state FROM cases
         WHERE category = ?1 AND state NOT IN ('closed', 'voided') AND first_observed_ts BETWEEN ?2 AND ?3
           AND lat BETWEEN ?4 AND ?5 AND lon BETWEEN ?6 AND ?7",
    )?;
    let rows = stmt.query_map(
        params![category, observed_ts - window, observed_ts + window, lat - dlat, lat + dlat, lon - dlon, lon + dlon],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?, r.get::<_, f64>(2)?, r.get::<_, Sql<CaseState>>(3)?.0)),
    )?;
    let candidates = rows
        .map(|row| row.map(|(case_no, clat, clon, state)| ((case_no, state), clat, clon)))
        .collect::<DbResult<Vec<_>>>()?;
    Ok(nearest_within(lat, lon, settings.duplicate_radius_m, candidates))
}
