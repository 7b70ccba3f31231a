//! The store's behaviour, once for both backends: every method of `AccountStore`, `PhotoStore` and `Store` is
//! the SQL of its concept (the files beside this one) run in a read or a write of a `Backend`. A backend says
//! only how it reads, how it writes (one writer at a time, as SQLite has and PostgreSQL gets by a lock), how a
//! sync's write becomes durable, and where the dictionary's index in memory comes from.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use protocol::{Basemap, Campaign, ChangeBody, DeviceInfo, Dictionary, OpResult};
use uuid::Uuid;

use super::accounts::{self, DepartmentView, NewSession, NewUser, SecondFactor, TeamView, UserUpdate, UserView};
use super::audit::{self, AuditEntry, AuditFilter, AuditRecord};
use super::basemaps;
use super::blobs::{self, UploadState};
use super::campaigns;
use super::cases::{self, ActionInput, CaseFilter, CaseMeta, CaseView};
use super::changes::{self, ChangePage};
use super::conn::{Db, params};
use super::coverage;
use super::devices::{self, DeviceView, RegisterOutcome};
use super::dict::{self, DictIndex};
use super::error::{StoreError, StoreResult};
use super::evidence::{self, SignedOp};
use super::exports;
use super::findings::{self, FindingMeta, ReviewItem};
use super::grids::{self, check_dictionary};
use super::heat::{self, HeatFilter, HeatPoint};
use super::ingest::{self, SyncContext};
use super::integrations::{self, IntegrationToken};
use super::inventory;
use super::patrols::{self, PatrolView};
use super::reports::{self, ReportFilter, TaskFilter};
use super::review::{self, Decision};
use super::stats_facts;
use super::store::{AccountStore, PhotoStore, Store};
use super::sync_health::{self, SyncHealth};
use super::tasks::{self, TaskChange};
use super::webhooks::{self, AttemptOutcome, Claim, Delivery, DueDelivery, Webhook};
use crate::blobs::BlobMeta;
use crate::domain::EngineSettings;
use crate::domain::coverage::{CoverageBy, CoverageTallies};
use crate::domain::cursor::Cursor;
use crate::domain::exports::{ExportFilter, ExportJob, ExportKind};
use crate::domain::ops::PreparedOp;
use crate::domain::reports::{NewReport, NewTask, Report, TaskItem};
use crate::domain::stats::StatEvent;
use crate::domain::webhooks::NewWebhook;
use crate::policy::{PhotoUse, Scope};
use crate::principal::{Principal, User};

/// How a backend reads and writes; everything else the store does is the same on each.
pub trait Backend: Send + Sync + 'static {
    /// A connection for reads (each statement sees what was committed before it began).
    type Read<'c>: Db
    where
        Self: 'c;
    /// A write transaction: the only one running, committed when the work returns `Ok`.
    type Write<'c>: Db
    where
        Self: 'c;

    fn settings(&self) -> &EngineSettings;
    fn read<T>(&self, work: impl FnOnce(&Self::Read<'_>) -> StoreResult<T>) -> StoreResult<T>;
    /// Runs `work` as the only writer and commits it, durable before it returns.
    fn write<T>(&self, work: impl FnOnce(&Self::Write<'_>) -> StoreResult<T>) -> StoreResult<T>;
    /// A sync's write: durable before it returns, like `write`, where a backend may shorten the time the
    /// writer is held (SQLite flushes its log after letting the next writer in).
    fn write_sync<T>(&self, work: impl FnOnce(&Self::Write<'_>) -> StoreResult<T>) -> StoreResult<T> {
        self.write(work)
    }
    /// Called when a page of changes was read, before it is sent (SQLite flushes a sync's commit that may not
    /// be on disk yet).
    fn changes_read(&self) {}
    /// The dictionary's index as `conn` sees the stored versions (one process's import reaches the others).
    fn dict_on(&self, conn: &impl Db) -> StoreResult<Arc<DictIndex>>;
    /// Puts an index in force in this process (a dictionary imported here).
    fn install_dict(&self, index: Arc<DictIndex>);
}

fn known_department(dict: &DictIndex, code: &str) -> StoreResult<()> {
    if dict.current.as_ref().is_some_and(|d| d.departments.iter().any(|x| x.code == code)) {
        Ok(())
    } else {
        Err(StoreError::invalid("department", format!("department `{code}` is not a code of the dictionary")))
    }
}

/// Stores a dictionary as a new version (`first`: only when none is stored) and puts it in force.
fn import<B: Backend>(b: &B, dictionary: Dictionary, now: DateTime<Utc>, first: bool) -> StoreResult<Option<i64>> {
    let mut before = None;
    let written = b.write(|tx| {
        if first && tx.query_row("SELECT EXISTS (SELECT 1 FROM dictionary_versions)", (), |r| r.get::<_, bool>(0))? {
            return Ok(None);
        }
        let was = b.dict_on(tx)?;
        let stored = dict::insert_version(tx, dictionary, now)?;
        changes::insert_change(tx, None, None, &ChangeBody::Dictionary(stored.clone()), now)?;
        let index = Arc::new(was.with(&stored, now));
        if was.current.as_ref().map(|d| &d.grids) != Some(&stored.grids) {
            let (findings, cases) = grids::regrid(tx, &index)?;
            tracing::info!(version = stored.version, findings, cases, "grids changed: records placed again");
        }
        // In force before the writer is let go, so that no batch written after this version places its
        // findings by the grids before it.
        b.install_dict(index);
        before = Some(was);
        Ok(Some(stored.version))
    });
    if written.is_err()
        && let Some(was) = before
    {
        b.install_dict(was);
    }
    written
}

/// The case as the console shows it after a change.
fn case_after<B: Backend>(b: &B, case_no: &str, now: DateTime<Utc>) -> StoreResult<CaseView> {
    b.read(|c| cases::case_detail(c, b.settings(), &*b.dict_on(c)?, case_no, now))?
        .ok_or_else(|| StoreError::corrupt("case vanished"))
}

impl<B: Backend> AccountStore for B {
    fn add_user(&self, user: NewUser, now: DateTime<Utc>) -> StoreResult<User> {
        self.write(|tx| {
            if let Some(dep) = &user.department {
                known_department(&*self.dict_on(tx)?, dep)?;
            }
            accounts::add_user(tx, user, now)
        })
    }

    fn user_credentials(&self, username: &str) -> StoreResult<Option<(User, String)>> {
        self.read(|c| accounts::credentials(c, username))
    }

    fn register_device(
        &self,
        user: &User,
        device: &DeviceInfo,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<RegisterOutcome> {
        self.write(|tx| devices::register(tx, user, device, token_hash, now))
    }

    fn create_session(&self, session: &NewSession) -> StoreResult<()> {
        self.write(|tx| accounts::create_session(tx, session, Utc::now()))
    }

    fn end_session(&self, token_hash: &str) -> StoreResult<()> {
        self.write(|tx| accounts::end_session(tx, token_hash))
    }

    fn principal_by_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<Principal>> {
        self.read(|c| accounts::principal_by_token(c, token_hash, now))
    }

    fn second_factor(&self, user_id: Uuid) -> StoreResult<SecondFactor> {
        self.read(|c| accounts::second_factor(c, user_id))
    }

    fn set_second_factor(&self, user_id: Uuid, factor: &SecondFactor) -> StoreResult<()> {
        self.write(|tx| accounts::set_second_factor(tx, user_id, factor))
    }

    fn begin_second_factor(&self, user_id: Uuid, secret: &str) -> StoreResult<bool> {
        self.write(|tx| accounts::begin_second_factor(tx, user_id, secret))
    }

    fn second_factor_confirmed(&self, user_id: Uuid, token_hash: &str) -> StoreResult<()> {
        self.write(|tx| accounts::second_factor_confirmed(tx, user_id, token_hash))
    }

    fn take_second_factor_step(&self, user_id: Uuid, step: i64) -> StoreResult<bool> {
        self.write(|tx| accounts::take_second_factor_step(tx, user_id, step))
    }

    fn device_public_key(&self, device_id: Uuid) -> StoreResult<Option<String>> {
        self.read(|c| devices::public_key(c, device_id))
    }

    fn device_keys(&self, device_id: &str) -> StoreResult<Vec<String>> {
        self.read(|c| devices::keys(c, device_id))
    }

    fn setting_or_insert(&self, key: &str, value: &str) -> StoreResult<String> {
        self.write(|tx| {
            tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![key, value])?;
            Ok(tx.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))?)
        })
    }

    fn users(&self) -> StoreResult<Vec<UserView>> {
        self.read(|c| accounts::users(c))
    }

    fn update_user(&self, username: &str, update: UserUpdate, now: DateTime<Utc>) -> StoreResult<Option<UserView>> {
        self.write(|tx| {
            if let Some(Some(dep)) = &update.department {
                known_department(&*self.dict_on(tx)?, dep)?;
            }
            accounts::update_user(tx, username, &update, now)
        })
    }

    fn teams(&self) -> StoreResult<Vec<TeamView>> {
        self.read(|c| accounts::teams(c, &self.settings().zone))
    }

    fn add_team(&self, name: &str, now: DateTime<Utc>) -> StoreResult<TeamView> {
        if !self.write(|tx| accounts::add_team(tx, name, now))? {
            return Err(StoreError::conflict(format!("team `{name}` exists already")));
        }
        Ok(TeamView { name: name.to_owned(), members: 0, created_at: Some(self.settings().zone.at(now)) })
    }

    fn user_team(&self, username: &str) -> StoreResult<Option<Option<String>>> {
        self.read(|c| reports::user_team(c, username))
    }

    fn audit(&self, entry: &AuditEntry, now: DateTime<Utc>) -> StoreResult<()> {
        self.write(|tx| audit::record(tx, entry, now))
    }

    fn audit_log(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        self.read(|c| audit::entries(c, &self.settings().zone, filter))
    }

    fn add_integration_token(
        &self,
        name: &str,
        username: &str,
        token_hash: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<IntegrationToken>> {
        self.write(|tx| integrations::add(tx, &self.settings().zone, name, username, token_hash, by, now))
    }

    fn integration_tokens(&self) -> StoreResult<Vec<IntegrationToken>> {
        self.read(|c| integrations::all(c, &self.settings().zone))
    }

    fn revoke_integration_token(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
        self.write(|tx| integrations::revoke(tx, id, now))
    }
}

impl<B: Backend> PhotoStore for B {
    fn blob(&self, sha256: &str) -> StoreResult<Option<BlobMeta>> {
        self.read(|c| blobs::blob(c, sha256))
    }

    fn record_blobs(&self, rows: &[(BlobMeta, Uuid)], now: DateTime<Utc>) -> StoreResult<Vec<bool>> {
        // One durable commit for the photos' rows and the end of their uploads: HEAD answers from these rows
        // without flushing, so they must not be visible before they are on disk.
        self.write(|tx| blobs::record_blobs(tx, rows, now))
    }

    fn upload(&self, sha256: &str) -> StoreResult<Option<UploadState>> {
        self.read(|c| blobs::upload(c, sha256))
    }

    fn begin_upload(&self, sha256: &str, length: u64, by: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        self.write(|tx| blobs::begin_upload(tx, sha256, length, by, now))
    }

    fn end_upload(&self, sha256: &str) -> StoreResult<()> {
        self.write(|tx| blobs::end_upload(tx, sha256))
    }
}

impl<B: Backend> Store for B {
    fn keep_signed_ops(&self, ops: &[SignedOp], now: DateTime<Utc>) -> StoreResult<()> {
        if ops.is_empty() {
            return Ok(());
        }
        self.write(|tx| evidence::keep(tx, ops, now))
    }

    fn signed_op_creating(&self, entity_id: &str) -> StoreResult<Option<SignedOp>> {
        self.read(|c| evidence::creating(c, entity_id))
    }

    fn signed_op_before(&self, device_id: &str, seq: u64) -> StoreResult<Option<SignedOp>> {
        self.read(|c| evidence::previous(c, device_id, seq))
    }

    fn dictionary(&self) -> StoreResult<Option<Dictionary>> {
        self.read(|c| Ok(self.dict_on(c)?.current.clone()))
    }

    fn import_dictionary(&self, dictionary: Dictionary, now: DateTime<Utc>) -> StoreResult<i64> {
        check_dictionary(&dictionary)?;
        import(self, dictionary, now, false)?.ok_or_else(|| StoreError::internal("the dictionary was not stored"))
    }

    fn first_dictionary(&self, dictionary: Dictionary, now: DateTime<Utc>) -> StoreResult<Option<i64>> {
        check_dictionary(&dictionary)?;
        import(self, dictionary, now, true)
    }

    fn photos_to_purge(&self, closed_before: DateTime<Utc>, limit: usize) -> StoreResult<Vec<BlobMeta>> {
        self.read(|c| blobs::photos_to_purge(c, closed_before, limit))
    }

    fn mark_photos_purged(
        &self,
        shas: &[String],
        closed_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<String>> {
        self.write(|tx| blobs::mark_purged(tx, shas, closed_before, now))
    }

    fn unmark_photo_purged(&self, sha: &str) -> StoreResult<()> {
        self.write(|tx| blobs::unmark_purged(tx, sha))
    }

    fn photo_use(&self, sha256: &str, user: &User) -> StoreResult<Option<PhotoUse>> {
        self.read(|c| blobs::photo_use(c, sha256, user))
    }

    fn category_check(&self) -> Box<dyn Fn(&str) -> bool + Send> {
        match self.read(|c| self.dict_on(c)) {
            Ok(dict) => Box::new(move |code| dict.categories.contains_key(code)),
            // The batch waits (a category not known now is told to retry, not refused).
            Err(e) => {
                tracing::warn!("the dictionary could not be read: {e}");
                Box::new(|_| true)
            }
        }
    }

    fn apply_ops(&self, ctx: &SyncContext<'_>, mut prepared: Vec<PreparedOp>) -> StoreResult<Vec<OpResult>> {
        // One transaction per request, durable before the answer. What needs no writer (which photos are
        // stored already) is looked up before it, in parallel with other requests.
        self.read(|c| ingest::mark_stored_photos(&mut prepared, c))?;
        self.write_sync(|tx| {
            // Read as the writer: a dictionary imported meanwhile is the one this batch is placed by.
            let dict = self.dict_on(tx)?;
            let results = ingest::apply_batch(tx, self.settings(), &dict, ctx, &prepared)?;
            devices::note_sync(tx, ctx.device_id, ctx.now, ctx.backlog, ctx.dictionary_version)?;
            Ok(results)
        })
    }

    fn changes(&self, user: &User, cursor: Option<Cursor>, limit: usize) -> StoreResult<ChangePage> {
        let page =
            self.read(|c| changes::changes_page(c, &*self.dict_on(c)?, &self.settings().zone, user, cursor, limit))?;
        self.changes_read();
        Ok(page)
    }

    fn finding(&self, id: Uuid) -> StoreResult<Option<ReviewItem>> {
        let id = id.to_string();
        let items = self.read(|c| findings::review_items(c, self.settings(), "f.id = ?1", &[&id], 1, 0))?;
        Ok(items.into_iter().next())
    }

    fn review(
        &self,
        scope: &Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: Option<u32>,
        offset: u32,
    ) -> StoreResult<Vec<ReviewItem>> {
        let limit = limit.map_or(-1, i64::from);
        let (from, to) = (from.timestamp(), to.timestamp());
        let period = "f.observed_ts >= ?1 AND f.observed_ts < ?2";
        let (who, owner): (&str, Option<String>) = match scope {
            Scope::All => ("?3 IS NULL", None),
            // `=`, not `IS`: a user without a team sees no finding.
            Scope::Team(team) => ("f.team = ?3", team.clone()),
            Scope::Reporter(id) => ("f.reporter_id = ?3", Some(id.to_string())),
            // Findings have no department until they are cases.
            Scope::Department(_) => ("?3 IS NULL AND 1 = 0", None),
        };
        let filter = format!("{period} AND {who}");
        self.read(|c| findings::review_items(c, self.settings(), &filter, &[&from, &to, &owner], limit, offset))
    }

    fn finding_meta(&self, id: Uuid) -> StoreResult<Option<FindingMeta>> {
        self.read(|c| findings::finding_meta(c, id))
    }

    fn case_meta(&self, case_no: &str) -> StoreResult<Option<CaseMeta>> {
        self.read(|c| cases::case_meta(c, case_no))
    }

    fn review_finding(
        &self,
        actor: &User,
        id: Uuid,
        decision: &Decision,
        now: DateTime<Utc>,
    ) -> StoreResult<(ReviewItem, Option<CaseView>)> {
        let case_no = self.write(|tx| {
            let dict = self.dict_on(tx)?;
            review::review_finding(tx, self.settings(), &dict, actor, id, decision, now)
        })?;
        self.read(|c| {
            let item = findings::review_items(c, self.settings(), "f.id = ?1", &[&id.to_string()], -1, 0)?
                .pop()
                .ok_or_else(|| StoreError::corrupt("reviewed finding vanished"))?;
            let dict = self.dict_on(c)?;
            let case = case_no.map(|no| cases::case_view(c, self.settings(), &dict, &no, now)).transpose()?.flatten();
            Ok((item, case))
        })
    }

    fn cases(&self, filter: &CaseFilter, now: DateTime<Utc>) -> StoreResult<Vec<CaseView>> {
        self.read(|c| cases::cases(c, self.settings(), &*self.dict_on(c)?, filter, now))
    }

    fn case_detail(&self, case_no: &str, now: DateTime<Utc>) -> StoreResult<Option<CaseView>> {
        self.read(|c| cases::case_detail(c, self.settings(), &*self.dict_on(c)?, case_no, now))
    }

    fn case_action(
        &self,
        actor: &User,
        case_no: &str,
        input: &ActionInput,
        now: DateTime<Utc>,
    ) -> StoreResult<CaseView> {
        // Read as the writer: grids imported meanwhile are the ones the case was placed by.
        self.write(|tx| cases::case_action(tx, self.settings(), &*self.dict_on(tx)?, actor, case_no, input, now))?;
        case_after(self, case_no, now)
    }

    fn stat_events(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<StatEvent>> {
        self.read(|c| stats_facts::stat_events(c, &*self.dict_on(c)?, from, to))
    }

    fn devices(&self) -> StoreResult<Vec<DeviceView>> {
        self.read(|c| devices::devices(c, &self.settings().zone, None))
    }

    fn revoke_device(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<Option<DeviceView>> {
        self.write(|tx| {
            devices::revoke(tx, id, now)?;
            Ok(devices::devices(tx, &self.settings().zone, Some(id))?.pop())
        })
    }

    fn departments(&self) -> StoreResult<Vec<DepartmentView>> {
        self.read(|c| accounts::departments(c, self.dict_on(c)?.current.as_ref()))
    }

    fn task_case(&self, task_id: Uuid) -> StoreResult<Option<CaseMeta>> {
        self.read(|c| match tasks::task_case(c, task_id)? {
            Some(case_no) => cases::case_meta(c, &case_no),
            None => Ok(None),
        })
    }

    fn change_task(
        &self,
        actor: &User,
        task_id: Uuid,
        change: &TaskChange,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<CaseView> {
        let case_no = self.write(|tx| tasks::change_task(tx, self.settings(), actor, task_id, change, note, now))?;
        case_after(self, &case_no, now)
    }

    fn coverage(
        &self,
        scope: &Scope,
        by: CoverageBy,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<CoverageTallies> {
        let dict = self.read(|c| self.dict_on(c))?;
        let stale = self.read(|c| coverage::stale(c, &dict, from, to))?;
        if !stale.is_empty() {
            // Walking the tracks holds no writer; only keeping the result does, briefly.
            let computed = self.read(|c| coverage::compute(c, &dict, stale))?;
            self.write(|tx| coverage::keep(tx, &dict, computed))?;
        }
        self.read(|c| {
            Ok(CoverageTallies {
                walked: coverage::tallies(c, scope, by, from, to)?,
                findings: coverage::findings(c, scope, by, from, to)?,
            })
        })
    }

    fn heat_points(
        &self,
        scope: &Scope,
        filter: &HeatFilter,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<HeatPoint>> {
        self.read(|c| heat::points(c, scope, filter, from, to))
    }

    fn patrols(&self, scope: &Scope, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<PatrolView>> {
        self.read(|c| patrols::patrols(c, &self.settings().zone, &*self.dict_on(c)?, scope, from, to))
    }

    fn sync_health(&self, now: DateTime<Utc>) -> StoreResult<SyncHealth> {
        self.read(|c| sync_health::sync_health(c, &self.settings().zone, now))
    }

    fn campaigns(&self) -> StoreResult<Vec<Campaign>> {
        self.read(|c| campaigns::campaigns(c))
    }

    fn campaign(&self, id: &str) -> StoreResult<Option<Campaign>> {
        self.read(|c| campaigns::campaign(c, id))
    }

    fn save_campaign(&self, campaign: &Campaign, by: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        self.write(|tx| campaigns::save_campaign(tx, campaign, by, now))
    }

    fn receive_report(&self, actor: &User, input: &NewReport, now: DateTime<Utc>) -> StoreResult<(Report, bool)> {
        self.write(|tx| reports::receive_report(tx, self.settings(), &*self.dict_on(tx)?, actor, input, now))
    }

    fn report(&self, id: Uuid) -> StoreResult<Option<Report>> {
        self.read(|c| reports::report(c, &self.settings().zone, id))
    }

    fn reports(&self, filter: &ReportFilter) -> StoreResult<Vec<Report>> {
        self.read(|c| reports::reports(c, &self.settings().zone, filter))
    }

    fn create_task(&self, actor: &User, input: &NewTask, now: DateTime<Utc>) -> StoreResult<(TaskItem, bool)> {
        self.write(|tx| reports::create_task(tx, self.settings(), actor, input, now))
    }

    fn tasks(&self, filter: &TaskFilter) -> StoreResult<Vec<TaskItem>> {
        self.read(|c| reports::tasks(c, &self.settings().zone, filter))
    }

    fn basemaps(&self) -> StoreResult<Vec<Basemap>> {
        self.read(|c| basemaps::basemaps(c))
    }

    fn basemap(&self, name: &str) -> StoreResult<Option<Basemap>> {
        self.read(|c| basemaps::basemap(c, name))
    }

    fn save_basemap(&self, basemap: &Basemap) -> StoreResult<bool> {
        self.write(|tx| basemaps::save_basemap(tx, basemap))
    }

    fn delete_basemap(&self, name: &str) -> StoreResult<bool> {
        self.write(|tx| basemaps::delete_basemap(tx, name))
    }

    fn add_webhook(&self, hook: &NewWebhook, by: &str, now: DateTime<Utc>) -> StoreResult<Webhook> {
        self.write(|tx| webhooks::add(tx, &self.settings().zone, hook, by, now))
    }

    fn webhooks(&self) -> StoreResult<Vec<Webhook>> {
        self.read(|c| webhooks::all(c, &self.settings().zone))
    }

    fn webhook(&self, id: Uuid) -> StoreResult<Option<Webhook>> {
        self.read(|c| webhooks::one(c, &self.settings().zone, id))
    }

    fn remove_webhook(&self, id: Uuid) -> StoreResult<bool> {
        self.write(|tx| webhooks::remove(tx, id))
    }

    fn ping_webhook(&self, id: Uuid, by: &str, now: DateTime<Utc>) -> StoreResult<Option<i64>> {
        self.write(|tx| webhooks::ping(tx, id, by, now))
    }

    fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        claim: &Claim,
    ) -> StoreResult<Vec<DueDelivery>> {
        if !self.read(|c| webhooks::any_due(c, now))? {
            return Ok(Vec::new());
        }
        self.write(|tx| webhooks::claim(tx, now, lease, claim))
    }

    fn freeze_event_data(&self, event_id: Uuid, data: &serde_json::Value) -> StoreResult<serde_json::Value> {
        self.write(|tx| webhooks::freeze_data(tx, event_id, data))
    }

    fn record_attempt(
        &self,
        delivery: (i64, i64),
        outcome: &AttemptOutcome,
        next: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(|tx| webhooks::record_attempt(tx, delivery, outcome, next, now))
    }

    fn deliveries(&self, webhook: Uuid, state: Option<&str>, limit: u32) -> StoreResult<Vec<Delivery>> {
        self.read(|c| webhooks::deliveries(c, &self.settings().zone, webhook, state, limit))
    }

    fn delivery_webhook(&self, delivery: i64) -> StoreResult<Option<Uuid>> {
        self.read(|c| webhooks::delivery_webhook(c, delivery))
    }

    fn redeliver(&self, delivery: i64, now: DateTime<Utc>) -> StoreResult<bool> {
        self.write(|tx| webhooks::redeliver(tx, delivery, now))
    }

    fn notice_overdue(&self, now: DateTime<Utc>) -> StoreResult<usize> {
        if !self.read(|c| webhooks::any_overdue(c, now))? {
            return Ok(0);
        }
        self.write(|tx| webhooks::notice_overdue(tx, now))
    }

    fn export_findings(
        &self,
        scope: &Scope,
        filter: &ExportFilter,
        after: Option<(i64, String)>,
        limit: u32,
    ) -> StoreResult<Vec<ReviewItem>> {
        self.read(|c| exports::findings_page(c, self.settings(), scope, filter, after, limit))
    }

    fn export_cases(
        &self,
        scope: &Scope,
        filter: &ExportFilter,
        after: Option<(String, String)>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<CaseView>> {
        self.read(|c| cases::export_page(c, self.settings(), &*self.dict_on(c)?, scope, filter, after, limit, now))
    }

    fn export_count(&self, kind: ExportKind, scope: &Scope, filter: &ExportFilter) -> StoreResult<u64> {
        self.read(|c| match kind {
            ExportKind::Findings => exports::findings_count(c, scope, filter),
            ExportKind::Cases => cases::export_count(c, scope, filter),
        })
    }

    fn save_export(&self, user: Uuid, job: &ExportJob) -> StoreResult<()> {
        self.write(|tx| exports::save_job(tx, user, job, Utc::now()))
    }

    fn export_job(&self, id: Uuid) -> StoreResult<Option<(Uuid, ExportJob)>> {
        self.read(|c| exports::job(c, id))
    }

    fn export_jobs(&self, user: Option<Uuid>, limit: u32) -> StoreResult<Vec<ExportJob>> {
        self.read(|c| exports::jobs(c, user, limit))
    }

    fn interrupt_exports(&self, stale_before: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<Vec<Uuid>> {
        self.write(|tx| exports::interrupt(tx, stale_before, now))
    }

    fn expire_exports(&self, before: DateTime<Utc>) -> StoreResult<Vec<Uuid>> {
        self.write(|tx| exports::expire(tx, before))
    }

    fn inventory(&self) -> StoreResult<BTreeMap<String, i64>> {
        self.read(|c| inventory::inventory(c))
    }

    fn held_photos(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<BlobMeta>> {
        self.read(|c| blobs::held(c, after, limit))
    }
}
