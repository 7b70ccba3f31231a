//! Backups of a data directory, and restoring one into an empty directory. `backup` takes a consistent copy of
//! the store while the server runs (one read transaction: `SqliteStore::snapshot`), then copies the photo
//! packs — after the snapshot, so they hold every photo it names, since a photo's row is written only after
//! its bytes are flushed — and the base maps and the working calendar; then it opens the copy, counts what it
//! holds and reads back every photo it names against its hash, and writes `backup.json`. `restore` copies a
//! backup beside the target, checks it the same way against `backup.json`, and only then moves it into place.
//!
//! On PostgreSQL (`--database`), the store is dumped with `pg_dump` (`database.dump`, its custom format) from
//! one snapshot, in which the counts and the photos' rows are read too; `restore --database` loads it with
//! `pg_restore` into an empty database and checks it the same way.
//!
//! With photos in object storage (`serve --blobs s3://…`) the photos are not in the data directory: back the
//! bucket up with its own tools (versioning, replication), and pass `--skip-photos`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::blobs::{BlobFiles, BlobMeta};
use crate::db::{PgStore, SqliteStore, Store};
use crate::domain::EngineSettings;

/// What `backup.json` records.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub made_at: chrono::DateTime<Utc>,
    pub server_version: String,
    /// Rows of each kind, and the photos held.
    pub inventory: BTreeMap<String, i64>,
    /// Photos read back and found to match their hash (0 with `--skip-photos`).
    pub photos_checked: u64,
    pub photo_bytes: u64,
}

const MANIFEST: &str = "backup.json";
/// The PostgreSQL store's dump in a backup.
const DUMP: &str = "database.dump";
/// How long the commands wait for a database that does not answer yet.
const DATABASE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// A directory that does not exist yet or is empty.
fn fresh(dir: &Path, what: &str) -> Result<(), String> {
    match fs::read_dir(dir).map(|mut entries| entries.next().is_none()) {
        Ok(false) => Err(format!("{what} {} is not empty: name a new directory", dir.display())),
        Ok(true) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(|e| format!("{what} {}: {e}", dir.display()))
        }
        Err(e) => Err(format!("{what} {}: {e}", dir.display())),
    }
}

/// Copies `from` into `to` recursively, leaving out what `skip` names (relative paths).
fn copy_tree(from: &Path, to: &Path, skip: &dyn Fn(&Path) -> bool, copied: &mut u64) -> Result<(), String> {
    let entries = match fs::read_dir(from) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("{}: {e}", from.display())),
    };
    fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        if skip(&source) {
            continue;
        }
        let kind = entry.file_type().map_err(|e| format!("{}: {e}", source.display()))?;
        if kind.is_dir() {
            copy_tree(&source, &target, skip, copied)?;
        } else if kind.is_file() {
            *copied += fs::copy(&source, &target).map_err(|e| format!("copying {}: {e}", source.display()))?;
        }
    }
    Ok(())
}

/// What is done with each photo of a list.
pub type EachPhoto<'a> = dyn FnMut(BlobMeta) -> Result<(), String> + 'a;

/// Reads back from the packs in `dir` every photo `each` gives against its hash: how many, and their bytes.
fn check_photos(
    dir: &Path,
    held: i64,
    each: &mut dyn FnMut(&mut EachPhoto<'_>) -> Result<(), String>,
    progress: &mut dyn FnMut(String),
) -> Result<(u64, u64), String> {
    let files = BlobFiles::open(dir.join("blobs")).map_err(|e| format!("the copy's photos: {e}"))?;
    let (mut checked, mut bytes) = (0u64, 0u64);
    each(&mut |meta| {
        let read = files.read(&meta).map_err(|e| format!("photo {}: {e}", meta.sha256))?;
        if protocol::digest::sha256_hex(&read) != meta.sha256 {
            return Err(format!("photo {} does not match its hash", meta.sha256));
        }
        checked += 1;
        bytes += read.len() as u64;
        if checked.is_multiple_of(1000) {
            progress(format!("photos checked: {checked} of {held}"));
        }
        Ok(())
    })?;
    Ok((checked, bytes))
}

/// Every photo a store holds, a page at a time.
pub fn each_held_photo(store: &dyn Store, each: &mut EachPhoto<'_>) -> Result<(), String> {
    let mut after: Option<String> = None;
    loop {
        let page = store.held_photos(after.as_deref(), 500).map_err(|e| e.to_string())?;
        let Some(last) = page.last() else { return Ok(()) };
        after = Some(last.sha256.clone());
        for meta in page {
            each(meta)?;
        }
    }
}

fn manifest(inventory: BTreeMap<String, i64>, (photos_checked, photo_bytes): (u64, u64)) -> Manifest {
    Manifest {
        made_at: Utc::now(),
        server_version: env!("CARGO_PKG_VERSION").into(),
        inventory,
        photos_checked,
        photo_bytes,
    }
}

/// Counts a store and reads back every photo it holds from the packs in `dir` against its hash.
fn check(store: &dyn Store, dir: &Path, photos: bool, progress: &mut dyn FnMut(String)) -> Result<Manifest, String> {
    let inventory = store.inventory().map_err(|e| e.to_string())?;
    let held = inventory.get("photos held").copied().unwrap_or(0);
    let found =
        if photos { check_photos(dir, held, &mut |each| each_held_photo(store, each), progress)? } else { (0, 0) };
    Ok(manifest(inventory, found))
}

/// Opens a copy of the embedded store and checks it.
fn check_sqlite(
    dir: &Path,
    settings: EngineSettings,
    photos: bool,
    progress: &mut dyn FnMut(String),
) -> Result<Manifest, String> {
    let store = SqliteStore::open(dir, settings).map_err(|e| format!("the copy's store: {e}"))?;
    check(&store, dir, photos, progress)
}

/// Copies the files of a data directory besides its store: the photo packs (when asked), base maps, the
/// calendar.
fn copy_files(data: &Path, to: &Path, photos: bool, progress: &mut dyn FnMut(String)) -> Result<(), String> {
    let mut copied = 0u64;
    if photos {
        progress("photos: copying the packs".into());
        // Uploads under way are not photos yet; a resumed upload starts again from its first byte.
        let skip = |p: &Path| p.ends_with("partial") || p.ends_with("tmp");
        copy_tree(&data.join("blobs"), &to.join("blobs"), &skip, &mut copied)?;
    }
    let unfinished = |p: &Path| p.extension().is_some_and(|e| e == "part");
    copy_tree(&data.join("basemaps"), &to.join("basemaps"), &unfinished, &mut copied)?;
    if data.join("calendar.json").is_file() {
        copied += fs::copy(data.join("calendar.json"), to.join("calendar.json")).map_err(|e| e.to_string())?;
    }
    progress(format!("copied {copied} bytes of files; checking the copy"));
    Ok(())
}

fn write_manifest(to: &Path, manifest: &Manifest) -> Result<(), String> {
    let text = serde_json::to_string_pretty(manifest).map_err(|e| e.to_string())?;
    fs::write(to.join(MANIFEST), text).map_err(|e| format!("writing {MANIFEST}: {e}"))
}

/// Backs up a PostgreSQL store (`database`) and the files of `data` into the new directory `to`.
fn backup_database(
    database: &str,
    data: &Path,
    to: &Path,
    settings: EngineSettings,
    photos: bool,
    progress: &mut dyn FnMut(String),
) -> Result<Manifest, String> {
    fresh(to, "--to")?;
    let store = PgStore::connect(database, settings, DATABASE_WAIT).map_err(|e| format!("--database: {e}"))?;
    progress("database: dumping it from one snapshot (pg_dump)".into());
    let dumped = store.dump(database, &to.join(DUMP), photos).map_err(|e| e.to_string())?;
    // After the dump: the packs hold every photo it names (a photo's row is written after its bytes).
    copy_files(data, to, photos, progress)?;
    let held = dumped.inventory.get("photos held").copied().unwrap_or(0);
    let found = if photos {
        let mut named = dumped.photos.into_iter();
        check_photos(to, held, &mut |each| named.try_for_each(&mut *each), progress)?
    } else {
        (0, 0)
    };
    let manifest = manifest(dumped.inventory, found);
    write_manifest(to, &manifest)?;
    Ok(manifest)
}

/// Backs `data` up into the new directory `to`. With `database`, the PostgreSQL store is backed up (and the
/// files of `data`).
pub fn backup(
    data: &Path,
    to: &Path,
    settings: EngineSettings,
    photos: bool,
    database: Option<&str>,
    progress: &mut dyn FnMut(String),
) -> Result<Manifest, String> {
    if let Some(url) = database {
        return backup_database(url, data, to, settings, photos, progress);
    }
    if !data.join("server.sqlite").is_file() {
        return Err(format!("{} holds no store (server.sqlite)", data.display()));
    }
    fresh(to, "--to")?;
    progress("store: taking a consistent copy".into());
    SqliteStore::snapshot(data, &to.join("server.sqlite")).map_err(|e| format!("copying the store: {e}"))?;
    copy_files(data, to, photos, progress)?;
    let manifest = check_sqlite(to, settings, photos, progress)?;
    write_manifest(to, &manifest)?;
    Ok(manifest)
}

/// Restores the backup in `from` into the new data directory `data`, and checks it against its manifest.
/// A backup of a PostgreSQL store is restored into `database`, an empty database.
pub fn restore(
    from: &Path,
    data: &Path,
    settings: EngineSettings,
    database: Option<&str>,
    progress: &mut dyn FnMut(String),
) -> Result<Manifest, String> {
    let text = fs::read_to_string(from.join(MANIFEST))
        .map_err(|e| format!("{} is not a backup ({MANIFEST}: {e})", from.display()))?;
    let expected: Manifest = serde_json::from_str(&text).map_err(|e| format!("{MANIFEST}: {e}"))?;
    match (from.join(DUMP).is_file(), database) {
        (true, None) => {
            return Err("this backup is of a PostgreSQL store: name an empty database to restore it into \
                        (--database postgres://…)"
                .into());
        }
        (false, Some(_)) => return Err("this backup is of an embedded store: leave --database out".into()),
        _ => {}
    }
    fresh(data, "--data")?;
    // Into a directory beside it first, moved into place only once checked: a restore that fails leaves
    // `--data` as it was (empty), never half filled.
    let name = data.file_name().and_then(|n| n.to_str()).unwrap_or("data");
    let staging = data.with_file_name(format!(".{name}.restoring-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    let outcome = restore_into(from, &staging, &expected, settings, database, progress);
    match outcome {
        Ok(found) => {
            fs::remove_dir(data).map_err(|e| format!("--data {}: {e}", data.display()))?;
            fs::rename(&staging, data).map_err(|e| format!("moving the restored store into place: {e}"))?;
            Ok(found)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

fn restore_into(
    from: &Path,
    data: &Path,
    expected: &Manifest,
    settings: EngineSettings,
    database: Option<&str>,
    progress: &mut dyn FnMut(String),
) -> Result<Manifest, String> {
    let mut copied = 0u64;
    let not_files = |p: &Path| p.file_name().is_some_and(|n| n == MANIFEST || n == DUMP);
    copy_tree(from, data, &not_files, &mut copied)?;
    progress(format!("copied {copied} bytes; checking"));
    let photos = expected.photos_checked > 0;
    let found = match database {
        None => check_sqlite(data, settings, photos, progress)?,
        Some(url) => {
            progress("database: loading the dump into it (pg_restore)".into());
            PgStore::restore_dump(url, &from.join(DUMP)).map_err(|e| format!("--database: {e}"))?;
            let store = PgStore::connect(url, settings, DATABASE_WAIT).map_err(|e| format!("--database: {e}"))?;
            check(&store, data, photos, progress)?
        }
    };
    let differ: Vec<String> = expected
        .inventory
        .iter()
        .filter(|(k, v)| found.inventory.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}: {v} in the backup, {} restored", found.inventory.get(k).copied().unwrap_or(0)))
        .collect();
    if !differ.is_empty() {
        return Err(format!("the restored store differs from the backup: {}", differ.join("; ")));
    }
    if found.photos_checked != expected.photos_checked {
        return Err(format!(
            "{} photos checked in the backup, {} restored",
            expected.photos_checked, found.photos_checked
        ));
    }
    Ok(found)
}
