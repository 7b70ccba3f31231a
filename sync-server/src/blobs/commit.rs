//! Group commit of photos written to packs.
//!
//! A photo is acknowledged only when its bytes and its row are both on disk. One thread (`blob-commit`) takes
//! every photo written since it last looked, flushes each pack they are in once, then records all their rows
//! in one transaction of the store, and only then answers their uploads. While it flushes, the next uploads
//! gather, so the busier the server, the more photos share a flush. The row is committed after the pack's
//! flush, so a row never points at bytes that could still be lost.
//!
//! A failed flush of a pack ends the process, as one of the write-ahead log does (`SqliteStore::flush_log`):
//! Linux reports a write-back error once, so a later flush of the same pack could succeed without the photos
//! the failed one should have made durable, and those photos would then be acknowledged. After a restart the
//! devices send again whatever was not acknowledged.

use std::sync::mpsc;

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::BlobFiles;
use super::BlobMeta;
use super::packs::Written;
use crate::db::StoreError;
use crate::error::{AppError, AppResult};

/// Records complete photos (their rows, in one durable commit); for each, false when it was already held.
pub type RecordBlobs = dyn Fn(&[(BlobMeta, Uuid)], DateTime<Utc>) -> AppResult<Vec<bool>> + Send + Sync;

struct Pending {
    written: Written,
    meta: BlobMeta,
    uploader: Uuid,
    reply: oneshot::Sender<AppResult<bool>>,
}

/// Makes photos written to packs durable and recorded; cheap to share.
#[derive(Clone)]
pub struct Committer {
    jobs: mpsc::Sender<Pending>,
}

impl Committer {
    /// Starts the `blob-commit` thread.
    pub fn start(
        record: impl Fn(&[(BlobMeta, Uuid)], DateTime<Utc>) -> AppResult<Vec<bool>> + Send + Sync + 'static,
        blobs: BlobFiles,
    ) -> std::io::Result<Self> {
        let (jobs, pending) = mpsc::channel();
        std::thread::Builder::new().name("blob-commit".into()).spawn(move || {
            // Without this thread no photo could be stored again while the rest of the server went on.
            struct EndsTheProcessOnPanic;
            impl Drop for EndsTheProcessOnPanic {
                fn drop(&mut self) {
                    if std::thread::panicking() {
                        eprintln!("the photo committer failed: ending the process");
                        std::process::abort();
                    }
                }
            }
            let _guard = EndsTheProcessOnPanic;
            serve(&record, &blobs, &pending);
        })?;
        Ok(Committer { jobs })
    }

    /// Flushes the photo `written` and records it as `meta` (its place filled in); true when it is new, false
    /// when the store already held it.
    pub async fn commit(&self, written: Written, mut meta: BlobMeta, uploader: Uuid) -> AppResult<bool> {
        meta.packed = Some(written.place);
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Pending { written, meta, uploader, reply })
            .map_err(|_| AppError::internal("the photo committer has stopped"))?;
        answer.await.map_err(|_| AppError::internal("the photo committer has stopped"))?
    }
}

fn serve(record: &RecordBlobs, blobs: &BlobFiles, pending: &mpsc::Receiver<Pending>) {
    while let Ok(first) = pending.recv() {
        let mut group = vec![first];
        group.extend(pending.try_iter());
        match commit_group(record, blobs, &group) {
            Ok(created) => {
                for (p, created) in group.into_iter().zip(created) {
                    let _ = p.reply.send(Ok(created));
                }
            }
            Err(e) => {
                tracing::error!("recording photos failed: {e}");
                let message = e.to_string();
                let full = matches!(e, AppError::Store(StoreError::Full(_)));
                for p in group {
                    // A full disk is the client's 503 (send again later); anything else is the server's fault.
                    let error = if full {
                        StoreError::Full(message.clone()).into()
                    } else {
                        AppError::internal(message.clone())
                    };
                    let _ = p.reply.send(Err(error));
                }
            }
        }
    }
}

fn commit_group(record: &RecordBlobs, blobs: &BlobFiles, group: &[Pending]) -> AppResult<Vec<bool>> {
    let mut flushed: Vec<u32> = Vec::with_capacity(1);
    for p in group {
        let pack = p.written.file.id();
        if flushed.contains(&pack) {
            continue;
        }
        if let Err(e) = p.written.file.flush() {
            tracing::error!("flushing photo pack {pack} failed: {e}; ending the process");
            std::process::abort();
        }
        flushed.push(pack);
    }
    let rows: Vec<(BlobMeta, Uuid)> = group.iter().map(|p| (p.meta.clone(), p.uploader)).collect();
    let created = record(&rows, Utc::now())?;
    // A resumable upload of the same photo, finished or abandoned, is no longer needed.
    for p in group {
        if let Err(e) = blobs.discard_partial(&p.meta.sha256) {
            tracing::warn!("a finished upload's partial file could not be removed: {e}");
        }
    }
    Ok(created)
}
