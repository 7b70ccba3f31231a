//! `sync-server migrate`: a district's embedded store (a data directory) into PostgreSQL, and its photos into
//! object storage when `--to-blobs` names a bucket. The rows are copied table by table (`db::migrate`), the
//! photos one by one, each read from the packs and checked against its hash before it is put. Run again after
//! an interruption, it adds only what is missing. It ends by comparing the two stores' counts and by reading
//! every photo back from where it now is against its hash, and says what it found.
//!
//! Stop the server on the data directory first: the copy is of one moment, and what the server writes after
//! it would make the counts differ (the check then says so, and a second run copies the rest).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;

use crate::backup::each_held_photo;
use crate::blobs::BlobFiles;
use crate::blobs::object::ObjectPhotos;
use crate::db::migrate::{TableCopy, copy_rows};
use crate::db::{PgStore, SqliteStore, Store};
use crate::domain::EngineSettings;

/// What a migration did and found.
#[derive(Debug, Clone)]
pub struct Migrated {
    pub tables: Vec<TableCopy>,
    /// The counts, equal on both sides.
    pub inventory: BTreeMap<String, i64>,
    /// Photos put into the bucket by this run (none without `--to-blobs`).
    pub photos_copied: u64,
    /// Photos read back from where the new store finds them, each matching its hash.
    pub photos_checked: u64,
}

/// Where the migrated store's photos are read from.
enum Photos {
    Packs(BlobFiles),
    Bucket(ObjectPhotos, tokio::runtime::Runtime),
}

impl Photos {
    fn read(&self, meta: &crate::blobs::BlobMeta) -> Result<Vec<u8>, String> {
        match self {
            Photos::Packs(files) => files.read(meta).map_err(|e| format!("photo {}: {e}", meta.sha256)),
            Photos::Bucket(bucket, rt) => {
                rt.block_on(bucket.read(&meta.sha256)).map_err(|e| format!("photo {} in the bucket: {e}", meta.sha256))
            }
        }
    }
}

/// Copies the store of `data` into the database `to_database` (and its photos into `to_blobs`), then checks
/// the copy. `stop_after_rows`: stop once that many rows were added (to test a run cut off).
pub fn migrate(
    data: &Path,
    to_database: &str,
    to_blobs: Option<&str>,
    settings: EngineSettings,
    stop_after_rows: Option<u64>,
    progress: &mut dyn FnMut(String),
) -> Result<Migrated, String> {
    if !data.join("server.sqlite").is_file() {
        return Err(format!("{} holds no store (server.sqlite)", data.display()));
    }
    // Opening it brings an older store's schema up to date first.
    let source =
        SqliteStore::open(data, settings.clone()).map_err(|e| format!("the store in {}: {e}", data.display()))?;
    let target =
        PgStore::connect(to_database, settings, Duration::from_secs(60)).map_err(|e| format!("--to-database: {e}"))?;
    progress("rows: copying, table by table".into());
    let tables =
        copy_rows(&data.join("server.sqlite"), &target, stop_after_rows, progress).map_err(|e| e.to_string())?;

    let packs = BlobFiles::open(data.join("blobs")).map_err(|e| format!("the photo packs: {e}"))?;
    let held = source.inventory().map_err(|e| e.to_string())?.get("photos held").copied().unwrap_or(0);
    let mut photos_copied = 0u64;
    let photos = match to_blobs {
        None => Photos::Packs(packs),
        Some(url) => {
            let bucket = ObjectPhotos::from_env(url).map_err(|e| format!("--to-blobs: {e}"))?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("a runtime for the bucket: {e}"))?;
            rt.block_on(bucket.check()).map_err(|e| format!("--to-blobs: {e}"))?;
            progress(format!("photos: copying {held} into {url}"));
            let mut seen = 0u64;
            each_held_photo(&source, &mut |meta| {
                seen += 1;
                let there = rt.block_on(bucket.holds(&meta.sha256)).map_err(|e| format!("--to-blobs: {e}"))?;
                if !there {
                    let bytes = packs.read(&meta).map_err(|e| format!("photo {}: {e}", meta.sha256))?;
                    if protocol::digest::sha256_hex(&bytes) != meta.sha256 {
                        return Err(format!("photo {} in the packs does not match its hash: not copied", meta.sha256));
                    }
                    rt.block_on(bucket.put(&meta.sha256, Bytes::from(bytes)))
                        .map_err(|e| format!("--to-blobs: photo {}: {e}", meta.sha256))?;
                    photos_copied += 1;
                }
                if seen.is_multiple_of(1000) || seen == held as u64 {
                    progress(format!("photos: {seen} of {held}"));
                }
                Ok(())
            })?;
            Photos::Bucket(bucket, rt)
        }
    };

    progress("check: comparing counts".into());
    let inventory = source.inventory().map_err(|e| e.to_string())?;
    let copied = target.inventory().map_err(|e| e.to_string())?;
    if inventory != copied {
        let differ: Vec<String> = inventory
            .iter()
            .filter(|(k, v)| copied.get(*k) != Some(v))
            .map(|(k, v)| format!("{k}: {v} here, {} there", copied.get(k).copied().unwrap_or(0)))
            .collect();
        return Err(format!("the copy differs from the store ({}); run migrate again", differ.join("; ")));
    }
    progress("check: reading every photo back".into());
    let mut photos_checked = 0u64;
    each_held_photo(&target, &mut |meta| {
        let bytes = photos.read(&meta)?;
        if protocol::digest::sha256_hex(&bytes) != meta.sha256 {
            return Err(format!("photo {} does not match its hash where the new store reads it", meta.sha256));
        }
        photos_checked += 1;
        if photos_checked.is_multiple_of(1000) {
            progress(format!("photos checked: {photos_checked} of {held}"));
        }
        Ok(())
    })?;
    Ok(Migrated { tables, inventory, photos_copied, photos_checked })
}
