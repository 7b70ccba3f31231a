//! The phone's local store: one SQLite file and a folder of photo files under the app's home.
//!
//! Nothing is forgotten before the server has answered for it: a finding, its photo rows and its outbox
//! op are committed in one transaction, after the photo files are already on disk; an op leaves the
//! outbox only when the server said `applied`, `duplicate` or `rejected`.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Local, SecondsFormat, Utc};
use protocol::{
    ChangeBody, Dictionary, Finding, Location, Op, OpEnvelope, OpResult, OpStatus, PhotoRef, PhotoRole, SyncResponse,
    UserInfo,
};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use rusqlite_migration::{M, Migrations};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{DeviceError, DeviceResult};
use crate::photo::ProcessedPhoto;

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE dictionary (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE findings (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    observed_at TEXT NOT NULL,
    observed_day TEXT NOT NULL,
    patrol_id TEXT,
    local_state TEXT NOT NULL,
    server_state TEXT,
    case_no TEXT,
    case_state TEXT,
    reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX findings_by_state ON findings(local_state, observed_at);
CREATE INDEX findings_by_day ON findings(observed_day, observed_at);
CREATE TABLE photos (
    finding_id TEXT NOT NULL REFERENCES findings(id),
    idx INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    role TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    taken_at TEXT,
    PRIMARY KEY (finding_id, idx)
) WITHOUT ROWID;
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    file TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    uploaded INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    result TEXT,
    created_at TEXT NOT NULL,
    done_at TEXT
);
CREATE INDEX outbox_by_state ON outbox(state, seq);
CREATE TABLE outbox_blobs (
    seq INTEGER NOT NULL REFERENCES outbox(seq),
    sha256 TEXT NOT NULL,
    PRIMARY KEY (seq, sha256)
) WITHOUT ROWID;
"#,
        ),
        M::up(
            r#"
CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    case_no TEXT NOT NULL,
    body TEXT NOT NULL,
    due_at TEXT,
    state TEXT NOT NULL,
    result TEXT,
    assigned_at TEXT NOT NULL,
    completed_at TEXT
);
CREATE TABLE area_cases (
    case_no TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    state TEXT NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    observed_at TEXT NOT NULL
);
CREATE TABLE patrols (
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    distance_m REAL NOT NULL DEFAULT 0,
    last_lat REAL,
    last_lon REAL,
    points INTEGER NOT NULL DEFAULT 0
);
"#,
        ),
        M::up(
            r#"
-- Processed photos on disk (photos/<sha256>.jpg and .thumb.jpg), whether or not a report uses them yet.
CREATE TABLE photo_files (
    sha256 TEXT PRIMARY KEY,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    taken_at TEXT,
    created_at TEXT NOT NULL
) WITHOUT ROWID;
ALTER TABLE patrols ADD COLUMN paused_at TEXT;
"#,
        ),
        M::up(
            r#"
-- The lists of "my reports" run newest first, by state or by day.
DROP INDEX findings_by_state;
DROP INDEX findings_by_day;
CREATE INDEX findings_by_state ON findings(local_state, created_at, id);
CREATE INDEX findings_by_day ON findings(observed_day, created_at, id);
CREATE INDEX findings_by_created ON findings(created_at, id);
"#,
        ),
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

fn now_text() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The registration this device holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

/// What the inspector can set in the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            photo_max_edge: 1600,
            photo_quality: 80,
            wifi_only_photos: false,
            stamp: true,
            language: "zh-CN".into(),
        }
    }
}

/// What the start-up check did and found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
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
pub struct StagedPhoto {
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub taken_at: Option<protocol::Timestamp>,
}

/// One finding as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

/// A verification task on the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRow {
    pub id: Uuid,
    pub case_no: String,
    /// `open`, `done` (result queued or sent) or `cancelled`.
    pub state: String,
    pub due_at: Option<String>,
    pub result: Option<String>,
    pub category: String,
    pub description: String,
    pub address: Option<String>,
    pub lat: f64,
    pub lon: f64,
}

/// A patrol walked on this device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

impl DeviceStore {
    /// Opens (creating and migrating) the store under `home`.
    pub fn open(home: &Path) -> DeviceResult<Self> {
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
        let store = DeviceStore { conn, home: home.to_owned() };
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

    fn meta(&self, key: &str) -> DeviceResult<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    fn set_meta(conn: &Connection, key: &str, value: &str) -> DeviceResult<()> {
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![key, value])?;
        Ok(())
    }

    pub fn account(&self) -> DeviceResult<Option<Account>> {
        match self.meta("account")? {
            Some(json) => Ok(Some(serde_json::from_str(&json)?)),
            None => Ok(None),
        }
    }

    pub fn require_account(&self) -> DeviceResult<Account> {
        self.account()?.ok_or(DeviceError::NotRegistered)
    }

    /// The device id to register with: the current one, unless another user takes the phone over, which
    /// is allowed only when nothing waits to be sent.
    pub fn device_id_for(&self, username: &str) -> DeviceResult<Uuid> {
        match self.account()? {
            Some(a) if a.user.username == username => Ok(a.device_id),
            Some(a) => {
                let pending = self.pending_count()?;
                if pending > 0 {
                    return Err(DeviceError::Invalid(format!(
                        "{pending} ops of user {} are still waiting to be sent; sync them before another user registers",
                        a.user.username
                    )));
                }
                Ok(Uuid::now_v7())
            }
            None => Ok(self.meta("device_id")?.and_then(|s| Uuid::parse_str(&s).ok()).unwrap_or_else(Uuid::now_v7)),
        }
    }

    /// Stores a registration. A new user starts the change stream from the beginning.
    pub fn set_account(&mut self, account: &Account) -> DeviceResult<()> {
        let previous = self.account()?;
        let tx = self.conn.transaction()?;
        if previous.as_ref().is_none_or(|p| p.user.username != account.user.username) {
            tx.execute("DELETE FROM meta WHERE key = 'cursor'", [])?;
        }
        Self::set_meta(&tx, "account", &serde_json::to_string(account)?)?;
        Self::set_meta(&tx, "device_id", &account.device_id.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// The app's settings, with defaults for what was never set.
    pub fn settings(&self) -> DeviceResult<Settings> {
        Ok(match self.meta("settings")? {
            Some(json) => serde_json::from_str(&json)?,
            None => Settings::default(),
        })
    }

    pub fn set_settings(&self, settings: &Settings) -> DeviceResult<()> {
        Self::set_meta(&self.conn, "settings", &serde_json::to_string(settings)?)
    }

    pub fn cursor(&self) -> DeviceResult<Option<String>> {
        self.meta("cursor")
    }

    pub fn dictionary(&self) -> DeviceResult<Option<Dictionary>> {
        let body: Option<String> =
            self.conn.query_row("SELECT body FROM dictionary WHERE id = 1", [], |r| r.get(0)).optional()?;
        Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
    }

    /// Where a photo (or its thumbnail) lives.
    pub fn photo_path(&self, sha256: &str, thumbnail: bool) -> PathBuf {
        let name = if thumbnail { format!("{sha256}.thumb.jpg") } else { format!("{sha256}.jpg") };
        self.home.join("photos").join(name)
    }

    fn write_atomically(&self, dest: &Path, bytes: &[u8]) -> DeviceResult<()> {
        if dest.exists() {
            return Ok(());
        }
        let dir = dest.parent().unwrap_or(&self.home);
        let tmp = dir.join(format!(".{}.tmp", Uuid::new_v4()));
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, dest)?;
        File::open(dir)?.sync_all()?;
        Ok(())
    }

    /// Stores a processed photo (file and thumbnail written atomically, then its row) so that a report or
    /// a task result can name it by its SHA-256.
    pub fn stage_photo(&self, photo: &ProcessedPhoto) -> DeviceResult<StagedPhoto> {
        self.write_atomically(&self.photo_path(&photo.sha256, false), &photo.jpeg)?;
        if !photo.thumbnail.is_empty() {
            self.write_atomically(&self.photo_path(&photo.sha256, true), &photo.thumbnail)?;
        }
        let staged = StagedPhoto {
            sha256: photo.sha256.clone(),
            width: photo.width,
            height: photo.height,
            bytes: photo.jpeg.len() as u64,
            taken_at: photo.taken_at,
        };
        self.conn.execute(
            "INSERT OR IGNORE INTO photo_files (sha256, width, height, bytes, taken_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![staged.sha256, staged.width, staged.height, staged.bytes as i64, staged.taken_at.map(|t| t.to_rfc3339()), now_text()],
        )?;
        Ok(staged)
    }

    /// A staged photo by its hash, if its file is on the device.
    pub fn staged_photo(&self, sha256: &str) -> DeviceResult<Option<StagedPhoto>> {
        let row = self
            .conn
            .query_row("SELECT width, height, bytes, taken_at FROM photo_files WHERE sha256 = ?1", [sha256], |r| {
                Ok((r.get::<_, u32>(0)?, r.get::<_, u32>(1)?, r.get::<_, i64>(2)?, r.get::<_, Option<String>>(3)?))
            })
            .optional()?;
        Ok(row.filter(|_| self.photo_path(sha256, false).is_file()).map(|(width, height, bytes, taken_at)| {
            StagedPhoto {
                sha256: sha256.to_owned(),
                width,
                height,
                bytes: bytes as u64,
                taken_at: taken_at.and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok()),
            }
        }))
    }

    /// Saves a finding and queues its `finding.create` op, all or nothing.
    pub fn queue_finding(&mut self, new: NewFinding) -> DeviceResult<Finding> {
        let patrol_id = self.current_patrol()?.map(|p| p.id);
        let finding = self.build_finding(Uuid::now_v7(), patrol_id, new, true)?;
        self.write_finding(&finding, false, true)?;
        Ok(finding)
    }

    /// Saves a draft (情况草稿): a finding still being written, sent nowhere. With `id`, replaces that
    /// draft's fields and photos, keeping its time and patrol; a finding already queued cannot be changed.
    /// A draft may lack its category and photos; whatever it has must be valid.
    pub fn save_draft(&mut self, id: Option<Uuid>, new: NewFinding) -> DeviceResult<Finding> {
        let finding = match id {
            Some(id) => {
                let old = self.draft(id)?;
                self.build_finding(id, old.patrol_id, NewFinding { observed_at: old.observed_at, ..new }, false)?
            }
            None => {
                let patrol_id = self.current_patrol()?.map(|p| p.id);
                self.build_finding(Uuid::now_v7(), patrol_id, new, false)?
            }
        };
        self.write_finding(&finding, id.is_some(), false)?;
        Ok(finding)
    }

    /// Queues a draft with its latest fields (draft → queued), checked as a new report is.
    pub fn submit_draft(&mut self, id: Uuid, new: NewFinding) -> DeviceResult<Finding> {
        let old = self.draft(id)?;
        let finding =
            self.build_finding(id, old.patrol_id, NewFinding { observed_at: old.observed_at, ..new }, true)?;
        self.write_finding(&finding, true, true)?;
        Ok(finding)
    }

    /// Throws a draft away; its photo files stay staged on the device.
    pub fn delete_draft(&mut self, id: Uuid) -> DeviceResult<()> {
        self.draft(id)?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM photos WHERE finding_id = ?1", [id.to_string()])?;
        tx.execute(
            "DELETE FROM findings WHERE id = ?1 AND local_state = ?2",
            params![id.to_string(), local_state::DRAFT],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The stored draft `id`; an error when there is none or it is queued already.
    fn draft(&self, id: Uuid) -> DeviceResult<Finding> {
        match self.finding(id)? {
            Some((row, finding)) if row.local_state == local_state::DRAFT => Ok(finding),
            Some(_) => Err(DeviceError::Invalid(format!("finding {id} is queued already and can no longer be edited"))),
            None => Err(DeviceError::Invalid(format!("no draft {id} on this device"))),
        }
    }

    /// Checks what the inspector entered and makes the finding: `complete` for a report to queue (a category
    /// and 1–9 photos), otherwise a draft (only what is there is checked). The road is filled in from the
    /// dictionary's road list when none was given.
    fn build_finding(
        &self,
        id: Uuid,
        patrol_id: Option<Uuid>,
        new: NewFinding,
        complete: bool,
    ) -> DeviceResult<Finding> {
        if new.photos.len() > protocol::MAX_PHOTOS || (complete && new.photos.is_empty()) {
            return Err(DeviceError::Invalid("a finding has 1 to 9 photos".into()));
        }
        if complete && new.category.trim().is_empty() {
            return Err(DeviceError::Invalid("a finding needs a category".into()));
        }
        let dict = self.dictionary()?;
        if let Some(dict) = &dict
            && !new.category.is_empty()
            && dict.category(&new.category).is_none()
        {
            return Err(DeviceError::Invalid(format!(
                "category {} is not in the dictionary (version {})",
                new.category, dict.version
            )));
        }
        if new.photos.iter().any(|(_, role)| *role == PhotoRole::After) && !new.fixed_on_spot {
            return Err(DeviceError::Invalid("photos after fixing need \"fixed on the spot\"".into()));
        }
        let mut refs = Vec::with_capacity(new.photos.len());
        for (photo, role) in &new.photos {
            let path = self.photo_path(&photo.sha256, false);
            if !path.is_file() {
                return Err(DeviceError::Invalid(format!("photo {} is not stored on this device", photo.sha256)));
            }
            refs.push(PhotoRef {
                sha256: photo.sha256.clone(),
                role: *role,
                taken_at: photo.taken_at,
                width: photo.width,
                height: photo.height,
                bytes: photo.bytes,
            });
        }
        let road = new.road.or_else(|| {
            dict.as_ref()
                .and_then(|d| d.nearest_road(new.location.lat, new.location.lon, protocol::ROAD_MATCH_M))
                .map(|r| r.name.clone())
        });
        Ok(Finding {
            id,
            patrol_id,
            category: new.category,
            description: new.description,
            urgent: new.urgent,
            fixed_on_spot: new.fixed_on_spot,
            location: new.location,
            address: new.address,
            road,
            grid: new.grid,
            facility_code: new.facility_code,
            observed_at: new.observed_at,
            photos: refs,
        })
    }

    /// Writes a finding and its photo rows in one transaction (with `replace`, over the draft of the same id),
    /// and with `queue` its `finding.create` op too.
    fn write_finding(&mut self, finding: &Finding, replace: bool, queue: bool) -> DeviceResult<()> {
        let now = now_text();
        let state = if queue { local_state::QUEUED } else { local_state::DRAFT };
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if replace {
            tx.execute("DELETE FROM photos WHERE finding_id = ?1", [finding.id.to_string()])?;
        }
        tx.execute(
            "INSERT INTO findings (id, body, category, description, observed_at, observed_day, patrol_id, local_state, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
             ON CONFLICT (id) DO UPDATE SET body = excluded.body, category = excluded.category,
                 description = excluded.description, local_state = excluded.local_state, updated_at = excluded.updated_at
             WHERE findings.local_state = 'draft'",
            params![
                finding.id.to_string(),
                serde_json::to_string(finding)?,
                finding.category,
                finding.description,
                finding.observed_at.to_rfc3339(),
                finding.observed_at.with_timezone(&Local).format("%Y-%m-%d").to_string(),
                finding.patrol_id.map(|p| p.to_string()),
                state,
                now
            ],
        )?;
        let mut insert_photo = tx.prepare_cached(
            "INSERT INTO photos (finding_id, idx, sha256, role, width, height, bytes, taken_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (i, p) in finding.photos.iter().enumerate() {
            insert_photo.execute(params![
                finding.id.to_string(),
                i as i64,
                p.sha256,
                if p.role == PhotoRole::After { "after" } else { "before" },
                p.width,
                p.height,
                p.bytes as i64,
                p.taken_at.map(|t| t.to_rfc3339())
            ])?;
        }
        drop(insert_photo);
        if queue {
            Self::enqueue_with_photos(&tx, &Op::FindingCreate(finding.clone()), &now, &finding.photos)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Queues an op and records the photo files it needs on the server (stored as `photos/<sha256>.jpg`).
    fn enqueue_with_photos(conn: &Connection, op: &Op, now: &str, photos: &[PhotoRef]) -> DeviceResult<i64> {
        let seq = Self::enqueue(conn, op, now)?;
        for p in photos {
            conn.execute(
                "INSERT OR IGNORE INTO blobs (sha256, file, bytes) VALUES (?1, ?2, ?3)",
                params![p.sha256, format!("photos/{}.jpg", p.sha256), p.bytes as i64],
            )?;
            conn.execute("INSERT OR IGNORE INTO outbox_blobs (seq, sha256) VALUES (?1, ?2)", params![seq, p.sha256])?;
        }
        Ok(seq)
    }

    fn enqueue(conn: &Connection, op: &Op, now: &str) -> DeviceResult<i64> {
        conn.execute(
            "INSERT INTO outbox (kind, entity_id, body, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![op.kind(), op.entity_id().to_string(), serde_json::to_string(&op.body())?, now],
        )?;
        Ok(conn.last_insert_rowid())
    }

    pub fn pending_count(&self) -> DeviceResult<u64> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM outbox WHERE state = 'pending'", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    /// Pending ops after `after_seq`, oldest first, at most `max_ops` and about `max_bytes` of bodies.
    pub fn pending_ops(&self, after_seq: u64, max_ops: usize, max_bytes: usize) -> DeviceResult<Vec<PendingOp>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, kind, body FROM outbox WHERE state = 'pending' AND seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after_seq as i64, max_ops as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })?;
        let mut out = Vec::new();
        let mut bytes = 0;
        for row in rows {
            let (seq, kind, body) = row?;
            bytes += body.len();
            if !out.is_empty() && bytes > max_bytes {
                break;
            }
            out.push(PendingOp {
                seq: seq as u64,
                envelope: OpEnvelope { seq: seq as u64, kind, body: serde_json::from_str(&body)? },
            });
        }
        Ok(out)
    }

    /// Photo files that pending ops need and the server does not have yet.
    pub fn pending_blobs(&self) -> DeviceResult<Vec<PendingBlob>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT b.sha256, b.file, b.bytes FROM outbox o
             JOIN outbox_blobs ob ON ob.seq = o.seq JOIN blobs b ON b.sha256 = ob.sha256
             WHERE o.state = 'pending' AND b.uploaded = 0 ORDER BY o.seq",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (sha256, file, bytes) = row?;
            out.push(PendingBlob { sha256, path: self.home.join(file), bytes: bytes as u64 });
        }
        Ok(out)
    }

    pub fn mark_uploaded(&self, sha256: &str) -> DeviceResult<()> {
        self.conn.execute("UPDATE blobs SET uploaded = 1 WHERE sha256 = ?1", [sha256])?;
        Ok(())
    }

    /// Forgets that a blob was uploaded (the server asked for it again in a `missing_blobs` retry).
    pub fn mark_not_uploaded(&self, sha256: &str) -> DeviceResult<()> {
        self.conn.execute("UPDATE blobs SET uploaded = 0 WHERE sha256 = ?1", [sha256])?;
        Ok(())
    }

    /// Applies one sync answer in one transaction: op results, changes, the new cursor and the clock.
    pub fn apply_answer(&mut self, answer: &SyncResponse) -> DeviceResult<AppliedResults> {
        let mut summary = AppliedResults::default();
        let now = now_text();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for r in &answer.results {
            apply_result(&tx, r, &now, &mut summary)?;
        }
        for change in &answer.changes {
            match &change.body {
                ChangeBody::FindingUpdated(u) => {
                    tx.execute(
                        "UPDATE findings SET server_state = ?2, reason = ?3, case_no = COALESCE(?4, case_no),
                                case_state = COALESCE(?5, case_state), updated_at = ?6 WHERE id = ?1",
                        params![
                            u.finding_id.to_string(),
                            u.state.as_str(),
                            u.reason,
                            u.case.as_ref().map(|c| c.case_no.clone()),
                            u.case.as_ref().map(|c| c.state.as_str()),
                            now
                        ],
                    )?;
                }
                ChangeBody::Dictionary(d) => {
                    let current: Option<i64> =
                        tx.query_row("SELECT version FROM dictionary WHERE id = 1", [], |r| r.get(0)).optional()?;
                    if current.is_none_or(|v| v < d.version) {
                        tx.execute(
                            "INSERT OR REPLACE INTO dictionary (id, version, body) VALUES (1, ?1, ?2)",
                            params![d.version, serde_json::to_string(d)?],
                        )?;
                    }
                }
                ChangeBody::TaskAssigned(a) => {
                    tx.execute(
                        "INSERT INTO tasks (id, case_no, body, due_at, state, assigned_at) VALUES (?1, ?2, ?3, ?4, 'open', ?5)
                         ON CONFLICT (id) DO UPDATE SET body = excluded.body, due_at = excluded.due_at",
                        params![
                            a.task.id.to_string(),
                            a.task.case_no,
                            serde_json::to_string(&a.task)?,
                            a.task.due_at.map(|t| t.to_rfc3339()),
                            now
                        ],
                    )?;
                }
                ChangeBody::TaskCancelled(c) => {
                    tx.execute(
                        "UPDATE tasks SET state = 'cancelled' WHERE id = ?1 AND state = 'open'",
                        [c.task_id.to_string()],
                    )?;
                }
                ChangeBody::AreaCase(c) => {
                    if c.state.is_open() {
                        tx.execute(
                            "INSERT OR REPLACE INTO area_cases (case_no, category, state, lat, lon, observed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                            params![c.case_no, c.category, c.state.as_str(), c.location.lat, c.location.lon, c.observed_at.to_rfc3339()],
                        )?;
                    } else {
                        tx.execute("DELETE FROM area_cases WHERE case_no = ?1", [&c.case_no])?;
                    }
                }
                ChangeBody::Unknown => {}
            }
        }
        Self::set_meta(&tx, "cursor", &answer.cursor)?;
        let offset = answer.server_time.with_timezone(&Utc) - Utc::now();
        Self::set_meta(&tx, "clock_offset_ms", &offset.num_milliseconds().to_string())?;
        Self::set_meta(&tx, "last_sync_at", &now)?;
        tx.commit()?;
        Ok(summary)
    }

    /// Verification tasks, open ones first.
    pub fn tasks(&self) -> DeviceResult<Vec<TaskRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, case_no, state, due_at, result, body FROM tasks ORDER BY state != 'open', due_at",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, case_no, state, due_at, result, body) = row?;
            let task: protocol::Task = serde_json::from_str(&body)?;
            out.push(TaskRow {
                id: Uuid::parse_str(&id).unwrap_or_default(),
                case_no,
                state,
                due_at,
                result,
                category: task.category,
                description: task.description,
                address: task.address,
                lat: task.location.lat,
                lon: task.location.lon,
            });
        }
        Ok(out)
    }

    /// Records a verification result and queues its `task.complete` op.
    pub fn complete_task(
        &mut self,
        task_id: Uuid,
        result: protocol::TaskResult,
        note: String,
        photos: Vec<StagedPhoto>,
        completed_at: protocol::Timestamp,
    ) -> DeviceResult<()> {
        let state: Option<String> = self
            .conn
            .query_row("SELECT state FROM tasks WHERE id = ?1", [task_id.to_string()], |r| r.get(0))
            .optional()?;
        match state.as_deref() {
            None => return Err(DeviceError::Invalid(format!("no task {task_id} on this device; sync first"))),
            Some("open") => {}
            Some(other) => return Err(DeviceError::Invalid(format!("task {task_id} is already {other}"))),
        }
        let mut refs = Vec::new();
        for photo in &photos {
            refs.push(PhotoRef {
                sha256: photo.sha256.clone(),
                role: PhotoRole::After,
                taken_at: photo.taken_at,
                width: photo.width,
                height: photo.height,
                bytes: photo.bytes,
            });
        }
        let op = Op::TaskComplete(protocol::TaskComplete { task_id, result, note, photos: refs.clone(), completed_at });
        let now = now_text();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let label = match result {
            protocol::TaskResult::Pass => "pass",
            protocol::TaskResult::Fail => "fail",
        };
        tx.execute(
            "UPDATE tasks SET state = 'done', result = ?2, completed_at = ?3 WHERE id = ?1",
            params![task_id.to_string(), label, now],
        )?;
        Self::enqueue_with_photos(&tx, &op, &now, &refs)?;
        tx.commit()?;
        Ok(())
    }

    /// The patrol under way, if any: (id, started at, metres walked, points kept).
    pub fn current_patrol(&self) -> DeviceResult<Option<PatrolRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, started_at, ended_at, distance_m, points, paused_at FROM patrols WHERE ended_at IS NULL
                 ORDER BY started_at DESC LIMIT 1",
                [],
                |r| {
                    Ok(PatrolRow {
                        id: Uuid::parse_str(&r.get::<_, String>(0)?).unwrap_or_default(),
                        started_at: r.get(1)?,
                        ended_at: r.get(2)?,
                        distance_m: r.get(3)?,
                        points: r.get(4)?,
                        paused: r.get::<_, Option<String>>(5)?.is_some(),
                    })
                },
            )
            .optional()?)
    }

    /// Starts a patrol; findings reported while it runs belong to it.
    pub fn start_patrol(&mut self, at: protocol::Timestamp) -> DeviceResult<Uuid> {
        if let Some(p) = self.current_patrol()? {
            return Err(DeviceError::Invalid(format!("patrol {} is already under way; end it first", p.id)));
        }
        let id = Uuid::now_v7();
        let now = now_text();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("INSERT INTO patrols (id, started_at) VALUES (?1, ?2)", params![id.to_string(), at.to_rfc3339()])?;
        Self::enqueue(&tx, &Op::PatrolStart(protocol::PatrolStart { id, started_at: at }), &now)?;
        tx.commit()?;
        Ok(id)
    }

    /// Adds a track point to the running patrol. Points with poor accuracy, or closer than a few metres to
    /// the last one kept, are skipped (thinning); returns whether the point was kept.
    pub fn track_point(&mut self, point: protocol::TrackPoint) -> DeviceResult<bool> {
        const MIN_STEP_M: f64 = 5.0;
        const MAX_ACCURACY_M: f64 = 50.0;
        let patrol = self.current_patrol()?.ok_or_else(|| DeviceError::Invalid("no patrol is under way".into()))?;
        if !point.is_valid() {
            return Err(DeviceError::Invalid("position out of range or negative accuracy".into()));
        }
        if point.accuracy_m > MAX_ACCURACY_M || patrol.paused {
            return Ok(false);
        }
        let last: (Option<f64>, Option<f64>) = self.conn.query_row(
            "SELECT last_lat, last_lon FROM patrols WHERE id = ?1",
            [patrol.id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let step = match last {
            (Some(lat), Some(lon)) => protocol::geo::distance_m(lat, lon, point.lat, point.lon),
            _ => 0.0,
        };
        if last.0.is_some() && step < MIN_STEP_M {
            return Ok(false);
        }
        let now = now_text();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE patrols SET distance_m = distance_m + ?2, last_lat = ?3, last_lon = ?4, points = points + 1 WHERE id = ?1",
            params![patrol.id.to_string(), step, point.lat, point.lon],
        )?;
        Self::enqueue(
            &tx,
            &Op::PatrolTrack(protocol::PatrolTrack { patrol_id: patrol.id, points: vec![point] }),
            &now,
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Pauses or resumes the running patrol (a break: no track points while paused).
    pub fn pause_patrol(&mut self, paused: bool) -> DeviceResult<PatrolRow> {
        let mut patrol = self.current_patrol()?.ok_or_else(|| DeviceError::Invalid("no patrol is under way".into()))?;
        let at = if paused { Some(now_text()) } else { None };
        self.conn.execute("UPDATE patrols SET paused_at = ?2 WHERE id = ?1", params![patrol.id.to_string(), at])?;
        patrol.paused = paused;
        Ok(patrol)
    }

    /// Ends the running patrol; returns it with its distance.
    pub fn end_patrol(&mut self, at: protocol::Timestamp) -> DeviceResult<PatrolRow> {
        let row = self.end_patrol_row(at)?;
        self.checkpoint()?;
        Ok(row)
    }

    fn end_patrol_row(&mut self, at: protocol::Timestamp) -> DeviceResult<PatrolRow> {
        let mut patrol = self.current_patrol()?.ok_or_else(|| DeviceError::Invalid("no patrol is under way".into()))?;
        let now = now_text();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("UPDATE patrols SET ended_at = ?2 WHERE id = ?1", params![patrol.id.to_string(), at.to_rfc3339()])?;
        let op = Op::PatrolEnd(protocol::PatrolEnd { id: patrol.id, ended_at: at, distance_m: patrol.distance_m });
        Self::enqueue(&tx, &op, &now)?;
        tx.commit()?;
        patrol.ended_at = Some(at.to_rfc3339());
        patrol.paused = false;
        Ok(patrol)
    }

    /// Open cases of the team's area near a point, to warn before a duplicate report.
    pub fn nearby_cases(&self, lat: f64, lon: f64, radius_m: f64) -> DeviceResult<Vec<(String, String, f64)>> {
        let mut stmt = self.conn.prepare_cached("SELECT case_no, category, lat, lon FROM area_cases")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, f64>(2)?, r.get::<_, f64>(3)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (case_no, category, clat, clon) = row?;
            let d = protocol::geo::distance_m(lat, lon, clat, clon);
            if d <= radius_m {
                out.push((case_no, category, d));
            }
        }
        out.sort_by(|a, b| a.2.total_cmp(&b.2));
        Ok(out)
    }

    /// The findings, newest first, optionally of one local state and one local day (`YYYY-MM-DD`).
    pub fn findings(
        &self,
        state: Option<&str>,
        day: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> DeviceResult<Vec<FindingRow>> {
        // One statement per filter, so that SQLite walks an index in list order and stops at the page.
        let filter = match (state.is_some(), day.is_some()) {
            (true, true) => "f.local_state = ?1 AND f.observed_day = ?2",
            (true, false) => "f.local_state = ?1 AND ?2 IS NULL",
            (false, true) => "?1 IS NULL AND f.observed_day = ?2",
            (false, false) => "?1 IS NULL AND ?2 IS NULL",
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT f.id, f.local_state, f.server_state, f.case_no, f.case_state, f.reason, f.category, f.description, f.observed_at,
                    (SELECT COUNT(*) FROM photos p WHERE p.finding_id = f.id)
             FROM findings f WHERE {filter}
             ORDER BY f.created_at DESC, f.id DESC LIMIT ?3 OFFSET ?4"
        ))?;
        let rows = stmt.query_map(params![state, day, limit, offset], |r| {
            Ok(FindingRow {
                id: Uuid::parse_str(&r.get::<_, String>(0)?).unwrap_or_default(),
                local_state: r.get(1)?,
                server_state: r.get(2)?,
                case_no: r.get(3)?,
                case_state: r.get(4)?,
                reason: r.get(5)?,
                category: r.get(6)?,
                description: r.get(7)?,
                observed_at: r.get(8)?,
                photos: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One finding as stored, with its list row.
    pub fn finding(&self, id: Uuid) -> DeviceResult<Option<(FindingRow, Finding)>> {
        let body: Option<String> = self
            .conn
            .query_row("SELECT body FROM findings WHERE id = ?1", [id.to_string()], |r| r.get(0))
            .optional()?;
        let Some(body) = body else { return Ok(None) };
        let finding: Finding = serde_json::from_str(&body)?;
        let row = self
            .conn
            .query_row(
                "SELECT local_state, server_state, case_no, case_state, reason, category, description, observed_at FROM findings WHERE id = ?1",
                [id.to_string()],
                |r| {
                    Ok(FindingRow {
                        id,
                        local_state: r.get(0)?,
                        server_state: r.get(1)?,
                        case_no: r.get(2)?,
                        case_state: r.get(3)?,
                        reason: r.get(4)?,
                        category: r.get(5)?,
                        description: r.get(6)?,
                        observed_at: r.get(7)?,
                        photos: finding.photos.len() as u32,
                    })
                },
            )?;
        Ok(Some((row, finding)))
    }

    /// The start-up check: removes temporary files and photo files no row knows (left by a crash between
    /// writing a file and committing its row), and reports photos pending ops need whose file is missing
    /// or, with `verify_hashes`, no longer matches its hash.
    pub fn check(&self, verify_hashes: bool) -> DeviceResult<CheckReport> {
        let mut report = CheckReport::default();
        let dir = self.home.join("photos");
        let mut known = self.conn.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM photo_files WHERE sha256 = ?1) OR EXISTS (SELECT 1 FROM blobs WHERE sha256 = ?1)",
        )?;
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".tmp") {
                fs::remove_file(entry.path())?;
                report.removed_temp_files += 1;
                continue;
            }
            let Some(sha) = name.strip_suffix(".thumb.jpg").or_else(|| name.strip_suffix(".jpg")) else { continue };
            if !known.query_row([sha], |r| r.get::<_, bool>(0))? {
                fs::remove_file(entry.path())?;
                report.removed_orphans += 1;
            }
        }
        for blob in self.pending_blobs()? {
            match fs::read(&blob.path) {
                Err(_) => report.missing.push(blob.sha256),
                Ok(bytes) if verify_hashes && protocol::digest::sha256_hex(&bytes) != blob.sha256 => {
                    report.corrupt.push(blob.sha256)
                }
                Ok(_) => {}
            }
        }
        Ok(report)
    }

    pub fn open_task_count(&self) -> DeviceResult<u64> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM tasks WHERE state = 'open'", [], |r| r.get::<_, i64>(0))? as u64)
    }

    pub fn status(&self) -> DeviceResult<Status> {
        let account = self.account()?;
        let count =
            |sql: &str| -> DeviceResult<u64> { Ok(self.conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64) };
        Ok(Status {
            registered: account.is_some(),
            server_url: account.as_ref().map(|a| a.server_url.clone()),
            username: account.as_ref().map(|a| a.user.username.clone()),
            device_id: account.as_ref().map(|a| a.device_id),
            pending_ops: self.pending_count()?,
            pending_photo_bytes: count(
                "SELECT COALESCE(SUM(bytes), 0) FROM blobs WHERE uploaded = 0 AND sha256 IN
                 (SELECT ob.sha256 FROM outbox_blobs ob JOIN outbox o ON o.seq = ob.seq WHERE o.state = 'pending')",
            )?,
            findings: count("SELECT COUNT(*) FROM findings")?,
            drafts: count("SELECT COUNT(*) FROM findings WHERE local_state = 'draft'")?,
            rejected: count("SELECT COUNT(*) FROM findings WHERE local_state = 'rejected'")?,
            dictionary_version: self
                .conn
                .query_row("SELECT version FROM dictionary WHERE id = 1", [], |r| r.get(0))
                .optional()?,
            last_sync_at: self.meta("last_sync_at")?,
            clock_offset_ms: self.meta("clock_offset_ms")?.and_then(|s| s.parse().ok()),
        })
    }

    /// The time the server would show now, by the offset seen at the last sync.
    pub fn server_now(&self) -> DeviceResult<DateTime<Utc>> {
        let offset = self.meta("clock_offset_ms")?.and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
        Ok(Utc::now() + chrono::Duration::milliseconds(offset))
    }
}

fn apply_result(tx: &Connection, r: &OpResult, now: &str, summary: &mut AppliedResults) -> DeviceResult<()> {
    let seq = r.seq as i64;
    let entity: Option<String> = tx
        .query_row("SELECT entity_id FROM outbox WHERE seq = ?1 AND state = 'pending'", [seq], |row| row.get(0))
        .optional()?;
    let Some(entity) = entity else { return Ok(()) };
    match r.status {
        OpStatus::Applied | OpStatus::Duplicate => {
            if r.status == OpStatus::Applied {
                summary.applied += 1;
            } else {
                summary.duplicate += 1;
            }
            tx.execute(
                "UPDATE outbox SET state = 'done', result = ?2, done_at = ?3 WHERE seq = ?1",
                params![seq, serde_json::to_string(r)?, now],
            )?;
            if let Some(ack) = &r.finding {
                tx.execute(
                    "UPDATE findings SET local_state = ?2, server_state = ?3, case_no = COALESCE(?4, case_no), updated_at = ?5
                     WHERE id = ?1",
                    params![ack.id.to_string(), local_state::RECEIVED, ack.state.as_str(), ack.case_no, now],
                )?;
            }
        }
        OpStatus::Rejected => {
            let reason = r.error.as_ref().map(|e| match e.field() {
                Some(f) => format!("{} ({f})", e.message),
                None => e.message.clone(),
            });
            summary.rejected.push((r.seq, reason.clone().unwrap_or_default()));
            tx.execute(
                "UPDATE outbox SET state = 'rejected', result = ?2, last_error = ?3, done_at = ?4 WHERE seq = ?1",
                params![seq, serde_json::to_string(r)?, reason, now],
            )?;
            tx.execute(
                "UPDATE findings SET local_state = ?2, reason = ?3, updated_at = ?4 WHERE id = ?1",
                params![entity, local_state::REJECTED, reason, now],
            )?;
        }
        OpStatus::Retry => {
            summary.retry += 1;
            let error = r.error.as_ref().map(|e| e.message.clone());
            tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE seq = ?1",
                params![seq, error],
            )?;
            if let Some(missing) = r
                .error
                .as_ref()
                .and_then(|e| e.details.as_ref())
                .and_then(|d| d.get("missing"))
                .and_then(|m| m.as_array())
            {
                for sha in missing.iter().filter_map(|s| s.as_str()) {
                    tx.execute("UPDATE blobs SET uploaded = 0 WHERE sha256 = ?1", [sha])?;
                }
            }
        }
    }
    Ok(())
}
