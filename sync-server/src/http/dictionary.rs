//! The dictionary (字典): read by every signed-in user, imported by the admin as a new version; its grids
//! (单元网格) imported from GeoJSON.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::grids::{GridsImported, MAX_GRIDS_BYTES};
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
    // A dictionary with a city's grids is megabytes, far beyond what other JSON bodies may be.
    let dict: protocol::Dictionary = super::decode(&super::read_body(body, MAX_GRIDS_BYTES).await?)?;
    dict.validate()?;
    principal.may(Verb::ImportDictionary, &Target::Server)?;
    let version = state.blocking(move |s| s.import_dictionary(dict, Utc::now())).await?;
    state.audit(principal.audit("dictionary.import", format!("version {version}"))).await;
    Ok(Json(Imported { version }))
}

#[derive(Debug, serde::Deserialize)]
pub struct GridsQuery {
    dry_run: Option<bool>,
}

/// `PUT /api/v1/grids` (admin): a GeoJSON FeatureCollection of the grids, which replace the dictionary's in a
/// new version; every finding and case is placed again by them. 422 names the refused feature in
/// `details.feature` (its index in `features`) and `details.code`. `?dry_run=true` checks and stores nothing
/// (the console's preview).
pub async fn import_grids(
    State(state): State<AppState>,
    principal: Principal,
    super::extract::Query(q): super::extract::Query<GridsQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> AppResult<Json<GridsImported>> {
    principal.may(Verb::ImportDictionary, &Target::Server)?;
    if let Some(length) = headers.get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok()) {
        crate::grids::check_size(length)?;
    }
    let bytes = super::read_body(body, MAX_GRIDS_BYTES).await?;
    let text =
        String::from_utf8(bytes.to_vec()).map_err(|_| AppError::bad_request("the grid file is not UTF-8 text"))?;
    let dry_run = q.dry_run.unwrap_or(false);
    let imported = state.blocking(move |s| crate::grids::import(s, &text, dry_run, Utc::now())).await?;
    if !dry_run {
        state.audit(principal.audit("grids.import", format!("{} grids", imported.grids))).await;
    }
    Ok(Json(imported))
}
