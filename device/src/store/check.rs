//! The start-up check of photo files against their rows, the status the home screen shows, the server's clock.

use std::fs::{self};

use rusqlite::OptionalExtension;

use super::{CheckReport, DeviceStore, Status};
use crate::error::DeviceResult;

/// How far the phone's clock may be from the server's before its times are corrected.
pub const CLOCK_TRUSTED_WITHIN: chrono::Duration = chrono::Duration::minutes(5);

impl DeviceStore {
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

    /// A time of the phone's clock on the server's, when the phone's is known to be off: by the offset seen
    /// at the last sync, once that is `CLOCK_TRUSTED_WITHIN` or more. A phone set hours ahead would otherwise
    /// see every report refused (the contract takes no `observed_at` more than 10 minutes ahead), and one set
    /// hours behind would file its reports in the past; the offset is measured again at every sync. Smaller
    /// offsets are the clocks' ordinary drift and the network's delay, and are left alone.
    pub fn on_server_clock(&self, device_time: protocol::Timestamp) -> DeviceResult<protocol::Timestamp> {
        let offset = self.meta("clock_offset_ms")?.and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
        let offset = chrono::Duration::milliseconds(offset);
        Ok(if offset.abs() >= CLOCK_TRUSTED_WITHIN { device_time + offset } else { device_time })
    }
}
