//! The facts the evaluation indicators are counted from (`domain::stats` aggregates them): findings
//! reported, tasks and cases with their deadlines, handling, rework and closing from the case history.

use super::conn::{Db, DbResult, Row, Stmt, params};
use chrono::{DateTime, Utc};
use protocol::CaseState;

use super::dict::DictIndex;
use super::error::StoreResult;
use super::sql::{Sql, bad_data, ts};
use crate::domain::lifecycle::{CaseAction, CaseEvent};
use crate::domain::stats::{Metric, StatEvent};

/// A row of the facts' queries: who reported it, the team, department, category, grid and road of its finding
/// or case, then what the query adds.
struct Fact {
    user: String,
    team: Option<String>,
    department: Option<String>,
    /// None for a report not yet (or never) given one.
    category: Option<String>,
    grid: Option<String>,
    road: Option<String>,
}

impl Fact {
    /// Reads the six columns from `at` on.
    fn read(r: &Row<'_>, at: usize) -> DbResult<Fact> {
        Ok(Fact {
            user: r.get(at)?,
            team: r.get(at + 1)?,
            department: r.get(at + 2)?,
            category: r.get(at + 3)?,
            grid: r.get(at + 4)?,
            road: r.get(at + 5)?,
        })
    }

    fn event(self, metric: Metric, at: DateTime<Utc>, in_time: bool) -> StatEvent {
        StatEvent {
            metric,
            inspector: Some(self.user),
            team: self.team,
            department: self.department,
            category: self.category,
            grid: self.grid,
            road: self.road,
            at,
            in_time,
        }
    }
}

/// Facts with a deadline: `sql` selects the six columns of a `Fact`, then due_at and done_at, of the deadlines
/// falling in the period; a fact is in time when it was done at or before its deadline.
fn deadline_events(
    conn: &impl Db,
    sql: &str,
    metric: Metric,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    out: &mut Vec<StatEvent>,
) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![ts(from), ts(to)], |r| {
        Ok((
            Fact::read(r, 0)?,
            r.get::<_, Sql<DateTime<Utc>>>(6)?.0,
            r.get::<_, Option<Sql<DateTime<Utc>>>>(7)?.map(|t| t.0),
        ))
    })?;
    for row in rows {
        let (fact, due, done) = row?;
        out.push(fact.event(metric, due, done.is_some_and(|d| d <= due)));
    }
    Ok(())
}

pub(super) fn stat_events(
    conn: &impl Db,
    dict: &DictIndex,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<StatEvent>> {
    let department_of = |category: &str| dict.categories.get(category).map(|(_, c)| c.department.clone());
    let mut out = Vec::new();
    // Findings reported, valid, fixed on the spot; not the findings the centre made of reports from other
    // channels (device `centre`): the inspector who confirmed one did not find it.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT u.username, f.team, NULL, f.category, f.grid, {},
                f.observed_ts, f.state, f.fixed_on_spot
         FROM findings f JOIN users u ON u.id = f.reporter_id
         WHERE f.observed_ts >= ?1 AND f.observed_ts < ?2 AND f.device_id != 'centre'",
        conn.json_field("f.body", "road")
    ))?;
    let rows = stmt.query_map(params![from.timestamp(), to.timestamp()], |r| {
        Ok((Fact::read(r, 0)?, r.get::<_, i64>(6)?, r.get::<_, String>(7)?, r.get::<_, bool>(8)?))
    })?;
    for row in rows {
        let (mut fact, observed, state, fixed) = row?;
        let at = DateTime::from_timestamp(observed, 0).ok_or_else(|| bad_data(format!("time {observed}")))?;
        let valid = state == "filed" || state == "merged";
        fact.department = fact.category.as_deref().and_then(department_of);
        let base = fact.event(Metric::Reported, at, valid);
        if fixed {
            out.push(StatEvent { metric: Metric::SelfHandled, in_time: true, ..base.clone() });
        }
        out.push(base);
    }
    // Verification tasks due in the period, done in time when completed before the deadline.
    deadline_events(
        conn,
        "SELECT u.username, u.team, c.department, c.category, c.grid, c.road, t.due_at, t.completed_at
         FROM tasks t JOIN users u ON u.id = t.assignee_id JOIN cases c ON c.case_no = t.case_no
         WHERE t.kind = 'verify' AND t.state != 'cancelled' AND t.due_at >= ?1 AND t.due_at < ?2",
        Metric::VerifyDue,
        (from, to),
        &mut out,
    )?;
    // 核实 tasks due in the period, charged to their inspector (and the department the report's case went to).
    deadline_events(
        conn,
        "SELECT u.username, u.team, c.department, r.category, r.grid, r.road, t.due_at, t.completed_at
         FROM tasks t JOIN users u ON u.id = t.assignee_id JOIN reports r ON r.id = t.report_id
              LEFT JOIN cases c ON c.case_no = r.case_no
         WHERE t.kind = 'confirm' AND t.state != 'cancelled' AND t.due_at >= ?1 AND t.due_at < ?2",
        Metric::ConfirmDue,
        (from, to),
        &mut out,
    )?;
    // Cases by their handling deadline, in time when first handled before it (from the history).
    deadline_events(
        conn,
        "SELECT u.username, c.team, c.department, c.category, c.grid, c.road, c.due_at,
                (SELECT MIN(h.at) FROM case_history h WHERE h.case_no = c.case_no AND h.action = 'handle')
         FROM cases c JOIN users u ON u.id = c.reporter_id
         WHERE c.self_handled = 0 AND c.state != 'voided' AND c.due_at >= ?1 AND c.due_at < ?2",
        Metric::Due,
        (from, to),
        &mut out,
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT u.username, c.team, COALESCE(h.department, c.department), c.category, c.grid, c.road, h.action, h.to_state, h.at, c.due_at
         FROM case_history h JOIN cases c ON c.case_no = h.case_no JOIN users u ON u.id = c.reporter_id
         WHERE h.at >= ?1 AND h.at < ?2
           AND (h.action IN ('handle', 'dispatch', 'return', 'supervise') OR (h.action = 'verify' AND h.to_state = 'dispatched')
                OR h.to_state = 'closed')",
    )?;
    let rows = stmt.query_map(params![ts(from), ts(to)], |r| {
        Ok((
            Fact::read(r, 0)?,
            r.get::<_, String>(6)?,
            r.get::<_, Option<Sql<CaseState>>>(7)?.map(|s| s.0),
            r.get::<_, Sql<DateTime<Utc>>>(8)?.0,
            r.get::<_, Option<Sql<DateTime<Utc>>>>(9)?.map(|t| t.0),
        ))
    })?;
    for row in rows {
        let (fact, action, to_state, at, due) = row?;
        let metric = match CaseEvent::of_history(&action, to_state) {
            Some(CaseEvent::Act(CaseAction::Handle)) => Metric::Handled,
            Some(CaseEvent::Act(CaseAction::Dispatch) | CaseEvent::AutoDispatch) => Metric::Dispatched,
            Some(CaseEvent::Act(CaseAction::Return)) => Metric::Returned,
            Some(CaseEvent::Act(CaseAction::Supervise)) => Metric::Supervised,
            Some(CaseEvent::VerifyFail) => Metric::Rework,
            _ if to_state == Some(CaseState::Closed) => Metric::Closed,
            _ => return Err(bad_data(format!("history entry `{action}` is no indicator's fact"))),
        };
        out.push(fact.event(metric, at, due.is_none_or(|d| at <= d)));
    }
    Ok(out)
}
