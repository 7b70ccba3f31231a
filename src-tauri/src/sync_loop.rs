//! Background sync: on start, when woken (a report saved, the network back, the app visible again), and
//! on a timer; one sync at a time; failures back off with jitter, capped. Progress and results reach the
//! web view as `sync-state` events.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use device::DeviceStore;
use device::sync::{Progress, SyncReport};
use rand_jitter::jitter;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter, Runtime};

use crate::CommandError;

/// How often the phone checks in when nothing wakes it.
const IDLE: Duration = Duration::from_secs(120);
const BACKOFF_FIRST: Duration = Duration::from_secs(15);
const BACKOFF_MAX: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Default, Serialize, specta::Type)]
pub struct SyncState {
    pub running: bool,
    pub progress: Option<Progress>,
    pub last_report: Option<SyncReport>,
    pub last_error: Option<CommandError>,
    pub last_sync_at: Option<String>,
}

struct Inner {
    store: Arc<Mutex<DeviceStore>>,
    state: Mutex<SyncState>,
    one_at_a_time: tokio::sync::Mutex<()>,
    /// (online, on Wi-Fi) as the web view last said.
    network: Mutex<(bool, bool)>,
    wake: tokio::sync::Notify,
    /// Set by `cancel`, cleared when a sync starts.
    cancel: AtomicBool,
}

#[derive(Clone)]
pub struct Syncer(Arc<Inner>);

mod rand_jitter {
    /// Up to a quarter more, so that many phones coming back at once do not hit the server together.
    pub fn jitter(d: std::time::Duration) -> std::time::Duration {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|t| t.subsec_nanos()).unwrap_or(0);
        d + d.mul_f64(f64::from(nanos % 1000) / 4000.0)
    }
}

impl Syncer {
    pub fn new(store: Arc<Mutex<DeviceStore>>) -> Self {
        Syncer(Arc::new(Inner {
            store,
            state: Mutex::new(SyncState::default()),
            one_at_a_time: tokio::sync::Mutex::new(()),
            network: Mutex::new((true, true)),
            wake: tokio::sync::Notify::new(),
            cancel: AtomicBool::new(false),
        }))
    }

    pub fn wake(&self) {
        self.0.wake.notify_one();
    }

    pub fn set_network(&self, online: bool, wifi: bool) {
        *self.0.network.lock().unwrap_or_else(|e| e.into_inner()) = (online, wifi);
        if online {
            self.wake();
        }
    }

    /// (online, on Wi-Fi) as the web view last said.
    pub fn network(&self) -> (bool, bool) {
        *self.0.network.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks the running sync to stop; false when none runs.
    pub fn cancel(&self) -> bool {
        let running = self.0.state.lock().unwrap_or_else(|e| e.into_inner()).running;
        if running {
            self.0.cancel.store(true, Ordering::Relaxed);
        }
        running
    }

    pub fn state(&self) -> SyncState {
        self.0.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn update<R: Runtime>(&self, app: &AppHandle<R>, f: impl FnOnce(&mut SyncState)) {
        let snapshot = {
            let mut s = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut s);
            s.clone()
        };
        let _ = app.emit("sync-state", snapshot);
    }

    /// One full sync; waits for a sync already running to finish first.
    pub async fn run<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        channel: Option<Channel<Progress>>,
    ) -> Result<SyncReport, CommandError> {
        let _one = self.0.one_at_a_time.lock().await;
        let (server, wifi_only) = {
            let store = self.0.store.lock().unwrap_or_else(|e| e.into_inner());
            let account = store.require_account()?;
            (account.server_url, store.settings()?.wifi_only_photos)
        };
        let (_, wifi) = *self.0.network.lock().unwrap_or_else(|e| e.into_inner());
        let client = device::SyncClient::new(&server)?;
        self.0.cancel.store(false, Ordering::Relaxed);
        self.update(app, |s| {
            s.running = true;
            s.progress = None;
        });
        let mut on_progress = |p: &Progress| {
            if let Some(ch) = &channel {
                let _ = ch.send(p.clone());
            }
            self.update(app, |s| s.progress = Some(p.clone()));
        };
        let result =
            client.sync_with(self.0.store.as_ref(), wifi || !wifi_only, &mut on_progress, Some(&self.0.cancel)).await;
        let now = chrono::Local::now().to_rfc3339();
        match result {
            Ok(report) => {
                self.update(app, |s| {
                    s.running = false;
                    s.last_report = Some(report.clone());
                    s.last_error = None;
                    s.last_sync_at = Some(now);
                });
                Ok(report)
            }
            Err(e) => {
                let e = CommandError::from(e);
                self.update(app, |s| {
                    s.running = false;
                    s.last_error = Some(e.clone());
                });
                Err(e)
            }
        }
    }

    /// The loop that syncs by itself for the life of the app.
    pub fn spawn<R: Runtime>(&self, app: AppHandle<R>) {
        let me = self.clone();
        tauri::async_runtime::spawn(async move {
            let mut backoff = BACKOFF_FIRST;
            loop {
                let online = me.0.network.lock().unwrap_or_else(|e| e.into_inner()).0;
                let registered =
                    me.0.store.lock().unwrap_or_else(|e| e.into_inner()).account().ok().flatten().is_some();
                let wait = if online && registered {
                    match me.run(&app, None).await {
                        Ok(report) if report.complete() => {
                            backoff = BACKOFF_FIRST;
                            IDLE
                        }
                        _ => {
                            let w = jitter(backoff);
                            backoff = (backoff * 2).min(BACKOFF_MAX);
                            w
                        }
                    }
                } else {
                    IDLE
                };
                let _ = tokio::time::timeout(wait, me.0.wake.notified()).await;
            }
        });
    }
}
