//! Campaigns (每月一主题) as stored; defining one tells every phone (a `campaign` change).

use super::conn::{Db, OptionalExtension, Stmt, params};
use chrono::{DateTime, Utc};
use protocol::{Campaign, ChangeBody};

use super::changes::insert_change;
use super::error::StoreResult;
use super::sql::{bad_data, json, ts};

pub(super) fn campaigns(conn: &impl Db) -> StoreResult<Vec<Campaign>> {
    let from = conn.json_field("body", "from");
    let mut stmt = conn.prepare_cached(&format!("SELECT body FROM campaigns ORDER BY {from} DESC, id"))?;
    let bodies = stmt.query_map((), |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    bodies.iter().map(|b| serde_json::from_str(b).map_err(bad_data)).collect()
}

pub(super) fn campaign(conn: &impl Db, id: &str) -> StoreResult<Option<Campaign>> {
    let body: Option<String> =
        conn.query_row("SELECT body FROM campaigns WHERE id = ?1", [id], |r| r.get(0)).optional()?;
    body.map(|b| serde_json::from_str(&b).map_err(bad_data)).transpose()
}

/// Stores a campaign (replacing one of the same id) and announces it to every device; true when new. The
/// same definition again changes nothing and announces nothing.
pub(super) fn save_campaign(tx: &impl Db, c: &Campaign, by: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    let before = campaign(tx, &c.id)?;
    if before.as_ref() == Some(c) {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO campaigns (id, body, updated_by, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        params![c.id, json(c)?, by, ts(now)],
    )?;
    insert_change(tx, None, None, &ChangeBody::Campaign(c.clone()), now)?;
    Ok(before.is_none())
}
