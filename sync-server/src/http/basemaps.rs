//! `/api/v1/basemaps`: the offline base maps phones download (MBTiles), and the admin's uploads of them.

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use http_body_util::BodyExt;
use protocol::{Basemap, BasemapList, Datum, is_basemap_name};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use tower::ServiceExt;

use super::extract::{Path, Query};
use crate::basemaps::{Received, describe, inspect};
use crate::error::{AppError, AppResult};
use crate::policy::{Target, Verb};
use crate::principal::Principal;
use crate::state::AppState;

/// `GET /api/v1/basemaps` (any signed-in user or device).
pub async fn list(State(state): State<AppState>, _p: Principal) -> AppResult<Json<BasemapList>> {
    let basemaps = state.blocking(|s| s.basemaps()).await?;
    Ok(Json(BasemapList { basemaps }))
}

fn checked_name(name: &str) -> AppResult<()> {
    if is_basemap_name(name) {
        Ok(())
    } else {
        Err(AppError::invalid("name", "a base map's name is 1 to 64 of a-z, 0-9 and -"))
    }
}

/// `GET /api/v1/basemaps/{name}`: the file; `Range: bytes=n-` answers 206 from byte n, so a phone resumes
/// a broken download.
pub async fn download(
    State(state): State<AppState>,
    _p: Principal,
    Path(name): Path<String>,
    request: Request,
) -> AppResult<Response> {
    let n = name.clone();
    if !is_basemap_name(&name) || state.blocking(move |s| s.basemap(&n)).await?.is_none() {
        return Err(AppError::not_found(format!("no base map `{name}`")));
    }
    let file = tower_http::services::ServeFile::new_with_mime(
        state.basemaps.path(&name),
        &"application/vnd.sqlite3".parse().expect("a valid media type"),
    );
    let served = file.oneshot(request).await.map_err(|e| AppError::internal(format!("base map file: {e}")))?;
    if served.status() == StatusCode::NOT_FOUND {
        // Deleted between the lookup and the read.
        return Err(AppError::not_found(format!("no base map `{name}`")));
    }
    Ok(served.map(Body::new))
}

/// `GET /api/v1/basemaps/{name}/tiles/{z}/{x}/{y}` (extension, any signed-in user): one tile of a package, rows
/// counted from the north as web maps count (`y` may end in an extension); 404 where there is none. The
/// console draws the same base map as the phones with it.
pub async fn tile(
    State(state): State<AppState>,
    _p: Principal,
    Path((name, z, x, y)): Path<(String, u8, u32, String)>,
) -> AppResult<Response> {
    let y: u32 = y
        .split('.')
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AppError::bad_request("the tile row is not a number"))?;
    let st = state.clone();
    let found = tokio::task::spawn_blocking(move || st.basemaps.tile(&name, z, x, y))
        .await?
        .map_err(|e| AppError::internal(format!("base map tile: {e}")))?;
    let tile = found.ok_or_else(|| AppError::not_found("no such tile"))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, tile.content_type),
            (axum::http::header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        tile.bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    datum: Option<String>,
}

/// `PUT /api/v1/basemaps/{name}[?datum=wgs84|gcj02]` (admin): an MBTiles file → 201, or 200 when it
/// replaces one; a file that is not a readable raster MBTiles → 422, nothing kept.
pub async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    Query(q): Query<UploadQuery>,
    body: Body,
) -> AppResult<Response> {
    principal.may(Verb::ManageBasemaps, &Target::Server)?;
    checked_name(&name)?;
    let datum = match q.datum.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => Datum::Wgs84,
        Some(d) => Datum::parse(d).ok_or_else(|| AppError::invalid("datum", "datum is wgs84 or gcj02"))?,
    };
    // One upload at a time: the file and its row change together.
    let _one = state.basemap_lock.lock().await;
    let received = receive(&state, body).await?;
    let path = received.path.clone();
    let kept = async {
        let at = path.clone();
        let inspected = tokio::task::spawn_blocking(move || inspect(&at))
            .await?
            .map_err(|reason| AppError::invalid("file", reason))?;
        let basemap = describe(&name, datum, inspected, &received, Utc::now());
        state.basemaps.install(&received, &name)?;
        let row = basemap.clone();
        let created = state.blocking(move |s| s.save_basemap(&row)).await?;
        Ok::<_, AppError>((created, basemap))
    }
    .await;
    let (created, basemap) = kept.inspect_err(|_| {
        let _ = std::fs::remove_file(&path);
    })?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let mut entry = principal.audit("basemap.upload", basemap.name.clone());
    entry.detail = Some(format!("{} bytes, sha256 {}", basemap.bytes, basemap.sha256));
    state.audit(entry).await;
    Ok((status, Json::<Basemap>(basemap)).into_response())
}

/// Streams the body to a temporary file of the package directory, hashing it, and flushes it.
async fn receive(state: &AppState, body: Body) -> AppResult<Received> {
    let path = state.basemaps.incoming_path();
    let limit = state.config.max_basemap_bytes;
    let written = async {
        let mut file = tokio::fs::File::create(&path).await?;
        let mut hash = ring::digest::Context::new(&ring::digest::SHA256);
        let mut bytes = 0u64;
        let mut body = body;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| AppError::bad_request(format!("the body could not be read: {e}")))?;
            let Ok(data) = frame.into_data() else { continue };
            bytes += data.len() as u64;
            if bytes > limit {
                return Err(AppError::too_large(format!("a base map is at most {limit} bytes")));
            }
            hash.update(&data);
            file.write_all(&data).await?;
        }
        file.sync_all().await?;
        Ok(Received { path: path.clone(), bytes, sha256: hex::encode(hash.finish()) })
    }
    .await;
    if written.is_err() {
        let _ = tokio::fs::remove_file(&path).await;
    }
    written
}

/// `DELETE /api/v1/basemaps/{name}` (admin) → 204.
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
) -> AppResult<StatusCode> {
    principal.may(Verb::ManageBasemaps, &Target::Server)?;
    checked_name(&name)?;
    let _one = state.basemap_lock.lock().await;
    let n = name.clone();
    if !state.blocking(move |s| s.delete_basemap(&n)).await? {
        return Err(AppError::not_found(format!("no base map `{name}`")));
    }
    state.basemaps.remove(&name)?;
    state.audit(principal.audit("basemap.delete", name)).await;
    Ok(StatusCode::NO_CONTENT)
}
