//! Storage behind a narrow trait: the routes speak to `Store`, never to SQL.
//!
//! One backend exists today (`SqliteStore`, embedded, for a district on one small server); the trait is
//! what a PostgreSQL backend implements to grow to a city without touching the routes.

mod admin;
mod cases;
mod ingest;
mod schema;
mod sqlite;

pub use cases::TaskChange;

use chrono::{DateTime, Utc};
use protocol::{
    CaseState, Change, DeviceInfo, Dictionary, Location, OpEnvelopeRaw, OpResult, PhotoRef, Role, Timestamp,
};
use serde::Serialize;
use uuid::Uuid;

use crate::auth::{Principal, User};
pub use crate::blobs::packs::PackPlace;
use crate::calendar::WorkCalendar;
use crate::config::Zone;
use crate::engine::CaseAction;
use crate::error::AppResult;

pub use sqlite::SqliteStore;

/// Settings of the case engine that the store applies inside its transactions.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub zone: Zone,
    pub calendar: WorkCalendar,
    /// Clock hours an inspector has for a verification (核查) task.
    pub verify_hours: f64,
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
    /// Its place in the pack files; `None` for a photo stored in a file of its own (before packs).
    pub packed: Option<PackPlace>,
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
        let mut h = protocol::digest::Sha256::new();
        h.update(secret);
        h.update(payload.as_bytes());
        hex::encode(&h.finish()[..12])
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
    /// What the device reported of itself: ops waiting, dictionary version held.
    pub backlog: Option<u64>,
    pub dictionary_version: Option<i64>,
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

/// A point on the map.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

/// One entry of a case's history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub at: Timestamp,
    /// Username, or `system` for automatic routing.
    pub actor: String,
    pub role: String,
    pub action: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub note: Option<String>,
    pub photos: Vec<String>,
    /// The deadline the action was measured against.
    pub due_at: Option<Timestamp>,
}

/// A verification task as the console shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TaskView {
    pub id: Uuid,
    pub assignee: String,
    pub state: String,
    pub created_at: Timestamp,
    pub due_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    pub result: Option<String>,
    pub note: Option<String>,
}

/// A case as the console endpoints return it; `findings`, `history` and `tasks` only in the detail.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub case_no: String,
    pub state: CaseState,
    pub category: String,
    pub category_name: Option<String>,
    pub department: Option<String>,
    pub team: Option<String>,
    pub due_at: Option<Timestamp>,
    pub overdue: bool,
    pub self_handled: bool,
    pub rework_count: i64,
    pub urgent: bool,
    pub filed_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub location: GeoPoint,
    pub address: Option<String>,
    pub description: String,
    pub photos: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<ReviewItem>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEntry>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<TaskView>>,
}

/// Which cases a viewer may list.
#[derive(Debug, Clone)]
pub enum CaseScope {
    All,
    Team(Option<String>),
    Department(Option<String>),
    Reporter(Uuid),
}

#[derive(Debug, Clone)]
pub struct CaseFilter {
    pub scope: CaseScope,
    pub state: Option<CaseState>,
    pub department: Option<String>,
    pub overdue: bool,
}

/// What permission checks need to know of a case.
#[derive(Debug, Clone)]
pub struct CaseMeta {
    pub state: CaseState,
    pub team: Option<String>,
    pub department: Option<String>,
}

/// What permission checks need to know of a finding.
#[derive(Debug, Clone)]
pub struct FindingMeta {
    pub state: protocol::FindingState,
    pub team: Option<String>,
}

/// A section chief's decision on a finding.
#[derive(Debug, Clone)]
pub enum Decision {
    /// File a case, optionally under a corrected category.
    Approve {
        category: Option<String>,
        note: Option<String>,
    },
    Reject {
        reason: String,
    },
    /// Attach to an existing case as another report of it.
    Merge {
        case_no: String,
        note: Option<String>,
    },
}

/// A validated case action.
#[derive(Debug, Clone)]
pub struct ActionInput {
    pub action: CaseAction,
    pub department: Option<String>,
    pub note: Option<String>,
    pub photos: Vec<String>,
    pub hours: Option<f64>,
}

/// A registered device as the admin sees it.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceView {
    pub id: Uuid,
    pub name: String,
    pub platform: String,
    pub app_version: String,
    pub user: DeviceUser,
    pub registered_at: Option<Timestamp>,
    pub last_sync_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    /// Ops waiting on the device, as it last reported.
    pub backlog: Option<i64>,
    /// The dictionary version the device last said it holds.
    pub dictionary_version: Option<i64>,
    pub ops_applied: i64,
    pub ops_rejected: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceUser {
    pub username: String,
    pub display_name: String,
}

/// One fact the indicators are counted from; `key` is the group it falls in for each grouping.
#[derive(Debug, Clone)]
pub struct StatEvent {
    pub metric: crate::stats::Metric,
    pub inspector: Option<String>,
    pub team: Option<String>,
    pub department: Option<String>,
    pub category: Option<String>,
    pub at: DateTime<Utc>,
    /// For "due"-type metrics: whether it was done in time.
    pub in_time: bool,
}

/// A user as the admin sees it.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub team: Option<String>,
    pub department: Option<String>,
    pub active: bool,
}

/// A patrol with its track, for the chief's map.
#[derive(Debug, Clone, Serialize)]
pub struct PatrolView {
    pub id: Uuid,
    pub user: DeviceUser,
    pub team: Option<String>,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub distance_m: f64,
    pub findings: i64,
    /// `[lat, lon, t]` in order.
    pub points: Vec<(f64, f64, String)>,
    /// The dictionary's roads the track ran along, longest first.
    pub roads: Vec<RoadWalked>,
}

/// Metres of a patrol's track along one road.
#[derive(Debug, Clone, Serialize)]
pub struct RoadWalked {
    pub name: String,
    pub distance_m: f64,
}

/// A team (中队) with its active members.
#[derive(Debug, Clone, Serialize)]
pub struct TeamView {
    pub name: String,
    pub members: i64,
    pub created_at: Option<Timestamp>,
}

/// A department of the dictionary with its active users and open cases.
#[derive(Debug, Clone, Serialize)]
pub struct DepartmentView {
    pub code: String,
    pub name: String,
    pub users: i64,
    pub open_cases: i64,
}

/// What an admin changes of a user; `None` leaves a field as it is (`Some(None)` clears team/department).
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub team: Option<Option<String>>,
    pub department: Option<Option<String>>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RejectedOp {
    pub device_id: String,
    pub seq: i64,
    pub kind: String,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    pub at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DayCount {
    pub day: String,
    pub applied: i64,
    pub rejected: i64,
}

/// The admin's view of sync health.
#[derive(Debug, Clone, Serialize)]
pub struct SyncHealth {
    pub rejected_ops: Vec<RejectedOp>,
    pub ops_per_day: Vec<DayCount>,
    pub findings: i64,
    pub cases: i64,
    pub blobs: i64,
    /// Photo bytes plus the database file.
    pub storage_bytes: i64,
    pub devices: i64,
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
    /// Records complete blobs and ends their uploads, if any were under way, in one durable commit; for each,
    /// false when it was already held.
    fn record_blobs(&self, blobs: &[(BlobMeta, Uuid)], now: DateTime<Utc>) -> AppResult<Vec<bool>>;
    fn upload(&self, sha256: &str) -> AppResult<Option<UploadState>>;
    fn begin_upload(&self, sha256: &str, length: u64, by: Uuid, now: DateTime<Utc>) -> AppResult<()>;
    fn end_upload(&self, sha256: &str) -> AppResult<()>;
    /// Whoever uploaded a blob, and whoever may see a finding, case or task that uses it.
    fn may_read_blob(&self, sha256: &str, principal: &Principal) -> AppResult<bool>;

    /// Applies a batch of ops in one transaction, durable before it returns.
    fn apply_ops(&self, ctx: &SyncContext<'_>, ops: &[OpEnvelopeRaw<'_>]) -> AppResult<Vec<OpResult>>;
    /// The changes for a user after a cursor (`None`: from the beginning, current dictionary first).
    fn changes(&self, user: &User, cursor: Option<Cursor>, limit: usize) -> AppResult<ChangePage>;
    /// Secret that signs cursors, so that a cursor the server did not issue is recognised.
    fn cursor_secret(&self) -> &[u8];

    fn finding_meta(&self, id: Uuid) -> AppResult<Option<FindingMeta>>;
    fn case_meta(&self, case_no: &str) -> AppResult<Option<CaseMeta>>;
    /// Applies a chief's decision; refuses (409) a finding that is no longer waiting.
    fn review_finding(
        &self,
        actor: &User,
        id: Uuid,
        decision: &Decision,
        now: DateTime<Utc>,
    ) -> AppResult<(ReviewItem, Option<CaseView>)>;
    fn cases(&self, filter: &CaseFilter, now: DateTime<Utc>) -> AppResult<Vec<CaseView>>;
    fn case_detail(&self, case_no: &str, now: DateTime<Utc>) -> AppResult<Option<CaseView>>;
    /// Moves a case through its lifecycle; refuses (409) what its state does not allow.
    fn case_action(&self, actor: &User, case_no: &str, input: &ActionInput, now: DateTime<Utc>) -> AppResult<CaseView>;
    /// The facts the evaluation indicators of `[from, to)` are computed from.
    fn stat_events(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> AppResult<Vec<StatEvent>>;
    fn devices(&self) -> AppResult<Vec<DeviceView>>;
    /// Revokes a device: its token stops working and it may not register again.
    fn revoke_device(&self, id: Uuid, now: DateTime<Utc>) -> AppResult<Option<DeviceView>>;

    fn users(&self) -> AppResult<Vec<UserView>>;
    /// Changes a user; `None` when there is no such user.
    fn update_user(&self, username: &str, update: UserUpdate, now: DateTime<Utc>) -> AppResult<Option<UserView>>;
    fn teams(&self) -> AppResult<Vec<TeamView>>;
    /// Creates a team; refuses (409) a name in use.
    fn add_team(&self, name: &str, now: DateTime<Utc>) -> AppResult<TeamView>;
    fn departments(&self) -> AppResult<Vec<DepartmentView>>;
    /// Reassigns or cancels an open verification task; returns the case after it.
    fn change_task(
        &self,
        actor: &User,
        task_id: Uuid,
        change: &TaskChange,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> AppResult<CaseView>;
    /// Patrols started in `[from, to)`.
    fn patrols(&self, scope: &Scope, from: DateTime<Utc>, to: DateTime<Utc>) -> AppResult<Vec<PatrolView>>;
    fn sync_health(&self, now: DateTime<Utc>) -> AppResult<SyncHealth>;

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
