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

/// Shortest password accepted for a new user or a changed password.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// The password policy for a password being set: at least 10 characters and not easy to guess — zxcvbn's
/// estimate (its lists of common passwords, English words and names, keyboard and date patterns, and the
/// user's own name) must be 3 of 4 or better. Passwords already set are not checked again.
pub fn check_password_policy(password: &str, user_inputs: &[&str]) -> Result<(), protocol::FieldError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(protocol::FieldError::new("password", "a password has at least 10 characters"));
    }
    let estimate = zxcvbn::zxcvbn(password, user_inputs);
    if (estimate.score() as u8) < 3 {
        return Err(protocol::FieldError::new(
            "password",
            "this password is too easy to guess (a common password, a word, a name or a pattern): add words or characters",
        ));
    }
    Ok(())
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

/// What an enrol-only session may reach (paths below `/api/v1`).
const ENROL_ONLY_PATHS: &[&str] = &["/me", "/me/totp", "/me/totp/confirm", "/sessions/current"];

impl FromRequestParts<AppState> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let hash = token_hash(bearer(&parts.headers).ok_or_else(AppError::unauthorized)?);
        let address = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|axum::extract::ConnectInfo(a)| a.ip());
        let mut principal = state
            .blocking(move |store| store.principal_by_token(&hash, chrono::Utc::now()))
            .await?
            .ok_or_else(AppError::unauthorized)?;
        principal.address = address;
        // A session that may only set up a second factor reaches only that, and signing out.
        // The API router is nested under /api/v1, which the path seen here has lost; tests may call it bare.
        let path = parts.uri.path();
        if principal.enrol_only && !ENROL_ONLY_PATHS.contains(&path.strip_prefix("/api/v1").unwrap_or(path)) {
            return Err(protocol::ApiError {
                code: protocol::ErrorCode::Forbidden,
                message: "set up two-factor sign-in first (this server requires it of admins)".into(),
                details: Some(serde_json::json!({"field": "totp"})),
            }
            .into());
        }
        Ok(principal)
    }
}

#[cfg(test)]
mod policy_tests {
    use super::*;

    #[test]
    fn passwords_are_long_and_hard_to_guess() {
        for weak in ["demo1234", "password123", "1234567890", "qwertyuiop", "zhangwei1990", "inspector1!!"] {
            assert!(check_password_policy(weak, &["inspector1", "zhangwei"]).is_err(), "{weak}");
        }
        for strong in ["铁脚板-巡查-2026-秋", "correct horse battery staple", "Kq7#mV9!xP2w"] {
            assert!(check_password_policy(strong, &["inspector1"]).is_ok(), "{strong}");
        }
    }
}
