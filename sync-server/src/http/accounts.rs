//! Health, device registration and console sessions.

use axum::Json;
use axum::body::Body;
use std::net::SocketAddr;
use std::time::Instant;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, Utc};
use protocol::{Health, RegisterRequest, RegisterResponse, SessionRequest, SessionResponse};

use super::{created, read_json};
use crate::auth;
use crate::db::{AuditEntry, RegisterOutcome};
use crate::error::{AppError, AppResult};
use crate::principal::{Principal, User};
use crate::state::AppState;

pub async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        protocol: protocol::PROTOCOL_VERSION,
        server_time: state.config.zone.now(),
        max_blob_bytes: state.config.max_blob_bytes,
    })
}

/// The peer's address, when the server was started with it (tests that call the router directly have none).
pub type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

/// Checks a username and password; the same 401 whether the user exists or not, after the same work. Too many
/// failures for the name or from the address are answered 429 with `Retry-After`, before any check.
async fn check_credentials(
    state: &AppState,
    action: &'static str,
    peer: Peer,
    username: String,
    password: String,
) -> AppResult<User> {
    let address = peer.map(|Extension(ConnectInfo(a))| a.ip());
    let entry = |outcome: &'static str, role: Option<String>| AuditEntry {
        actor: Some(username.chars().take(64).collect()),
        role,
        action,
        target: None,
        detail: None,
        address: address.map(|a| a.to_string()),
        outcome,
    };
    // A name longer than any username is no user's: the same answer, and nothing kept of it.
    if username.chars().count() > 64 {
        return Err(AppError::api(protocol::ErrorCode::Unauthorized, "wrong username or password"));
    }
    // Throttled requests are not logged one by one (they cost the sender nothing): the failures that led to
    // the wait are.
    if let Err(wait) = state.sign_in_guard.admit(&username, address, Instant::now()) {
        let seconds = wait.as_secs().max(1);
        return Err(AppError::api(
            protocol::ErrorCode::RateLimited,
            format!("too many wrong passwords: try again in {seconds} s"),
        )
        .with_header("retry-after", seconds));
    }
    let name = username.clone();
    let checked = state
        .blocking(move |store| {
            let found = store.user_credentials(&name)?;
            let hash = found.as_ref().map(|(_, h)| h.as_str()).unwrap_or_else(|| auth::dummy_password_hash());
            let ok = auth::verify_password(&password, hash);
            match found {
                Some((user, _)) if ok => Ok(user),
                _ => Err(AppError::api(protocol::ErrorCode::Unauthorized, "wrong username or password")),
            }
        })
        .await;
    match &checked {
        Ok(user) => {
            state.sign_in_guard.succeeded(&username, address);
            state.audit(entry("ok", Some(user.role.to_string()))).await;
        }
        Err(e) if e.code() == protocol::ErrorCode::Unauthorized => {
            state.sign_in_guard.failed(&username, address, Instant::now());
            state.audit(entry("refused", None)).await;
        }
        Err(_) => state.sign_in_guard.abandoned(&username, address),
    }
    checked
}

pub async fn register(State(state): State<AppState>, peer: Peer, body: Body) -> AppResult<Response> {
    let req: RegisterRequest = read_json(body).await?;
    if req.device.name.trim().is_empty() {
        return Err(AppError::invalid("device.name", "the device needs a name"));
    }
    super::at_most("device.name", &req.device.name, 100)?;
    super::at_most("device.platform", &req.device.platform, 100)?;
    super::at_most("device.app_version", &req.device.app_version, 100)?;
    let user = check_credentials(&state, "device.register", peer, req.username, req.password).await?;
    let token = auth::new_token("tjbd");
    let hash = auth::token_hash(&token);
    let device = req.device;
    let u = user.clone();
    let outcome = state.blocking(move |store| store.register_device(&u, &device, &hash, Utc::now())).await?;
    match outcome {
        RegisterOutcome::Registered => {
            Ok(created(RegisterResponse { token, user: user.info(), server_time: state.config.zone.now() }))
        }
        RegisterOutcome::OtherUser => Err(AppError::conflict("this device is registered to another user")),
        RegisterOutcome::Revoked => Err(AppError::forbidden("this device was revoked by an administrator")),
    }
}

pub async fn sign_in(State(state): State<AppState>, peer: Peer, body: Body) -> AppResult<Response> {
    let req: SessionRequest = read_json(body).await?;
    let user = check_credentials(&state, "sign_in", peer, req.username, req.password).await?;
    let token = auth::new_token("tjbs");
    let hash = auth::token_hash(&token);
    let expires = Utc::now() + Duration::hours(state.config.session_hours);
    let id = user.id;
    state.blocking(move |store| store.create_session(id, &hash, expires)).await?;
    Ok(created(SessionResponse { token, user: user.info(), expires_at: Some(state.config.zone.at(expires)) }))
}

/// Signs the console session out (extension: `DELETE /api/v1/sessions/current`).
pub async fn sign_out(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> AppResult<StatusCode> {
    if principal.device_id.is_some() {
        return Err(AppError::forbidden("a device token is not a console session"));
    }
    let hash = auth::token_hash(auth::bearer(&headers).unwrap_or_default());
    state.blocking(move |store| store.end_session(&hash)).await?;
    Ok(StatusCode::NO_CONTENT)
}
