//! Registered devices: registration (a device belongs to one user), revocation, and the admin's list.

use super::conn::{Db, OptionalExtension, Stmt, params};
use chrono::{DateTime, Utc};
use protocol::{DeviceInfo, Timestamp};
use serde::Serialize;
use uuid::Uuid;

use super::error::StoreResult;
use super::sql::{Sql, ts};
use crate::config::Zone;
use crate::principal::User;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterOutcome {
    Registered,
    /// The device id belongs to another user.
    OtherUser,
    /// The device was revoked by an admin.
    Revoked,
}

/// A registered device as the admin sees it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DeviceView {
    pub id: Uuid,
    pub name: String,
    pub platform: String,
    pub app_version: String,
    pub user: DeviceUser,
    pub registered_at: Option<Timestamp>,
    pub last_sync_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    /// Ops waiting on the device, as it last reported.
    pub backlog: Option<i64>,
    /// The dictionary version the device last said it holds.
    pub dictionary_version: Option<i64>,
    pub ops_applied: i64,
    pub ops_rejected: i64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DeviceUser {
    pub username: String,
    pub display_name: String,
}

pub(super) fn devices(conn: &impl Db, zone: &Zone, only: Option<Uuid>) -> StoreResult<Vec<DeviceView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id, d.name, d.platform, d.app_version, u.username, u.display_name, d.registered_at, d.last_sync_at, d.revoked_at, d.backlog,
                d.dictionary_version,
                (SELECT COUNT(*) FROM ops o WHERE o.device_id = d.id),
                (SELECT COUNT(*) FROM rejected_ops r WHERE r.device_id = d.id)
         FROM devices d JOIN users u ON u.id = d.user_id WHERE (?1 IS NULL OR d.id = ?1) ORDER BY u.username, d.registered_at",
    )?;
    let t = |t: Option<Sql<DateTime<Utc>>>| t.map(|t| zone.at(t.0));
    let rows = stmt.query_map([only.map(|u| u.to_string())], |r| {
        Ok(DeviceView {
            id: r.get::<_, Sql<Uuid>>(0)?.0,
            name: r.get(1)?,
            platform: r.get(2)?,
            app_version: r.get(3)?,
            user: DeviceUser { username: r.get(4)?, display_name: r.get(5)? },
            registered_at: t(r.get(6)?),
            last_sync_at: t(r.get(7)?),
            revoked_at: t(r.get(8)?),
            backlog: r.get(9)?,
            dictionary_version: r.get(10)?,
            ops_applied: r.get(11)?,
            ops_rejected: r.get(12)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Binds a device to a user with a new token (the old token stops working), unless the device belongs to
/// another user or was revoked.
pub(super) fn register(
    tx: &impl Db,
    user: &User,
    device: &DeviceInfo,
    token_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<RegisterOutcome> {
    let existing: Option<(String, Option<String>)> = tx
        .query_row("SELECT user_id, revoked_at FROM devices WHERE id = ?1", [device.id.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    match existing {
        Some((owner, _)) if owner != user.id.to_string() => return Ok(RegisterOutcome::OtherUser),
        Some((_, Some(_))) => return Ok(RegisterOutcome::Revoked),
        _ => {}
    }
    // New, or the same user's device registering again (a new token, and what it says of itself now).
    tx.execute(
        "INSERT INTO devices (id, user_id, name, platform, app_version, token_hash, registered_at, public_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, platform = excluded.platform,
             app_version = excluded.app_version, token_hash = excluded.token_hash,
             registered_at = excluded.registered_at, public_key = excluded.public_key",
        params![
            device.id.to_string(),
            user.id.to_string(),
            device.name,
            device.platform,
            device.app_version,
            token_hash,
            ts(now),
            device.public_key
        ],
    )?;
    if let Some(key) = &device.public_key {
        tx.execute(
            "INSERT INTO device_keys (device_id, public_key, registered_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![device.id.to_string(), key, ts(now)],
        )?;
    }
    Ok(RegisterOutcome::Registered)
}

/// Revokes a device: its token stops working and it may not register again.
pub(super) fn revoke(conn: &impl Db, id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
    conn.execute(
        "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?2), token_hash = NULL WHERE id = ?1",
        params![id.to_string(), ts(now)],
    )?;
    Ok(())
}

/// Records a device's sync: when, and what it said of itself (ops waiting, dictionary version held).
pub(super) fn note_sync(
    tx: &impl Db,
    id: Uuid,
    now: DateTime<Utc>,
    backlog: Option<u64>,
    dictionary_version: Option<i64>,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE devices SET last_sync_at = ?2, backlog = COALESCE(?3, backlog),
                dictionary_version = COALESCE(?4, dictionary_version) WHERE id = ?1",
        params![id.to_string(), ts(now), backlog.map(|b| b as i64), dictionary_version],
    )?;
    Ok(())
}

/// The public key a device signs its ops with now, if it registered one.
pub(super) fn public_key(conn: &impl Db, device_id: Uuid) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT public_key FROM devices WHERE id = ?1")?
        .query_row([device_id.to_string()], |r| r.get(0))
        .optional()?
        .flatten())
}

/// Every key a device registered, oldest first.
pub(super) fn keys(conn: &impl Db, device_id: &str) -> StoreResult<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT public_key FROM device_keys WHERE device_id = ?1 ORDER BY registered_at")?;
    let rows = stmt.query_map([device_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
