//! Decoding JSON with the offending field named, as `details.field` of an `invalid` answer wants.
//!
//! Tracking the path costs about a third more than plain decoding, so a body is decoded plainly first and
//! only a body that fails is decoded again with the path tracked, to name the field.

use serde::de::DeserializeOwned;

use crate::FieldError;

/// Why a JSON body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not JSON at all (the contract's `bad_request`, 400).
    Syntax(String),
    /// JSON of the wrong shape (the contract's `invalid`, 422, naming the field).
    Field(FieldError),
}

/// Decodes a request body.
pub fn decode_slice<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, DecodeError> {
    if let Ok(v) = serde_json::from_slice::<T>(bytes) {
        return Ok(v);
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let inner = e.inner();
            if inner.is_syntax() || inner.is_eof() || inner.is_io() {
                Err(DecodeError::Syntax(inner.to_string()))
            } else if let Err(syntax) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                // A shape error can surface before the parser reaches broken syntax further on.
                Err(DecodeError::Syntax(syntax.to_string()))
            } else {
                Err(DecodeError::Field(field_error(e.path().to_string(), inner)))
            }
        }
    }
}

/// Decodes a JSON text already known to be well formed (a part of a parsed request), naming the field at
/// fault (`location.lat`) as `decode_slice` does.
pub fn decode_str<T: DeserializeOwned>(text: &str) -> Result<T, FieldError> {
    if let Ok(v) = serde_json::from_str::<T>(text) {
        return Ok(v);
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, T>(de)
        .map_err(|e| field_error(e.path().to_string(), &strip_position(&e.inner().to_string())))
}

fn field_error(path: String, inner: &impl std::fmt::Display) -> FieldError {
    let message = inner.to_string();
    let path = if path == "." { String::new() } else { path };
    // serde names a missing field in the message and points the path at its parent.
    let field = match missing_field(&message) {
        Some(name) if path.is_empty() => name.to_owned(),
        Some(name) => format!("{path}.{name}"),
        None if path.is_empty() => "body".to_owned(),
        None => path,
    };
    FieldError::new(field, strip_position(&message))
}

fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// serde_json appends " at line 1 column 42", which means nothing to the person reading the answer.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}
