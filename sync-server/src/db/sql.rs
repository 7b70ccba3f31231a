//! Helpers every SQL file of the store shares: the stored form of times, row mappers, errors for stored
//! data that cannot be read.

use std::sync::{Mutex, MutexGuard};

use super::conn::{DbResult, FromDb, Row, Value};
use chrono::{DateTime, SecondsFormat, Utc};
use protocol::Role;
use rusqlite::Connection;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use serde::Serialize;
use uuid::Uuid;

use super::error::{StoreError, StoreResult};
use crate::principal::User;

/// A time as stored in TEXT columns: UTC, RFC 3339 with milliseconds.
pub(super) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Reads back whatever `ts` or chrono's RFC 3339 form wrote: with chrono's lenient parser, so that a time a
/// device sent with a year beyond 9999 or before 0 (stored as `+10000-…` or `-0001-…`) is read, not refused.
pub(super) fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    s.parse::<DateTime<chrono::FixedOffset>>().ok().map(|t| t.with_timezone(&Utc))
}

/// A value as stored in a JSON column.
pub(super) fn json<T: Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::internal(e.to_string()))
}

pub(super) fn bad_data(e: impl std::fmt::Display) -> StoreError {
    StoreError::corrupt(e.to_string())
}

pub(super) fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock leaves SQLite consistent (the transaction rolls back on drop).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(super) fn row_user(row: &Row<'_>, first: usize) -> DbResult<User> {
    Ok(User {
        id: row.get::<_, Sql<Uuid>>(first)?.0,
        username: row.get(first + 1)?,
        display_name: row.get(first + 2)?,
        role: row.get::<_, Sql<Role>>(first + 3)?.0,
        team: row.get(first + 4)?,
        department: row.get(first + 5)?,
    })
}

pub(super) const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.role, u.team, u.department";

/// A value stored as TEXT in its wire form: a state, a role, an id or a time. Read through `Sql`, a stored
/// value that does not parse is an error ("stored data unreadable"), never a default that could be acted on.
pub(super) trait Stored: Sized {
    /// What the value is, for the error.
    const WHAT: &'static str;
    fn parse_stored(s: &str) -> Option<Self>;
}

macro_rules! stored {
    ($t:ty, $what:literal, $parse:expr) => {
        impl Stored for $t {
            const WHAT: &'static str = $what;
            fn parse_stored(s: &str) -> Option<Self> {
                $parse(s)
            }
        }
    };
}

stored!(protocol::CaseState, "case state", protocol::CaseState::parse);
stored!(protocol::FindingState, "finding state", protocol::FindingState::parse);
stored!(Role, "role", Role::parse);
stored!(protocol::TaskState, "task state", protocol::TaskState::parse);
stored!(protocol::TaskResult, "task result", |s: &str| s.parse().ok());
stored!(protocol::TaskType, "task type", protocol::TaskType::parse);
stored!(crate::domain::reports::ReportState, "report state", |s: &str| s.parse().ok());
stored!(Uuid, "id", |s: &str| Uuid::parse_str(s).ok());
stored!(protocol::Datum, "datum", protocol::Datum::parse);
stored!(DateTime<Utc>, "time", parse_ts);

/// A `Stored` value as a column: `row.get::<_, Sql<CaseState>>(i)?.0`.
pub(super) struct Sql<T>(pub T);

impl<T: Stored> FromSql for Sql<T> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let s = value.as_str()?;
        T::parse_stored(s).map(Sql).ok_or_else(|| FromSqlError::Other(format!("`{s}` is not a {}", T::WHAT).into()))
    }
}

/// The same on PostgreSQL, from the TEXT column.
impl<T: Stored> FromDb for Sql<T> {
    fn from_value(value: Value) -> Result<Self, String> {
        let s = String::from_value(value)?;
        T::parse_stored(&s).map(Sql).ok_or_else(|| format!("`{s}` is not a {}", T::WHAT))
    }
}

/// Parses a stored value already read as text.
pub(super) fn stored<T: Stored>(s: &str) -> StoreResult<T> {
    T::parse_stored(s).ok_or_else(|| bad_data(format!("`{s}` is not a {}", T::WHAT)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{CaseState, FindingState};

    fn read<T: Stored>(text: &str) -> rusqlite::Result<T> {
        let conn = Connection::open_in_memory().unwrap();
        conn.query_row("SELECT ?1", [text], |r| r.get::<_, Sql<T>>(0)).map(|v| v.0)
    }

    #[test]
    fn stored_values_read_back_typed() {
        assert_eq!(read::<CaseState>("dispatched").unwrap(), CaseState::Dispatched);
        assert_eq!(read::<FindingState>("merged").unwrap(), FindingState::Merged);
        assert_eq!(read::<Role>("chief").unwrap(), Role::Chief);
        let id = Uuid::now_v7();
        assert_eq!(read::<Uuid>(&id.to_string()).unwrap(), id);
        let t = read::<DateTime<Utc>>("2026-12-04T08:30:00.000Z").unwrap();
        assert_eq!(ts(t), "2026-12-04T08:30:00.000Z");
        // A time stored with the sender's offset (patrols) is the same instant.
        assert_eq!(read::<DateTime<Utc>>("2026-12-04T16:30:00+08:00").unwrap(), t);
        // Years out of four digits, as chrono writes them, read back (a device may send such a time).
        for far in ["+10000-01-01T00:00:00.000Z", "-0001-06-01T00:00:00.000Z"] {
            let t: DateTime<Utc> = far.parse().unwrap();
            assert_eq!(read::<DateTime<Utc>>(&ts(t)).unwrap(), t, "{far}");
        }
    }

    #[test]
    fn an_unreadable_stored_value_is_an_error_not_a_default() {
        // Each of these once became a usable value (`filed`, `pending_review`, `inspector`, the nil id).
        let errors = [
            read::<CaseState>("fild").map(|_| ()),
            read::<FindingState>("").map(|_| ()),
            read::<Role>("superuser").map(|_| ()),
            read::<Uuid>("not-an-id").map(|_| ()),
            read::<DateTime<Utc>>("yesterday").map(|_| ()),
        ];
        for e in errors {
            let e = e.unwrap_err();
            assert!(matches!(e, rusqlite::Error::FromSqlConversionFailure(..)), "{e}");
        }
        assert!(read::<Role>("superuser").unwrap_err().to_string().contains("`superuser` is not a role"));
        assert!(stored::<CaseState>("fild").is_err());
    }
}
