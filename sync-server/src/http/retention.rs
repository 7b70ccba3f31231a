//! `POST /api/v1/retention/run` (extension, admin): runs the retention rule now, as the nightly run would.

use axum::Json;
use axum::extract::State;
use chrono::Utc;

use crate::error::{AppError, AppResult};
use crate::policy::{Target, Verb};
use crate::principal::Principal;
use crate::retention::{Purged, purge_photos};
use crate::state::AppState;

pub async fn run(State(state): State<AppState>, principal: Principal) -> AppResult<Json<Purged>> {
    principal.may(Verb::RunRetention, &Target::Server)?;
    let Some(days) = state.config.purge_photos_after_days else {
        return Err(AppError::conflict("retention is off: start the server with --purge-photos-after-days N"));
    };
    let entry = principal.audit("photos.purge", format!("{days} days"));
    Ok(Json(purge_photos(&state, days, Utc::now(), Some(entry)).await?))
}
