//! `/api/v1/integrations` (admin): tokens for other systems (a 12345 hotline system, an Open311 client). A token
//! acts as the user the admin names (a dispatcher account for a hotline system), never an admin; it is
//! shown once, when made, and works as a bearer token and as Open311's `api_key` until revoked.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use protocol::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::extract::Path;
use super::read_json;
use crate::auth::{new_token, token_hash};
use crate::db::IntegrationToken;
use crate::error::{AppError, AppResult};
use crate::policy::{Target, Verb};
use crate::principal::Principal;
use crate::state::AppState;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct NewIntegration {
    /// What the token is for ("12345 热线").
    pub name: String,
    /// The user it acts as; not an admin.
    pub username: String,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct IssuedToken {
    #[serde(flatten)]
    token: IntegrationToken,
    /// The token itself: shown this once, never again.
    secret: String,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct IntegrationList {
    tokens: Vec<IntegrationToken>,
}

/// `POST /api/v1/integrations` → 201 with the token, shown once.
pub async fn add(State(state): State<AppState>, principal: Principal, body: Body) -> AppResult<Response> {
    principal.may(Verb::ManageIntegrations, &Target::Server)?;
    let input: NewIntegration = read_json(body).await?;
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("name", "a token needs a name of at most 100 characters"));
    }
    let username = input.username.trim().to_owned();
    let users = state.blocking(|s| s.users()).await?;
    let user = users
        .iter()
        .find(|u| u.username == username)
        .ok_or_else(|| AppError::invalid("username", format!("no user `{username}`")))?;
    if user.role == Role::Admin {
        return Err(AppError::invalid("username", "a token never acts as an admin: name a dispatcher's account"));
    }
    if !user.active {
        return Err(AppError::invalid("username", format!("`{username}` is deactivated")));
    }
    let secret = new_token("tjb_int");
    let hash = token_hash(&secret);
    let by = principal.user.username.clone();
    let token = state
        .blocking(move |s| s.add_integration_token(&name, &username, &hash, &by, Utc::now()))
        .await?
        .ok_or_else(|| AppError::invalid("username", "no such user"))?;
    state.audit(principal.audit("integration.add", token.name.clone())).await;
    Ok((StatusCode::CREATED, Json(IssuedToken { token, secret })).into_response())
}

/// `GET /api/v1/integrations`: the tokens in force first.
pub async fn list(State(state): State<AppState>, principal: Principal) -> AppResult<Json<IntegrationList>> {
    principal.may(Verb::ManageIntegrations, &Target::Server)?;
    Ok(Json(IntegrationList { tokens: state.blocking(|s| s.integration_tokens()).await? }))
}

/// `DELETE /api/v1/integrations/{id}` → 204: the token stops working at once.
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    principal.may(Verb::ManageIntegrations, &Target::Server)?;
    let id = Uuid::parse_str(&id).map_err(|_| AppError::not_found("no such token"))?;
    if !state.blocking(move |s| s.revoke_integration_token(id, Utc::now())).await? {
        return Err(AppError::not_found("no such token in force"));
    }
    state.audit(principal.audit("integration.revoke", id.to_string())).await;
    Ok(StatusCode::NO_CONTENT)
}
