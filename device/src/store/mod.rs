//! The phone's local store: one SQLite file and a folder of photo files under the app's home.
//!
//! Nothing is forgotten before the server has answered for it: a finding, its photo rows and its outbox
//! op are committed in one transaction, after the photo files are already on disk; an op leaves the
//! outbox only when the server said `applied`, `duplicate` or `rejected`.
//!
//! One `impl DeviceStore` block a concept: `account`, `photos`, `findings`, `outbox`, `inbox` (the answers of
//! a sync), `tasks`, `patrols`, `map` (what the map draws), `check` (start-up check and status); the schema's steps are SQL files in
//! `migrations/`.

mod account;
mod check;
mod findings;
mod inbox;
mod map;
pub use map::{MapCase, MapFinding, MapLayers, MapTask};
mod outbox;
mod patrols;
mod photos;
mod place;
pub(crate) use photos::write_replacing;
pub use place::{PlaceAt, Places};
mod tasks;

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use protocol::{Location, OpEnvelope, PhotoRole, UserInfo};
use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DeviceResult;

/// The store's schema: one SQL file a step, applied in order; never edit a released step, add one.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("migrations/01-findings-outbox.sql")),
        M::up(include_str!("migrations/02-tasks-area-cases-patrols.sql")),
        M::up(include_str!("migrations/03-photo-files-patrol-pause.sql")),
        M::up(include_str!("migrations/04-newest-first-indexes.sql")),
        M::up(include_str!("migrations/05-map-positions-tracks.sql")),
        M::up(include_str!("migrations/06-finding-grid.sql")),
        M::up(include_str!("migrations/07-campaigns.sql")),
        M::up(include_str!("migrations/08-op-signatures.sql")),
    ])
}

/// Local states of a finding, before and around the server's answer.
pub mod local_state {
    /// Being edited; not queued yet.
    pub const DRAFT: &str = "draft";
    /// Saved and waiting to be sent.
    pub const QUEUED: &str = "queued";
    /// The server has it (`applied` or `duplicate`).
    pub const RECEIVED: &str = "received";
    /// The server refused it for good; the reason is kept.
    pub const REJECTED: &str = "rejected";
}

pub(super) fn now_text() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The registration this device holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Account {
    pub server_url: String,
    pub device_id: Uuid,
    pub token: String,
    pub user: UserInfo,
}

/// What the inspector reports; the store adds the id, the patrol and the photo references.
#[derive(Debug, Clone)]
pub struct NewFinding {
    pub category: String,
    pub description: String,
    pub urgent: bool,
    pub fixed_on_spot: bool,
    pub location: Location,
    pub address: Option<String>,
    pub road: Option<String>,
    pub grid: Option<String>,
    pub facility_code: Option<String>,
    pub observed_at: protocol::Timestamp,
    pub photos: Vec<(StagedPhoto, PhotoRole)>,
    /// The phone's own fix when `location` is a pin placed by hand; kept only then.
    pub gps: Option<protocol::GpsFix>,
}

/// What the inspector can set in the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct Settings {
    /// Long edge of stored photos, in pixels.
    pub photo_max_edge: u32,
    pub photo_quality: u8,
    /// Hold photos back until the phone is on Wi-Fi; reports (metadata) still go on any network.
    pub wifi_only_photos: bool,
    /// Print time and place on each photo.
    pub stamp: bool,
    pub language: String,
    /// Download offline base maps only on Wi-Fi (they are hundreds of megabytes).
    pub wifi_only_basemaps: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            photo_max_edge: 1600,
            photo_quality: 80,
            wifi_only_photos: false,
            stamp: true,
            language: "zh-CN".into(),
            wifi_only_basemaps: true,
        }
    }
}

/// What the start-up check did and found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CheckReport {
    pub removed_temp_files: u32,
    pub removed_orphans: u32,
    /// Photos that waiting ops need but whose file is gone.
    pub missing: Vec<String>,
    /// Photos whose file no longer hashes to its name.
    pub corrupt: Vec<String>,
}

/// A processed photo stored on the device, ready to be attached to a report or a task result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct StagedPhoto {
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub taken_at: Option<protocol::Timestamp>,
}

/// One finding as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FindingRow {
    pub id: Uuid,
    pub local_state: String,
    pub server_state: Option<String>,
    pub case_no: Option<String>,
    pub case_state: Option<String>,
    pub reason: Option<String>,
    pub category: String,
    pub description: String,
    pub observed_at: String,
    pub photos: u32,
    /// The unit grid (单元网格): the phone's assignment, then the server's once it answered.
    pub grid: Option<String>,
}

/// A verification task on the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TaskRow {
    pub id: Uuid,
    /// 核查 (`verify`), 核实 (`confirm`) or a free task (`inspect`).
    pub task_type: protocol::TaskType,
    /// The case of a 核查 task.
    pub case_no: Option<String>,
    /// `open`, `done` (result queued or sent) or `cancelled`.
    pub state: String,
    pub due_at: Option<String>,
    pub result: Option<String>,
    /// Empty when not known (a report taken without a category, a free task).
    pub category: String,
    /// A free task's title.
    pub title: Option<String>,
    pub description: String,
    pub address: Option<String>,
    /// Where to go; none for a free task that asks for wherever the inspector is.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Photos sent with the task (the report's, or the case's before and after).
    pub photos: Vec<String>,
}

/// A patrol walked on this device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PatrolRow {
    pub id: Uuid,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub distance_m: f64,
    pub points: i64,
    /// Paused patrols record no track points.
    pub paused: bool,
}

/// The device at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Status {
    pub registered: bool,
    pub server_url: Option<String>,
    pub username: Option<String>,
    pub device_id: Option<Uuid>,
    pub pending_ops: u64,
    pub pending_photo_bytes: u64,
    /// Findings reported on this device, drafts included.
    pub findings: u64,
    /// Drafts: saved on the phone, not yet queued.
    pub drafts: u64,
    pub rejected: u64,
    pub dictionary_version: Option<i64>,
    pub last_sync_at: Option<String>,
    /// Server clock minus device clock at the last sync, in milliseconds.
    pub clock_offset_ms: Option<i64>,
}

/// An op waiting in the outbox.
#[derive(Debug, Clone)]
pub struct PendingOp {
    pub seq: u64,
    pub envelope: OpEnvelope,
}

/// A photo file that pending ops need on the server.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingBlob {
    pub sha256: String,
    pub path: PathBuf,
    pub bytes: u64,
}

/// How a batch of results changed the outbox.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppliedResults {
    pub applied: u32,
    pub duplicate: u32,
    pub rejected: Vec<(u64, String)>,
    pub retry: u32,
}

pub struct DeviceStore {
    conn: Connection,
    home: PathBuf,
    /// The held dictionary with its grids indexed (`places`), kept across calls.
    places: std::sync::Mutex<Option<std::sync::Arc<Places>>>,
}

impl DeviceStore {
    /// Opens (creating and migrating) the store under `home`.
    pub fn open(home: &Path) -> DeviceResult<Self> {
        crate::error::note_store_dir(home);
        fs::create_dir_all(home.join("photos"))?;
        let mut conn = Connection::open(home.join("device.sqlite"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a report the inspector saw saved must survive a battery pull.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // No checkpoint on the commit of a report: copying the log into the database (and its fsyncs) would
        // land on whichever "save" crosses the threshold. `checkpoint` runs after each sync, at the end of a
        // patrol and at opening; the automatic one only bounds the log (about 40 MB) on a phone never online.
        conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations().to_latest(&mut conn)?;
        let store = DeviceStore { conn, home: home.to_owned(), places: std::sync::Mutex::new(None) };
        store.checkpoint()?;
        Ok(store)
    }

    /// Copies the write-ahead log into the database file and restarts it, off the path of a save: after a
    /// sync and at opening. Never waits for readers; what it cannot copy now is copied next time.
    pub fn checkpoint(&self) -> DeviceResult<()> {
        self.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub(super) fn meta(&self, key: &str) -> DeviceResult<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    pub(super) fn set_meta(conn: &Connection, key: &str, value: &str) -> DeviceResult<()> {
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![key, value])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_migrations_apply_to_an_empty_store() {
        migrations().validate().unwrap();
    }

    /// A store as the previous release left it (schema 3: before the newest-first indexes), with a queued
    /// report, its photo and its op, opens with all of them: the report listed, the op still to send.
    #[test]
    fn a_store_of_the_previous_release_opens_with_its_reports() {
        let home = tempfile::tempdir().unwrap();
        {
            let mut conn = Connection::open(home.path().join("device.sqlite")).unwrap();
            migrations().to_version(&mut conn, 3).unwrap();
            conn.execute_batch(
                "INSERT INTO findings (id, body, category, description, observed_at, observed_day, local_state,
                                       created_at, updated_at)
                     VALUES ('0192f5c0-0000-7000-8000-000000000001', '{}', 'E0102', '暴露垃圾',
                             '2026-11-30T09:00:00.000+08:00', '2026-11-30', 'queued',
                             '2026-11-30T01:00:00.000Z', '2026-11-30T01:00:00.000Z');
                 INSERT INTO photos (finding_id, idx, sha256, role, width, height, bytes)
                     VALUES ('0192f5c0-0000-7000-8000-000000000001', 0, 'aa', 'before', 1600, 1200, 4096);
                 INSERT INTO outbox (kind, entity_id, body, created_at)
                     VALUES ('finding.create', '0192f5c0-0000-7000-8000-000000000001', '{}', '2026-11-30T01:00:00.000Z');",
            )
            .unwrap();
        }
        let store = DeviceStore::open(home.path()).unwrap();
        assert_eq!(store.pending_count().unwrap(), 1);
        let listed = store.findings(Some(local_state::QUEUED), Some("2026-11-30"), 10, 0).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].description.as_str(), listed[0].photos), ("暴露垃圾", 1));
        let version: i64 = store.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, 8, "migrated to the newest schema");
        assert_eq!(listed[0].grid, None, "a report of before the grids carries none");
    }

    /// A store of schema 4 (before the map) gets its findings' positions as columns, so its reports are
    /// on the map at once.
    #[test]
    fn a_store_of_schema_4_puts_its_findings_on_the_map() {
        let home = tempfile::tempdir().unwrap();
        {
            let mut conn = Connection::open(home.path().join("device.sqlite")).unwrap();
            migrations().to_version(&mut conn, 4).unwrap();
            conn.execute_batch(
                r#"INSERT INTO findings (id, body, category, description, observed_at, observed_day, local_state,
                                       created_at, updated_at)
                     VALUES ('0192f5c0-0000-7000-8000-000000000002',
                             '{"location": {"lat": 41.7968, "lon": 123.4328, "accuracy_m": 5, "source": "gps"}}',
                             'E0102', '暴露垃圾', '2026-11-30T09:00:00.000+08:00', '2026-11-30', 'received',
                             '2026-11-30T01:00:00.000Z', '2026-11-30T01:00:00.000Z');"#,
            )
            .unwrap();
        }
        let store = DeviceStore::open(home.path()).unwrap();
        let layers = store.map_layers(10).unwrap();
        assert_eq!(layers.findings.len(), 1);
        assert_eq!((layers.findings[0].lat, layers.findings[0].lon), (41.7968, 123.4328));
    }
}
