//! The store's interface, as the HTTP handlers and the photo committer see it: everything the server keeps,
//! behind one trait so that the embedded backend (`SqliteStore`) is the only code that speaks SQL.

use chrono::{DateTime, Utc};
use protocol::{Basemap, Campaign, DeviceInfo, Dictionary, OpResult};
use uuid::Uuid;

use super::accounts::{DepartmentView, NewSession, NewUser, SecondFactor, TeamView, UserUpdate, UserView};
use super::audit::{AuditEntry, AuditFilter, AuditRecord};
use super::blobs::UploadState;
use super::cases::{ActionInput, CaseFilter, CaseMeta, CaseView};
use super::changes::ChangePage;
use super::devices::{DeviceView, RegisterOutcome};
use super::error::StoreResult;
use super::evidence::SignedOp;
use super::findings::{FindingMeta, ReviewItem};
use super::heat::{HeatFilter, HeatPoint};
use super::ingest::SyncContext;
use super::integrations::IntegrationToken;
use super::patrols::PatrolView;
use super::reports::{ReportFilter, TaskFilter};
use super::review::Decision;
use super::sync_health::SyncHealth;
use super::tasks::TaskChange;
use super::webhooks::{AttemptOutcome, Claim, Delivery, DueDelivery, Webhook};
use crate::blobs::BlobMeta;
use crate::domain::coverage::{CoverageBy, CoverageTallies};
use crate::domain::cursor::Cursor;
use crate::domain::exports::{ExportFilter, ExportJob, ExportKind};
use crate::domain::ops::PreparedOp;
use crate::domain::reports::{NewReport, NewTask, Report, TaskItem};
use crate::domain::stats::StatEvent;
use crate::domain::webhooks::NewWebhook;
use crate::policy::{PhotoUse, Scope};
use crate::principal::{Principal, User};

/// Users, sessions, devices and their keys, teams, the server's own settings, the audit log and integration
/// tokens: what a second backend brings first (the accounts every other record refers to).
pub trait AccountStore: Send + Sync + 'static {
    /// Creates a user (and the team, if new). The department must be in the dictionary.
    fn add_user(&self, user: NewUser, now: DateTime<Utc>) -> StoreResult<User>;
    /// A user and the stored password hash.
    fn user_credentials(&self, username: &str) -> StoreResult<Option<(User, String)>>;
    /// Binds a device to a user with a new token; the old token stops working.
    fn register_device(
        &self,
        user: &User,
        device: &DeviceInfo,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<RegisterOutcome>;
    fn create_session(&self, session: &NewSession) -> StoreResult<()>;
    fn end_session(&self, token_hash: &str) -> StoreResult<()>;
    fn principal_by_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<Principal>>;
    /// A user's second factor; none set for an unknown user.
    fn second_factor(&self, user_id: Uuid) -> StoreResult<SecondFactor>;
    fn set_second_factor(&self, user_id: Uuid, factor: &SecondFactor) -> StoreResult<()>;
    /// A new secret waiting for its first code, unless a second factor is in force; true when begun.
    fn begin_second_factor(&self, user_id: Uuid, secret: &str) -> StoreResult<bool>;
    /// The confirming session becomes whole; the user's other enrol-only sessions end.
    fn second_factor_confirmed(&self, user_id: Uuid, token_hash: &str) -> StoreResult<()>;
    /// Takes the code of a time step unless it or a later step's was taken; true when taken.
    fn take_second_factor_step(&self, user_id: Uuid, step: i64) -> StoreResult<bool>;

    /// The public key a device signs its ops with now, if it registered one.
    fn device_public_key(&self, device_id: Uuid) -> StoreResult<Option<String>>;
    /// Every public key a device registered, oldest first.
    fn device_keys(&self, device_id: &str) -> StoreResult<Vec<String>>;
    /// The value kept under `key` in the server's own settings, storing `value` there first if there is
    /// none (the first start makes the server's secrets; every later start reads them).
    fn setting_or_insert(&self, key: &str, value: &str) -> StoreResult<String>;

    fn users(&self) -> StoreResult<Vec<UserView>>;
    /// Changes a user; `None` when there is no such user.
    fn update_user(&self, username: &str, update: UserUpdate, now: DateTime<Utc>) -> StoreResult<Option<UserView>>;
    fn teams(&self) -> StoreResult<Vec<TeamView>>;
    /// Creates a team; refuses (409) a name in use.
    fn add_team(&self, name: &str, now: DateTime<Utc>) -> StoreResult<TeamView>;
    /// A user's team; `None` when there is no such user.
    fn user_team(&self, username: &str) -> StoreResult<Option<Option<String>>>;

    /// Adds an entry to the audit log (append-only).
    fn audit(&self, entry: &AuditEntry, now: DateTime<Utc>) -> StoreResult<()>;
    /// Audit log entries, the newest first.
    fn audit_log(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>>;

    /// Keeps a new integration token's hash, acting as `username`; `None` when there is no such user.
    fn add_integration_token(
        &self,
        name: &str,
        username: &str,
        token_hash: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<IntegrationToken>>;
    fn integration_tokens(&self) -> StoreResult<Vec<IntegrationToken>>;
    /// Ends a token at once; false when unknown or ended already.
    fn revoke_integration_token(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool>;
}

/// The photos' rows (content-addressed, each held once) and the resumable uploads under way: what ingest
/// checks a finding's photos against.
pub trait PhotoStore: Send + Sync + 'static {
    fn blob(&self, sha256: &str) -> StoreResult<Option<BlobMeta>>;
    /// Records complete blobs and ends their uploads, if any were under way, in one durable commit; for each,
    /// false when it was already held.
    fn record_blobs(&self, blobs: &[(BlobMeta, Uuid)], now: DateTime<Utc>) -> StoreResult<Vec<bool>>;
    fn upload(&self, sha256: &str) -> StoreResult<Option<UploadState>>;
    fn begin_upload(&self, sha256: &str, length: u64, by: Uuid, now: DateTime<Utc>) -> StoreResult<()>;
    fn end_upload(&self, sha256: &str) -> StoreResult<()>;
}

/// Everything the server keeps: the accounts and all the records of the work.
pub trait Store: AccountStore + PhotoStore {
    /// Keeps signed ops as received (a resend of one kept changes nothing).
    fn keep_signed_ops(&self, ops: &[SignedOp], now: DateTime<Utc>) -> StoreResult<()>;
    /// The signed op that created a finding.
    fn signed_op_creating(&self, entity_id: &str) -> StoreResult<Option<SignedOp>>;
    /// A device's signed op before `seq` (the one that op's `prev` links to).
    fn signed_op_before(&self, device_id: &str, seq: u64) -> StoreResult<Option<SignedOp>>;

    /// The newest dictionary, if one was ever imported.
    fn dictionary(&self) -> StoreResult<Option<Dictionary>>;
    /// Stores a dictionary as a new version and pushes it to devices; returns the version given.
    fn import_dictionary(&self, dictionary: Dictionary, now: DateTime<Utc>) -> StoreResult<i64>;
    /// Stores the first dictionary unless one is stored already (servers starting at once make one); the
    /// version given, `None` when there was one.
    fn first_dictionary(&self, dictionary: Dictionary, now: DateTime<Utc>) -> StoreResult<Option<i64>>;
    /// Photos whose every use is in a case closed before `closed_before`, not purged yet (the retention rule).
    fn photos_to_purge(&self, closed_before: DateTime<Utc>, limit: usize) -> StoreResult<Vec<BlobMeta>>;
    /// Marks photos purged (held no more), before their bytes are removed, checking the rule again; the
    /// photos marked.
    fn mark_photos_purged(
        &self,
        shas: &[String],
        closed_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<String>>;
    /// Takes back a purge mark (the bytes could not be removed).
    fn unmark_photo_purged(&self, sha: &str) -> StoreResult<()>;
    /// Where a photo is used, as seen from `user` (for the policy's decision who may read it); `None` when
    /// no such photo is held.
    fn photo_use(&self, sha256: &str, user: &User) -> StoreResult<Option<PhotoUse>>;

    /// Whether a category code is in any version of the dictionary, as of now (ops are checked against it
    /// before they reach `apply_ops`): one look at the dictionary for a whole batch.
    fn category_check(&self) -> Box<dyn Fn(&str) -> bool + Send>;
    /// Applies a batch of ops (made ready by `domain::ops::prepare`) in one transaction, durable before it
    /// returns.
    fn apply_ops(&self, ctx: &SyncContext<'_>, ops: Vec<PreparedOp>) -> StoreResult<Vec<OpResult>>;
    /// The changes for a user after a cursor (`None`: from the beginning, current dictionary first).
    fn changes(&self, user: &User, cursor: Option<Cursor>, limit: usize) -> StoreResult<ChangePage>;

    fn finding_meta(&self, id: Uuid) -> StoreResult<Option<FindingMeta>>;
    /// A finding as the review list shows it.
    fn finding(&self, id: Uuid) -> StoreResult<Option<ReviewItem>>;
    fn case_meta(&self, case_no: &str) -> StoreResult<Option<CaseMeta>>;
    /// Applies a chief's decision; refuses (409) a finding that is no longer waiting.
    fn review_finding(
        &self,
        actor: &User,
        id: Uuid,
        decision: &Decision,
        now: DateTime<Utc>,
    ) -> StoreResult<(ReviewItem, Option<CaseView>)>;
    fn cases(&self, filter: &CaseFilter, now: DateTime<Utc>) -> StoreResult<Vec<CaseView>>;
    fn case_detail(&self, case_no: &str, now: DateTime<Utc>) -> StoreResult<Option<CaseView>>;
    /// Moves a case through its lifecycle; refuses (409) what its state does not allow.
    fn case_action(
        &self,
        actor: &User,
        case_no: &str,
        input: &ActionInput,
        now: DateTime<Utc>,
    ) -> StoreResult<CaseView>;
    /// The facts the evaluation indicators of `[from, to)` are computed from.
    fn stat_events(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<StatEvent>>;
    fn devices(&self) -> StoreResult<Vec<DeviceView>>;
    /// Revokes a device: its token stops working and it may not register again.
    fn revoke_device(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<Option<DeviceView>>;
    fn departments(&self) -> StoreResult<Vec<DepartmentView>>;
    /// The case a verification task belongs to, as permission checks need it.
    fn task_case(&self, task_id: Uuid) -> StoreResult<Option<CaseMeta>>;
    /// Reassigns or cancels an open verification task; returns the case after it.
    fn change_task(
        &self,
        actor: &User,
        task_id: Uuid,
        change: &TaskChange,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<CaseView>;
    /// What the patrols started in `[from, to)` walked, by road or by grid, and the findings there, as the scope
    /// sees them. A patrol's coverage is computed from its track when first asked for, and kept.
    fn coverage(
        &self,
        scope: &Scope,
        by: CoverageBy,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<CoverageTallies>;
    /// Where the findings (or cases) of `[from, to)` are, as the scope sees them and the filter keeps them.
    fn heat_points(
        &self,
        scope: &Scope,
        filter: &HeatFilter,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<HeatPoint>>;
    /// Patrols started in `[from, to)`.
    fn patrols(&self, scope: &Scope, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<PatrolView>>;
    fn sync_health(&self, now: DateTime<Utc>) -> StoreResult<SyncHealth>;

    /// Campaigns, the newest first.
    fn campaigns(&self) -> StoreResult<Vec<Campaign>>;
    fn campaign(&self, id: &str) -> StoreResult<Option<Campaign>>;
    /// Stores a campaign (checked by the caller) and announces it to every device; true when new.
    fn save_campaign(&self, campaign: &Campaign, by: &str, now: DateTime<Utc>) -> StoreResult<bool>;

    /// Takes a report from another channel (checked by the caller): stores it and sends its 核实 task, or
    /// files it at once. The same id and body again answers the report as it is now (true only the first
    /// time); another body under that id is a conflict.
    fn receive_report(&self, actor: &User, input: &NewReport, now: DateTime<Utc>) -> StoreResult<(Report, bool)>;
    /// A report, contact included (the caller hides it from who may not see it).
    fn report(&self, id: Uuid) -> StoreResult<Option<Report>>;
    /// Reports, the newest first.
    fn reports(&self, filter: &ReportFilter) -> StoreResult<Vec<Report>>;
    /// Creates a free task and sends it to the inspector, idempotent by id as reports are.
    fn create_task(&self, actor: &User, input: &NewTask, now: DateTime<Utc>) -> StoreResult<(TaskItem, bool)>;
    /// Free tasks and 核实 tasks (or the tasks of one type), the newest first.
    fn tasks(&self, filter: &TaskFilter) -> StoreResult<Vec<TaskItem>>;

    /// The offline base maps offered, by name.
    fn basemaps(&self) -> StoreResult<Vec<Basemap>>;
    fn basemap(&self, name: &str) -> StoreResult<Option<Basemap>>;
    /// Describes a package whose file is in place, replacing one of the same name; true when new.
    fn save_basemap(&self, basemap: &Basemap) -> StoreResult<bool>;
    /// Forgets a package; false when there was none.
    fn delete_basemap(&self, name: &str) -> StoreResult<bool>;

    /// Registers a webhook or a department's group robot (checked by the caller).
    fn add_webhook(&self, hook: &NewWebhook, by: &str, now: DateTime<Utc>) -> StoreResult<Webhook>;
    /// Every endpoint, the active ones first.
    fn webhooks(&self) -> StoreResult<Vec<Webhook>>;
    fn webhook(&self, id: Uuid) -> StoreResult<Option<Webhook>>;
    /// Stops an endpoint and cancels what waits for it; false when unknown or stopped already.
    fn remove_webhook(&self, id: Uuid) -> StoreResult<bool>;
    /// Puts a test event out to one active endpoint; the delivery's id.
    fn ping_webhook(&self, id: Uuid, by: &str, now: DateTime<Utc>) -> StoreResult<Option<i64>>;
    /// Takes deliveries due at `now` for a try (as many as `claim` says, of the endpoints it does not name
    /// busy), each leased for `lease` (tried again after it if the sender never reports back).
    fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        claim: &Claim,
    ) -> StoreResult<Vec<DueDelivery>>;
    /// Keeps an event's data as first sent; returns what is kept.
    fn freeze_event_data(&self, event_id: Uuid, data: &serde_json::Value) -> StoreResult<serde_json::Value>;
    /// Records a try of a delivery under its claim (`(id, claim)`); `next` is when to try again (`None`: give
    /// up), unless it was delivered. A delivery claimed again since keeps its state.
    fn record_attempt(
        &self,
        delivery: (i64, i64),
        outcome: &AttemptOutcome,
        next: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// An endpoint's deliveries, the newest first, with their tries.
    fn deliveries(&self, webhook: Uuid, state: Option<&str>, limit: u32) -> StoreResult<Vec<Delivery>>;
    /// The endpoint of a delivery.
    fn delivery_webhook(&self, delivery: i64) -> StoreResult<Option<Uuid>>;
    /// "Send again": due now, with a new retry window; false for a cancelled one or a stopped endpoint.
    fn redeliver(&self, delivery: i64, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Marks the cases past their deadline since the last look and tells the webhooks; how many.
    fn notice_overdue(&self, now: DateTime<Utc>) -> StoreResult<usize>;

    /// The findings an export takes, the oldest first, after the one `after` names (observed second, id).
    fn export_findings(
        &self,
        scope: &Scope,
        filter: &ExportFilter,
        after: Option<(i64, String)>,
        limit: u32,
    ) -> StoreResult<Vec<ReviewItem>>;
    /// The cases an export takes, filed the earliest first, after the one `after` names (`filed_at` as
    /// stored, number).
    fn export_cases(
        &self,
        scope: &Scope,
        filter: &ExportFilter,
        after: Option<(String, String)>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<CaseView>>;
    /// How many rows an export takes.
    fn export_count(&self, kind: ExportKind, scope: &Scope, filter: &ExportFilter) -> StoreResult<u64>;
    /// Keeps an export job as it is now.
    fn save_export(&self, user: Uuid, job: &ExportJob) -> StoreResult<()>;
    /// A job and who asked for it.
    fn export_job(&self, id: Uuid) -> StoreResult<Option<(Uuid, ExportJob)>>;
    /// A user's jobs (`None`: everyone's), the newest first.
    fn export_jobs(&self, user: Option<Uuid>, limit: u32) -> StoreResult<Vec<ExportJob>>;
    /// Ends as failed the jobs left running whose progress was last kept before `stale_before` (the server
    /// that ran them stopped); their ids, for their partial files to go.
    fn interrupt_exports(&self, stale_before: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<Vec<Uuid>>;
    /// Forgets jobs made before `before`; their ids, for their files to be removed.
    fn expire_exports(&self, before: DateTime<Utc>) -> StoreResult<Vec<Uuid>>;

    /// How many records of each kind the store holds (users, devices, ops, findings, cases, photos held …), to
    /// compare a copy with its original.
    fn inventory(&self) -> StoreResult<std::collections::BTreeMap<String, i64>>;
    /// The photos held (not purged), by hash, after `after`, at most `limit`.
    fn held_photos(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<BlobMeta>>;

    /// Findings observed in `[from, to)`, oldest first.
    fn review(
        &self,
        scope: &Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: Option<u32>,
        offset: u32,
    ) -> StoreResult<Vec<ReviewItem>>;
}
