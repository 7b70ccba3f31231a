//! Filing (立案): a finding becomes a case with a number, a department and a deadline; and the duplicate
//! check (the nearest open case of a category, 50 m / 72 h by default) that merges instead.

use chrono::{DateTime, Utc};
use protocol::{CaseState, Category, Finding};
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::error::{StoreError, StoreResult};
use super::history::{Details, SYSTEM, record};
use super::sql::{Sql, ts};
use crate::domain::EngineSettings;
use crate::domain::lifecycle::CaseEvent;
use crate::principal::User;

/// Opens a case for a finding. `auto` routing dispatches it at once to the category's department; a
/// finding fixed on the spot becomes a closed, self-handled case.
#[allow(clippy::too_many_arguments)] // who reported and who files differ when a chief approves
pub(super) fn file_case(
    tx: &Connection,
    settings: &EngineSettings,
    now: DateTime<Utc>,
    category: &Category,
    f: &Finding,
    reporter: (Uuid, Option<&str>),
    actor: &User,
    dispatch: bool,
) -> StoreResult<String> {
    let day = settings.zone.at(now).format("%Y%m%d").to_string();
    let n: i64 = tx.query_row(
        "INSERT INTO case_numbers (day, last) VALUES (?1, 1) ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last",
        [&day],
        |r| r.get(0),
    )?;
    let case_no = format!("{day}-{n:04}");
    let due_at = settings.deadline(now, category.time_limit_hours, category.urgent);
    let self_handled = f.fixed_on_spot;
    // Filed, then at once closed (fixed on the spot) or dispatched by the platform's rule (平台法定).
    let then = if self_handled {
        Some(CaseEvent::SelfClose)
    } else if dispatch {
        Some(CaseEvent::AutoDispatch)
    } else {
        None
    };
    let refused = |e: CaseEvent| StoreError::internal(format!("the lifecycle refuses {e:?} when filing"));
    let filed = CaseEvent::File.next(None, None).ok_or_else(|| refused(CaseEvent::File))?;
    let state = match then {
        Some(e) => e.next(Some(filed), None).ok_or_else(|| refused(e))?,
        None => filed,
    };
    tx.prepare_cached(
        "INSERT INTO cases (case_no, state, category, department, team, reporter_id, lat, lon, first_observed_ts, filed_at,
                            due_at, self_handled, urgent, closed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
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
        self_handled,
        f.urgent || category.urgent,
        (state == CaseState::Closed).then(|| ts(now)),
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
    conn: &Connection,
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
    let mut best: Option<(f64, (String, CaseState))> = None;
    for row in rows {
        let (case_no, clat, clon, state) = row?;
        let d = protocol::geo::distance_m(lat, lon, clat, clon);
        if d <= settings.duplicate_radius_m && best.as_ref().is_none_or(|(bd, _)| d < *bd) {
            best = Some((d, (case_no, state)));
        }
    }
    Ok(best.map(|(_, c)| c))
}
