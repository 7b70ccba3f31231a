//! Photos on disk, named by their SHA-256: each has one row in the store, and is there whole or not at all.
//!
//! New photos go into pack files (`packs`): written at a place of their own, flushed in groups, and found
//! through the place kept in their row in the store (`commit` makes the row durable after the flush). Photos
//! stored before packs existed are files of their own, `ab/abcd…` for a photo whose name starts with `ab`,
//! and are read from there. `partial/` holds resumable uploads until their last byte has come; then the
//! photo is moved into a pack. A `tmp/` left by an earlier version holds only uploads cut by a crash, whose
//! clients send them again, and is removed when the server starts.

pub mod commit;
pub mod object;
pub mod packs;
mod photos;

pub use photos::Photos;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use protocol::digest::Sha256;

pub use packs::PackPlace;
use packs::{DEFAULT_PACK_BYTES, Packs, Written};

/// A complete photo held by the server.
#[derive(Debug, Clone, PartialEq)]
pub struct BlobMeta {
    pub sha256: String,
    pub bytes: u64,
    pub content_type: String,
    /// Its place in the pack files; `None` for a photo stored in a file of its own (before packs).
    pub packed: Option<PackPlace>,
}

/// The image types the server takes, told by their first bytes.
pub fn sniff_image(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}

#[derive(Clone)]
pub struct BlobFiles {
    root: PathBuf,
    packs: Arc<Packs>,
}

/// A finished resumable upload: its bytes and what they turned out to be.
pub struct FinishedUpload {
    pub sha256: String,
    pub bytes: Vec<u8>,
    pub content_type: Option<&'static str>,
}

/// Flushes a directory, so that the names in it are on disk.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl BlobFiles {
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        fs::create_dir_all(root.join("partial"))?;
        match fs::remove_dir_all(root.join("tmp")) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let packs = Arc::new(Packs::open(root.join("packs"), DEFAULT_PACK_BYTES)?);
        // The directories' names (`partial`, `packs`, and `blobs` itself) must be on disk before anything stored
        // in them is acknowledged; flushed at every start, in case the first one ended before they were.
        sync_dir(&root)?;
        if let Some(parent) = root.parent() {
            sync_dir(parent)?;
        }
        Ok(BlobFiles { root, packs })
    }

    /// Where a photo stored before packs existed is.
    fn own_file(&self, sha: &str) -> PathBuf {
        self.root.join(&sha[..2]).join(sha)
    }

    fn partial_path(&self, sha: &str) -> PathBuf {
        self.root.join("partial").join(sha)
    }

    /// Writes a photo into a pack; it is stored once `commit::Committer` has flushed it and recorded its row.
    pub fn write(&self, bytes: &[u8]) -> io::Result<Written> {
        self.packs.write(bytes)
    }

    pub fn read(&self, meta: &BlobMeta) -> io::Result<Vec<u8>> {
        match meta.packed {
            Some(place) => self.packs.read(place, meta.bytes),
            None => fs::read(self.own_file(&meta.sha256)),
        }
    }

    /// Removes a photo's bytes (the retention rule); its row is marked first by the caller.
    pub fn remove(&self, meta: &BlobMeta) -> io::Result<()> {
        match meta.packed {
            Some(place) => self.packs.release(place, meta.bytes),
            None => match fs::remove_file(self.own_file(&meta.sha256)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
    }

    /// Bytes held of an unfinished upload.
    pub fn partial_len(&self, sha: &str) -> io::Result<Option<u64>> {
        match fs::metadata(self.partial_path(sha)) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Starts (or restarts) an upload with no bytes held.
    pub fn start_partial(&self, sha: &str) -> io::Result<()> {
        let f = File::create(self.partial_path(sha))?;
        f.sync_all()?;
        sync_dir(&self.root.join("partial"))
    }

    /// Appends bytes and flushes them; returns the bytes now held.
    pub fn append_partial(&self, sha: &str, bytes: &[u8]) -> io::Result<u64> {
        let mut f = OpenOptions::new().append(true).open(self.partial_path(sha))?;
        f.write_all(bytes)?;
        f.sync_data()?;
        Ok(f.metadata()?.len())
    }

    /// Reads a complete upload, hashes it and sniffs its type.
    pub fn finish_partial(&self, sha: &str) -> io::Result<FinishedUpload> {
        let mut bytes = Vec::new();
        File::open(self.partial_path(sha))?.read_to_end(&mut bytes)?;
        let mut hasher = Sha256::new();
        hasher.update(&bytes);
        let content_type = sniff_image(&bytes);
        Ok(FinishedUpload { sha256: hasher.finish_hex(), bytes, content_type })
    }

    /// The names of the resumable uploads held.
    pub fn partials(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(self.root.join("partial"))? {
            if let Ok(name) = entry?.file_name().into_string() {
                names.push(name);
            }
        }
        Ok(names)
    }

    pub fn discard_partial(&self, sha: &str) -> io::Result<()> {
        match fs::remove_file(self.partial_path(sha)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restart_removes_cut_uploads_and_keeps_photos_of_both_layouts() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("blobs");
        let blobs = BlobFiles::open(&root).unwrap();
        let bytes = b"\xFF\xD8\xFF a photo".to_vec();
        let sha = protocol::digest::sha256_hex(&bytes);
        let written = blobs.write(&bytes).unwrap();
        written.file.flush().unwrap();
        let packed = BlobMeta {
            sha256: sha.clone(),
            bytes: bytes.len() as u64,
            content_type: "image/jpeg".into(),
            packed: Some(written.place),
        };
        // A photo in a file of its own, as stored before packs, and what a crash between writing a
        // temporary file and renaming it left behind then.
        let old = b"\x89PNG an older photo".to_vec();
        let old_sha = protocol::digest::sha256_hex(&old);
        fs::create_dir_all(root.join(&old_sha[..2])).unwrap();
        fs::write(root.join(&old_sha[..2]).join(&old_sha), &old).unwrap();
        let own = BlobMeta {
            sha256: old_sha.clone(),
            bytes: old.len() as u64,
            content_type: "image/png".into(),
            packed: None,
        };
        let cut = root.join("tmp").join(&old_sha[..2]).join(format!("{old_sha}.cut"));
        fs::create_dir_all(cut.parent().unwrap()).unwrap();
        fs::write(&cut, b"half a photo").unwrap();

        let blobs = BlobFiles::open(&root).unwrap();
        assert!(!root.join("tmp").exists(), "leftovers of cut uploads are removed");
        assert_eq!(blobs.read(&packed).unwrap(), bytes, "the packed photo is kept");
        assert_eq!(blobs.read(&own).unwrap(), old, "the photo in a file of its own is kept");
        let next = blobs.write(b"\xFF\xD8\xFF another").unwrap();
        assert!(next.place.offset > written.place.offset, "the pack goes on after the kept photo");
    }
}
