//! The admin's devices: the list, revocation, and the health of sync.

use axum::Json;
use axum::extract::State;

use super::extract::Path;
use chrono::Utc;
use serde::Serialize;
use uuid::Uuid;

use crate::db::DeviceView;
use crate::error::{AppError, AppResult};
use crate::policy::{Target, Verb};
use crate::principal::Principal;
use crate::state::AppState;

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct DeviceList {
    devices: Vec<DeviceView>,
}

pub async fn list_devices(State(state): State<AppState>, principal: Principal) -> AppResult<Json<DeviceList>> {
    principal.may(Verb::ListDevices, &Target::Server)?;
    let devices = state.blocking(|s| s.devices()).await?;
    Ok(Json(DeviceList { devices }))
}

pub async fn revoke_device(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<DeviceView>> {
    let id = Uuid::parse_str(&id).map_err(|_| AppError::not_found("no such device"))?;
    let known = state.blocking(|s| s.devices()).await?.iter().any(|d| d.id == id);
    if !known {
        return Err(AppError::not_found("no such device"));
    }
    principal.may(Verb::RevokeDevice, &Target::Server)?;
    let device = state
        .blocking(move |s| s.revoke_device(id, Utc::now()))
        .await?
        .ok_or_else(|| AppError::not_found("no such device"))?;
    state.audit(principal.audit("device.revoke", format!("{} ({})", device.id, device.user.username))).await;
    Ok(Json(device))
}

/// `GET /api/v1/sync-health` (extension, admin).
pub async fn sync_health(
    State(state): State<AppState>,
    principal: Principal,
) -> AppResult<Json<crate::db::SyncHealth>> {
    principal.may(Verb::SeeSyncHealth, &Target::Server)?;
    Ok(Json(state.blocking(|s| s.sync_health(Utc::now())).await?))
}
