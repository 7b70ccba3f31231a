//! `GET /api/v1/cases/{case_no}/evidence`: a case's evidence package (ZIP), for whoever may see the case.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::extract::Path;
use crate::error::{AppError, AppResult};
use crate::evidence::{Contents, photos_of, write};
use crate::principal::Principal;
use crate::state::AppState;

pub async fn package(
    State(state): State<AppState>,
    principal: Principal,
    Path(case_no): Path<String>,
) -> AppResult<Response> {
    let case = super::cases::readable_case(&state, &principal, case_no.clone()).await?;

    // The signed ops of its findings, each with the op it links to, and the keys of the devices that signed.
    let ids: Vec<String> = case.findings.iter().flatten().map(|f| f.id.to_string()).collect();
    let (ops, keys) = state
        .blocking(move |s| {
            let mut ops = BTreeMap::new();
            let mut keys = BTreeMap::new();
            for id in ids {
                let Some(op) = s.signed_op_creating(&id)? else { continue };
                let previous = match op.prev {
                    Some(_) => s.signed_op_before(&op.device_id, op.seq)?,
                    None => None,
                };
                if !keys.contains_key(&op.device_id) {
                    keys.insert(op.device_id.clone(), s.device_keys(&op.device_id)?);
                }
                ops.insert(id, (op, previous));
            }
            Ok::<_, AppError>((ops, keys))
        })
        .await?;
    let mut photos = BTreeMap::new();
    for sha in photos_of(&case) {
        let s = sha.clone();
        let bytes = match state.blocking(move |st| st.blob(&s)).await? {
            Some(meta) => Some(state.photos.read(meta).await?),
            None => None,
        };
        photos.insert(sha, bytes);
    }
    let made_at = state.config.zone.now().to_rfc3339();
    let contents = Contents { case, made_at, ops, keys, photos };
    let zip = tokio::task::spawn_blocking(move || write(&contents))
        .await
        .map_err(|e| AppError::internal(e.to_string()))?
        .map_err(|e| AppError::internal(format!("the evidence package could not be written: {e}")))?;

    let mut entry = principal.audit("export", format!("evidence package of case {case_no}"));
    entry.detail = Some(format!("{} bytes", zip.len()));
    state.audit(entry).await;
    let mut r = zip.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"evidence-{case_no}.zip\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
