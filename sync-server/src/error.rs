//! The server's one error type. It maps to the contract's error body and never leaks internals.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use protocol::{ApiError, ErrorBody, ErrorCode, FieldError};

use crate::db::StoreError;

/// An answer of the contract (code, message, details) and any headers it carries.
#[derive(Debug)]
pub struct ApiFailure {
    pub error: ApiError,
    pub headers: HeaderMap,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{}: {}", .0.error.code.as_str(), .0.error.message)]
    Api(Box<ApiFailure>),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn api(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError::new(code, message).into()
    }
    pub fn unauthorized() -> Self {
        Self::api(ErrorCode::Unauthorized, "missing, wrong or revoked token")
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::api(ErrorCode::Forbidden, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::api(ErrorCode::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::api(ErrorCode::Conflict, message)
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::api(ErrorCode::BadRequest, message)
    }
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::invalid(field, message).into()
    }
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::api(ErrorCode::PayloadTooLarge, message)
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::api(ErrorCode::UnsupportedMediaType, message)
    }
    pub fn invalid_transition(message: impl Into<String>) -> Self {
        Self::api(ErrorCode::InvalidTransition, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        AppError::Internal(message.into())
    }

    /// Adds a response header (e.g. `Upload-Offset` on a 409 of a resumed upload).
    pub fn with_header(mut self, name: &'static str, value: impl ToString) -> Self {
        if let AppError::Api(failure) = &mut self
            && let Ok(v) = HeaderValue::from_str(&value.to_string())
        {
            failure.headers.insert(name, v);
        }
        self
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Api(failure) => failure.error.code,
            AppError::Store(e) => e.to_api().map_or(ErrorCode::Internal, |a| a.code),
            _ => ErrorCode::Internal,
        }
    }
}

impl From<ApiError> for AppError {
    fn from(error: ApiError) -> Self {
        AppError::Api(Box::new(ApiFailure { error, headers: HeaderMap::new() }))
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<protocol::json::DecodeError> for AppError {
    fn from(e: protocol::json::DecodeError) -> Self {
        match e {
            protocol::json::DecodeError::Syntax(m) => AppError::bad_request(format!("the body is not valid JSON: {m}")),
            protocol::json::DecodeError::Field(f) => f.into(),
        }
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Internal(format!("background task failed: {e}"))
    }
}

impl AppError {
    /// The contract's error this failure is answered with, and its headers; a failure of the server itself is
    /// logged here and named only as such.
    pub fn into_api(self) -> (ApiError, HeaderMap) {
        match self {
            AppError::Api(failure) => (failure.error, failure.headers),
            AppError::Store(e) if let Some(error) = e.to_api() => (error, HeaderMap::new()),
            AppError::Io(e) if e.kind() == std::io::ErrorKind::StorageFull => {
                tracing::error!(error = %e, "the disk is full");
                (ApiError::new(ErrorCode::Unavailable, crate::db::DISK_FULL), HeaderMap::new())
            }
            other => {
                tracing::error!(error = %other, "request failed");
                (ApiError::new(ErrorCode::Internal, "internal server error"), HeaderMap::new())
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (error, mut headers) = self.into_api();
        if error.code == ErrorCode::Unavailable && !headers.contains_key("retry-after") {
            // Storage that is full or out of reach: a client tries again in a minute, not at once.
            headers.insert("retry-after", HeaderValue::from_static("60"));
        }
        let status = StatusCode::from_u16(error.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(ErrorBody { error })).into_response();
        response.headers_mut().extend(headers);
        response
    }
}
