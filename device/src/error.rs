//! The device core's one error type. Every variant reads as a sentence a person can act on.

use protocol::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("this device is not registered yet: run `register` first")]
    NotRegistered,
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
    #[error("the server refused the device's token (revoked or replaced): register again")]
    Unauthorized,
    #[error("the server answered {status}: {} ({})", .error.message, .error.code.as_str())]
    Server { status: u16, error: ApiError },
    #[error("{0}")]
    Invalid(String),
    #[error("unsupported photo format: {0}")]
    UnsupportedFormat(String),
    #[error("the photo cannot be read: {0}")]
    BadPhoto(String),
    #[error("local store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("local store migration: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("file: {0}")]
    Io(#[from] std::io::Error),
    #[error("a sync is already running")]
    Busy,
    #[error("cancelled")]
    Cancelled,
    #[error("not enough free space: {} MB needed, {} MB free", .needed.div_ceil(1 << 20), .free / (1 << 20))]
    NoSpace { needed: u64, free: u64 },
}

pub type DeviceResult<T> = Result<T, DeviceError>;

impl DeviceError {
    /// A short stable code, for the app's `{code, message}` errors.
    pub fn code(&self) -> &'static str {
        match self {
            DeviceError::NotRegistered => "not_registered",
            DeviceError::Unreachable(_) => "unreachable",
            DeviceError::Unauthorized => "unauthorized",
            DeviceError::Server { error, .. } => error.code.as_str(),
            DeviceError::Invalid(_) => "invalid",
            DeviceError::UnsupportedFormat(_) => "unsupported_format",
            DeviceError::BadPhoto(_) => "bad_photo",
            DeviceError::Sqlite(_) | DeviceError::Migration(_) => "storage",
            DeviceError::Io(_) => "io",
            DeviceError::Busy => "busy",
            DeviceError::Cancelled => "cancelled",
            DeviceError::NoSpace { .. } => "no_space",
        }
    }
}

impl From<serde_json::Error> for DeviceError {
    fn from(e: serde_json::Error) -> Self {
        DeviceError::Invalid(format!("malformed data: {e}"))
    }
}
