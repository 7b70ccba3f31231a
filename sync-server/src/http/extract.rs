//! Extractors that turn a request the handler cannot read into the contract's error body: axum's own
//! `Query` and `Path` answer a bad query string or path segment with plain text, which a client of this
//! API cannot parse. JSON bodies are read inside the handlers (`read_json`), after the checks that come
//! first (who may ask, whether the record exists), so that the answer to a bad body on a missing record is
//! still 404.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// The query string, decoded into `T`; a query that does not decode is 400 with the contract's body.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(q)) => Ok(Query(q)),
            Err(e) => Err(AppError::bad_request(format!("the query string cannot be read: {}", e.body_text()))),
        }
    }
}

/// The path's parameters, decoded into `T`; a segment that does not decode (not UTF-8 once
/// percent-decoded) is 400 with the contract's body.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(p)) => Ok(Path(p)),
            Err(e) => Err(AppError::bad_request(format!("the path cannot be read: {}", e.body_text()))),
        }
    }
}
