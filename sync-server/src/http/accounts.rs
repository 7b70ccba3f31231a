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
use crate::db::{AuditEntry, NewSession, RegisterOutcome};
use crate::error::{AppError, AppResult};
use crate::principal::{Principal, User};
use crate::second_factor;
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

/// What a sign-in or a registration presents.
struct Credentials {
    username: String,
    password: String,
    /// The authenticator app's code, for a user with two-factor sign-in on.
    totp: Option<String>,
}

/// Why a sign-in is refused.
enum Refusal {
    WrongPassword,
    /// The password was right; the user has a second factor and sent no code.
    CodeNeeded,
    WrongCode,
    /// A right code, but of a time step taken already.
    CodeSpent,
}

impl Refusal {
    /// 401; a refusal about the second factor names `totp` in `details.field`, so the console asks for it.
    fn answer(&self) -> AppError {
        let (message, field) = match self {
            Refusal::WrongPassword => ("wrong username or password", None),
            Refusal::CodeNeeded => ("enter the 6-digit code of your authenticator app", Some("totp")),
            Refusal::WrongCode => ("wrong code from the authenticator app", Some("totp")),
            Refusal::CodeSpent => ("this code was used already: wait for the next one", Some("totp")),
        };
        let details = field.map(|f| serde_json::json!({ "field": f }));
        protocol::ApiError { code: protocol::ErrorCode::Unauthorized, message: message.into(), details }.into()
    }
}

/// A checked sign-in: the user, and whether the session may only set up a second factor.
struct SignedIn {
    user: User,
    enrol_only: bool,
}

/// Checks a username and password, then the second factor of a user who has one; the same 401 whether the
/// user exists or not, after the same work. A wrong code counts as a wrong password; a missing one does not
/// (the console asks for it after the password). Too many failures for the name or from the address are
/// answered 429 with `Retry-After`, before any check.
async fn check_credentials(
    state: &AppState,
    action: &'static str,
    peer: Peer,
    credentials: Credentials,
) -> AppResult<SignedIn> {
    let Credentials { username, password, totp } = credentials;
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
    let require_for_admins = state.config.require_totp_for_admins;
    let checked = state
        .blocking(move |store| {
            let found = store.user_credentials(&name)?;
            let hash = found.as_ref().map(|(_, h)| h.as_str()).unwrap_or_else(|| auth::dummy_password_hash());
            let ok = auth::verify_password(&password, hash);
            let user = match found {
                Some((user, _)) if ok => user,
                _ => return Ok(Err(Refusal::WrongPassword)),
            };
            let factor = store.second_factor(user.id)?;
            if !factor.enabled {
                let enrol_only = require_for_admins && user.role == protocol::Role::Admin;
                return Ok(Ok(SignedIn { user, enrol_only }));
            }
            let Some(code) = totp else { return Ok(Err(Refusal::CodeNeeded)) };
            let secret = factor.secret.unwrap_or_default();
            let Some(step) = second_factor::step_now(&secret, &user.username, &code) else {
                return Ok(Err(Refusal::WrongCode));
            };
            if !store.take_second_factor_step(user.id, step)? {
                return Ok(Err(Refusal::CodeSpent));
            }
            Ok::<_, AppError>(Ok(SignedIn { user, enrol_only: false }))
        })
        .await;
    match checked {
        Ok(Ok(signed_in)) => {
            state.sign_in_guard.succeeded(&username, address);
            state.audit(entry("ok", Some(signed_in.user.role.to_string()))).await;
            Ok(signed_in)
        }
        // Not a guess: the console asks for the code after the password.
        Ok(Err(refusal @ Refusal::CodeNeeded)) => {
            state.sign_in_guard.abandoned(&username, address);
            Err(refusal.answer())
        }
        Ok(Err(refusal)) => {
            state.sign_in_guard.failed(&username, address, Instant::now());
            state.audit(entry("refused", None)).await;
            Err(refusal.answer())
        }
        Err(e) => {
            state.sign_in_guard.abandoned(&username, address);
            Err(e)
        }
    }
}

/// What a registration carries beside the contract's request (extension): the authenticator app's code, for a
/// user with two-factor sign-in on. Read from the same body, after the request itself, so that the request's
/// errors name their fields as the contract says.
#[derive(serde::Deserialize)]
struct SecondFactorCode {
    #[serde(default)]
    totp: Option<String>,
}

pub async fn register(State(state): State<AppState>, peer: Peer, body: Body) -> AppResult<Response> {
    let bytes = super::read_body(body, super::MAX_JSON_BODY).await?;
    let req: RegisterRequest = super::decode(&bytes)?;
    let SecondFactorCode { totp } = super::decode(&bytes)?;
    if req.device.name.trim().is_empty() {
        return Err(AppError::invalid("device.name", "the device needs a name"));
    }
    super::at_most("device.name", &req.device.name, 100)?;
    super::at_most("device.platform", &req.device.platform, 100)?;
    super::at_most("device.app_version", &req.device.app_version, 100)?;
    if req.device.public_key.as_deref().is_some_and(|k| !protocol::evidence::is_public_key(k)) {
        return Err(AppError::invalid("device.public_key", "an Ed25519 public key: base64 of 32 bytes"));
    }
    let credentials = Credentials { username: req.username, password: req.password, totp };
    let SignedIn { user, enrol_only } = check_credentials(&state, "device.register", peer, credentials).await?;
    if enrol_only {
        return Err(AppError::forbidden("set up two-factor sign-in in the console before registering a device"));
    }
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
    let credentials = Credentials { username: req.username, password: req.password, totp: req.totp };
    let SignedIn { user, enrol_only } = check_credentials(&state, "sign_in", peer, credentials).await?;
    let token = auth::new_token("tjbs");
    let expires_at = Utc::now() + Duration::hours(state.config.session_hours);
    let session = NewSession { user_id: user.id, token_hash: auth::token_hash(&token), expires_at, enrol_only };
    state.blocking(move |store| store.create_session(&session)).await?;
    Ok(created(SessionResponse {
        token,
        user: user.info(),
        expires_at: Some(state.config.zone.at(expires_at)),
        enrol_second_factor: enrol_only,
    }))
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
