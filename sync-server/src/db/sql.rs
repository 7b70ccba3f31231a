//! Helpers every SQL file of the store shares: the stored form of times, row mappers, errors for stored
//! data that cannot be read.

use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, SecondsFormat, Utc};
use protocol::Role;
use rusqlite::Connection;
use serde::Serialize;
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::principal::User;

/// A time as stored in TEXT columns: UTC, RFC 3339 with milliseconds.
pub(super) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(super) fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// A value as stored in a JSON column.
pub(super) fn json<T: Serialize>(value: &T) -> AppResult<String> {
    serde_json::to_string(value).map_err(|e| AppError::internal(e.to_string()))
}

pub(super) fn bad_data(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("stored data unreadable: {e}"))
}

pub(super) fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock leaves SQLite consistent (the transaction rolls back on drop).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(super) fn row_user(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<User> {
    let id: String = row.get(first)?;
    let role: String = row.get(first + 3)?;
    Ok(User {
        id: Uuid::parse_str(&id).unwrap_or_default(),
        username: row.get(first + 1)?,
        display_name: row.get(first + 2)?,
        role: Role::parse(&role).unwrap_or(Role::Inspector),
        team: row.get(first + 4)?,
        department: row.get(first + 5)?,
    })
}

pub(super) const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.role, u.team, u.department";
