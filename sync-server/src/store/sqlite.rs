//! The embedded backend: one SQLite file in WAL mode. Every commit is on disk before anything is answered from
//! it: at synchronous=FULL, or, for sync ingest, committed at NORMAL and flushed right after the write lock is
//! released (`write_then_flush`).
//!
//! Writes go through one connection (SQLite has one writer anyway); reads use a small pool so that the
//! console and token checks never wait behind an ingest batch.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use chrono::{DateTime, SecondsFormat, Utc};
use protocol::{Category, ChangeBody, DeviceInfo, Dictionary, OpEnvelopeRaw, OpResult, Role};
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{
    ActionInput, BlobMeta, CaseFilter, CaseMeta, CaseView, ChangePage, Cursor, Decision, DepartmentView, DeviceView,
    EngineSettings, FindingMeta, NewUser, PackPlace, PatrolView, RegisterOutcome, ReviewItem, Scope, StatEvent, Store,
    SyncContext, SyncHealth, TaskChange, TeamView, UploadState, UserUpdate, UserView,
};
use super::{admin, cases, ingest};
use crate::auth::{Principal, User};
use crate::error::{AppError, AppResult};

const READERS: usize = 4;

/// The dictionary in memory: the newest version, and every category code any version ever had.
#[derive(Debug, Default)]
pub(super) struct DictIndex {
    pub current: Option<Dictionary>,
    /// When the current version was imported: the `at` of its change.
    pub current_at: Option<DateTime<Utc>>,
    /// Code → (version it was last defined in, its definition there).
    pub categories: HashMap<String, (i64, Category)>,
}

impl DictIndex {
    /// The department for a case: a route override of the current dictionary, else `None`.
    pub fn route(&self, category: &str, road: Option<&str>, grid: Option<&str>) -> Option<String> {
        self.current.as_ref()?.route(category, road, grid).map(str::to_owned)
    }

    fn add(&mut self, d: &Dictionary, at: DateTime<Utc>) {
        for c in &d.categories {
            let newer = self.categories.get(&c.code).is_none_or(|(v, _)| *v <= d.version);
            if newer {
                self.categories.insert(c.code.clone(), (d.version, c.clone()));
            }
        }
        if self.current.as_ref().is_none_or(|cur| cur.version <= d.version) {
            self.current = Some(d.clone());
            self.current_at = Some(at);
        }
    }
}

pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    pub(super) settings: EngineSettings,
    pub(super) dict: RwLock<Arc<DictIndex>>,
    secret: Vec<u8>,
    /// The write-ahead log, flushed by sync requests outside the write lock (`write_then_flush`). Opened once,
    /// so that a write-back error on it since the server started is reported to the flush.
    wal_path: PathBuf,
    wal: Option<std::fs::File>,
}

pub(super) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(super) fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

fn open_connection(path: &Path) -> AppResult<Connection> {
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
    fn write_then_flush<T>(&self, work: impl FnOnce(&rusqlite::Transaction<'_>) -> AppResult<T>) -> AppResult<T> {
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

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock leaves SQLite consistent (the transaction rolls back on drop).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(super) fn row_user(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<User> {
    let id: String = row.get(first)?;
    let role: String = row.get(first + 3)?;
    Ok(User {
        id: Uuid::parse_str(&id).unwrap_or_default(),
        username: row.get(first + 1)?,
        display_name: row.get(first + 2)?,
        role: Role::parse(&role).unwrap_or(Role::Inspector),
        team: row.get(first + 4)?,
        department: row.get(first + 5)?,
    })
}

pub(super) const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.role, u.team, u.department";

impl SqliteStore {
    /// Opens (creating and migrating when needed) the store in `dir/server.sqlite`.
    pub fn open(dir: &Path, settings: EngineSettings) -> AppResult<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("server.sqlite");
        let mut writer = open_connection(&path)?;
        super::schema::migrations().to_latest(&mut writer)?;
        let secret = match writer
            .query_row("SELECT value FROM meta WHERE key = 'cursor_secret'", [], |r| r.get::<_, String>(0))
            .optional()?
        {
            Some(hexed) => hex::decode(hexed).map_err(|e| AppError::internal(e.to_string()))?,
            None => {
                let mut b = vec![0u8; 32];
                rand::rng().fill_bytes(&mut b);
                writer.execute("INSERT INTO meta (key, value) VALUES ('cursor_secret', ?1)", [hex::encode(&b)])?;
                b
            }
        };
        let mut index = DictIndex::default();
        {
            let mut stmt = writer.prepare("SELECT body, imported_at FROM dictionary_versions ORDER BY version")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (body, at) = row?;
                let d: Dictionary = serde_json::from_str(&body).map_err(|e| AppError::internal(e.to_string()))?;
                index.add(&d, parse_ts(&at).unwrap_or_default());
            }
        }
        let readers = (0..READERS).map(|_| open_connection(&path).map(Mutex::new)).collect::<AppResult<Vec<_>>>()?;
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            wal: std::fs::File::open(dir.join("server.sqlite-wal")).ok(),
            wal_path: dir.join("server.sqlite-wal"),
            readers,
            next_reader: AtomicUsize::new(0),
            settings,
            dict: RwLock::new(Arc::new(index)),
            secret,
        })
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        lock(&self.readers[i])
    }

    pub(super) fn dict_index(&self) -> Arc<DictIndex> {
        self.dict.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn known_department(&self, code: &str) -> AppResult<()> {
        let known = self.dict_index().current.as_ref().is_some_and(|d| d.departments.iter().any(|x| x.code == code));
        if known {
            Ok(())
        } else {
            Err(AppError::invalid("department", format!("department `{code}` is not a code of the dictionary")))
        }
    }

    fn user_by(&self, conn: &Connection, column: &str, value: &str) -> AppResult<Option<(User, String)>> {
        let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.{column} = ?1 AND u.active = 1");
        Ok(conn.query_row(&sql, [value], |r| Ok((row_user(r, 0)?, r.get::<_, String>(6)?))).optional()?)
    }
}

impl Store for SqliteStore {
    fn add_user(&self, user: NewUser, now: DateTime<Utc>) -> AppResult<User> {
        if let Some(dep) = &user.department {
            self.known_department(dep)?;
        }
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(team) = &user.team {
            tx.execute("INSERT OR IGNORE INTO teams (name, created_at) VALUES (?1, ?2)", params![team, ts(now)])?;
        }
        let exists: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM users WHERE username = ?1)", [&user.username], |r| r.get(0))?;
        if exists {
            return Err(AppError::conflict(format!("user `{}` exists already", user.username)));
        }
        let id = Uuid::now_v7();
        tx.execute(
            "INSERT INTO users (id, username, password_hash, display_name, role, team, department, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id.to_string(),
                user.username,
                user.password_hash,
                user.display_name,
                user.role.as_str(),
                user.team,
                user.department,
                ts(now)
            ],
        )?;
        tx.commit()?;
        Ok(User {
            id,
            username: user.username,
            display_name: user.display_name,
            role: user.role,
            team: user.team,
            department: user.department,
        })
    }

    fn user_credentials(&self, username: &str) -> AppResult<Option<(User, String)>> {
        self.user_by(&self.reader(), "username", username)
    }

    fn register_device(
        &self,
        user: &User,
        device: &DeviceInfo,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> AppResult<RegisterOutcome> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing: Option<(String, Option<String>)> = tx
            .query_row("SELECT user_id, revoked_at FROM devices WHERE id = ?1", [device.id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        match existing {
            Some((owner, _)) if owner != user.id.to_string() => {
                return Ok(RegisterOutcome::OtherUser);
            }
            Some((_, Some(_))) => return Ok(RegisterOutcome::Revoked),
            Some(_) => {
                tx.execute(
                    "UPDATE devices SET name = ?2, platform = ?3, app_version = ?4, token_hash = ?5, registered_at = ?6 WHERE id = ?1",
                    params![device.id.to_string(), device.name, device.platform, device.app_version, token_hash, ts(now)],
                )?;
            }
            None => {
                tx.execute(
                    "INSERT INTO devices (id, user_id, name, platform, app_version, token_hash, registered_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        device.id.to_string(),
                        user.id.to_string(),
                        device.name,
                        device.platform,
                        device.app_version,
                        token_hash,
                        ts(now)
                    ],
                )?;
            }
        }
        tx.commit()?;
        Ok(RegisterOutcome::Registered)
    }

    fn create_session(&self, user_id: Uuid, token_hash: &str, expires_at: DateTime<Utc>) -> AppResult<()> {
        let conn = lock(&self.writer);
        conn.execute(
            "INSERT INTO sessions (token_hash, user_id, expires_ts) VALUES (?1, ?2, ?3)",
            params![token_hash, user_id.to_string(), expires_at.timestamp()],
        )?;
        conn.execute("DELETE FROM sessions WHERE expires_ts < ?1", [Utc::now().timestamp()])?;
        Ok(())
    }

    fn end_session(&self, token_hash: &str) -> AppResult<()> {
        lock(&self.writer).execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
        Ok(())
    }

    fn principal_by_token(&self, token_hash: &str, now: DateTime<Utc>) -> AppResult<Option<Principal>> {
        // Every request asks this, so the statements are kept prepared.
        let conn = self.reader();
        let device = conn
            .prepare_cached(&format!(
                "SELECT {USER_COLUMNS}, d.id FROM devices d JOIN users u ON u.id = d.user_id
                 WHERE d.token_hash = ?1 AND d.revoked_at IS NULL AND u.active = 1"
            ))?
            .query_row([token_hash], |r| Ok((row_user(r, 0)?, r.get::<_, String>(6)?)))
            .optional()?;
        if let Some((user, device_id)) = device {
            return Ok(Some(Principal { user, device_id: Uuid::parse_str(&device_id).ok() }));
        }
        let session = conn
            .prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1 AND s.expires_ts > ?2 AND u.active = 1"
            ))?
            .query_row(params![token_hash, now.timestamp()], |r| row_user(r, 0))
            .optional()?;
        Ok(session.map(|user| Principal { user, device_id: None }))
    }

    fn dictionary(&self) -> AppResult<Option<Dictionary>> {
        Ok(self.dict_index().current.clone())
    }

    fn import_dictionary(&self, mut dictionary: Dictionary, now: DateTime<Utc>) -> AppResult<i64> {
        dictionary.validate()?;
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let latest: Option<i64> = tx.query_row("SELECT MAX(version) FROM dictionary_versions", [], |r| r.get(0))?;
        if let Some(v) = latest {
            dictionary.version = dictionary.version.max(v + 1);
        }
        let body = serde_json::to_string(&dictionary).map_err(|e| AppError::internal(e.to_string()))?;
        tx.execute(
            "INSERT INTO dictionary_versions (version, body, imported_at) VALUES (?1, ?2, ?3)",
            params![dictionary.version, body, ts(now)],
        )?;
        ingest::insert_change(&tx, None, None, &ChangeBody::Dictionary(dictionary.clone()), now)?;
        tx.commit()?;
        let mut guard = self.dict.write().unwrap_or_else(|e| e.into_inner());
        let mut index = DictIndex {
            current: guard.current.clone(),
            current_at: guard.current_at,
            categories: guard.categories.clone(),
        };
        index.add(&dictionary, now);
        *guard = Arc::new(index);
        Ok(dictionary.version)
    }

    fn blob(&self, sha256: &str) -> AppResult<Option<BlobMeta>> {
        Ok(self
            .reader()
            .prepare_cached("SELECT bytes, content_type, pack, pack_offset FROM blobs WHERE sha256 = ?1")?
            .query_row([sha256], |r| {
                let packed = match (r.get::<_, Option<i64>>(2)?, r.get::<_, Option<i64>>(3)?) {
                    (Some(pack), Some(offset)) => Some(PackPlace { pack: pack as u32, offset: offset as u64 }),
                    _ => None,
                };
                Ok(BlobMeta {
                    sha256: sha256.to_owned(),
                    bytes: r.get::<_, i64>(0)? as u64,
                    content_type: r.get(1)?,
                    packed,
                })
            })
            .optional()?)
    }

    fn record_blobs(&self, blobs: &[(BlobMeta, Uuid)], now: DateTime<Utc>) -> AppResult<Vec<bool>> {
        // One commit (one flush) for the blobs' rows and the end of their uploads. At FULL: HEAD answers from
        // these rows without flushing, so they must not be visible before they are on disk.
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut created = Vec::with_capacity(blobs.len());
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO blobs (sha256, bytes, content_type, uploaded_by, created_at, pack, pack_offset) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            let mut end_upload = tx.prepare_cached("DELETE FROM uploads WHERE sha256 = ?1")?;
            let at = ts(now);
            for (meta, uploader) in blobs {
                let n = insert.execute(params![
                    meta.sha256,
                    meta.bytes as i64,
                    meta.content_type,
                    uploader.to_string(),
                    at,
                    meta.packed.map(|p| i64::from(p.pack)),
                    meta.packed.map(|p| p.offset as i64),
                ])?;
                end_upload.execute([&meta.sha256])?;
                created.push(n == 1);
            }
        }
        tx.commit()?;
        Ok(created)
    }

    fn upload(&self, sha256: &str) -> AppResult<Option<UploadState>> {
        Ok(self
            .reader()
            .query_row("SELECT length, started_by FROM uploads WHERE sha256 = ?1", [sha256], |r| {
                Ok(UploadState {
                    sha256: sha256.to_owned(),
                    length: r.get::<_, i64>(0)? as u64,
                    started_by: Uuid::parse_str(&r.get::<_, String>(1)?).unwrap_or_default(),
                })
            })
            .optional()?)
    }

    fn begin_upload(&self, sha256: &str, length: u64, by: Uuid, now: DateTime<Utc>) -> AppResult<()> {
        lock(&self.writer).execute(
            "INSERT OR REPLACE INTO uploads (sha256, length, started_by, started_at) VALUES (?1, ?2, ?3, ?4)",
            params![sha256, length as i64, by.to_string(), ts(now)],
        )?;
        Ok(())
    }

    fn end_upload(&self, sha256: &str) -> AppResult<()> {
        lock(&self.writer).execute("DELETE FROM uploads WHERE sha256 = ?1", [sha256])?;
        Ok(())
    }

    fn may_read_blob(&self, sha256: &str, principal: &Principal) -> AppResult<bool> {
        let conn = self.reader();
        let uploader: Option<String> =
            conn.query_row("SELECT uploaded_by FROM blobs WHERE sha256 = ?1", [sha256], |r| r.get(0)).optional()?;
        let Some(uploader) = uploader else {
            return Ok(false);
        };
        if uploader == principal.user.id.to_string() {
            return Ok(true);
        }
        let user = &principal.user;
        // Photos of findings, and photos attached to a case's history (handling) or a task's result.
        let case_photo = "SELECT c.case_no, c.team, c.department, c.reporter_id FROM cases c WHERE c.case_no IN
             (SELECT f.case_no FROM finding_photos p JOIN findings f ON f.id = p.finding_id WHERE p.sha256 = ?1
              UNION SELECT h.case_no FROM case_history h WHERE h.photos LIKE '%' || ?1 || '%')";
        let mut stmt = conn.prepare_cached(case_photo)?;
        let cases = stmt
            .query_map([sha256], |r| {
                Ok((r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?, r.get::<_, String>(3)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let in_case = cases.iter().any(|(team, department, reporter)| match user.role {
            Role::Admin | Role::Dispatcher => true,
            Role::Chief => user.team.is_some() && *team == user.team,
            Role::Department => user.department.is_some() && *department == user.department,
            Role::Inspector => *reporter == user.id.to_string(),
        });
        let visible = in_case
            || match user.role {
                Role::Admin | Role::Dispatcher => {
                    conn.query_row("SELECT EXISTS (SELECT 1 FROM finding_photos WHERE sha256 = ?1)", [sha256], |r| {
                        r.get(0)
                    })?
                }
                Role::Chief => conn.query_row(
                    "SELECT EXISTS (SELECT 1 FROM finding_photos p JOIN findings f ON f.id = p.finding_id
                     WHERE p.sha256 = ?1 AND f.team IS ?2)",
                    params![sha256, user.team],
                    |r| r.get(0),
                )?,
                Role::Inspector => conn.query_row(
                    "SELECT EXISTS (SELECT 1 FROM finding_photos p JOIN findings f ON f.id = p.finding_id
                     WHERE p.sha256 = ?1 AND f.reporter_id = ?2)
                     OR EXISTS (SELECT 1 FROM tasks t JOIN case_history h ON h.case_no = t.case_no
                     WHERE t.assignee_id = ?2 AND h.photos LIKE '%' || ?1 || '%')",
                    params![sha256, user.id.to_string()],
                    |r| r.get(0),
                )?,
                Role::Department => false,
            };
        Ok(visible)
    }

    fn apply_ops(&self, ctx: &SyncContext<'_>, ops: &[OpEnvelopeRaw<'_>]) -> AppResult<Vec<OpResult>> {
        // One transaction per request, flushed before the answer. (Committing concurrent requests together
        // was measured and lost: the flush is cheap next to the work per op, and every answer of a group
        // waits for the whole group. So were a checkpoint thread and a larger page cache.) What needs no
        // database is done before the write lock, in parallel with other requests, and the flush after it.
        let dict = self.dict_index();
        let mut prepared = ingest::prepare(&dict, ctx.now, ops);
        ingest::mark_stored_photos(&mut prepared, &self.reader())?;
        self.write_then_flush(|tx| {
            let results = ingest::apply_batch(tx, self, &dict, ctx, &prepared)?;
            tx.execute(
                "UPDATE devices SET last_sync_at = ?2, backlog = COALESCE(?3, backlog),
                        dictionary_version = COALESCE(?4, dictionary_version) WHERE id = ?1",
                params![ctx.device_id.to_string(), ts(ctx.now), ctx.backlog.map(|b| b as i64), ctx.dictionary_version],
            )?;
            Ok(results)
        })
    }

    fn changes(&self, user: &User, cursor: Option<Cursor>, limit: usize) -> AppResult<ChangePage> {
        let page = ingest::changes_page(&self.reader(), &self.dict_index(), &self.settings.zone, user, cursor, limit)?;
        // A change read here may come from a sync whose log flush (outside the write lock) has not ended yet:
        // it is flushed before it can be sent.
        self.flush_log();
        Ok(page)
    }

    fn cursor_secret(&self) -> &[u8] {
        &self.secret
    }

    fn review(
        &self,
        scope: &Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: Option<u32>,
        offset: u32,
    ) -> AppResult<Vec<ReviewItem>> {
        let conn = self.reader();
        let limit = limit.map(i64::from).unwrap_or(-1);
        let (from, to) = (from.timestamp(), to.timestamp());
        match scope {
            Scope::All => cases::review_items(
                &conn,
                &self.settings,
                "f.observed_ts >= ?1 AND f.observed_ts < ?2",
                &[&from, &to],
                limit,
                offset,
            ),
            Scope::Team(team) => cases::review_items(
                &conn,
                &self.settings,
                "f.observed_ts >= ?1 AND f.observed_ts < ?2 AND f.team IS ?3",
                &[&from, &to, team],
                limit,
                offset,
            ),
        }
    }

    fn finding_meta(&self, id: Uuid) -> AppResult<Option<FindingMeta>> {
        cases::finding_meta(&self.reader(), id)
    }

    fn case_meta(&self, case_no: &str) -> AppResult<Option<CaseMeta>> {
        cases::case_meta(&self.reader(), case_no)
    }

    fn review_finding(
        &self,
        actor: &User,
        id: Uuid,
        decision: &Decision,
        now: DateTime<Utc>,
    ) -> AppResult<(ReviewItem, Option<CaseView>)> {
        let dict = self.dict_index();
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let case_no = cases::review_finding(self, &tx, &dict, actor, id, decision, now)?;
        tx.commit()?;
        let item = cases::review_items(&conn, &self.settings, "f.id = ?1", &[&id.to_string()], -1, 0)?
            .pop()
            .ok_or_else(|| AppError::internal("reviewed finding vanished"))?;
        let case = case_no.map(|no| cases::case_view(&conn, self, &dict, &no, now)).transpose()?.flatten();
        Ok((item, case))
    }

    fn cases(&self, filter: &CaseFilter, now: DateTime<Utc>) -> AppResult<Vec<CaseView>> {
        cases::cases(&self.reader(), self, &self.dict_index(), filter, now)
    }

    fn case_detail(&self, case_no: &str, now: DateTime<Utc>) -> AppResult<Option<CaseView>> {
        cases::case_detail(&self.reader(), self, &self.dict_index(), case_no, now)
    }

    fn case_action(&self, actor: &User, case_no: &str, input: &ActionInput, now: DateTime<Utc>) -> AppResult<CaseView> {
        let dict = self.dict_index();
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        cases::case_action(self, &tx, actor, case_no, input, now)?;
        tx.commit()?;
        cases::case_detail(&conn, self, &dict, case_no, now)?.ok_or_else(|| AppError::internal("case vanished"))
    }

    fn stat_events(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> AppResult<Vec<StatEvent>> {
        cases::stat_events(&self.reader(), &self.dict_index(), from, to)
    }

    fn devices(&self) -> AppResult<Vec<DeviceView>> {
        cases::devices(&self.reader(), &self.settings.zone, None)
    }

    fn revoke_device(&self, id: Uuid, now: DateTime<Utc>) -> AppResult<Option<DeviceView>> {
        let conn = lock(&self.writer);
        conn.execute(
            "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?2), token_hash = NULL WHERE id = ?1",
            params![id.to_string(), ts(now)],
        )?;
        Ok(cases::devices(&conn, &self.settings.zone, Some(id))?.pop())
    }

    fn users(&self) -> AppResult<Vec<UserView>> {
        admin::users(&self.reader())
    }

    fn patrols(&self, scope: &Scope, from: DateTime<Utc>, to: DateTime<Utc>) -> AppResult<Vec<PatrolView>> {
        let dict = self.dict_index();
        admin::patrols(&self.reader(), &self.settings.zone, dict.current.as_ref(), scope, from, to)
    }

    fn update_user(&self, username: &str, update: UserUpdate, now: DateTime<Utc>) -> AppResult<Option<UserView>> {
        if let Some(Some(dep)) = &update.department {
            self.known_department(dep)?;
        }
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let user = admin::update_user(&tx, username, &update, now)?;
        tx.commit()?;
        Ok(user)
    }

    fn teams(&self) -> AppResult<Vec<TeamView>> {
        admin::teams(&self.reader(), &self.settings.zone)
    }

    fn add_team(&self, name: &str, now: DateTime<Utc>) -> AppResult<TeamView> {
        if !admin::add_team(&lock(&self.writer), name, now)? {
            return Err(AppError::conflict(format!("team `{name}` exists already")));
        }
        Ok(TeamView { name: name.to_owned(), members: 0, created_at: Some(self.settings.zone.at(now)) })
    }

    fn departments(&self) -> AppResult<Vec<DepartmentView>> {
        let dict = self.dict_index();
        admin::departments(&self.reader(), dict.current.as_ref())
    }

    fn change_task(
        &self,
        actor: &User,
        task_id: Uuid,
        change: &TaskChange,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> AppResult<CaseView> {
        let dict = self.dict_index();
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let case_no = cases::change_task(&tx, &self.settings, actor, task_id, change, note, now)?;
        tx.commit()?;
        cases::case_detail(&conn, self, &dict, &case_no, now)?.ok_or_else(|| AppError::internal("case vanished"))
    }

    fn sync_health(&self, now: DateTime<Utc>) -> AppResult<SyncHealth> {
        admin::sync_health(&self.reader(), &self.settings.zone, now)
    }
}
