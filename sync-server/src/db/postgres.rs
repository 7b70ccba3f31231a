//! The PostgreSQL backend (`serve --database postgres://…`): the same SQL as the embedded store, on tables that
//! mirror SQLite's (`migrations/postgres/*.sql`, embedded and run at connect under sqlx's advisory lock, so
//! several servers may start at once).
//!
//! Several server processes share one database, so what SQLite's single writer gave for free is made
//! explicit: every write transaction first takes one advisory lock (`WRITE_LOCK`), held to its commit. Writes
//! of all processes are thus one after another, as on SQLite, while reads run beside them on the pool. Under
//! that lock every read-check-write (a device's sequence numbers, review, case actions, the duplicate check
//! before filing, case numbers, device registration, dictionary versions) sees everything committed before
//! it, and the feed of changes gets its ids in the order they become visible: a device's cursor never passes
//! a change that commits later. A dictionary imported by one process reaches the others: each read and write
//! compares the newest stored version with its index in memory.
//!
//! The trait is synchronous and every call already runs off the async workers (`AppState::blocking`), so each
//! method runs its queries on the store's own small runtime (`block_on`).

use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};

use super::backend::Backend;
use super::conn::{Db, PgConn, block_on};
use super::dict::{self, DictIndex};
use super::error::{StoreError, StoreResult};
use crate::domain::EngineSettings;

/// The schema, step by step; a released step is never edited.
const MIGRATIONS: [(i64, &str, &str); 2] = [
    (1, "schema", include_str!("../../migrations/postgres/0001_schema.sql")),
    (2, "exports heartbeat", include_str!("../../migrations/postgres/0002_exports_heartbeat.sql")),
];

/// The advisory lock every write transaction holds: one writer at a time across all processes.
pub const WRITE_LOCK: i64 = 0x746a_625f_7772;

/// Connections each process keeps.
const POOL: u32 = 16;

/// How long a request waits for a connection before it is answered 503 (the database is away, or every
/// connection is busy for that long).
const ACQUIRE_WAIT: Duration = Duration::from_secs(5);

pub struct PgStore {
    pool: PgPool,
    /// Drives the pool's connections; the trait's callers block on it (`handle`). Shut down in the
    /// background when the store goes, which may be inside another runtime.
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    settings: EngineSettings,
    /// The dictionary's index, and the newest version it holds.
    dict: RwLock<Arc<DictIndex>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects (retrying while the database does not answer, for up to `wait`), and brings the schema up to
    /// date.
    pub fn connect(url: &str, settings: EngineSettings, wait: Duration) -> StoreResult<PgStore> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend(format!("a runtime for PostgreSQL: {e}")))?;
        let pool = runtime.block_on(async {
            let started = tokio::time::Instant::now();
            let mut pause = Duration::from_millis(100);
            loop {
                match PgPoolOptions::new().max_connections(POOL).acquire_timeout(ACQUIRE_WAIT).connect(url).await {
                    Ok(pool) => return Ok(pool),
                    Err(e) if started.elapsed() + pause < wait => {
                        tracing::warn!("PostgreSQL does not answer yet ({e}); trying again in {pause:?}");
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_secs(5));
                    }
                    Err(e) => return Err(StoreError::from(e)),
                }
            }
        })?;
        let migrations = MIGRATIONS
            .iter()
            .map(|(version, name, sql)| {
                Migration::new(*version, (*name).into(), MigrationType::Simple, sql.into_sql_str(), false)
            })
            .collect();
        runtime
            .block_on(Migrator::with_migrations(migrations).run(&pool))
            .map_err(|e| StoreError::Backend(format!("PostgreSQL schema: {e}")))?;
        let handle = runtime.handle().clone();
        let store = PgStore {
            pool,
            runtime: Some(runtime),
            handle,
            settings,
            dict: RwLock::new(Arc::new(DictIndex::default())),
        };
        store.read(|c| store.dict_on(c))?;
        Ok(store)
    }

    fn run<T>(&self, work: impl Future<Output = Result<T, sqlx::Error>>) -> StoreResult<T> {
        Ok(block_on(&self.handle, work)?)
    }

    fn cached_dict(&self) -> Arc<DictIndex> {
        self.dict.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// What a dump holds: the counts of its records, and the photos it names (each photo's row, for the packs'
/// check), both read in the dump's own snapshot.
pub struct Dumped {
    pub inventory: std::collections::BTreeMap<String, i64>,
    pub photos: Vec<crate::blobs::BlobMeta>,
}

impl PgStore {
    /// Dumps the database `url` (this store's) with `pg_dump` in its custom format into `file`. The counts and
    /// the photos' rows are read in the same snapshot the dump is taken from, so they are exactly what it holds,
    /// while servers go on writing.
    pub fn dump(&self, url: &str, file: &std::path::Path, photos: bool) -> StoreResult<Dumped> {
        let _runtime = self.handle.enter();
        let mut conn = self.run(self.pool.acquire())?;
        let c = PgConn::new(&mut conn, &self.handle);
        c.execute_batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        let snapshot: String = c.query_row("SELECT pg_export_snapshot()", (), |r| r.get(0))?;
        let inventory = super::inventory::inventory(&c)?;
        let mut held: Vec<crate::blobs::BlobMeta> = Vec::new();
        if photos {
            loop {
                let page = super::blobs::held(&c, held.last().map(|b| b.sha256.as_str()), 1000)?;
                if page.is_empty() {
                    break;
                }
                held.extend(page);
            }
        }
        let out = std::process::Command::new("pg_dump")
            .args(["--format=custom", "--no-owner", "--no-privileges", "--snapshot", &snapshot, "--file"])
            .arg(file)
            .arg(url)
            .output()
            .map_err(|e| StoreError::Backend(format!("pg_dump (Debian's postgresql-client): {e}")))?;
        c.execute_batch("COMMIT")?;
        if !out.status.success() {
            return Err(StoreError::Backend(format!("pg_dump: {}", String::from_utf8_lossy(&out.stderr).trim())));
        }
        Ok(Dumped { inventory, photos: held })
    }

    /// Restores a dump made by `dump` into the database `url`, which must hold no table yet.
    pub fn restore_dump(url: &str, file: &std::path::Path) -> StoreResult<()> {
        let tables = std::process::Command::new("psql")
            .args([
                url,
                "-tAqc",
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
            ])
            .output()
            .map_err(|e| StoreError::Backend(format!("psql (Debian's postgresql-client): {e}")))?;
        if !tables.status.success() {
            return Err(StoreError::Unavailable(format!(
                "the database does not answer: {}",
                String::from_utf8_lossy(&tables.stderr).trim()
            )));
        }
        if String::from_utf8_lossy(&tables.stdout).trim() != "0" {
            return Err(StoreError::invalid(
                "database",
                "the database to restore into holds tables: name an empty one",
            ));
        }
        let out = std::process::Command::new("pg_restore")
            .args(["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname", url])
            .arg(file)
            .output()
            .map_err(|e| StoreError::Backend(format!("pg_restore (Debian's postgresql-client): {e}")))?;
        if !out.status.success() {
            return Err(StoreError::Backend(format!("pg_restore: {}", String::from_utf8_lossy(&out.stderr).trim())));
        }
        Ok(())
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Backend for PgStore {
    type Read<'c> = PgConn<'c>;
    type Write<'c> = PgConn<'c>;

    fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// On a connection of the pool, each statement on its own.
    fn read<T>(&self, work: impl FnOnce(&PgConn<'_>) -> StoreResult<T>) -> StoreResult<T> {
        // The pool's connections go back to it by a task of this runtime when dropped.
        let _runtime = self.handle.enter();
        let mut conn = self.run(self.pool.acquire())?;
        work(&PgConn::new(&mut conn, &self.handle))
    }

    /// In a transaction holding `WRITE_LOCK`; rolled back when the work fails (or panics: sqlx rolls back a
    /// transaction dropped unfinished).
    fn write<T>(&self, work: impl FnOnce(&PgConn<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let _runtime = self.handle.enter();
        let mut tx = self.run(self.pool.begin())?;
        let out = {
            let conn = PgConn::new(&mut tx, &self.handle);
            conn.execute("SELECT pg_advisory_xact_lock(?1)", [WRITE_LOCK])?;
            work(&conn)?
        };
        self.run(tx.commit())?;
        Ok(out)
    }

    fn dict_on(&self, conn: &impl Db) -> StoreResult<Arc<DictIndex>> {
        let cached = self.cached_dict();
        let newest: Option<i64> = conn.query_row("SELECT MAX(version) FROM dictionary_versions", (), |r| r.get(0))?;
        if newest == cached.current.as_ref().map(|d| d.version) {
            return Ok(cached);
        }
        let index = Arc::new(dict::load(conn)?);
        self.install_dict(index.clone());
        Ok(index)
    }

    fn install_dict(&self, index: Arc<DictIndex>) {
        *self.dict.write().unwrap_or_else(|e| e.into_inner()) = index;
    }
}
