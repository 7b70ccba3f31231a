//! Where the server keeps photos, as the upload and download handlers see it: pack files in the data
//! directory (the default), or an S3-compatible bucket (`--blobs s3://…`). Either way a photo's row is
//! recorded only once its bytes are durable where they are kept, and a resumable upload keeps what it holds
//! beside the photos (partial files, or chunk objects).

use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use uuid::Uuid;

use super::commit::Committer;
use super::object::ObjectPhotos;
use super::{BlobFiles, BlobMeta, FinishedUpload};
use crate::db::{Store, StoreError};
use crate::error::{AppError, AppResult};

pub enum Photos {
    /// Pack files under `DATA/blobs`, flushed and recorded in groups by the committer.
    Local {
        files: BlobFiles,
        committer: Committer,
    },
    Object(ObjectPhotos),
}

impl From<object_store::Error> for AppError {
    fn from(e: object_store::Error) -> Self {
        tracing::error!(error = %e, "the object store failed");
        AppError::api(protocol::ErrorCode::Unavailable, "the photo store cannot be reached; try again later")
    }
}

async fn on_disk<T: Send + 'static>(work: impl FnOnce() -> std::io::Result<T> + Send + 'static) -> AppResult<T> {
    Ok(tokio::task::spawn_blocking(work).await??)
}

impl Photos {
    /// What `--blobs` names, for the start-up line.
    pub fn describe(&self) -> String {
        match self {
            Photos::Local { .. } => "packs in the data directory".into(),
            Photos::Object(o) => o.url().to_owned(),
        }
    }

    pub async fn partial_len(&self, sha: &str) -> AppResult<Option<u64>> {
        match self {
            Photos::Local { files, .. } => {
                let (files, sha) = (files.clone(), sha.to_owned());
                on_disk(move || files.partial_len(&sha)).await
            }
            Photos::Object(o) => Ok(o.partial_len(sha).await?),
        }
    }

    pub async fn start_partial(&self, sha: &str) -> AppResult<()> {
        match self {
            Photos::Local { files, .. } => {
                let (files, sha) = (files.clone(), sha.to_owned());
                on_disk(move || files.start_partial(&sha)).await
            }
            Photos::Object(o) => Ok(o.start_partial(sha).await?),
        }
    }

    /// Keeps the bytes that follow `offset` (the bytes held, checked by the caller); the bytes now held.
    pub async fn append_partial(&self, sha: &str, offset: u64, bytes: Bytes) -> AppResult<u64> {
        match self {
            Photos::Local { files, .. } => {
                let (files, sha) = (files.clone(), sha.to_owned());
                on_disk(move || files.append_partial(&sha, &bytes)).await
            }
            Photos::Object(o) => Ok(o.append_partial(sha, offset, bytes).await?),
        }
    }

    pub async fn finish_partial(&self, sha: &str) -> AppResult<FinishedUpload> {
        match self {
            Photos::Local { files, .. } => {
                let (files, sha) = (files.clone(), sha.to_owned());
                on_disk(move || files.finish_partial(&sha)).await
            }
            Photos::Object(o) => Ok(o.finish_partial(sha).await?),
        }
    }

    pub async fn discard_partial(&self, sha: &str) -> AppResult<()> {
        match self {
            Photos::Local { files, .. } => {
                let (files, sha) = (files.clone(), sha.to_owned());
                on_disk(move || files.discard_partial(&sha)).await
            }
            Photos::Object(o) => Ok(o.discard_partial(sha).await?),
        }
    }

    pub async fn read(&self, meta: BlobMeta) -> AppResult<Vec<u8>> {
        match self {
            Photos::Local { files, .. } => {
                let files = files.clone();
                on_disk(move || files.read(&meta)).await
            }
            Photos::Object(o) => Ok(o.read(&meta.sha256).await?),
        }
    }

    /// Removes a photo's bytes for good (the retention rule); its row was marked purged first.
    pub async fn remove(&self, meta: BlobMeta) -> AppResult<()> {
        match self {
            Photos::Local { files, .. } => {
                let files = files.clone();
                on_disk(move || files.remove(&meta)).await
            }
            Photos::Object(o) => Ok(o.remove(&meta.sha256).await?),
        }
    }

    /// Keeps a complete photo (checked by the caller, not held yet) and records its row once the bytes are
    /// durable; ends its resumable upload, if it came as one. True when the row is new.
    pub async fn keep(&self, store: Arc<dyn Store>, bytes: Bytes, meta: BlobMeta, uploader: Uuid) -> AppResult<bool> {
        match self {
            Photos::Local { files, committer } => {
                let files = files.clone();
                let written = on_disk(move || files.write(&bytes)).await?;
                // The committer also removes a partial file, once the photo's row is durable.
                committer.commit(written, meta, uploader).await
            }
            Photos::Object(o) => {
                let sha = meta.sha256.clone();
                o.put(&sha, bytes).await?;
                // Its chunks are looked for only when an upload of it was under way: listing a bucket is a
                // request of its own, and on some S3 servers one that grows slower with the bucket.
                let (created, resumed) = tokio::task::spawn_blocking(move || {
                    let resumed = store.upload(&meta.sha256)?.is_some();
                    let created = store.record_blobs(&[(meta, uploader)], Utc::now())?.first().copied();
                    Ok::<_, StoreError>((created.unwrap_or(false), resumed))
                })
                .await??;
                if resumed {
                    o.discard_partial(&sha).await?;
                }
                Ok(created)
            }
        }
    }
}
