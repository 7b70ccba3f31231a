//! `POST /api/v1/sync`: applies a batch of ops and answers with their results and the changes since the
//! device's cursor.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use chrono::Utc;
use protocol::{MAX_OPS_PER_SYNC, MAX_SYNC_BODY_BYTES, OpStatus, SyncRequestRaw, SyncResponse};

use super::{decode, read_body};
use crate::db::{SignedOp, SyncContext};
use crate::domain::cursor::Cursor;
use crate::domain::ops;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;
use crate::state::AppState;

/// Changes sent in one answer; `more: true` asks the device to call again.
const CHANGES_PER_PAGE: usize = 200;

pub async fn sync(State(state): State<AppState>, principal: Principal, body: Body) -> AppResult<Json<SyncResponse>> {
    let bytes = read_body(body, MAX_SYNC_BODY_BYTES).await?;
    let p = principal.clone();
    let secret = state.cursor_secret.clone();
    // Decoding, checking and applying all run on the blocking pool: the ops' bodies stay raw JSON text
    // until each is decoded once into its typed op.
    let (results, cursor) = state
        .blocking(move |store| {
            let req: SyncRequestRaw<'_> = decode(&bytes)?;
            if req.ops.len() > MAX_OPS_PER_SYNC {
                return Err(AppError::too_large(format!("at most {MAX_OPS_PER_SYNC} ops per sync")));
            }
            let cursor = match &req.cursor {
                None => None,
                Some(s) => Some(
                    Cursor::decode(s, &secret)
                        .ok_or_else(|| AppError::invalid("cursor", "this cursor was not issued by this server"))?,
                ),
            };
            match p.device_id {
                None => return Err(AppError::forbidden("only a registered device may sync")),
                Some(id) if id != req.device_id => {
                    return Err(AppError::forbidden("a device may sync only for itself"));
                }
                Some(_) => {}
            }
            let ctx = SyncContext {
                principal: &p,
                device_id: req.device_id,
                now: Utc::now(),
                backlog: req.backlog,
                dictionary_version: req.dictionary_version,
            };
            let key = store.device_public_key(req.device_id)?;
            let signer = key.as_deref().map(|public_key| ops::Signer { device_id: req.device_id, public_key });
            let prepared = ops::prepare(ctx.now, &req.ops, signer, store.category_check());
            // Ops whose signature held and that the server took are kept as received, for the evidence
            // package; a resend of one kept changes nothing, and one lost to a crash is kept by the resend.
            let signed: Vec<SignedOp> = req
                .ops
                .iter()
                .zip(&prepared)
                .filter(|(_, p)| p.signed)
                .filter_map(|(env, p)| {
                    Some(SignedOp {
                        device_id: req.device_id.to_string(),
                        seq: env.seq,
                        kind: env.kind.clone(),
                        entity_id: p.op.as_ref().ok().map(|(op, _)| op.entity_id().to_string()),
                        body: env.body.to_owned(),
                        prev: env.prev.clone(),
                        sig: env.sig.clone()?,
                    })
                })
                .collect();
            let results = store.apply_ops(&ctx, prepared)?;
            // Only ops the server took (applied now or before) are evidence of what they say.
            let taken: Vec<u64> = results
                .iter()
                .filter(|r| matches!(r.status, OpStatus::Applied | OpStatus::Duplicate))
                .map(|r| r.seq)
                .collect();
            let signed: Vec<SignedOp> = signed.into_iter().filter(|op| taken.contains(&op.seq)).collect();
            store.keep_signed_ops(&signed, ctx.now)?;
            Ok((results, cursor))
        })
        .await?;
    let durable = results.iter().filter(|r| matches!(r.status, OpStatus::Applied | OpStatus::Duplicate)).count();
    state.ops_made_durable(durable as u64);

    let user = principal.user.clone();
    let page = state.blocking(move |store| store.changes(&user, cursor, CHANGES_PER_PAGE)).await?;
    Ok(Json(SyncResponse {
        results,
        changes: page.changes,
        cursor: page.cursor.encode(&state.cursor_secret),
        more: page.more,
        server_time: state.config.zone.now(),
    }))
}
