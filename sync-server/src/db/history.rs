//! The history of cases (`case_history`) and of reviewed findings (`finding_history`): who did what, when,
//! from which state to which.

use super::conn::{Db, OptionalExtension, Stmt, params};
use chrono::{DateTime, Utc};
use protocol::{CaseState, FindingState};
use uuid::Uuid;

use super::error::{StoreError, StoreResult};
use super::sql::{json, ts};
use super::webhooks::{Emit, emit};
use crate::domain::lifecycle::CaseEvent;
use crate::domain::webhooks::Event;
use crate::principal::User;

/// Who an entry of a case's history names.
#[derive(Debug, Clone, Copy)]
pub(super) struct Actor<'a> {
    pub name: &'a str,
    pub role: &'a str,
}

impl<'a> From<&'a User> for Actor<'a> {
    fn from(u: &'a User) -> Self {
        Actor { name: &u.username, role: u.role.as_str() }
    }
}

/// Automatic routing by the platform's rules (平台法定).
pub(super) const SYSTEM: Actor<'static> = Actor { name: "system", role: "system" };

/// What an entry says besides its event and states: a note, photos, the deadline it was measured against.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Details<'a> {
    pub note: Option<&'a str>,
    pub photos: &'a [String],
    pub due_at: Option<DateTime<Utc>>,
}

/// Writes a case's history entry for `event`, from `from` to `to` (as `CaseEvent::next` decided; an event
/// that changes no state, a merge, stores neither).
pub(super) fn record<'a>(
    tx: &impl Db,
    case_no: &str,
    at: DateTime<Utc>,
    actor: impl Into<Actor<'a>>,
    event: CaseEvent,
    (from, to): (Option<CaseState>, Option<CaseState>),
    details: Details<'_>,
) -> StoreResult<()> {
    let actor = actor.into();
    let (from, to) = if event.records_states() { (from, to) } else { (None, None) };
    let entry = tx.prepare_cached(
        "INSERT INTO case_history (case_no, at, actor, role, action, from_state, to_state, note, photos, due_at, department)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, (SELECT department FROM cases WHERE case_no = ?1))
         RETURNING id",
    )?
    .query_row(params![
        case_no,
        ts(at),
        actor.name,
        actor.role,
        event.action(),
        from.map(CaseState::as_str),
        to.map(CaseState::as_str),
        details.note,
        json(&details.photos)?,
        details.due_at.map(ts)
    ], |r| r.get::<_, i64>(0))?;
    let change = serde_json::json!({
        "action": event.action(),
        "actor": actor.name,
        "role": actor.role,
        "from_state": from.map(CaseState::as_str),
        "to_state": to.map(CaseState::as_str),
        "note": details.note,
        "at": ts(at),
    });
    let kind = if event == CaseEvent::File { Event::CaseFiled } else { Event::CaseChanged };
    let e = Emit { event: kind, subject: case_no, action: Some(event.action()), change, at };
    emit(tx, e, || {
        Ok(tx
            .prepare_cached("SELECT department FROM cases WHERE case_no = ?1")?
            .query_row([case_no], |r| r.get(0))
            .optional()?
            .flatten())
    })?;
    if !details.photos.is_empty() {
        let mut photo = tx.prepare_cached(
            "INSERT INTO case_photos (history_id, sha256, case_no) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        )?;
        for sha in details.photos {
            photo.execute(params![entry, sha, case_no])?;
        }
    }
    Ok(())
}

/// Moves a case through `event` by the lifecycle's rule and writes its history entry; returns the state
/// after it, for the caller to store. A change the rule does not allow is refused (409). Not for `resume`,
/// whose next state is the one the case was suspended in: `case_action` asks `CaseEvent::next` with it.
pub(super) fn step<'a>(
    tx: &impl Db,
    case_no: &str,
    at: DateTime<Utc>,
    actor: impl Into<Actor<'a>>,
    event: CaseEvent,
    from: CaseState,
    details: Details<'_>,
) -> StoreResult<CaseState> {
    let to = event.next(Some(from), None).ok_or_else(|| {
        StoreError::invalid_transition(format!(
            "case {case_no} is {}: {} does not apply",
            from.as_str(),
            event.action()
        ))
    })?;
    record(tx, case_no, at, actor, event, (Some(from), Some(to)), details)?;
    Ok(to)
}

/// A review decision in the finding's own history (it always leaves `pending_review`).
pub(super) fn finding_history(
    tx: &impl Db,
    id: Uuid,
    actor: &User,
    action: &str,
    to: FindingState,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO finding_history (finding_id, at, actor, role, action, from_state, to_state, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![id.to_string(), ts(now), actor.username, actor.role.as_str(), action, FindingState::PendingReview.as_str(), to.as_str(), note],
    )?;
    Ok(())
}
