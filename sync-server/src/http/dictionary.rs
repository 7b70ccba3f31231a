//! The dictionary (字典): read by every signed-in user, imported by the admin as a new version.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::policy::{Target, Verb};
use crate::principal::Principal;
use crate::state::AppState;

/// `GET /api/v1/dictionary`: the current dictionary (extension).
pub async fn get_dictionary(State(state): State<AppState>, _p: Principal) -> AppResult<Json<protocol::Dictionary>> {
    state.blocking(|s| s.dictionary()).await?.map(Json).ok_or_else(|| AppError::not_found("no dictionary yet"))
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Imported {
    version: i64,
}

/// `POST /api/v1/dictionary`: imports a new version and pushes it to devices (extension, admin).
pub async fn import_dictionary(
    State(state): State<AppState>,
    principal: Principal,
    body: axum::body::Body,
) -> AppResult<Json<Imported>> {
    let dict: protocol::Dictionary = super::read_json(body).await?;
    dict.validate()?;
    principal.may(Verb::ImportDictionary, &Target::Server)?;
    let version = state.blocking(move |s| s.import_dictionary(dict, Utc::now())).await?;
    Ok(Json(Imported { version }))
}
