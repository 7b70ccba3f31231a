//! Storage behind a narrow trait: the routes speak to `Store`, never to SQL.
//!
//! One backend exists today (`SqliteStore`, embedded, for a district on one small server); the trait is
//! what a PostgreSQL backend implements to grow to a city without touching the routes.

mod ingest;
mod schema;
mod sqlite;

use chrono::{DateTime, Utc};
use protocol::{Change, DeviceInfo, Dictionary, Location, OpEnvelope, OpResult, PhotoRef, Role};
use serde::Serialize;
use uuid::Uuid;

use crate::auth::{Principal, User};
use crate::config::Zone;
use crate::error::AppResult;

pub use sqlite::SqliteStore;

/// Settings of the case engine that the store applies inside its transactions.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub zone: Zone,
    pub duplicate_radius_m: f64,
    pub duplicate_window_hours: f64,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub display_name: String,
    pub role: Role,
    pub team: Option<String>,
    pub department: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterOutcome {
    Registered,
    /// The device id belongs to another user.
    OtherUser,
    /// The device was revoked by an admin.
    Revoked,
}

/// A complete photo held by the server.
#[derive(Debug, Clone, PartialEq)]
pub struct BlobMeta {
    pub sha256: String,
    pub bytes: u64,
    pub content_type: String,
}

/// A resumable upload in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadState {
    pub sha256: String,
    pub length: u64,
    pub started_by: Uuid,
}

/// Where a device is in the stream of changes meant for it; travels as an opaque, signed string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub change_id: i64,
    pub dict_version: i64,
}

impl Cursor {
    /// `v1.<change id>.<dictionary version>.<signature>`.
    pub fn encode(&self, secret: &[u8]) -> String {
        let payload = format!("v1.{}.{}", self.change_id, self.dict_version);
        let sig = Self::sign(secret, &payload);
        format!("{payload}.{sig}")
    }

    /// `None` for anything this server did not issue.
    pub fn decode(s: &str, secret: &[u8]) -> Option<Cursor> {
        let (payload, sig) = s.rsplit_once('.')?;
        if Self::sign(secret, payload) != sig {
            return None;
        }
        let mut parts = payload.split('.');
        (parts.next()? == "v1").then_some(())?;
        let change_id = parts.next()?.parse().ok()?;
        let dict_version = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(Cursor { change_id, dict_version })
    }

    fn sign(secret: &[u8], payload: &str) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(secret);
        h.update(payload.as_bytes());
        hex::encode(&h.finalize()[..12])
    }
}

pub struct ChangePage {
    pub changes: Vec<Change>,
    pub cursor: Cursor,
    pub more: bool,
}

/// Who syncs, and when.
pub struct SyncContext<'a> {
    pub principal: &'a Principal,
    pub device_id: Uuid,
    pub now: DateTime<Utc>,
}

/// One row of `GET /api/v1/review`.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewItem {
    pub id: Uuid,
    pub reporter: String,
    pub category: String,
    pub description: String,
    pub address: Option<String>,
    pub observed_at: protocol::Timestamp,
    pub location: Location,
    pub photos: Vec<PhotoRef>,
    pub fixed_on_spot: bool,
    pub urgent: bool,
    pub state: protocol::FindingState,
    pub case_no: Option<String>,
    pub possible_duplicate_of: Option<String>,
    /// Extensions for the console.
    pub team: Option<String>,
    pub road: Option<String>,
    pub facility_code: Option<String>,
    pub reason: Option<String>,
}

/// Which findings a viewer may list.
#[derive(Debug, Clone)]
pub enum Scope {
    All,
    Team(Option<String>),
}

pub trait Store: Send + Sync + 'static {
    /// Creates a user (and the team, if new). The department must be in the dictionary.
    fn add_user(&self, user: NewUser, now: DateTime<Utc>) -> AppResult<User>;
    /// A user and the stored password hash.
    fn user_credentials(&self, username: &str) -> AppResult<Option<(User, String)>>;
    /// Binds a device to a user with a new token; the old token stops working.
    fn register_device(
        &self,
        user: &User,
        device: &DeviceInfo,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> AppResult<RegisterOutcome>;
    fn create_session(&self, user_id: Uuid, token_hash: &str, expires_at: DateTime<Utc>) -> AppResult<()>;
    fn end_session(&self, token_hash: &str) -> AppResult<()>;
    fn principal_by_token(&self, token_hash: &str, now: DateTime<Utc>) -> AppResult<Option<Principal>>;

    /// The newest dictionary, if one was ever imported.
    fn dictionary(&self) -> AppResult<Option<Dictionary>>;
    /// Stores a dictionary as a new version and pushes it to devices; returns the version given.
    fn import_dictionary(&self, dictionary: Dictionary, now: DateTime<Utc>) -> AppResult<i64>;

    fn blob(&self, sha256: &str) -> AppResult<Option<BlobMeta>>;
    /// Records a complete blob; false when it was already held.
    fn record_blob(&self, meta: &BlobMeta, uploader: Uuid, now: DateTime<Utc>) -> AppResult<bool>;
    fn upload(&self, sha256: &str) -> AppResult<Option<UploadState>>;
    fn begin_upload(&self, sha256: &str, length: u64, by: Uuid, now: DateTime<Utc>) -> AppResult<()>;
    fn end_upload(&self, sha256: &str) -> AppResult<()>;
    /// Whoever uploaded a blob, and whoever may see a finding, case or task that uses it.
    fn may_read_blob(&self, sha256: &str, principal: &Principal) -> AppResult<bool>;

    /// Applies a batch of ops in one transaction, durable before it returns.
    fn apply_ops(&self, ctx: &SyncContext<'_>, ops: &[OpEnvelope]) -> AppResult<Vec<OpResult>>;
    /// The changes for a user after a cursor (`None`: from the beginning, current dictionary first).
    fn changes(&self, user: &User, cursor: Option<Cursor>, limit: usize) -> AppResult<ChangePage>;
    /// Secret that signs cursors, so that a cursor the server did not issue is recognised.
    fn cursor_secret(&self) -> &[u8];

    /// Findings observed in `[from, to)`, oldest first.
    fn review(
        &self,
        scope: &Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: Option<u32>,
        offset: u32,
    ) -> AppResult<Vec<ReviewItem>>;
}
