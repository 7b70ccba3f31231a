//! What a store answers when it cannot do what was asked, in terms of the data, not of a driver or of HTTP:
//! a second backend returns the same errors, and `crate::error` alone decides what a client is told.

use protocol::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record an action names does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The record exists already, or another writer changed it first.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The record's state does not allow the action (a closed case, a reviewed finding, a done task).
    #[error("invalid transition: {0}")]
    InvalidTransition(String),
    /// A value given for `field` does not fit the stored data (an unknown department, a missing user).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// What is stored cannot be read back: a damaged value, a row that vanished inside a transaction.
    #[error("stored data unreadable: {0}")]
    Corrupt(String),
    /// A rule the store relies on was broken: a bug, reported rather than acted on.
    #[error("{0}")]
    Invariant(String),
    /// The storage itself failed (the disk, the database engine, its schema migration).
    #[error("storage: {0}")]
    Backend(String),
    /// The disk (or the database's quota) is full: nothing was written; the same request succeeds once there
    /// is room again.
    #[error("storage full: {0}")]
    Full(String),
    /// The database does not answer (down, restarting, out of connections): nothing was written; the same
    /// request succeeds once it answers again.
    #[error("database out of reach: {0}")]
    Unavailable(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What a client is told when the server's disk is full.
pub const DISK_FULL: &str = "the server's disk is full: nothing was stored; send it again later";

/// What a client is told when the database does not answer.
pub const DATABASE_DOWN: &str = "the server's database does not answer: nothing was stored; send it again later";

impl StoreError {
    pub fn not_found(message: impl Into<String>) -> Self {
        StoreError::NotFound(message.into())
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        StoreError::Conflict(message.into())
    }
    pub fn invalid_transition(message: impl Into<String>) -> Self {
        StoreError::InvalidTransition(message.into())
    }
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        StoreError::Invalid { field: field.into(), message: message.into() }
    }
    /// Stored data that does not read back as what was written, or a row that vanished mid-transaction.
    pub fn corrupt(message: impl Into<String>) -> Self {
        StoreError::Corrupt(message.into())
    }

    pub fn internal(message: impl Into<String>) -> Self {
        StoreError::Invariant(message.into())
    }

    /// The contract's answer to this error, where a client is to be told more than "internal error".
    pub fn to_api(&self) -> Option<ApiError> {
        Some(match self {
            StoreError::NotFound(m) => ApiError::new(ErrorCode::NotFound, m.clone()),
            StoreError::Conflict(m) => ApiError::new(ErrorCode::Conflict, m.clone()),
            StoreError::InvalidTransition(m) => ApiError::new(ErrorCode::InvalidTransition, m.clone()),
            StoreError::Invalid { field, message } => ApiError::invalid(field.clone(), message.clone()),
            StoreError::Full(_) => ApiError::new(ErrorCode::Unavailable, DISK_FULL),
            StoreError::Unavailable(m) => {
                tracing::error!("{m}");
                ApiError::new(ErrorCode::Unavailable, DATABASE_DOWN)
            }
            StoreError::Corrupt(_) | StoreError::Invariant(_) | StoreError::Backend(_) => return None,
        })
    }
}

impl From<protocol::FieldError> for StoreError {
    fn from(e: protocol::FieldError) -> Self {
        StoreError::Invalid { field: e.field, message: e.message }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..) => {
                StoreError::Corrupt(e.to_string())
            }
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull => {
                StoreError::Full(e.to_string())
            }
            other => StoreError::Backend(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(db) = e.as_database_error() {
            if db.is_unique_violation() {
                return StoreError::conflict(db.message().to_owned());
            }
            // Connection exceptions (08…), a server shutting down or starting (57P01–57P03), too many
            // connections (53300), a full disk (53100).
            let code = db.code().unwrap_or_default();
            if code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300") {
                return StoreError::Unavailable(format!("PostgreSQL: {e}"));
            }
            if code == "53100" {
                return StoreError::Full(format!("PostgreSQL: {e}"));
            }
        }
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_) => StoreError::Unavailable(format!("PostgreSQL: {e}")),
            e => StoreError::Backend(format!("PostgreSQL: {e}")),
        }
    }
}

impl From<rusqlite_migration::Error> for StoreError {
    fn from(e: rusqlite_migration::Error) -> Self {
        StoreError::Backend(format!("schema migration: {e}"))
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}
