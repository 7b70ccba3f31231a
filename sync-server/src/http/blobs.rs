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
    let held = match upload {
        Some(_) => state.photos.partial_len(&sha).await?,
        None => None,
    };
    match (upload, held) {
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
    let len = bytes.len() as u64;
    let s = sha.clone();
    if let Some(held) = state.blocking(move |store| store.blob(&s)).await? {
        return Ok(with_offsets(StatusCode::OK.into_response(), held.bytes, true));
    }
    let meta = BlobMeta { sha256: sha, bytes: len, content_type: declared, packed: None };
    let status = match state.photos.keep(state.store.clone(), bytes, meta, principal.user.id).await? {
        true => StatusCode::CREATED,
        false => StatusCode::OK,
    };
    Ok(with_offsets(status.into_response(), len, true))
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
    // What is held matters only to an upload that goes on (a start at 0 begins it again).
    let held = if offset == 0 || upload.is_none() { None } else { state.photos.partial_len(&sha).await? };
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
    let uploader = principal.user.id;
    if offset == 0 {
        state.photos.start_partial(&sha).await?;
        let s = sha.clone();
        state.blocking(move |store| store.begin_upload(&s, length, uploader, Utc::now())).await?;
    }
    let held = state.photos.append_partial(&sha, offset, bytes).await?;
    if held < length {
        return Ok(with_offsets(StatusCode::NO_CONTENT.into_response(), held, false));
    }
    let done = state.photos.finish_partial(&sha).await?;
    let refused = match (done.sha256 == sha, done.content_type) {
        (false, _) => Some(AppError::api(ErrorCode::HashMismatch, "the uploaded bytes do not hash to the blob's name")),
        (true, None) => Some(AppError::unsupported("the uploaded bytes are not a JPEG or PNG image")),
        (true, Some(_)) => None,
    };
    if let Some(e) = refused {
        state.photos.discard_partial(&sha).await?;
        let s = sha.clone();
        state.blocking(move |store| store.end_upload(&s)).await?;
        return Err(e);
    }
    let len = done.bytes.len() as u64;
    let content_type = done.content_type.unwrap_or("image/jpeg").to_owned();
    let meta = BlobMeta { sha256: sha, bytes: len, content_type, packed: None };
    state.photos.keep(state.store.clone(), done.bytes.into(), meta, uploader).await?;
    Ok(with_offsets(StatusCode::NO_CONTENT.into_response(), len, true))
}

pub async fn get_blob(
    State(state): State<AppState>,
    principal: Principal,
    Path(sha): Path<String>,
) -> AppResult<Response> {
    if !is_sha256_hex(&sha) {
        return Err(AppError::not_found("no such blob"));
    }
    let found = state
        .blocking(move |store| {
            let Some(meta) = store.blob(&sha)? else {
                return Ok::<_, AppError>(None);
            };
            // A photo the caller may not read is answered as one that does not exist.
            let readable = store
                .photo_use(&sha, &principal.user)?
                .is_some_and(|used| principal.may(Verb::ReadPhoto, &Target::Photo(&used)).is_ok());
            Ok(readable.then_some(meta))
        })
        .await?;
    let found = match found {
        Some(meta) => Some((meta.content_type.clone(), state.photos.read(meta).await?)),
        None => None,
    };
    let (content_type, bytes) = found.ok_or_else(|| AppError::not_found("no such blob"))?;
    let mut r = bytes.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("image/jpeg")),
    );
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable"));
    Ok(r)
}

#[cfg(test)]
mod fuzz {
    use axum::http::{HeaderMap, HeaderValue};

    use super::{declared_length, header_u64};

    proptest::proptest! {
        /// Any bytes in `Upload-Offset` (and `Content-Length`): a whole number of bytes is read as itself,
        /// anything else is refused as `invalid` naming the header; never a panic, never a guess.
        #[test]
        fn upload_headers_are_read_exactly_or_refused(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            let Ok(value) = HeaderValue::from_bytes(&raw) else { return Ok(()) };
            let mut headers = HeaderMap::new();
            headers.insert("Upload-Offset", value.clone());
            headers.insert("content-length", value);
            let expected = std::str::from_utf8(&raw).ok().and_then(|s| s.trim().parse::<u64>().ok());
            match header_u64(&headers, "Upload-Offset") {
                Ok(n) => proptest::prop_assert_eq!(Some(n), expected),
                Err(e) => {
                    proptest::prop_assert!(expected.is_none());
                    proptest::prop_assert_eq!(e.code(), protocol::ErrorCode::Invalid);
                }
            }
            let _ = declared_length(&headers);
        }
    }
}
