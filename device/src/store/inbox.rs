//! What comes back from a sync: each op's result, and the changes for this device, applied in one transaction.

use chrono::Utc;

use protocol::{ChangeBody, OpResult, OpStatus, SyncResponse};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{AppliedResults, DeviceStore, local_state, now_text};
use crate::error::DeviceResult;

impl DeviceStore {
    /// Applies one sync answer in one transaction: op results, changes, the new cursor and the clock.
    pub fn apply_answer(&mut self, answer: &SyncResponse) -> DeviceResult<AppliedResults> {
        let mut summary = AppliedResults::default();
        let now = now_text();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for r in &answer.results {
            apply_result(&tx, r, &now, &mut summary)?;
        }
        for change in &answer.changes {
            match &change.body {
                ChangeBody::FindingUpdated(u) => {
                    tx.execute(
                        "UPDATE findings SET server_state = ?2, reason = ?3, case_no = COALESCE(?4, case_no),
                                case_state = COALESCE(?5, case_state), updated_at = ?6, grid = ?7 WHERE id = ?1",
                        params![
                            u.finding_id.to_string(),
                            u.state.as_str(),
                            u.reason,
                            u.case.as_ref().map(|c| c.case_no.clone()),
                            u.case.as_ref().map(|c| c.state.as_str()),
                            now,
                            u.grid
                        ],
                    )?;
                }
                ChangeBody::Campaign(c) => {
                    tx.execute(
                        "INSERT OR REPLACE INTO campaigns (id, body) VALUES (?1, ?2)",
                        params![c.id, serde_json::to_string(c)?],
                    )?;
                }
                ChangeBody::Dictionary(d) => {
                    let current: Option<i64> =
                        tx.query_row("SELECT version FROM dictionary WHERE id = 1", [], |r| r.get(0)).optional()?;
                    if current.is_none_or(|v| v < d.version) {
                        tx.execute(
                            "INSERT OR REPLACE INTO dictionary (id, version, body) VALUES (1, ?1, ?2)",
                            params![d.version, serde_json::to_string(d)?],
                        )?;
                    }
                }
                ChangeBody::TaskAssigned(a) => {
                    tx.execute(
                        "INSERT INTO tasks (id, case_no, body, due_at, state, assigned_at) VALUES (?1, ?2, ?3, ?4, 'open', ?5)
                         ON CONFLICT (id) DO UPDATE SET body = excluded.body, due_at = excluded.due_at",
                        params![
                            a.task.id.to_string(),
                            a.task.case_no.as_deref().unwrap_or_default(),
                            serde_json::to_string(&a.task)?,
                            a.task.due_at.map(|t| t.to_rfc3339()),
                            now
                        ],
                    )?;
                }
                ChangeBody::TaskCancelled(c) => {
                    tx.execute(
                        "UPDATE tasks SET state = 'cancelled' WHERE id = ?1 AND state = 'open'",
                        [c.task_id.to_string()],
                    )?;
                }
                ChangeBody::AreaCase(c) => {
                    if c.state.is_open() {
                        tx.execute(
                            "INSERT OR REPLACE INTO area_cases (case_no, category, state, lat, lon, observed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                            params![c.case_no, c.category, c.state.as_str(), c.location.lat, c.location.lon, c.observed_at.to_rfc3339()],
                        )?;
                    } else {
                        tx.execute("DELETE FROM area_cases WHERE case_no = ?1", [&c.case_no])?;
                    }
                }
                ChangeBody::Unknown => {}
            }
        }
        Self::set_meta(&tx, "cursor", &answer.cursor)?;
        let offset = answer.server_time.with_timezone(&Utc) - Utc::now();
        Self::set_meta(&tx, "clock_offset_ms", &offset.num_milliseconds().to_string())?;
        Self::set_meta(&tx, "last_sync_at", &now)?;
        tx.commit()?;
        Ok(summary)
    }
}

fn apply_result(tx: &Connection, r: &OpResult, now: &str, summary: &mut AppliedResults) -> DeviceResult<()> {
    let seq = r.seq as i64;
    let entity: Option<String> = tx
        .query_row("SELECT entity_id FROM outbox WHERE seq = ?1 AND state = 'pending'", [seq], |row| row.get(0))
        .optional()?;
    let Some(entity) = entity else { return Ok(()) };
    match r.status {
        OpStatus::Applied | OpStatus::Duplicate => {
            if r.status == OpStatus::Applied {
                summary.applied += 1;
            } else {
                summary.duplicate += 1;
            }
            tx.execute(
                "UPDATE outbox SET state = 'done', result = ?2, done_at = ?3 WHERE seq = ?1",
                params![seq, serde_json::to_string(r)?, now],
            )?;
            if let Some(ack) = &r.finding {
                tx.execute(
                    "UPDATE findings SET local_state = ?2, server_state = ?3, case_no = COALESCE(?4, case_no), updated_at = ?5
                     WHERE id = ?1",
                    params![ack.id.to_string(), local_state::RECEIVED, ack.state.as_str(), ack.case_no, now],
                )?;
            }
        }
        OpStatus::Rejected => {
            let reason = r.error.as_ref().map(|e| match e.field() {
                Some(f) => format!("{} ({f})", e.message),
                None => e.message.clone(),
            });
            summary.rejected.push((r.seq, reason.clone().unwrap_or_default()));
            tx.execute(
                "UPDATE outbox SET state = 'rejected', result = ?2, last_error = ?3, done_at = ?4 WHERE seq = ?1",
                params![seq, serde_json::to_string(r)?, reason, now],
            )?;
            tx.execute(
                "UPDATE findings SET local_state = ?2, reason = ?3, updated_at = ?4 WHERE id = ?1",
                params![entity, local_state::REJECTED, reason, now],
            )?;
        }
        OpStatus::Retry => {
            summary.retry += 1;
            let error = r.error.as_ref().map(|e| e.message.clone());
            tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE seq = ?1",
                params![seq, error],
            )?;
            if let Some(missing) = r
                .error
                .as_ref()
                .and_then(|e| e.details.as_ref())
                .and_then(|d| d.get("missing"))
                .and_then(|m| m.as_array())
            {
                for sha in missing.iter().filter_map(|s| s.as_str()) {
                    tx.execute("UPDATE blobs SET uploaded = 0 WHERE sha256 = ?1", [sha])?;
                }
            }
        }
    }
    Ok(())
}
