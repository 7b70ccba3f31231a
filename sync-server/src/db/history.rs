//! The history of cases (`case_history`) and of reviewed findings (`finding_history`): who did what, when,
//! from which state to which.

use chrono::{DateTime, Utc};
use protocol::{CaseState, FindingState};
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::sql::{json, ts};
use crate::error::AppResult;
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

#[allow(clippy::too_many_arguments)]
pub(super) fn record_history<'a>(
    tx: &Connection,
    case_no: &str,
    at: DateTime<Utc>,
    actor: impl Into<Actor<'a>>,
    action: &str,
    from: Option<CaseState>,
    to: Option<CaseState>,
    note: Option<&str>,
    photos: &[String],
    due_at: Option<&str>,
) -> AppResult<()> {
    let actor = actor.into();
    tx.prepare_cached(
        "INSERT INTO case_history (case_no, at, actor, role, action, from_state, to_state, note, photos, due_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        case_no,
        ts(at),
        actor.name,
        actor.role,
        action,
        from.map(CaseState::as_str),
        to.map(CaseState::as_str),
        note,
        json(&photos)?,
        due_at
    ])?;
    Ok(())
}

/// A review decision in the finding's own history (it always leaves `pending_review`).
pub(super) fn finding_history(
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
