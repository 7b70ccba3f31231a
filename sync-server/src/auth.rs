//! Passwords, tokens, and the extractor that finds the signed-in principal of a request.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rand::RngCore;

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;

pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(|e| AppError::internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("password hashing failed: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash that takes as long to check as a real one, so that an unknown user answers as slowly as a
/// wrong password.
pub fn dummy_password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rng().fill_bytes(&mut b);
    b
}

/// A new bearer token; only its hash is ever stored.
pub fn new_token(prefix: &str) -> String {
    format!("{prefix}_{}", hex::encode(random_bytes::<32>()))
}

/// Tokens carry 256 random bits, so a plain SHA-256 is a safe stored form.
pub fn token_hash(token: &str) -> String {
    protocol::digest::sha256_hex(token.as_bytes())
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let hash = token_hash(bearer(&parts.headers).ok_or_else(AppError::unauthorized)?);
        state
            .blocking(move |store| store.principal_by_token(&hash, chrono::Utc::now()))
            .await?
            .ok_or_else(AppError::unauthorized)
    }
}
