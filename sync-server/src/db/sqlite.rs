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

use rusqlite::{Connection, TransactionBehavior};

use super::backend::Backend;
use super::conn::Db;
use super::dict::{self, DictIndex};
use super::error::{StoreError, StoreResult};
use super::schema;
use super::sql::lock;
use crate::domain::EngineSettings;

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
}

impl Backend for SqliteStore {
    type Read<'c> = MutexGuard<'c, Connection>;
    type Write<'c> = rusqlite::Transaction<'c>;

    fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// On one of the readers, in turn.
    fn read<T>(&self, work: impl FnOnce(&Self::Read<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        work(&lock(&self.readers[i]))
    }

    /// One immediate transaction of the writer, at synchronous=FULL.
    fn write<T>(&self, work: impl FnOnce(&Self::Write<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = work(&tx)?;
        tx.commit()?;
        let _ = self.committed.try_send(());
        Ok(out)
    }

    fn write_sync<T>(&self, work: impl FnOnce(&Self::Write<'_>) -> StoreResult<T>) -> StoreResult<T> {
        self.write_then_flush(work)
    }

    /// A change read here may come from a sync whose log flush (outside the write lock) has not ended yet:
    /// it is flushed before it can be sent.
    fn changes_read(&self) {
        self.flush_log();
    }

    /// The index kept in memory: this process is the only writer of its file.
    fn dict_on(&self, _conn: &impl Db) -> StoreResult<Arc<DictIndex>> {
        Ok(self.dict.read().unwrap_or_else(|e| e.into_inner()).clone())
    }

    fn install_dict(&self, index: Arc<DictIndex>) {
        *self.dict.write().unwrap_or_else(|e| e.into_inner()) = index;
    }
}
