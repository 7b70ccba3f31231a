//! Signed ops as received, and the devices' keys: what an evidence package is made of.

use super::conn::{Db, DbResult, OptionalExtension, Row, Stmt, params};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::StoreResult;
use super::sql::ts;

/// An op as a device signed and sent it: its body exactly as received, its signature and its link.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedOp {
    pub device_id: String,
    pub seq: u64,
    pub kind: String,
    /// The id of what the op creates or changes (a finding's id), when it names one.
    #[serde(skip)]
    pub entity_id: Option<String>,
    /// The body's JSON text as received.
    pub body: Box<serde_json::value::RawValue>,
    pub prev: Option<String>,
    pub sig: String,
}

/// Keeps signed ops (a resend of one kept already changes nothing).
pub(super) fn keep(tx: &impl Db, ops: &[SignedOp], now: DateTime<Utc>) -> StoreResult<()> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO signed_ops (device_id, seq, kind, entity_id, body, prev, sig, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
    )?;
    let at = ts(now);
    for op in ops {
        insert.execute(params![
            op.device_id,
            op.seq as i64,
            op.kind,
            op.entity_id,
            op.body.get(),
            op.prev,
            op.sig,
            at
        ])?;
    }
    Ok(())
}

fn row(r: &Row<'_>) -> DbResult<SignedOp> {
    let body: String = r.get(4)?;
    Ok(SignedOp {
        device_id: r.get(0)?,
        seq: r.get::<_, i64>(1)? as u64,
        kind: r.get(2)?,
        entity_id: r.get(3)?,
        body: serde_json::value::RawValue::from_string(body)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e)))?,
        prev: r.get(5)?,
        sig: r.get(6)?,
    })
}

const COLUMNS: &str = "device_id, seq, kind, entity_id, body, prev, sig";

/// The signed `finding.create` op that created the finding `entity_id`.
pub(super) fn creating(conn: &impl Db, entity_id: &str) -> StoreResult<Option<SignedOp>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM signed_ops WHERE entity_id = ?1 AND kind = 'finding.create'
                 ORDER BY received_at, seq LIMIT 1"
            ),
            [entity_id],
            row,
        )
        .optional()?)
}

/// The device's signed op before `seq`, the one `prev` of that op links to.
pub(super) fn previous(conn: &impl Db, device_id: &str, seq: u64) -> StoreResult<Option<SignedOp>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM signed_ops WHERE device_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT 1"),
            params![device_id, seq as i64],
            row,
        )
        .optional()?)
}
