//! Photos in S3-compatible object storage (`serve --blobs s3://BUCKET[/PREFIX]`), through `object_store`,
//! configured by the usual `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION` and
//! `AWS_ALLOW_HTTP` variables. A photo is the object `photos/<sha256>`, written whole (an object appears whole
//! or not at all, and is durable once the PUT is answered) before its row is recorded. A resumable upload's
//! chunks are objects `partial/<sha256>/<offset>` until the last one has come: what is held lives in the
//! bucket, not in one server process, so an upload begun on one process goes on from another.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use super::{FinishedUpload, sniff_image};
use protocol::digest::Sha256;

/// Where photos go, as `--blobs` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketUrl {
    pub bucket: String,
    pub prefix: String,
}

impl BucketUrl {
    /// `s3://BUCKET[/PREFIX]`.
    pub fn parse(url: &str) -> Result<BucketUrl, String> {
        let rest = url.strip_prefix("s3://").ok_or_else(|| format!("`{url}` is not s3://BUCKET[/PREFIX]"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("`{url}` names no bucket"));
        }
        Ok(BucketUrl { bucket: bucket.to_owned(), prefix: prefix.trim_matches('/').to_owned() })
    }
}

#[derive(Clone)]
pub struct ObjectPhotos {
    store: Arc<dyn ObjectStore>,
    url: String,
}

/// A chunk of a resumable upload, by where it starts.
fn chunk_path(sha: &str, offset: u64) -> Path {
    Path::from(format!("partial/{sha}/{offset:012}"))
}

fn photo_path(sha: &str) -> Path {
    Path::from(format!("photos/{sha}"))
}

pub type ObjectResult<T> = Result<T, object_store::Error>;

impl ObjectPhotos {
    /// The bucket of `url`, with credentials and endpoint from the environment.
    pub fn from_env(url: &str) -> Result<ObjectPhotos, String> {
        let at = BucketUrl::parse(url)?;
        // reqwest is built without a default crypto provider: the one the rest of the server uses (ring).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let s3 = AmazonS3Builder::from_env()
            .with_bucket_name(&at.bucket)
            .build()
            .map_err(|e| format!("--blobs {url}: {e}"))?;
        let store: Arc<dyn ObjectStore> =
            if at.prefix.is_empty() { Arc::new(s3) } else { Arc::new(PrefixStore::new(s3, at.prefix.as_str())) };
        Ok(ObjectPhotos { store, url: url.to_owned() })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the bucket answers (a listing of nothing), so that a wrong endpoint or key stops the start.
    pub async fn check(&self) -> Result<(), String> {
        self.store
            .list_with_delimiter(Some(&Path::from("photos")))
            .await
            .map(|_| ())
            .map_err(|e| format!("the object store at {} does not answer: {e}", self.url))
    }

    /// Whether the bucket holds a photo.
    pub async fn holds(&self, sha: &str) -> ObjectResult<bool> {
        match self.store.head(&photo_path(sha)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn put(&self, sha: &str, bytes: Bytes) -> ObjectResult<()> {
        self.store.put(&photo_path(sha), PutPayload::from(bytes)).await.map(|_| ())
    }

    /// Deletes a photo's object (the retention rule).
    pub async fn remove(&self, sha: &str) -> ObjectResult<()> {
        match self.store.delete(&photo_path(sha)).await {
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            other => other,
        }
    }

    pub async fn read(&self, sha: &str) -> ObjectResult<Vec<u8>> {
        Ok(self.store.get(&photo_path(sha)).await?.bytes().await?.to_vec())
    }

    /// The chunks held of an upload, by offset.
    async fn chunks(&self, sha: &str) -> ObjectResult<Vec<(u64, u64, Path)>> {
        let prefix = Path::from(format!("partial/{sha}"));
        let listed: Vec<_> = self.store.list(Some(&prefix)).try_collect().await?;
        let mut chunks: Vec<(u64, u64, Path)> = listed
            .into_iter()
            .filter_map(|m| {
                let offset = m.location.filename()?.parse().ok()?;
                Some((offset, m.size, m.location))
            })
            .collect();
        chunks.sort_by_key(|c| c.0);
        Ok(chunks)
    }

    /// Bytes held of an unfinished upload: its chunks that follow each other from the start.
    pub async fn partial_len(&self, sha: &str) -> ObjectResult<Option<u64>> {
        let chunks = self.chunks(sha).await?;
        if chunks.is_empty() {
            return Ok(None);
        }
        let mut held = 0;
        for (offset, size, _) in chunks {
            if offset == held {
                held += size;
            }
        }
        Ok(Some(held))
    }

    /// Starts (or restarts) an upload with no bytes held: an empty first chunk marks it.
    pub async fn start_partial(&self, sha: &str) -> ObjectResult<()> {
        self.discard_partial(sha).await?;
        self.store.put(&chunk_path(sha, 0), PutPayload::default()).await.map(|_| ())
    }

    /// Stores the bytes from `offset` on; returns the bytes now held.
    pub async fn append_partial(&self, sha: &str, offset: u64, bytes: Bytes) -> ObjectResult<u64> {
        let len = bytes.len() as u64;
        if len > 0 {
            self.store.put(&chunk_path(sha, offset), PutPayload::from(bytes)).await?;
        }
        Ok(offset + len)
    }

    /// Reads a complete upload's chunks in order, hashes the bytes and sniffs their type.
    pub async fn finish_partial(&self, sha: &str) -> ObjectResult<FinishedUpload> {
        let mut bytes = Vec::new();
        for (offset, _, location) in self.chunks(sha).await? {
            if offset == bytes.len() as u64 {
                bytes.extend_from_slice(&self.store.get(&location).await?.bytes().await?);
            }
        }
        let mut hasher = Sha256::new();
        hasher.update(&bytes);
        let content_type = sniff_image(&bytes);
        Ok(FinishedUpload { sha256: hasher.finish_hex(), bytes, content_type })
    }

    /// The photos with chunks in the bucket (uploads under way, or finished ones a crash left chunks of).
    pub async fn partials(&self) -> ObjectResult<Vec<String>> {
        let listed = self.store.list_with_delimiter(Some(&Path::from("partial"))).await?;
        Ok(listed.common_prefixes.iter().filter_map(|p| p.filename().map(str::to_owned)).collect())
    }

    pub async fn discard_partial(&self, sha: &str) -> ObjectResult<()> {
        for (_, _, location) in self.chunks(sha).await? {
            match self.store.delete(&location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_url_names_the_bucket_and_a_prefix() {
        assert_eq!(
            BucketUrl::parse("s3://photos/city/a").unwrap(),
            BucketUrl { bucket: "photos".into(), prefix: "city/a".into() }
        );
        assert_eq!(
            BucketUrl::parse("s3://photos").unwrap(),
            BucketUrl { bucket: "photos".into(), prefix: String::new() }
        );
        assert!(BucketUrl::parse("s3:///x").is_err());
        assert!(BucketUrl::parse("/var/photos").is_err());
    }
}
