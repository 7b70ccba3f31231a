//! Photo files on disk, named by their SHA-256 and written atomically (temp file, fsync, rename,
//! fsync of the directory), so that a blob either is there whole or not at all.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use protocol::digest::Sha256;

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

#[derive(Debug, Clone)]
pub struct BlobFiles {
    root: PathBuf,
}

/// What a finished resumable upload turned out to be.
pub struct FinishedUpload {
    pub sha256: String,
    pub bytes: u64,
    pub content_type: Option<&'static str>,
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl BlobFiles {
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        fs::create_dir_all(root.join("partial"))?;
        fs::create_dir_all(root.join("tmp"))?;
        Ok(BlobFiles { root })
    }

    fn final_path(&self, sha: &str) -> PathBuf {
        self.root.join(&sha[..2]).join(sha)
    }

    fn partial_path(&self, sha: &str) -> PathBuf {
        self.root.join("partial").join(sha)
    }

    /// Stores a whole blob atomically.
    pub fn write(&self, sha: &str, bytes: &[u8]) -> io::Result<()> {
        let tmp = self.root.join("tmp").join(format!("{sha}.{}", uuid::Uuid::new_v4()));
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        self.install(&tmp, sha)
    }

    fn install(&self, from: &Path, sha: &str) -> io::Result<()> {
        let dest = self.final_path(sha);
        let dir = dest.parent().expect("blob paths have a parent");
        fs::create_dir_all(dir)?;
        fs::rename(from, &dest)?;
        sync_dir(dir)
    }

    pub fn read(&self, sha: &str) -> io::Result<Vec<u8>> {
        fs::read(self.final_path(sha))
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

    /// Hashes a complete upload and sniffs its type.
    pub fn inspect_partial(&self, sha: &str) -> io::Result<FinishedUpload> {
        let mut f = File::open(self.partial_path(sha))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut head = Vec::with_capacity(16);
        let mut total = 0u64;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            if head.len() < 16 {
                head.extend_from_slice(&buf[..n.min(16 - head.len())]);
            }
            hasher.update(&buf[..n]);
            total += n as u64;
        }
        Ok(FinishedUpload { sha256: hasher.finish_hex(), bytes: total, content_type: sniff_image(&head) })
    }

    pub fn promote_partial(&self, sha: &str) -> io::Result<()> {
        self.install(&self.partial_path(sha), sha)
    }

    pub fn discard_partial(&self, sha: &str) -> io::Result<()> {
        match fs::remove_file(self.partial_path(sha)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Bytes used by complete blobs (for the admin's storage figure).
    pub fn root(&self) -> &Path {
        &self.root
    }
}
