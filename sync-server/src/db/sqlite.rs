//! The embedded backend: one SQLite file in WAL mode. Every commit is on disk before anything is answered from
//! it: at synchronous=FULL, or, for sync ingest, committed at NORMAL and flushed right after the write lock is
//! released (`write_then_flush`).
//!
//! Writes go through one connection (SQLite has one writer anyway); reads use a small pool so that the
//! console and token checks never wait behind an ingest batch. This file holds the connections and
//! transactions; the SQL of each concept is in the file named after it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use protocol::{Basemap, Campaign, ChangeBody, DeviceInfo, Dictionary, OpResult};
use rusqlite::{Connection, TransactionBehavior};
use uuid::Uuid;

use super::accounts::{self, DepartmentView, NewSession, NewUser, SecondFactor, TeamView, UserUpdate, UserView};
use super::audit::{self, AuditEntry, AuditFilter, AuditRecord};
use super::basemaps;
use super::blobs::{self, UploadState};
use super::campaigns;
use super::cases::{self, ActionInput, CaseFilter, CaseMeta, CaseView};
use super::changes::{self, ChangePage};
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
use super::sql::lock;
use super::store::{AccountStore, PhotoStore, Store};
use super::sync_health::{self, SyncHealth};
use super::tasks::{self, TaskChange};
use super::webhooks::{self, AttemptOutcome, Claim, Delivery, DueDelivery, Webhook};
use super::{schema, stats_facts};
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

const READERS: usize = 4;
/// The writer's page cache (KiB); readers keep SQLite's default.
const WRITER_CACHE_KIB: i64 = 128 * 1024;
/// Pages of write-ahead log after which a commit copies the log back into the database itself, when the
/// checkpointer has not (400 MB).
const FALLBACK_CHECKPOINT_PAGES: i64 = 50_000;
/// The least time between two checkpoints of the checkpointer.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// Starts the thread that copies the write-ahead log back into the database beside the writer: a passive
/// checkpoint (it waits for no reader or writer) after commits, at most every `CHECKPOINT_EVERY`. Each
/// checkpoint flushes the log before it copies and the database after, as SQLite's own do. A failed one is
/// reported and tried again after the next commit. Returns what the writer wakes it with after each commit.
fn checkpointer(conn: Connection) -> StoreResult<SyncSender<()>> {
    let (committed, commits) = std::sync::mpsc::sync_channel::<()>(1);
    std::thread::Builder::new().name("checkpoint".into()).spawn(move || {
        while commits.recv().is_ok() {
            let started = Instant::now();
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!("checkpoint of the write-ahead log failed: {e}");
            }
            // Commits meanwhile are one wake-up; the pause gathers the next ones into one checkpoint.
            std::thread::sleep(CHECKPOINT_EVERY.saturating_sub(started.elapsed()));
        }
    })?;
    Ok(committed)
}

pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    settings: EngineSettings,
    dict: RwLock<Arc<DictIndex>>,
    /// The write-ahead log, flushed by sync requests outside the write lock (`write_then_flush`). Opened once,
    /// so that a write-back error on it since the server started is reported to the flush.
    wal_path: PathBuf,
    wal: Option<std::fs::File>,
    /// Wakes the checkpointer after a commit; dropping it ends the checkpointer's thread.
    committed: SyncSender<()>,
}

fn open_connection(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(path)?;
    // WAL lets readers run beside the writer; FULL makes every commit survive a power cut, which the
    // contract demands before an `applied` answer is sent.
    // 8 KB pages: fewer page splits and log frames per finding than the default 4 KB (BENCHMARKS.md, about
    // 8 % more findings/s). It takes effect when the database file is created; an older file keeps its size.
    conn.pragma_update(None, "page_size", 8192)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

impl SqliteStore {
    /// Runs a sync's write transaction and returns once it is durable, holding the write lock only for the
    /// SQL: the transaction commits with synchronous=NORMAL (its frames are written to the log, not yet
    /// flushed), the lock is released, and the log is flushed with fdatasync before returning, while the
    /// next writer already runs.
    ///
    /// At NORMAL a commit is visible to readers before it is flushed, so this is only for sync ingest, whose
    /// every answer (`duplicate` ones included: they too flush after their own commit) and every changes page
    /// (`changes` flushes before it returns) wait for a flush that began after what they report was committed.
    /// Everything else, a photo's row included (HEAD answers from it without a flush), keeps synchronous=FULL,
    /// where SQLite flushes before the commit is visible. A checkpoint flushes the log before it copies pages,
    /// at NORMAL too.
    fn write_then_flush<T>(&self, work: impl FnOnce(&rusqlite::Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        /// Puts the writer back to FULL however the transaction ends, a panic included.
        struct BackToFull<'a>(&'a Connection);
        impl Drop for BackToFull<'_> {
            fn drop(&mut self) {
                if let Err(e) = self.0.pragma_update(None, "synchronous", "FULL") {
                    tracing::error!("the writer could not be set back to synchronous=FULL: {e}");
                    std::process::abort();
                }
            }
        }
        let out = {
            let conn = lock(&self.writer);
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            let _full = BackToFull(&conn);
            let tx = rusqlite::Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)?;
            let out = work(&tx)?;
            tx.commit()?;
            out
        };
        let _ = self.committed.try_send(());
        self.flush_log();
        Ok(out)
    }

    /// Makes every transaction committed so far durable: fdatasync of the write-ahead log. The log is only
    /// removed when the last connection closes, after a full checkpoint; then there is nothing to flush.
    ///
    /// A failed flush ends the process, as PostgreSQL does: the commits it should have made durable are
    /// already visible, and a later flush could succeed without them (Linux reports a write-back error once),
    /// so a `duplicate` answer could acknowledge an op that is not on disk. After a restart SQLite recovers
    /// from what the log really holds, and the devices send again whatever was not acknowledged.
    fn flush_log(&self) {
        let flushed = match &self.wal {
            Some(log) => log.sync_data(),
            None => match std::fs::File::open(&self.wal_path) {
                Ok(log) => log.sync_data(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e),
            },
        };
        if let Err(e) = flushed {
            tracing::error!(
                "flushing the write-ahead log failed ({e}); stopping so that nothing unflushed is acknowledged"
            );
            std::process::abort();
        }
    }
}

impl SqliteStore {
    /// Opens (creating and migrating when needed) the store in `dir/server.sqlite`.
    /// Writes a consistent copy of the store in `dir` to the new file `to` while the server may be running
    /// (one read transaction: everything committed before it began, nothing after), compacted.
    pub fn snapshot(dir: &Path, to: &Path) -> StoreResult<()> {
        let conn = Connection::open_with_flags(dir.join("server.sqlite"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        let target = to.to_str().ok_or_else(|| StoreError::internal("the backup's path is not UTF-8"))?;
        conn.execute("VACUUM INTO ?1", [target])?;
        Ok(())
    }

    pub fn open(dir: &Path, settings: EngineSettings) -> StoreResult<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("server.sqlite");
        let mut writer = open_connection(&path)?;
        // Foreign keys are off while the schema changes (V6 rebuilds tables others refer to, as SQLite
        // documents it); the migrations that need it check them before they commit.
        writer.pragma_update(None, "foreign_keys", "OFF")?;
        schema::migrations().to_latest(&mut writer)?;
        writer.pragma_update(None, "foreign_keys", "ON")?;
        // Ingest with random finding ids and a photo of each finding's own inserts into two indexes at random
        // places (the findings' ids, the photos' hashes). The writer keeps them in a page cache of its own,
        // and the log is copied back into the database by a thread of its own (`checkpointer`) at most five
        // times a second, so that a leaf page changed by many batches is written back once and no sync
        // waits for the copy (BENCHMARKS.md, "Ingest by id kind": 2.2 x the findings per second of SQLite's
        // default, a checkpoint by the committing writer every 1,000 pages; every 10,000 pages gave 2.1 x
        // but tripled the p99 latency at 20,000 findings/s offered, and checkpoints every 500 ms doubled it). Should that thread fall behind, the
        // writer copies the log itself once it reaches `FALLBACK_CHECKPOINT_PAGES`.
        writer.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        writer.pragma_update(None, "wal_autocheckpoint", FALLBACK_CHECKPOINT_PAGES)?;
        let committed = checkpointer(open_connection(&path)?)?;
        let index = dict::load(&writer)?;
        let readers = (0..READERS).map(|_| open_connection(&path).map(Mutex::new)).collect::<StoreResult<Vec<_>>>()?;
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            wal: std::fs::File::open(dir.join("server.sqlite-wal")).ok(),
            wal_path: dir.join("server.sqlite-wal"),
            readers,
            next_reader: AtomicUsize::new(0),
            settings,
            dict: RwLock::new(Arc::new(index)),
            committed,
        })
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        lock(&self.readers[i])
    }

    fn dict_index(&self) -> Arc<DictIndex> {
        self.dict.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn known_department(&self, code: &str) -> StoreResult<()> {
        let known = self.dict_index().current.as_ref().is_some_and(|d| d.departments.iter().any(|x| x.code == code));
        if known {
            Ok(())
        } else {
            Err(StoreError::invalid("department", format!("department `{code}` is not a code of the dictionary")))
        }
    }

    /// Runs `work` in one immediate transaction of the writer, at synchronous=FULL, and commits it.
    fn write<T>(&self, work: impl FnOnce(&rusqlite::Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = work(&tx)?;
        tx.commit()?;
        let _ = self.committed.try_send(());
        Ok(out)
    }

    /// The case as the console shows it after a change, read on the writer (so it sees the change).
    fn case_after(&self, case_no: &str, now: DateTime<Utc>) -> StoreResult<CaseView> {
        cases::case_detail(&lock(&self.writer), &self.settings, &self.dict_index(), case_no, now)?
            .ok_or_else(|| StoreError::corrupt("case vanished"))
    }
}

impl AccountStore for SqliteStore {
    fn add_user(&self, user: NewUser, now: DateTime<Utc>) -> StoreResult<User> {
        if let Some(dep) = &user.department {
            self.known_department(dep)?;
        }
        self.write(|tx| accounts::add_user(tx, user, now))
    }

    fn user_credentials(&self, username: &str) -> StoreResult<Option<(User, String)>> {
        accounts::credentials(&self.reader(), username)
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
        accounts::create_session(&lock(&self.writer), session, Utc::now())
    }

    fn end_session(&self, token_hash: &str) -> StoreResult<()> {
        accounts::end_session(&lock(&self.writer), token_hash)
    }

    fn principal_by_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<Principal>> {
        accounts::principal_by_token(&self.reader(), token_hash, now)
    }

    fn second_factor(&self, user_id: Uuid) -> StoreResult<SecondFactor> {
        accounts::second_factor(&self.reader(), user_id)
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
        accounts::take_second_factor_step(&lock(&self.writer), user_id, step)
    }

    fn device_public_key(&self, device_id: Uuid) -> StoreResult<Option<String>> {
        devices::public_key(&self.reader(), device_id)
    }

    fn device_keys(&self, device_id: &str) -> StoreResult<Vec<String>> {
        devices::keys(&self.reader(), device_id)
    }

    fn setting_or_insert(&self, key: &str, value: &str) -> StoreResult<String> {
        self.write(|tx| {
            tx.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)", [key, value])?;
            Ok(tx.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))?)
        })
    }

    fn users(&self) -> StoreResult<Vec<UserView>> {
        accounts::users(&self.reader())
    }

    fn update_user(&self, username: &str, update: UserUpdate, now: DateTime<Utc>) -> StoreResult<Option<UserView>> {
        if let Some(Some(dep)) = &update.department {
            self.known_department(dep)?;
        }
        self.write(|tx| accounts::update_user(tx, username, &update, now))
    }

    fn teams(&self) -> StoreResult<Vec<TeamView>> {
        accounts::teams(&self.reader(), &self.settings.zone)
    }

    fn add_team(&self, name: &str, now: DateTime<Utc>) -> StoreResult<TeamView> {
        if !accounts::add_team(&lock(&self.writer), name, now)? {
            return Err(StoreError::conflict(format!("team `{name}` exists already")));
        }
        Ok(TeamView { name: name.to_owned(), members: 0, created_at: Some(self.settings.zone.at(now)) })
    }

    fn user_team(&self, username: &str) -> StoreResult<Option<Option<String>>> {
        reports::user_team(&self.reader(), username)
    }

    fn audit(&self, entry: &AuditEntry, now: DateTime<Utc>) -> StoreResult<()> {
        self.write(|tx| audit::record(tx, entry, now))
    }

    fn audit_log(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        audit::entries(&self.reader(), &self.settings.zone, filter)
    }

    fn add_integration_token(
        &self,
        name: &str,
        username: &str,
        token_hash: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<IntegrationToken>> {
        self.write(|tx| integrations::add(tx, &self.settings.zone, name, username, token_hash, by, now))
    }

    fn integration_tokens(&self) -> StoreResult<Vec<IntegrationToken>> {
        integrations::all(&self.reader(), &self.settings.zone)
    }

    fn revoke_integration_token(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
        self.write(|tx| integrations::revoke(tx, id, now))
    }
}

impl PhotoStore for SqliteStore {
    fn blob(&self, sha256: &str) -> StoreResult<Option<BlobMeta>> {
        blobs::blob(&self.reader(), sha256)
    }

    fn record_blobs(&self, rows: &[(BlobMeta, Uuid)], now: DateTime<Utc>) -> StoreResult<Vec<bool>> {
        // One commit (one flush) for the photos' rows and the end of their uploads. At FULL: HEAD answers from
        // these rows without flushing, so they must not be visible before they are on disk.
        self.write(|tx| blobs::record_blobs(tx, rows, now))
    }

    fn upload(&self, sha256: &str) -> StoreResult<Option<UploadState>> {
        blobs::upload(&self.reader(), sha256)
    }

    fn begin_upload(&self, sha256: &str, length: u64, by: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        blobs::begin_upload(&lock(&self.writer), sha256, length, by, now)
    }

    fn end_upload(&self, sha256: &str) -> StoreResult<()> {
        blobs::end_upload(&lock(&self.writer), sha256)
    }
}

impl Store for SqliteStore {
    fn keep_signed_ops(&self, ops: &[SignedOp], now: DateTime<Utc>) -> StoreResult<()> {
        if ops.is_empty() {
            return Ok(());
        }
        self.write(|tx| evidence::keep(tx, ops, now))
    }

    fn signed_op_creating(&self, entity_id: &str) -> StoreResult<Option<SignedOp>> {
        evidence::creating(&self.reader(), entity_id)
    }

    fn signed_op_before(&self, device_id: &str, seq: u64) -> StoreResult<Option<SignedOp>> {
        evidence::previous(&self.reader(), device_id, seq)
    }

    fn dictionary(&self) -> StoreResult<Option<Dictionary>> {
        Ok(self.dict_index().current.clone())
    }

    fn import_dictionary(&self, dictionary: Dictionary, now: DateTime<Utc>) -> StoreResult<i64> {
        check_dictionary(&dictionary)?;
        // The new index is in force before the writer is let go, so that no batch written after this version
        // places its findings by the grids before it.
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stored = dict::insert_version(&tx, dictionary, now)?;
        changes::insert_change(&tx, None, None, &ChangeBody::Dictionary(stored.clone()), now)?;
        let before = self.dict_index();
        let index = Arc::new(before.with(&stored, now));
        if before.current.as_ref().map(|d| &d.grids) != Some(&stored.grids) {
            let (findings, cases) = grids::regrid(&tx, &index)?;
            tracing::info!(version = stored.version, findings, cases, "grids changed: records placed again");
        }
        *self.dict.write().unwrap_or_else(|e| e.into_inner()) = index;
        if let Err(e) = tx.commit() {
            *self.dict.write().unwrap_or_else(|e| e.into_inner()) = before;
            return Err(e.into());
        }
        let _ = self.committed.try_send(());
        Ok(stored.version)
    }

    fn photos_to_purge(&self, closed_before: DateTime<Utc>, limit: usize) -> StoreResult<Vec<BlobMeta>> {
        blobs::photos_to_purge(&self.reader(), closed_before, limit)
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
        blobs::photo_use(&self.reader(), sha256, user)
    }

    fn category_check(&self) -> Box<dyn Fn(&str) -> bool + Send> {
        let dict = self.dict_index();
        Box::new(move |code| dict.categories.contains_key(code))
    }

    fn apply_ops(&self, ctx: &SyncContext<'_>, mut prepared: Vec<PreparedOp>) -> StoreResult<Vec<OpResult>> {
        // One transaction per request, flushed before the answer. (Committing concurrent requests together
        // was measured and lost: the flush is cheap next to the work per op, and every answer of a group
        // waits for the whole group.) What needs no database is done before the write lock, in parallel
        // with other requests, and the flush after it.
        ingest::mark_stored_photos(&mut prepared, &self.reader())?;
        self.write_then_flush(|tx| {
            // Read under the writer lock: a dictionary imported meanwhile is the one this batch is placed by.
            let dict = self.dict_index();
            let results = ingest::apply_batch(tx, &self.settings, &dict, ctx, &prepared)?;
            devices::note_sync(tx, ctx.device_id, ctx.now, ctx.backlog, ctx.dictionary_version)?;
            Ok(results)
        })
    }

    fn changes(&self, user: &User, cursor: Option<Cursor>, limit: usize) -> StoreResult<ChangePage> {
        let page = changes::changes_page(&self.reader(), &self.dict_index(), &self.settings.zone, user, cursor, limit)?;
        // A change read here may come from a sync whose log flush (outside the write lock) has not ended yet:
        // it is flushed before it can be sent.
        self.flush_log();
        Ok(page)
    }

    fn finding(&self, id: Uuid) -> StoreResult<Option<ReviewItem>> {
        let id = id.to_string();
        let items = findings::review_items(&self.reader(), &self.settings, "f.id = ?1", &[&id], 1, 0)?;
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
        let conn = self.reader();
        let limit = limit.map(i64::from).unwrap_or(-1);
        let (from, to) = (from.timestamp(), to.timestamp());
        let period = "f.observed_ts >= ?1 AND f.observed_ts < ?2";
        let (who, owner): (&str, Option<String>) = match scope {
            Scope::All => ("?3 IS NULL", None),
            // `=`, not `IS`: a user without a team sees no finding.
            Scope::Team(team) => ("f.team = ?3", team.clone()),
            Scope::Reporter(id) => ("f.reporter_id = ?3", Some(id.to_string())),
            // Findings have no department until they are cases.
            Scope::Department(_) => ("?3 IS NULL AND 0", None),
        };
        let filter = format!("{period} AND {who}");
        findings::review_items(&conn, &self.settings, &filter, &[&from, &to, &owner], limit, offset)
    }

    fn finding_meta(&self, id: Uuid) -> StoreResult<Option<FindingMeta>> {
        findings::finding_meta(&self.reader(), id)
    }

    fn case_meta(&self, case_no: &str) -> StoreResult<Option<CaseMeta>> {
        cases::case_meta(&self.reader(), case_no)
    }

    fn review_finding(
        &self,
        actor: &User,
        id: Uuid,
        decision: &Decision,
        now: DateTime<Utc>,
    ) -> StoreResult<(ReviewItem, Option<CaseView>)> {
        let case_no =
            self.write(|tx| review::review_finding(tx, &self.settings, &self.dict_index(), actor, id, decision, now))?;
        let dict = self.dict_index();
        let conn = lock(&self.writer);
        let item = findings::review_items(&conn, &self.settings, "f.id = ?1", &[&id.to_string()], -1, 0)?
            .pop()
            .ok_or_else(|| StoreError::corrupt("reviewed finding vanished"))?;
        let case = case_no.map(|no| cases::case_view(&conn, &self.settings, &dict, &no, now)).transpose()?.flatten();
        Ok((item, case))
    }

    fn cases(&self, filter: &CaseFilter, now: DateTime<Utc>) -> StoreResult<Vec<CaseView>> {
        cases::cases(&self.reader(), &self.settings, &self.dict_index(), filter, now)
    }

    fn case_detail(&self, case_no: &str, now: DateTime<Utc>) -> StoreResult<Option<CaseView>> {
        cases::case_detail(&self.reader(), &self.settings, &self.dict_index(), case_no, now)
    }

    fn case_action(
        &self,
        actor: &User,
        case_no: &str,
        input: &ActionInput,
        now: DateTime<Utc>,
    ) -> StoreResult<CaseView> {
        // Read under the writer lock: grids imported meanwhile are the ones the case was placed by.
        self.write(|tx| cases::case_action(tx, &self.settings, &self.dict_index(), actor, case_no, input, now))?;
        self.case_after(case_no, now)
    }

    fn stat_events(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<StatEvent>> {
        stats_facts::stat_events(&self.reader(), &self.dict_index(), from, to)
    }

    fn devices(&self) -> StoreResult<Vec<DeviceView>> {
        devices::devices(&self.reader(), &self.settings.zone, None)
    }

    fn revoke_device(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<Option<DeviceView>> {
        let conn = lock(&self.writer);
        devices::revoke(&conn, id, now)?;
        Ok(devices::devices(&conn, &self.settings.zone, Some(id))?.pop())
    }

    fn departments(&self) -> StoreResult<Vec<DepartmentView>> {
        let dict = self.dict_index();
        accounts::departments(&self.reader(), dict.current.as_ref())
    }

    fn task_case(&self, task_id: Uuid) -> StoreResult<Option<CaseMeta>> {
        let conn = self.reader();
        match tasks::task_case(&conn, task_id)? {
            Some(case_no) => cases::case_meta(&conn, &case_no),
            None => Ok(None),
        }
    }

    fn change_task(
        &self,
        actor: &User,
        task_id: Uuid,
        change: &TaskChange,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<CaseView> {
        let case_no = self.write(|tx| tasks::change_task(tx, &self.settings, actor, task_id, change, note, now))?;
        self.case_after(&case_no, now)
    }

    fn coverage(
        &self,
        scope: &Scope,
        by: CoverageBy,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<CoverageTallies> {
        let dict = self.dict_index();
        let stale = coverage::stale(&self.reader(), &dict, from, to)?;
        if !stale.is_empty() {
            // Walking the tracks holds no lock; only keeping the result takes the writer, briefly.
            let computed = coverage::compute(&self.reader(), &dict, stale)?;
            self.write(|tx| coverage::keep(tx, &dict, computed))?;
        }
        let reader = self.reader();
        Ok(CoverageTallies {
            walked: coverage::tallies(&reader, scope, by, from, to)?,
            findings: coverage::findings(&reader, scope, by, from, to)?,
        })
    }

    fn heat_points(
        &self,
        scope: &Scope,
        filter: &HeatFilter,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<HeatPoint>> {
        heat::points(&self.reader(), scope, filter, from, to)
    }

    fn patrols(&self, scope: &Scope, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<PatrolView>> {
        let dict = self.dict_index();
        patrols::patrols(&self.reader(), &self.settings.zone, &dict, scope, from, to)
    }

    fn sync_health(&self, now: DateTime<Utc>) -> StoreResult<SyncHealth> {
        sync_health::sync_health(&self.reader(), &self.settings.zone, now)
    }

    fn campaigns(&self) -> StoreResult<Vec<Campaign>> {
        campaigns::campaigns(&self.reader())
    }

    fn campaign(&self, id: &str) -> StoreResult<Option<Campaign>> {
        campaigns::campaign(&self.reader(), id)
    }

    fn save_campaign(&self, campaign: &Campaign, by: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        self.write(|tx| campaigns::save_campaign(tx, campaign, by, now))
    }

    fn receive_report(&self, actor: &User, input: &NewReport, now: DateTime<Utc>) -> StoreResult<(Report, bool)> {
        self.write(|tx| reports::receive_report(tx, &self.settings, &self.dict_index(), actor, input, now))
    }

    fn report(&self, id: Uuid) -> StoreResult<Option<Report>> {
        reports::report(&self.reader(), &self.settings.zone, id)
    }

    fn reports(&self, filter: &ReportFilter) -> StoreResult<Vec<Report>> {
        reports::reports(&self.reader(), &self.settings.zone, filter)
    }

    fn create_task(&self, actor: &User, input: &NewTask, now: DateTime<Utc>) -> StoreResult<(TaskItem, bool)> {
        self.write(|tx| reports::create_task(tx, &self.settings, actor, input, now))
    }

    fn tasks(&self, filter: &TaskFilter) -> StoreResult<Vec<TaskItem>> {
        reports::tasks(&self.reader(), &self.settings.zone, filter)
    }

    fn basemaps(&self) -> StoreResult<Vec<Basemap>> {
        basemaps::basemaps(&self.reader())
    }

    fn basemap(&self, name: &str) -> StoreResult<Option<Basemap>> {
        basemaps::basemap(&self.reader(), name)
    }

    fn save_basemap(&self, basemap: &Basemap) -> StoreResult<bool> {
        self.write(|tx| basemaps::save_basemap(tx, basemap))
    }

    fn delete_basemap(&self, name: &str) -> StoreResult<bool> {
        self.write(|tx| basemaps::delete_basemap(tx, name))
    }

    fn add_webhook(&self, hook: &NewWebhook, by: &str, now: DateTime<Utc>) -> StoreResult<Webhook> {
        self.write(|tx| webhooks::add(tx, &self.settings.zone, hook, by, now))
    }

    fn webhooks(&self) -> StoreResult<Vec<Webhook>> {
        webhooks::all(&self.reader(), &self.settings.zone)
    }

    fn webhook(&self, id: Uuid) -> StoreResult<Option<Webhook>> {
        webhooks::one(&self.reader(), &self.settings.zone, id)
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
        if !webhooks::any_due(&self.reader(), now)? {
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
        webhooks::deliveries(&self.reader(), &self.settings.zone, webhook, state, limit)
    }

    fn delivery_webhook(&self, delivery: i64) -> StoreResult<Option<Uuid>> {
        webhooks::delivery_webhook(&self.reader(), delivery)
    }

    fn redeliver(&self, delivery: i64, now: DateTime<Utc>) -> StoreResult<bool> {
        self.write(|tx| webhooks::redeliver(tx, delivery, now))
    }

    fn export_findings(
        &self,
        scope: &Scope,
        filter: &ExportFilter,
        after: Option<(i64, String)>,
        limit: u32,
    ) -> StoreResult<Vec<ReviewItem>> {
        exports::findings_page(&self.reader(), &self.settings, scope, filter, after, limit)
    }

    fn export_cases(
        &self,
        scope: &Scope,
        filter: &ExportFilter,
        after: Option<(String, String)>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<CaseView>> {
        cases::export_page(&self.reader(), &self.settings, &self.dict_index(), scope, filter, after, limit, now)
    }

    fn export_count(&self, kind: ExportKind, scope: &Scope, filter: &ExportFilter) -> StoreResult<u64> {
        match kind {
            ExportKind::Findings => exports::findings_count(&self.reader(), scope, filter),
            ExportKind::Cases => cases::export_count(&self.reader(), scope, filter),
        }
    }

    fn save_export(&self, user: Uuid, job: &ExportJob) -> StoreResult<()> {
        self.write(|tx| exports::save_job(tx, user, job))
    }

    fn export_job(&self, id: Uuid) -> StoreResult<Option<(Uuid, ExportJob)>> {
        exports::job(&self.reader(), id)
    }

    fn export_jobs(&self, user: Option<Uuid>, limit: u32) -> StoreResult<Vec<ExportJob>> {
        exports::jobs(&self.reader(), user, limit)
    }

    fn interrupt_exports(&self, now: DateTime<Utc>) -> StoreResult<Vec<Uuid>> {
        self.write(|tx| exports::interrupt(tx, now))
    }

    fn expire_exports(&self, before: DateTime<Utc>) -> StoreResult<Vec<Uuid>> {
        self.write(|tx| exports::expire(tx, before))
    }

    fn inventory(&self) -> StoreResult<std::collections::BTreeMap<String, i64>> {
        inventory::inventory(&self.reader())
    }

    fn held_photos(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<BlobMeta>> {
        blobs::held(&self.reader(), after, limit)
    }

    fn notice_overdue(&self, now: DateTime<Utc>) -> StoreResult<usize> {
        if !webhooks::any_overdue(&self.reader(), now)? {
            return Ok(0);
        }
        self.write(|tx| webhooks::notice_overdue(tx, now))
    }
}
