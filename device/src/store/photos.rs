//! Processed photos on disk (`photos/<sha256>.jpg` and its thumbnail), written atomically before any row names them.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::{DeviceStore, StagedPhoto, now_text};
use crate::error::DeviceResult;
use crate::photo::ProcessedPhoto;

impl DeviceStore {
    /// Where a photo (or its thumbnail) lives.
    pub fn photo_path(&self, sha256: &str, thumbnail: bool) -> PathBuf {
        let name = if thumbnail { format!("{sha256}.thumb.jpg") } else { format!("{sha256}.jpg") };
        self.home.join("photos").join(name)
    }

    /// Writes a photo file once: a file of that name (its hash) already holds these bytes.
    pub(super) fn write_atomically(&self, dest: &Path, bytes: &[u8]) -> DeviceResult<()> {
        if dest.exists() {
            return Ok(());
        }
        Ok(write_replacing(dest, bytes)?)
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
}

/// Puts `bytes` at `dest` so that a reader (or a crash) sees the old file or the new one, never a part: a
/// temporary file beside it (`.<uuid>.tmp`, which the start-up check removes in `photos/`) flushed, renamed
/// over `dest`, and the directory flushed.
pub(crate) fn write_replacing(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp", Uuid::new_v4()));
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, dest)?;
    File::open(dir)?.sync_all()
}
