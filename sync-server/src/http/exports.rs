//! `/api/v1/exports`: cases or findings of a period and filter as CSV, XLSX or GeoJSON (with the photos as a
//! ZIP on request), made in the background; the console follows the progress and downloads the file.
//! Whoever may list cases (or review findings) exports them, over what they may see.

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tower::ServiceExt;
use uuid::Uuid;

use super::extract::Path;
use super::read_json;
use crate::domain::exports::{ExportJob, ExportKind, ExportRequest};
use crate::error::{AppError, AppResult};
use crate::policy::Listing;
use crate::principal::Principal;
use crate::state::AppState;

/// `POST /api/v1/exports` → 202 with the job, running.
pub async fn begin(State(state): State<AppState>, principal: Principal, body: Body) -> AppResult<Response> {
    let mut request: ExportRequest = read_json(body).await?;
    request.validate()?;
    let scope = principal.scope(match request.kind {
        ExportKind::Cases => Listing::Cases,
        ExportKind::Findings => Listing::Findings,
    })?;
    if let Some(code) = request.category.clone() {
        let dictionary = state.blocking(|s| s.dictionary()).await?;
        if dictionary.as_ref().and_then(|d| d.category(&code)).is_none() {
            return Err(AppError::invalid("category", format!("`{code}` is not a category of the dictionary")));
        }
    }
    let user = (principal.user.id, principal.user.username.clone());
    let job = crate::exports::begin(&state, user, scope, request).await?;
    state.audit(principal.audit("export.begin", job.file_name.clone())).await;
    Ok((StatusCode::ACCEPTED, Json(job)).into_response())
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ExportList {
    exports: Vec<ExportJob>,
}

/// `GET /api/v1/exports`: the caller's exports (the admin's: everyone's), the newest first.
pub async fn list(State(state): State<AppState>, principal: Principal) -> AppResult<Json<ExportList>> {
    let user = (principal.user.role != protocol::Role::Admin).then_some(principal.user.id);
    Ok(Json(ExportList { exports: state.blocking(move |s| s.export_jobs(user, 50)).await? }))
}

/// A job the caller may see: their own, or any for the admin.
async fn own_job(state: &AppState, principal: &Principal, id: &str) -> AppResult<ExportJob> {
    let id = Uuid::parse_str(id).map_err(|_| AppError::not_found("no such export"))?;
    match state.blocking(move |s| s.export_job(id)).await? {
        Some((owner, job)) if owner == principal.user.id || principal.user.role == protocol::Role::Admin => Ok(job),
        _ => Err(AppError::not_found("no such export")),
    }
}

/// `GET /api/v1/exports/{id}`: the job and its progress.
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<ExportJob>> {
    Ok(Json(own_job(&state, &principal, &id).await?))
}

/// `GET /api/v1/exports/{id}/file`: the finished file (409 while it is made, or when it failed).
pub async fn file(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    request: Request,
) -> AppResult<Response> {
    let job = own_job(&state, &principal, &id).await?;
    if job.state != "done" {
        return Err(AppError::conflict(match job.error {
            Some(e) => format!("the export failed: {e}"),
            None => format!("the export is not finished: {} of {} rows", job.rows, job.total),
        }));
    }
    let media = if job.request.photos { "application/zip" } else { job.request.format.media_type() };
    let path = crate::exports::file_of(&state, &job);
    let served = tower_http::services::ServeFile::new_with_mime(&path, &media.parse().expect("a valid media type"))
        .oneshot(request)
        .await
        .map_err(|e| AppError::internal(format!("export file: {e}")))?;
    if served.status() == StatusCode::NOT_FOUND {
        return Err(AppError::not_found("the export's file was removed (files are kept for a week)"));
    }
    let mut served = served.map(Body::new);
    let disposition = format!("attachment; filename=\"{}\"", job.file_name);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        served.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(served)
}
