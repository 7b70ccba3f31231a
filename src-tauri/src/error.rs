//! Errors as the front end receives them: `{code, message}`.

use serde::Serialize;

#[derive(Debug, Clone, thiserror::Error, Serialize, specta::Type)]
#[error("{message}")]
pub struct CommandError {
    pub code: String,
    pub message: String,
}

impl From<device::DeviceError> for CommandError {
    fn from(e: device::DeviceError) -> Self {
        CommandError { code: e.code().to_owned(), message: e.to_string() }
    }
}
