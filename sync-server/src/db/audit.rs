//! The audit log: who did what security-relevant thing, when and from where — sign-ins and their failures,
//! users and roles changed, devices registered and revoked, dictionary, grid and base map imports, exports.
//! Rows are only ever added (the schema's triggers refuse updates and deletions).

use super::conn::{Db, Stmt, params};
use chrono::{DateTime, Utc};
use protocol::Timestamp;
use serde::Serialize;

use super::error::StoreResult;
use super::sql::{Sql, ts};
pub use crate::audit::AuditEntry;
use crate::config::Zone;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AuditRecord {
    pub id: i64,
    pub at: Timestamp,
    pub actor: Option<String>,
    pub role: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub address: Option<String>,
    pub outcome: String,
}

/// What the log's page asks for: a period, an action (or a prefix of one: `user`), an actor.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub limit: u32,
}

pub(super) fn record(tx: &impl Db, entry: &AuditEntry, now: DateTime<Utc>) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO audit_log (at, actor, role, action, target, detail, address, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        ts(now),
        entry.actor,
        entry.role,
        entry.action,
        entry.target,
        entry.detail,
        entry.address,
        entry.outcome
    ])?;
    Ok(())
}

/// Entries, the newest first.
pub(super) fn entries(conn: &impl Db, zone: &Zone, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, actor, role, action, target, detail, address, outcome FROM audit_log
         WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at < ?2)
           AND (?3 IS NULL OR action = ?3 OR action LIKE ?3 || '.%') AND (?4 IS NULL OR actor = ?4)
         ORDER BY id DESC LIMIT ?5",
    )?;
    let rows = stmt.query_map(
        params![filter.from.map(ts), filter.to.map(ts), filter.action, filter.actor, filter.limit.max(1)],
        |r| {
            Ok(AuditRecord {
                id: r.get(0)?,
                at: zone.at(r.get::<_, Sql<DateTime<Utc>>>(1)?.0),
                actor: r.get(2)?,
                role: r.get(3)?,
                action: r.get(4)?,
                target: r.get(5)?,
                detail: r.get(6)?,
                address: r.get(7)?,
                outcome: r.get(8)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}
