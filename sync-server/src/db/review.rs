//! A section chief's decision on a finding waiting for review (审核): approve (file a case), reject, or
//! merge into an open case.

use super::conn::{Db, OptionalExtension, params};
use chrono::{DateTime, Utc};
use protocol::FindingState;
use uuid::Uuid;

use super::cases::case_meta;
use super::changes::{announce_case, notify_finding};
use super::dict::DictIndex;
use super::error::{StoreError, StoreResult};
use super::filing::file_case;
use super::history::{Details, finding_history, step};
use super::sql::{bad_data, ts};
use super::webhooks::{Emit, emit};
use crate::domain::EngineSettings;
use crate::domain::lifecycle::CaseEvent;
use crate::domain::webhooks::Event;
use crate::principal::User;

/// A section chief's decision on a finding.
#[derive(Debug, Clone)]
pub enum Decision {
    /// File a case, optionally under a corrected category.
    Approve {
        category: Option<String>,
        note: Option<String>,
    },
    Reject {
        reason: String,
    },
    /// Attach to an existing case as another report of it.
    Merge {
        case_no: String,
        note: Option<String>,
    },
}

pub(super) fn review_finding(
    tx: &impl Db,
    settings: &EngineSettings,
    dict: &DictIndex,
    actor: &User,
    id: Uuid,
    decision: &Decision,
    now: DateTime<Utc>,
) -> StoreResult<Option<String>> {
    let (body, state, reporter, team, grid): (String, String, String, Option<String>, Option<String>) = tx
        .query_row("SELECT body, state, reporter_id, team, grid FROM findings WHERE id = ?1", [id.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?
        .ok_or_else(|| StoreError::not_found("no such finding"))?;
    if state != FindingState::PendingReview.as_str() {
        return Err(StoreError::invalid_transition(format!("this finding was already reviewed ({state})")));
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
                .ok_or_else(|| StoreError::invalid("category", "unknown category"))?;
            cat.department =
                dict.route(&finding.category, finding.road.as_deref(), grid.as_deref()).unwrap_or(cat.department);
            let case_no = file_case(
                tx,
                settings,
                now,
                &cat,
                &finding,
                grid.as_deref(),
                (reporter, team.as_deref()),
                actor,
                false,
            )?;
            tx.execute("UPDATE findings SET category = ?2 WHERE id = ?1", params![id.to_string(), finding.category])?;
            (FindingState::Filed, Some(case_no), note.clone(), "approve")
        }
        Decision::Reject { reason } => (FindingState::Rejected, None, Some(reason.clone()), "reject"),
        Decision::Merge { case_no, note } => {
            let meta = case_meta(tx, case_no)?.ok_or_else(|| StoreError::not_found(format!("no case {case_no}")))?;
            if !meta.state.is_open() {
                return Err(StoreError::conflict(format!(
                    "case {case_no} is {} and takes no more reports",
                    meta.state.as_str()
                )));
            }
            let note_id = id.to_string();
            let details = Details { note: Some(&note_id), ..Details::default() };
            step(tx, case_no, now, actor, CaseEvent::Merge, meta.state, details)?;
            (FindingState::Merged, Some(case_no.clone()), note.clone(), "merge")
        }
    };
    tx.execute(
        "UPDATE findings SET state = ?2, case_no = ?3, reason = ?4 WHERE id = ?1",
        params![id.to_string(), to.as_str(), case_no, reason],
    )?;
    finding_history(tx, id, actor, action, to, reason.as_deref(), now)?;
    if to == FindingState::Rejected {
        let change = serde_json::json!({
            "action": action, "actor": actor.username, "role": actor.role.as_str(), "note": reason, "at": ts(now),
        });
        let subject = id.to_string();
        let e = Emit { event: Event::FindingRejected, subject: &subject, action: Some(action), change, at: now };
        emit(tx, e, || Ok(None))?;
    }
    notify_finding(tx, &settings.zone, reporter, id, to, reason, case_no.as_deref(), now)?;
    if let Some(no) = &case_no {
        announce_case(tx, settings, no, now)?;
    }
    Ok(case_no)
}
