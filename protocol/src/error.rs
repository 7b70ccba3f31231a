//! The error body every non-2xx answer carries, and the codes of the contract.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Error codes of protocol.md, plus the op-level codes used in sync results.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::EnumIter,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    InvalidTransition,
    PayloadTooLarge,
    UnsupportedMediaType,
    Invalid,
    HashMismatch,
    BadRequest,
    MethodNotAllowed,
    RateLimited,
    Unavailable,
    /// Op-level (`retry`): photos the op names are not complete on the server.
    MissingBlobs,
    /// Op-level (`retry`): an earlier op about the same entity was not applied.
    DependsOn,
    /// Op-level (`retry`): the server is busy; send again after a pause.
    Busy,
    /// Anything the server did not expect; details are in its log, never in the answer.
    Internal,
}

impl ErrorCode {
    /// The HTTP status the contract gives this code when it is the answer of a whole request.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict | ErrorCode::InvalidTransition => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::Invalid | ErrorCode::HashMismatch => 422,
            ErrorCode::BadRequest => 400,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::RateLimited => 429,
            ErrorCode::Unavailable | ErrorCode::Busy => 503,
            ErrorCode::MissingBlobs | ErrorCode::DependsOn => 409,
            ErrorCode::Internal => 500,
        }
    }

    /// The wire name (serde's).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// `{"code", "message", "details"}`: the inside of the error body, also used for op results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), details: None }
    }

    /// A 422 `invalid` naming the offending field in `details.field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            code: ErrorCode::Invalid,
            message: message.into(),
            details: Some(serde_json::json!({ "field": field.into() })),
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// `details.field`, when the error names one.
    pub fn field(&self) -> Option<&str> {
        self.details.as_ref()?.get("field")?.as_str()
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::invalid(e.field, e.message)
    }
}

/// The whole error body: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ErrorBody {
    pub error: ApiError,
}

/// A validation failure of one field; becomes `invalid` with `details.field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}
