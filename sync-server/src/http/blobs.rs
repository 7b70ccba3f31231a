//! Photos: whole uploads (PUT), resumable uploads (PATCH from the server's offset), HEAD and GET.

use axum::body::Body;
use axum::extract::State;

use super::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use protocol::{ErrorCode, is_sha256_hex};

use super::{content_type, read_body};
use crate::blobs::BlobMeta;
use crate::blobs::packs::Written;
use crate::blobs::sniff_image;
use crate::error::{AppError, AppResult};
use crate::policy::{Target, Verb};
use crate::principal::Principal;
use crate::state::AppState;

const UPLOAD_OFFSET: &str = "upload-offset";
const UPLOAD_LENGTH: &str = "upload-length";
const BLOB_COMPLETE: &str = "blob-complete";

fn with_offsets(mut response: Response, offset: u64, complete: bool) -> Response {
    let h = response.headers_mut();
    h.insert(UPLOAD_OFFSET, HeaderValue::from(offset));
    h.insert(BLOB_COMPLETE, HeaderValue::from_static(if complete { "true" } else { "false" }));
    response
}

fn check_sha(sha: &str) -> AppResult<()> {
    if is_sha256_hex(sha) {
        Ok(())
    } else {
        Err(AppError::invalid("sha256", "a blob is named by the lowercase hex SHA-256 of its bytes"))
    }
}

fn header_u64(headers: &HeaderMap, name: &'static str) -> AppResult<u64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| AppError::invalid(name, format!("header {name} must be a whole number of bytes")))
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

pub async fn head_blob(State(state): State<AppState>, _p: Principal, Path(sha): Path<String>) -> AppResult<Response> {
    if !is_sha256_hex(&sha) {
        return Err(AppError::not_found("no such blob"));
    }
    let s = sha.clone();
    if let Some(meta) = state.blocking(move |store| store.blob(&s)).await? {
        return Ok(with_offsets(StatusCode::OK.into_response(), meta.bytes, true));
    }
    let s = sha.clone();
    let upload = state.blocking(move |store| store.upload(&s)).await?;
    match (upload, state.blobs.partial_len(&sha)?) {
        (Some(u), Some(held)) => {
            let mut r = with_offsets(StatusCode::OK.into_response(), held, false);
            r.headers_mut().insert(UPLOAD_LENGTH, HeaderValue::from(u.length));
            Ok(r)
        }
        _ => Err(AppError::not_found("the server holds nothing of this blob")),
    }
}

pub async fn put_blob(
    State(state): State<AppState>,
    principal: Principal,
    Path(sha): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Response> {
    check_sha(&sha)?;
    let declared = content_type(&headers).unwrap_or_default();
    if declared != "image/jpeg" && declared != "image/png" {
        return Err(AppError::unsupported("a photo is uploaded as image/jpeg or image/png"));
    }
    let max = state.config.max_blob_bytes;
    let bytes = read_body(body, max as usize).await?;
    // Hashing a photo is most of an upload's CPU: off the async workers (`HashService`), before the upload
    // lock.
    if hex::encode(state.hasher.sha256(bytes.clone()).await) != sha {
        return Err(AppError::api(ErrorCode::HashMismatch, "the bytes do not hash to the name they were sent under"));
    }
    if sniff_image(&bytes) != Some(declared.as_str()) {
        return Err(AppError::unsupported(format!("the bytes are not an image of type {declared}")));
    }
    let _guard = state.lock_upload(&sha).await;
    let st = state.clone();
    let len = bytes.len() as u64;
    let meta = BlobMeta { sha256: sha.clone(), bytes: len, content_type: declared, packed: None };
    let written = state
        .blocking(move |store| match store.blob(&sha)? {
            Some(held) => Ok::<_, AppError>(Err(held.bytes)),
            None => Ok(Ok(st.blobs.write(&bytes)?)),
        })
        .await?;
    let written = match written {
        Ok(written) => written,
        Err(held) => return Ok(with_offsets(StatusCode::OK.into_response(), held, true)),
    };
    if state.committer.commit(written, meta, principal.user.id).await? {
        Ok(with_offsets(StatusCode::CREATED.into_response(), len, true))
    } else {
        Ok(with_offsets(StatusCode::OK.into_response(), len, true))
    }
}

/// Where a resumable upload stands after a chunk.
enum Chunk {
    /// More bytes are to come; this many are held.
    Partial(u64),
    /// The last byte has come: the photo, written to a pack, waits for its commit.
    Complete(Written, BlobMeta),
}

pub async fn patch_blob(
    State(state): State<AppState>,
    principal: Principal,
    Path(sha): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Response> {
    check_sha(&sha)?;
    if content_type(&headers).as_deref() != Some("application/offset+octet-stream") {
        return Err(AppError::unsupported("a resumable upload is sent as application/offset+octet-stream"));
    }
    let offset = header_u64(&headers, "Upload-Offset")?;
    let length = header_u64(&headers, "Upload-Length")?;
    let max = state.config.max_blob_bytes;
    if length > max {
        return Err(AppError::too_large(format!("photos are limited to {max} bytes")));
    }
    if offset > length {
        return Err(AppError::invalid("Upload-Offset", "the offset is beyond Upload-Length"));
    }
    let _guard = state.lock_upload(&sha).await;
    let s = sha.clone();
    if let Some(meta) = state.blocking(move |store| store.blob(&s)).await? {
        if offset == meta.bytes && length == meta.bytes {
            return Ok(with_offsets(StatusCode::NO_CONTENT.into_response(), meta.bytes, true));
        }
        return Err(AppError::conflict("this blob is already complete")
            .with_header(UPLOAD_OFFSET, meta.bytes)
            .with_header(BLOB_COMPLETE, "true"));
    }
    let s = sha.clone();
    let upload = state.blocking(move |store| store.upload(&s)).await?;
    let held = state.blobs.partial_len(&sha)?;
    match (&upload, held) {
        _ if offset == 0 => {}
        (Some(u), Some(held)) => {
            if u.length != length {
                return Err(AppError::conflict(format!("this upload began with Upload-Length {}", u.length))
                    .with_header(UPLOAD_OFFSET, held));
            }
            if held != offset {
                return Err(AppError::conflict(format!("the server holds {held} bytes of this blob"))
                    .with_header(UPLOAD_OFFSET, held));
            }
        }
        _ => {
            return Err(AppError::conflict("no upload of this blob is under way; start at offset 0")
                .with_header(UPLOAD_OFFSET, 0));
        }
    }
    let room = (length - offset) as usize;
    if declared_length(&headers).is_some_and(|n| n > room as u64) {
        return Err(AppError::invalid("Upload-Length", "more bytes than Upload-Length"));
    }
    let bytes = match read_body(body, room).await {
        Err(e) if e.code() == ErrorCode::PayloadTooLarge => {
            return Err(AppError::invalid("Upload-Length", "more bytes than Upload-Length"));
        }
        other => other?,
    };
    let st = state.clone();
    let uploader = principal.user.id;
    let chunk = state
        .blocking(move |store| {
            if offset == 0 {
                st.blobs.start_partial(&sha)?;
                store.begin_upload(&sha, length, uploader, Utc::now())?;
            }
            let now_held = st.blobs.append_partial(&sha, &bytes)?;
            if now_held < length {
                return Ok(Chunk::Partial(now_held));
            }
            let done = st.blobs.finish_partial(&sha)?;
            let discard = |e: AppError| -> AppResult<Chunk> {
                st.blobs.discard_partial(&sha)?;
                store.end_upload(&sha)?;
                Err(e)
            };
            if done.sha256 != sha {
                return discard(AppError::api(
                    ErrorCode::HashMismatch,
                    "the uploaded bytes do not hash to the blob's name",
                ));
            }
            let Some(content_type) = done.content_type else {
                return discard(AppError::unsupported("the uploaded bytes are not a JPEG or PNG image"));
            };
            let written = st.blobs.write(&done.bytes)?;
            let meta = BlobMeta {
                sha256: sha.clone(),
                bytes: done.bytes.len() as u64,
                content_type: content_type.to_owned(),
                packed: None,
            };
            Ok(Chunk::Complete(written, meta))
        })
        .await?;
    match chunk {
        Chunk::Partial(held) => Ok(with_offsets(StatusCode::NO_CONTENT.into_response(), held, false)),
        Chunk::Complete(written, meta) => {
            let len = meta.bytes;
            // The committer also removes the partial file, once the photo's row is durable.
            state.committer.commit(written, meta, uploader).await?;
            Ok(with_offsets(StatusCode::NO_CONTENT.into_response(), len, true))
        }
    }
}

pub async fn get_blob(
    State(state): State<AppState>,
    principal: Principal,
    Path(sha): Path<String>,
) -> AppResult<Response> {
    if !is_sha256_hex(&sha) {
        return Err(AppError::not_found("no such blob"));
    }
    let st = state.clone();
    let found = state
        .blocking(move |store| {
            let Some(meta) = store.blob(&sha)? else {
                return Ok::<_, AppError>(None);
            };
            // A photo the caller may not read is answered as one that does not exist.
            let readable = store
                .photo_use(&sha, &principal.user)?
                .is_some_and(|used| principal.may(Verb::ReadPhoto, &Target::Photo(&used)).is_ok());
            if !readable {
                return Ok(None);
            }
            let bytes = st.blobs.read(&meta)?;
            Ok(Some((meta.content_type, bytes)))
        })
        .await?;
    let (content_type, bytes) = found.ok_or_else(|| AppError::not_found("no such blob"))?;
    let mut r = bytes.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("image/jpeg")),
    );
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable"));
    Ok(r)
}
