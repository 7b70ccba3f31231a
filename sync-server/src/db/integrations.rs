//! Integration tokens: the API keys other systems (a 12345 hotline system, an Open311 client) call with. Each
//! acts as one user the admin chose, whose role decides what it may do; only its hash is kept.

use super::conn::{Db, DbResult, OptionalExtension, Row, Stmt, params};
use chrono::{DateTime, Utc};
use protocol::Timestamp;
use serde::Serialize;
use uuid::Uuid;

use super::error::{StoreError, StoreResult};
use super::sql::{Sql, ts};
use crate::config::Zone;

/// A token as the console lists it: never the token itself.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct IntegrationToken {
    pub id: Uuid,
    /// What the admin called it ("12345 热线").
    pub name: String,
    /// The user it acts as.
    pub username: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

fn token_row(zone: &Zone, r: &Row<'_>) -> DbResult<IntegrationToken> {
    Ok(IntegrationToken {
        id: r.get::<_, Sql<Uuid>>(0)?.0,
        name: r.get(1)?,
        username: r.get(2)?,
        created_by: r.get(3)?,
        created_at: zone.at(r.get::<_, Sql<DateTime<Utc>>>(4)?.0),
        revoked_at: r.get::<_, Option<Sql<DateTime<Utc>>>>(5)?.map(|t| zone.at(t.0)),
    })
}

const COLUMNS: &str = "i.id, i.name, u.username, i.created_by, i.created_at, i.revoked_at
    FROM integration_tokens i JOIN users u ON u.id = i.user_id";

/// Keeps a new token's hash for `username`; `None` when there is no such user.
pub(super) fn add(
    tx: &impl Db,
    zone: &Zone,
    name: &str,
    username: &str,
    token_hash: &str,
    by: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<IntegrationToken>> {
    let user: Option<String> =
        tx.query_row("SELECT id FROM users WHERE username = ?1", [username], |r| r.get(0)).optional()?;
    let Some(user) = user else { return Ok(None) };
    let id = Uuid::new_v4();
    tx.execute(
        "INSERT INTO integration_tokens (id, name, token_hash, user_id, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id.to_string(), name, token_hash, user, by, ts(now)],
    )?;
    tx.query_row(&format!("SELECT {COLUMNS} WHERE i.id = ?1"), [id.to_string()], |r| token_row(zone, r))
        .optional()?
        .ok_or_else(|| StoreError::internal("the token just stored is gone"))
        .map(Some)
}

/// Every token, the ones in force first, the newest first.
pub(super) fn all(conn: &impl Db, zone: &Zone) -> StoreResult<Vec<IntegrationToken>> {
    let sql = format!("SELECT {COLUMNS} ORDER BY i.revoked_at IS NOT NULL, i.created_at DESC");
    Ok(conn.prepare(&sql)?.query_map((), |r| token_row(zone, r))?.collect::<Result<Vec<_>, _>>()?)
}

/// Ends a token; false when unknown or ended already.
pub(super) fn revoke(tx: &impl Db, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
    let changed = tx.execute(
        "UPDATE integration_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id.to_string(), ts(now)],
    )?;
    Ok(changed > 0)
}
