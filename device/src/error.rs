//! The device core's one error type. Every variant reads as a sentence a person can act on.

use std::path::{Path, PathBuf};
use std::sync::RwLock;

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
    Sqlite(rusqlite::Error),
    #[error("local store migration: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("file: {0}")]
    Io(std::io::Error),
    #[error("a sync is already running")]
    Busy,
    #[error("cancelled")]
    Cancelled,
    /// The account signs in with a second factor: the authenticator app's code is needed (or was wrong).
    #[error("{0}")]
    SecondFactor(String),
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
            DeviceError::SecondFactor(_) => "totp_required",
        }
    }
}

/// The directory of the store opened last: where free space is looked at when a write fails.
static STORE_DIR: RwLock<Option<PathBuf>> = RwLock::new(None);

/// Free space under which a failing write is put down to a full disk: the store needs room for its log and
/// its shared-memory index to open at all.
const LOW_SPACE: u64 = 1 << 20;

/// Tells the errors where the store lives (called when it is opened).
pub(crate) fn note_store_dir(dir: &Path) {
    if let Ok(mut d) = STORE_DIR.write() {
        *d = Some(dir.to_owned());
    }
}

/// `NoSpace` when the store's disk is (nearly) full: what a failed write or open then means, said so that an
/// inspector knows to free space, rather than as the engine's "disk I/O error".
fn out_of_space() -> Option<DeviceError> {
    let dir = STORE_DIR.read().ok()?.clone()?;
    let free = fs4::available_space(&dir).ok()?;
    (free < LOW_SPACE).then_some(DeviceError::NoSpace { needed: LOW_SPACE, free })
}

impl From<rusqlite::Error> for DeviceError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::{CannotOpen, DiskFull, SystemIoFailure};
        let storage = matches!(&e, rusqlite::Error::SqliteFailure(f, _) if matches!(f.code, DiskFull | SystemIoFailure | CannotOpen));
        storage.then(out_of_space).flatten().unwrap_or(DeviceError::Sqlite(e))
    }
}

impl From<std::io::Error> for DeviceError {
    fn from(e: std::io::Error) -> Self {
        let full = e.kind() == std::io::ErrorKind::StorageFull;
        full.then(out_of_space).flatten().unwrap_or(DeviceError::Io(e))
    }
}

impl From<serde_json::Error> for DeviceError {
    fn from(e: serde_json::Error) -> Self {
        DeviceError::Invalid(format!("malformed data: {e}"))
    }
}
