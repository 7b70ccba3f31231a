//! What every request handler shares.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::basemaps::BasemapFiles;
use crate::blobs::commit::Committer;
use crate::blobs::object::ObjectPhotos;
use crate::blobs::{BlobFiles, Photos};
use crate::config::Config;
use crate::db::{PgStore, SqliteStore, Store};
use crate::domain::EngineSettings;
use crate::error::{AppError, AppResult};
use crate::hashing::HashService;

/// Uploads of one blob are serialised; 64 stripes keep unrelated uploads apart without a map that grows.
const UPLOAD_STRIPES: usize = 64;
/// How long a starting server waits for its database to answer (retrying with backoff) before it gives up.
const DATABASE_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

pub struct Inner {
    pub store: Arc<dyn Store>,
    /// Where photos are kept: packs in the data directory, or object storage.
    pub photos: Photos,
    pub config: Config,
    /// Checks uploaded photos against their names.
    pub hasher: HashService,
    /// Signs the cursors the server issues (made on the first start, kept by the store).
    pub cursor_secret: Vec<u8>,
    durable_ops: AtomicU64,
    upload_locks: Vec<tokio::sync::Mutex<()>>,
    /// The offline base map packages' files.
    pub basemaps: BasemapFiles,
    /// Base map uploads and deletions one at a time: a package's file and its row change together.
    pub basemap_lock: tokio::sync::Mutex<()>,
    /// Wrong passwords counted, by username and by address.
    pub sign_in_guard: crate::throttle::SignInGuard,
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The case engine's settings of a configuration (the working calendar from the data directory's
/// `calendar.json`, when there is one).
pub fn engine_settings(config: &Config) -> AppResult<EngineSettings> {
    let calendar = crate::domain::calendar::WorkCalendar::load(&config.data_dir.join("calendar.json"))
        .map_err(AppError::internal)?;
    Ok(EngineSettings {
        zone: config.zone,
        calendar,
        verify_hours: config.verify_hours,
        duplicate_radius_m: config.duplicate_radius_m,
        duplicate_window_hours: config.duplicate_window_hours,
    })
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Opens the data directory: the SQLite store (created and migrated on first start) and the blobs.
    pub fn open(config: Config) -> AppResult<Self> {
        let settings = engine_settings(&config)?;
        let store: Arc<dyn Store> = match &config.database {
            None => Arc::new(SqliteStore::open(&config.data_dir, settings)?),
            Some(url) => Arc::new(PgStore::connect(url, settings, DATABASE_WAIT)?),
        };
        crate::seed::ensure_dictionary(store.as_ref())?;
        let cursor_secret = {
            let mut fresh = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut fresh);
            let kept = store.setting_or_insert("cursor_secret", &hex::encode(fresh))?;
            hex::decode(kept).map_err(|e| AppError::internal(format!("the stored cursor secret is unreadable: {e}")))?
        };
        let photos = match &config.blobs {
            Some(url) => Photos::Object(ObjectPhotos::from_env(url).map_err(AppError::internal)?),
            None => local_photos(&config, &store)?,
        };
        let hasher = HashService::choose(config.hash_lanes);
        let basemaps = BasemapFiles::open(config.data_dir.join("basemaps"))?;
        Ok(AppState(Arc::new(Inner {
            basemaps,
            basemap_lock: tokio::sync::Mutex::new(()),
            sign_in_guard: Default::default(),
            store,
            photos,
            config,
            hasher,
            cursor_secret,
            durable_ops: AtomicU64::new(0),
            upload_locks: (0..UPLOAD_STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
        })))
    }

    /// Checks that the photo store answers (an object store's endpoint, bucket and keys), and clears the
    /// chunks a crash left of uploads whose photo was kept (as `local_photos` does with partial files).
    pub async fn check_photos(&self) -> AppResult<()> {
        let Photos::Object(o) = &self.photos else { return Ok(()) };
        o.check().await.map_err(AppError::internal)?;
        for sha in o.partials().await? {
            let s = sha.clone();
            if self.blocking(move |store| store.blob(&s)).await?.is_some() {
                o.discard_partial(&sha).await?;
            }
        }
        Ok(())
    }

    /// Records a security-relevant action in the audit log. A failure to record is logged; the action,
    /// already done, stands.
    pub async fn audit(&self, entry: crate::db::AuditEntry) {
        if let Err(e) = self.blocking(move |s| s.audit(&entry, chrono::Utc::now())).await {
            tracing::error!(error = %e, "the audit log could not be written");
        }
    }

    /// Runs store work off the async runtime.
    pub async fn blocking<T, E, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        E: Into<AppError> + Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, E> + Send + 'static,
    {
        let state = self.clone();
        tokio::task::spawn_blocking(move || f(state.store.as_ref())).await?.map_err(Into::into)
    }

    pub async fn lock_upload(&self, sha: &str) -> tokio::sync::MutexGuard<'_, ()> {
        let stripe = usize::from_str_radix(&sha[..2], 16).unwrap_or(0) % UPLOAD_STRIPES;
        self.upload_locks[stripe].lock().await
    }

    /// Counts ops made durable; the crash test hook aborts the process once the limit is reached, as a
    /// power cut would, before the answer is sent.
    pub fn ops_made_durable(&self, n: u64) {
        let total = self.durable_ops.fetch_add(n, Ordering::SeqCst) + n;
        if let Some(limit) = self.config.crash_after_ops
            && n > 0
            && total >= limit
        {
            eprintln!("SYNC_SERVER_CRASH_AFTER_OPS={limit} reached after {total} durable ops: aborting");
            std::process::abort();
        }
    }
}

/// The data directory's photo packs, with the committer that records them.
fn local_photos(config: &Config, store: &Arc<dyn Store>) -> AppResult<Photos> {
    let files = BlobFiles::open(config.data_dir.join("blobs"))?;
    // A finished upload whose partial file outlived its photo's commit (a crash between the two). Only
    // space is at stake, so a failure here is reported and the server starts all the same.
    let leftovers = files.partials().map_err(AppError::from).and_then(|names| {
        for sha in names {
            if store.blob(&sha)?.is_some() {
                files.discard_partial(&sha)?;
            }
        }
        Ok(())
    });
    if let Err(e) = leftovers {
        tracing::warn!("finished uploads' partial files could not be cleared: {e}");
    }
    let recorder = store.clone();
    let committer =
        Committer::start(move |rows, now| recorder.record_blobs(rows, now).map_err(Into::into), files.clone())?;
    Ok(Photos::Local { files, committer })
}
