//! The sync client: uploads the photos pending ops need (resuming from the server's offset), sends ops
//! in bounded, gzip-compressed batches, applies each answer in one local transaction, and pulls changes
//! until the server has no more. Every step can be repeated safely: the server recognises what it has.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use protocol::{
    ApiError, DeviceInfo, ErrorBody, ErrorCode, RegisterRequest, RegisterResponse, SyncRequest, SyncResponse,
};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE};
use serde::Serialize;

use crate::error::{DeviceError, DeviceResult};
use crate::store::{Account, DeviceStore, PendingBlob};

/// Largest piece of a photo sent in one request: a broken connection costs at most this much again.
pub const CHUNK_BYTES: usize = 256 * 1024;
/// Ops per sync request.
pub const BATCH_OPS: usize = 100;
/// Op bodies per sync request (before compression).
pub const BATCH_BYTES: usize = 1024 * 1024;

/// Access to the store for the short moments the client needs it; never held across a network wait.
pub trait StoreAccess {
    fn with<R>(&self, f: impl FnOnce(&mut DeviceStore) -> R) -> R;
}

impl StoreAccess for Mutex<DeviceStore> {
    fn with<R>(&self, f: impl FnOnce(&mut DeviceStore) -> R) -> R {
        let mut guard = self.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }
}

/// The step a sync is at: photos first, then the ops, then the changes the server sends back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Photos,
    Ops,
    Changes,
    Done,
}

/// Where a sync is, for progress displays.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Progress {
    pub phase: Phase,
    pub photos_done: u32,
    pub photos_total: u32,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub ops_done: u64,
    pub ops_total: u64,
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncReport {
    pub photos_uploaded: u32,
    pub photo_bytes_sent: u64,
    pub ops_sent: u64,
    pub applied: u32,
    pub duplicate: u32,
    /// (seq, reason) of every op the server refused for good.
    pub rejected: Vec<(u64, String)>,
    pub retry: u32,
    pub changes_received: u64,
    /// Ops still waiting after this sync (to be retried).
    pub remaining: u64,
    /// Photos that could not be uploaded, with the reason.
    pub photo_errors: Vec<(String, String)>,
    /// Photos of open tasks fetched from the server (a report's, a handled case's).
    pub photos_fetched: u32,
}

impl SyncReport {
    /// Every queued op was answered for good.
    pub fn complete(&self) -> bool {
        self.remaining == 0
    }
}

#[derive(Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    base: String,
}

fn unreachable(e: reqwest::Error) -> DeviceError {
    DeviceError::Unreachable(e.without_url().to_string())
}

async fn error_of(response: reqwest::Response) -> DeviceError {
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED {
        return DeviceError::Unauthorized;
    }
    let text = response.text().await.unwrap_or_default();
    let error = serde_json::from_str::<ErrorBody>(&text).map(|b| b.error).unwrap_or_else(|_| {
        ApiError::new(ErrorCode::Internal, format!("unexpected answer: {}", text.chars().take(200).collect::<String>()))
    });
    DeviceError::Server { status: status.as_u16(), error }
}

fn header_u64(response: &reqwest::Response, name: &str) -> Option<u64> {
    response.headers().get(name)?.to_str().ok()?.parse().ok()
}

fn complete(response: &reqwest::Response) -> bool {
    response.headers().get("blob-complete").is_some_and(|v| v == "true")
}

impl SyncClient {
    /// A client for a server origin such as `http://127.0.0.1:8080`.
    pub fn new(server_url: &str) -> DeviceResult<Self> {
        let origin = server_url.trim_end_matches('/');
        if !(origin.starts_with("http://") || origin.starts_with("https://")) {
            return Err(DeviceError::Invalid(format!("server URL `{server_url}` must start with http:// or https://")));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("tiejiaoban-device/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DeviceError::Invalid(e.to_string()))?;
        Ok(SyncClient { http, base: format!("{origin}{}", protocol::API_BASE) })
    }

    /// Registers this device (keeping its id for the same user) and fetches the dictionary.
    pub async fn register(
        &self,
        store: &impl StoreAccess,
        server_url: &str,
        username: &str,
        password: &str,
        device_name: &str,
        totp: Option<&str>,
    ) -> DeviceResult<Account> {
        let device_id = store.with(|s| s.device_id_for(username))?;
        let public_key = store.with(|s| s.signing_public_key())?;
        let req = RegisterRequest {
            username: username.to_owned(),
            password: password.to_owned(),
            device: DeviceInfo {
                id: device_id,
                name: device_name.to_owned(),
                platform: std::env::consts::OS.to_owned(),
                app_version: crate::APP_VERSION.to_owned(),
                public_key: Some(public_key),
            },
        };
        // The contract's request, and (extension) the authenticator app's code for an account that has one.
        let mut body = serde_json::to_value(&req)?;
        if let Some(code) = totp {
            body["totp"] = serde_json::Value::String(code.trim().to_owned());
        }
        let response =
            self.http.post(format!("{}/devices/register", self.base)).json(&body).send().await.map_err(unreachable)?;
        if response.status() == StatusCode::UNAUTHORIZED {
            let text = response.text().await.unwrap_or_default();
            let error = serde_json::from_str::<ErrorBody>(&text).ok().map(|b| b.error);
            let about_code = error.as_ref().and_then(|e| e.details.as_ref()).is_some_and(|d| d["field"] == "totp");
            return Err(match error {
                Some(e) if about_code => DeviceError::SecondFactor(e.message),
                _ => DeviceError::Invalid("wrong username or password".into()),
            });
        }
        if !response.status().is_success() {
            return Err(match error_of(response).await {
                // A wrong password is not a refused device token.
                DeviceError::Unauthorized => DeviceError::Invalid("wrong username or password".into()),
                other => other,
            });
        }
        let answer: RegisterResponse = response.json().await.map_err(unreachable)?;
        let account = Account {
            server_url: server_url.trim_end_matches('/').to_owned(),
            device_id,
            token: answer.token,
            user: answer.user,
        };
        // Ops queued before this registration (by a release that did not sign) are signed with it.
        store.with(|s| s.set_account(&account))?;
        self.sync(store, &mut |_| {}, None).await?;
        Ok(account)
    }

    /// The offline base maps the server offers.
    pub async fn basemaps(&self, store: &impl StoreAccess) -> DeviceResult<Vec<protocol::Basemap>> {
        let account = store.with(|s| s.require_account())?;
        let response = self.get(&account, "/basemaps").await?;
        Ok(response.json::<protocol::BasemapList>().await.map_err(unreachable)?.basemaps)
    }

    /// Downloads the package `offered` into `maps`, resuming what an earlier, cut download left (when the
    /// server still offers the same file), reporting bytes on the phone as they arrive, stopping between
    /// pieces when `cancel` is set (what arrived stays for the next attempt); then checks and installs it.
    pub async fn download_basemap(
        &self,
        store: &impl StoreAccess,
        maps: &crate::basemaps::Basemaps,
        offered: &protocol::Basemap,
        progress: &mut (dyn FnMut(crate::basemaps::DownloadProgress) + Send),
        cancel: Option<&AtomicBool>,
    ) -> DeviceResult<protocol::Basemap> {
        let account = store.with(|s| s.require_account())?;
        let total = offered.bytes;
        let mut have = maps.begin(offered)?;
        progress(crate::basemaps::DownloadProgress { done: have, total });
        if have < total {
            let mut request = self
                .http
                .get(format!("{}/basemaps/{}", self.base, offered.name))
                .bearer_auth(&account.token)
                // A package takes minutes on a slow network; a stalled one is caught per piece below.
                .timeout(Duration::from_secs(24 * 3600));
            if have > 0 {
                request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
            }
            let mut response = request.send().await.map_err(unreachable)?;
            match response.status() {
                StatusCode::PARTIAL_CONTENT => {}
                StatusCode::OK => {
                    // The whole file again (the server ignored the range): start over.
                    maps.restart(&offered.name)?;
                    have = 0;
                }
                StatusCode::RANGE_NOT_SATISFIABLE => {}
                _ => return Err(error_of(response).await),
            }
            loop {
                if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                    return Err(DeviceError::Cancelled);
                }
                let piece = tokio::time::timeout(Duration::from_secs(60), response.chunk())
                    .await
                    .map_err(|_| DeviceError::Unreachable("the download stalled for a minute".into()))?
                    .map_err(unreachable)?;
                let Some(piece) = piece else { break };
                if have + piece.len() as u64 > total {
                    maps.restart(&offered.name)?;
                    return Err(DeviceError::Invalid(format!(
                        "the server sent more than the {total} bytes of {}",
                        offered.name
                    )));
                }
                maps.append(&offered.name, have, &piece)?;
                have += piece.len() as u64;
                progress(crate::basemaps::DownloadProgress { done: have, total });
            }
            if have < total {
                return Err(DeviceError::Unreachable(format!("the download ended after {have} of {total} bytes")));
            }
        }
        maps.finish(offered)
    }

    /// One full sync: photos, ops in batches, changes until `more` is false.
    pub async fn sync(
        &self,
        store: &impl StoreAccess,
        progress: &mut (dyn FnMut(&Progress) + Send),
        cancel: Option<&AtomicBool>,
    ) -> DeviceResult<SyncReport> {
        self.sync_with(store, true, progress, cancel).await
    }

    /// A sync that may hold photos back (Wi-Fi only): ops still go, and those whose photos are missing
    /// are answered `retry` by the server and wait for the next sync on Wi-Fi.
    pub async fn sync_with(
        &self,
        store: &impl StoreAccess,
        upload_photos: bool,
        progress: &mut (dyn FnMut(&Progress) + Send),
        cancel: Option<&AtomicBool>,
    ) -> DeviceResult<SyncReport> {
        let account = store.with(|s| s.require_account())?;
        let cancelled = || cancel.is_some_and(|c| c.load(Ordering::Relaxed));
        let mut report = SyncReport::default();
        let blobs = if upload_photos { store.with(|s| s.pending_blobs())? } else { Vec::new() };
        let mut p = Progress {
            phase: Phase::Photos,
            photos_total: blobs.len() as u32,
            bytes_total: blobs.iter().map(|b| b.bytes).sum(),
            ops_total: store.with(|s| s.pending_count())?,
            ..Progress::default()
        };
        progress(&p);
        for blob in &blobs {
            if cancelled() {
                return Err(DeviceError::Cancelled);
            }
            match self.upload_blob(&account, blob).await {
                Ok(sent) => {
                    store.with(|s| s.mark_uploaded(&blob.sha256))?;
                    report.photos_uploaded += 1;
                    report.photo_bytes_sent += sent;
                }
                Err(e @ (DeviceError::Unreachable(_) | DeviceError::Unauthorized)) => {
                    return Err(e);
                }
                Err(e) => report.photo_errors.push((blob.sha256.clone(), e.to_string())),
            }
            p.photos_done += 1;
            p.bytes_done += blob.bytes;
            progress(&p);
        }

        p.phase = Phase::Ops;
        let mut after = 0;
        let mut more = true;
        let mut first = true;
        loop {
            if cancelled() {
                return Err(DeviceError::Cancelled);
            }
            let batch = store.with(|s| s.pending_ops(after, BATCH_OPS, BATCH_BYTES))?;
            if batch.is_empty() && !more && !first {
                break;
            }
            first = false;
            if batch.is_empty() {
                p.phase = Phase::Changes;
            }
            let (cursor, backlog, dictionary_version) = store.with(|s| -> DeviceResult<_> {
                let status = s.status()?;
                Ok((s.cursor()?, status.pending_ops, status.dictionary_version))
            })?;
            let request = SyncRequest {
                device_id: account.device_id,
                ops: batch.iter().map(|o| o.envelope.clone()).collect(),
                cursor,
                // What still waits besides this batch.
                backlog: Some(backlog.saturating_sub(batch.len() as u64)),
                dictionary_version,
            };
            let answer = self.post_sync(&account, &request).await?;
            let applied = store.with(|s| s.apply_answer(&answer))?;
            report.ops_sent += batch.len() as u64;
            report.applied += applied.applied;
            report.duplicate += applied.duplicate;
            report.retry += applied.retry;
            report.rejected.extend(applied.rejected);
            report.changes_received += answer.changes.len() as u64;
            more = answer.more;
            if let Some(last) = batch.last() {
                after = last.seq;
            }
            p.ops_done += batch.len() as u64;
            progress(&p);
        }
        // The photos of the tasks just received, so that the inspector sees on site what was reported; on the
        // same terms as uploads (not on mobile data when photos wait for Wi-Fi). A photo that fails is fetched
        // at the next sync.
        if upload_photos {
            for sha in store.with(|s| s.missing_task_photos())? {
                if cancelled() {
                    return Err(DeviceError::Cancelled);
                }
                match self.fetch_blob(&account, &sha).await {
                    Ok(bytes) => {
                        store.with(|s| s.keep_fetched_photo(&sha, &bytes))?;
                        report.photos_fetched += 1;
                    }
                    Err(e @ (DeviceError::Unreachable(_) | DeviceError::Unauthorized)) => return Err(e),
                    Err(e) => report.photo_errors.push((sha, e.to_string())),
                }
            }
        }
        report.remaining = store.with(|s| {
            s.checkpoint()?;
            s.pending_count()
        })?;
        p.phase = Phase::Done;
        progress(&p);
        Ok(report)
    }

    async fn post_sync(&self, account: &Account, request: &SyncRequest) -> DeviceResult<SyncResponse> {
        let json = serde_json::to_vec(request)?;
        let mut gz = GzEncoder::new(Vec::with_capacity(json.len() / 4), Compression::fast());
        gz.write_all(&json)?;
        let body = gz.finish()?;
        let response = self
            .http
            .post(format!("{}/sync", self.base))
            .bearer_auth(&account.token)
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_ENCODING, "gzip")
            .body(body)
            .send()
            .await
            .map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(error_of(response).await);
        }
        response.json().await.map_err(unreachable)
    }

    /// A signed-in GET of `path` (under `/api/v1`); a failure status is the server's error.
    async fn get(&self, account: &Account, path: &str) -> DeviceResult<reqwest::Response> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&account.token)
            .send()
            .await
            .map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(error_of(response).await);
        }
        Ok(response)
    }

    async fn fetch_blob(&self, account: &Account, sha256: &str) -> DeviceResult<Vec<u8>> {
        let response = self.get(account, &format!("/blobs/{sha256}")).await?;
        Ok(response.bytes().await.map_err(unreachable)?.to_vec())
    }

    /// Uploads one photo unless the server holds it; returns the bytes sent.
    async fn upload_blob(&self, account: &Account, blob: &PendingBlob) -> DeviceResult<u64> {
        let bytes = std::fs::read(&blob.path)?;
        if protocol::digest::sha256_hex(&bytes) != blob.sha256 {
            return Err(DeviceError::BadPhoto(format!("the file {} no longer matches its hash", blob.path.display())));
        }
        let url = format!("{}/blobs/{}", self.base, blob.sha256);
        let head = self.http.head(&url).bearer_auth(&account.token).send().await.map_err(unreachable)?;
        let mut offset = match head.status() {
            StatusCode::OK if complete(&head) => return Ok(0),
            StatusCode::OK => header_u64(&head, "upload-offset").unwrap_or(0),
            StatusCode::NOT_FOUND => 0,
            _ => return Err(error_of(head).await),
        };
        let total = bytes.len() as u64;
        if offset == 0 && bytes.len() <= CHUNK_BYTES {
            let content_type = if bytes.starts_with(&[0x89, b'P', b'N', b'G']) { "image/png" } else { "image/jpeg" };
            let response = self
                .http
                .put(&url)
                .bearer_auth(&account.token)
                .header(CONTENT_TYPE, content_type)
                .body(bytes)
                .send()
                .await
                .map_err(unreachable)?;
            return if response.status().is_success() { Ok(total) } else { Err(error_of(response).await) };
        }
        let mut sent = 0;
        // Each round either moves the offset forward or restarts once; anything else is a server fault. The
        // rounds go on until the server says the photo is complete: when it already holds every byte (its
        // last step failed after the bytes were kept), an empty chunk at the end asks it to finish.
        let mut rounds_left = bytes.len() / CHUNK_BYTES + 4;
        loop {
            if rounds_left == 0 {
                return Err(DeviceError::Invalid("the server does not accept this upload's bytes".into()));
            }
            rounds_left -= 1;
            if offset > total {
                // The server holds more than this photo has (an upload begun under its name with another
                // length): start over, which the server takes at offset 0.
                offset = 0;
            }
            let end = (offset as usize + CHUNK_BYTES).min(bytes.len());
            let chunk = bytes[offset as usize..end].to_vec();
            let response = self
                .http
                .patch(&url)
                .bearer_auth(&account.token)
                .header(CONTENT_TYPE, "application/offset+octet-stream")
                .header("Upload-Offset", offset)
                .header("Upload-Length", total)
                .body(chunk)
                .send()
                .await
                .map_err(unreachable)?;
            sent += (end - offset as usize) as u64;
            match response.status() {
                StatusCode::NO_CONTENT | StatusCode::CONFLICT if complete(&response) => {
                    return Ok(sent);
                }
                StatusCode::NO_CONTENT => {
                    offset = header_u64(&response, "upload-offset")
                        .ok_or_else(|| DeviceError::Invalid("the server did not say how many bytes it holds".into()))?;
                }
                // The server holds another amount, or an upload begun with another length: go on from
                // what it holds, or start over at 0 when that does not move us forward.
                StatusCode::CONFLICT => {
                    let held = header_u64(&response, "upload-offset").unwrap_or(0);
                    offset = if held == offset { 0 } else { held };
                }
                _ => return Err(error_of(response).await),
            }
        }
    }
}
