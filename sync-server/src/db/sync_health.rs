//! The admin's view of sync health: refused ops, ops per day, what the store holds.

use super::conn::{Db, Stmt, params};
use chrono::{DateTime, Utc};
use protocol::Timestamp;
use serde::Serialize;

use super::error::StoreResult;
use super::sql::{Sql, ts};
use crate::config::Zone;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RejectedOp {
    pub device_id: String,
    pub seq: i64,
    pub kind: String,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    pub at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DayCount {
    pub day: String,
    pub applied: i64,
    pub rejected: i64,
}

/// The admin's view of sync health.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SyncHealth {
    pub rejected_ops: Vec<RejectedOp>,
    pub ops_per_day: Vec<DayCount>,
    pub findings: i64,
    pub cases: i64,
    pub blobs: i64,
    /// Photo bytes plus the database file.
    pub storage_bytes: i64,
    pub devices: i64,
}

pub(super) fn sync_health(conn: &impl Db, zone: &Zone, now: DateTime<Utc>) -> StoreResult<SyncHealth> {
    let count = |sql: &str| -> StoreResult<i64> { Ok(conn.query_row(sql, (), |r| r.get(0))?) };
    let mut stmt = conn.prepare_cached(
        "SELECT device_id, seq, kind, code, message, field, at FROM rejected_ops ORDER BY id DESC LIMIT 200",
    )?;
    let rejected = stmt
        .query_map((), |r| {
            Ok(RejectedOp {
                device_id: r.get(0)?,
                seq: r.get(1)?,
                kind: r.get(2)?,
                code: r.get(3)?,
                message: r.get(4)?,
                field: r.get(5)?,
                at: r.get::<_, Option<Sql<DateTime<Utc>>>>(6)?.map(|t| zone.at(t.0)),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let since = ts(now - chrono::Duration::days(14));
    let mut per_day: std::collections::BTreeMap<String, (i64, i64)> = std::collections::BTreeMap::new();
    let mut stmt = conn.prepare_cached("SELECT applied_at FROM ops WHERE applied_at >= ?1")?;
    for at in stmt.query_map(params![since], |r| r.get::<_, Sql<DateTime<Utc>>>(0))? {
        per_day.entry(zone.at(at?.0).format("%Y-%m-%d").to_string()).or_default().0 += 1;
    }
    let mut stmt = conn.prepare_cached("SELECT at FROM rejected_ops WHERE at >= ?1")?;
    for at in stmt.query_map(params![since], |r| r.get::<_, Sql<DateTime<Utc>>>(0))? {
        per_day.entry(zone.at(at?.0).format("%Y-%m-%d").to_string()).or_default().1 += 1;
    }
    Ok(SyncHealth {
        rejected_ops: rejected,
        ops_per_day: per_day
            .into_iter()
            .map(|(day, (applied, rejected))| DayCount { day, applied, rejected })
            .collect(),
        findings: count("SELECT COUNT(*) FROM findings")?,
        cases: count("SELECT COUNT(*) FROM cases")?,
        blobs: count("SELECT COUNT(*) FROM blobs")?,
        storage_bytes: count("SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM blobs")?
            + count(if conn.is_pg() {
                "SELECT pg_database_size(current_database())"
            } else {
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
            })?,
        devices: count("SELECT COUNT(*) FROM devices WHERE revoked_at IS NULL")?,
    })
}
