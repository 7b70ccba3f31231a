//! Two-factor sign-in (extension): a console user sets up an authenticator app (`/me/totp`), confirms it with
//! a first code, and from then on signs in with a code as well as the password. An admin resets it for a user
//! who lost the phone. With `--require-totp-for-admins`, an admin without one gets a session that may only
//! set it up.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use super::extract::Path;
use super::read_json;
use crate::db::SecondFactor;
use crate::error::{AppError, AppResult};
use crate::policy::{Target, Verb};
use crate::principal::Principal;
use crate::second_factor;
use crate::state::AppState;

/// Whether the caller signs in with a second factor, and whether the server requires one of the caller.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TotpStatus {
    enabled: bool,
    required: bool,
}

/// A secret to enter in an authenticator app: typed in as `secret`, or read from `otpauth_url` as a QR code.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TotpEnrolment {
    secret: String,
    otpauth_url: String,
}

/// A code of the authenticator app.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct TotpCode {
    code: String,
}

/// Console sessions only: a phone's token does not set up the console's sign-in.
fn console_user(principal: &Principal) -> AppResult<()> {
    if principal.device_id.is_some() {
        return Err(AppError::forbidden("two-factor sign-in is set up in the console"));
    }
    Ok(())
}

fn required_of(state: &AppState, principal: &Principal) -> bool {
    state.config.require_totp_for_admins && principal.user.role == protocol::Role::Admin
}

/// `GET /api/v1/me/totp`.
pub async fn status(State(state): State<AppState>, principal: Principal) -> AppResult<Json<TotpStatus>> {
    console_user(&principal)?;
    let id = principal.user.id;
    let factor = state.blocking(move |s| s.second_factor(id)).await?;
    Ok(Json(TotpStatus { enabled: factor.enabled, required: required_of(&state, &principal) }))
}

/// `POST /api/v1/me/totp`: a new secret, waiting for its first code. A user who has a second factor turns it
/// off first (409), so that a stolen session cannot swap the phone.
pub async fn begin(
    State(state): State<AppState>,
    principal: Principal,
) -> AppResult<(StatusCode, Json<TotpEnrolment>)> {
    console_user(&principal)?;
    let id = principal.user.id;
    let secret = second_factor::new_secret();
    let otpauth_url = second_factor::otpauth_url(&secret, &principal.user.username)
        .ok_or_else(|| AppError::internal("no authenticator link for this username"))?;
    let pending = secret.clone();
    let began = state.blocking(move |s| s.begin_second_factor(id, &pending)).await?;
    if !began {
        return Err(AppError::conflict("two-factor sign-in is on already: turn it off first"));
    }
    Ok((StatusCode::CREATED, Json(TotpEnrolment { secret, otpauth_url })))
}

/// `POST /api/v1/me/totp/confirm`: the first code puts the secret in force (and frees an enrol-only session).
pub async fn confirm(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Json<TotpStatus>> {
    console_user(&principal)?;
    let token_hash = crate::auth::token_hash(crate::auth::bearer(&headers).unwrap_or_default());
    let TotpCode { code } = read_json(body).await?;
    let (id, username) = (principal.user.id, principal.user.username.clone());
    state
        .blocking(move |s| {
            let factor = s.second_factor(id)?;
            let Some(secret) = factor.secret.filter(|_| !factor.enabled) else {
                return Err(AppError::conflict("no set-up under way: begin with POST /me/totp"));
            };
            let step = second_factor::step_now(&secret, &username, &code)
                .ok_or_else(|| AppError::invalid("code", "wrong code: check the phone's clock and try the next one"))?;
            s.set_second_factor(id, &SecondFactor { secret: Some(secret), enabled: true })?;
            s.take_second_factor_step(id, step)?;
            s.second_factor_confirmed(id, &token_hash)?;
            Ok(())
        })
        .await?;
    state.audit(principal.audit("totp.enable", principal.user.username.clone())).await;
    Ok(Json(TotpStatus { enabled: true, required: required_of(&state, &principal) }))
}

/// `DELETE /api/v1/me/totp` with a current code: turns it off, unless the server requires it of the caller.
pub async fn turn_off(State(state): State<AppState>, principal: Principal, body: Body) -> AppResult<StatusCode> {
    console_user(&principal)?;
    if required_of(&state, &principal) {
        return Err(AppError::forbidden("this server requires two-factor sign-in of admins"));
    }
    let TotpCode { code } = read_json(body).await?;
    let (id, username) = (principal.user.id, principal.user.username.clone());
    state
        .blocking(move |s| {
            let factor = s.second_factor(id)?;
            let secret = factor
                .secret
                .filter(|_| factor.enabled)
                .ok_or_else(|| AppError::not_found("two-factor sign-in is off"))?;
            let step = second_factor::step_now(&secret, &username, &code)
                .ok_or_else(|| AppError::invalid("code", "wrong code from the authenticator app"))?;
            if !s.take_second_factor_step(id, step)? {
                return Err(AppError::invalid("code", "this code was used already: wait for the next one"));
            }
            s.set_second_factor(id, &SecondFactor { secret: None, enabled: false })?;
            Ok(())
        })
        .await?;
    state.audit(principal.audit("totp.disable", principal.user.username.clone())).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/users/{username}/totp` (admin): removes a user's second factor, for a user who lost the
/// phone; the user sets it up again at the next sign-in.
pub async fn reset(
    State(state): State<AppState>,
    principal: Principal,
    Path(username): Path<String>,
) -> AppResult<StatusCode> {
    principal.may(Verb::ChangeUser, &Target::Server)?;
    let name = username.clone();
    let found = state
        .blocking(move |s| {
            let Some((user, _)) = s.user_credentials(&name)? else { return Ok(false) };
            s.set_second_factor(user.id, &SecondFactor { secret: None, enabled: false })?;
            Ok::<_, AppError>(true)
        })
        .await?;
    if !found {
        return Err(AppError::not_found("no such user"));
    }
    state.audit(principal.audit("totp.reset", username)).await;
    Ok(StatusCode::NO_CONTENT)
}
