//! The facts the evaluation indicators are counted from (`domain::stats` aggregates them): findings
//! reported, tasks and cases with their deadlines, handling, rework and closing from the case history.

use chrono::{DateTime, Utc};
use protocol::CaseState;
use rusqlite::{Connection, params};

use super::dict::DictIndex;
use super::error::StoreResult;
use super::sql::{Sql, bad_data, ts};
use crate::domain::lifecycle::{CaseAction, CaseEvent};
use crate::domain::stats::{Metric, StatEvent};

/// Facts with a deadline: `sql` selects (inspector, team, department, category, due_at, done_at) of the
/// deadlines falling in the period; a fact is in time when it was done at or before its deadline.
fn deadline_events(
    conn: &Connection,
    sql: &str,
    metric: Metric,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    out: &mut Vec<StatEvent>,
) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![ts(from), ts(to)], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Sql<DateTime<Utc>>>(4)?.0,
            r.get::<_, Option<Sql<DateTime<Utc>>>>(5)?.map(|t| t.0),
        ))
    })?;
    for row in rows {
        let (user, team, department, category, due, done) = row?;
        let in_time = done.is_some_and(|d| d <= due);
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
) -> StoreResult<Vec<StatEvent>> {
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
        let at = DateTime::from_timestamp(observed, 0).ok_or_else(|| bad_data(format!("time {observed}")))?;
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
            r.get::<_, Option<Sql<CaseState>>>(1)?.map(|s| s.0),
            r.get::<_, Sql<DateTime<Utc>>>(2)?.0,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, Option<Sql<DateTime<Utc>>>>(7)?.map(|t| t.0),
        ))
    })?;
    for row in rows {
        let (action, to_state, at, user, team, department, category, due) = row?;
        let metric = match CaseEvent::of_history(&action, to_state) {
            Some(CaseEvent::Act(CaseAction::Handle)) => Metric::Handled,
            Some(CaseEvent::VerifyFail) => Metric::Rework,
            _ if to_state == Some(CaseState::Closed) => Metric::Closed,
            _ => return Err(bad_data(format!("history entry `{action}` is no indicator's fact"))),
        };
        let in_time = due.is_none_or(|d| at <= d);
        out.push(StatEvent { metric, inspector: Some(user), team, department, category: Some(category), at, in_time });
    }
    Ok(out)
}
