//! Photo files on disk, named by their SHA-256 and written atomically (temp file, fsync, rename,
//! fsync of the directory), so that a blob either is there whole or not at all.
//!
//! Layout under the blobs root: `ab/abcd…` for a blob whose name starts with `ab`; `tmp/ab/` for the
//! temporary files of whole uploads on their way there, one directory per prefix so that uploads running
//! side by side do not queue for one directory's lock (creating a file and syncing it lock and write its
//! directory); `partial/` for resumable uploads. Whatever is left in `tmp/` when the server starts belongs to
//! an upload that was cut by a crash, whose client will send it again, and is removed.

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

/// Direct writes go in whole blocks of this size, from memory aligned to it.
const DIRECT_BLOCK: usize = 4096;

/// Writes `bytes` to a new file and flushes it to the disk.
///
/// On Linux the file's whole 4 KiB blocks are written with O_DIRECT, from memory straight to the disk: a
/// photo is not read again soon, and copying it into the page cache first (then writing that back on the
/// flush) cost about a fifth of the server's CPU under a stream of uploads. The last partial block is
/// written the ordinary way. A filesystem that refuses O_DIRECT, or these blocks (a device whose blocks are
/// larger), gets an ordinary write of the whole file.
fn write_flushed(path: &Path, bytes: &[u8]) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    if write_direct(path, bytes)? {
        return Ok(());
    }
    let mut f = File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// The O_DIRECT way of `write_flushed`; false when there are no whole blocks or the filesystem refuses them.
#[cfg(target_os = "linux")]
fn write_direct(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    use std::os::unix::fs::OpenOptionsExt;
    let refused = |e: &io::Error| e.raw_os_error() == Some(libc::EINVAL);
    let whole = bytes.len() / DIRECT_BLOCK * DIRECT_BLOCK;
    if whole == 0 {
        return Ok(false);
    }
    let mut direct =
        match OpenOptions::new().write(true).create(true).truncate(true).custom_flags(libc::O_DIRECT).open(path) {
            Err(e) if refused(&e) => return Ok(false),
            opened => opened?,
        };
    // The blocks copied to an aligned place (not zero-filled first: only `off` bytes are).
    let mut aligned: Vec<u8> = Vec::with_capacity(whole + DIRECT_BLOCK);
    let off = aligned.as_ptr().align_offset(DIRECT_BLOCK);
    aligned.resize(off, 0);
    aligned.extend_from_slice(&bytes[..whole]);
    match direct.write_all(&aligned[off..]) {
        Err(e) if refused(&e) => return Ok(false),
        written => written?,
    }
    drop(direct);
    let mut rest = OpenOptions::new().append(true).open(path)?;
    rest.write_all(&bytes[whole..])?;
    rest.sync_all()?;
    Ok(true)
}

/// Removes the files under `dir` and its subdirectories, keeping the directories.
fn remove_leftovers(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            remove_leftovers(&entry.path())?;
        } else {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

impl BlobFiles {
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        fs::create_dir_all(root.join("partial"))?;
        let tmp = root.join("tmp");
        for prefix in 0..=255u8 {
            fs::create_dir_all(tmp.join(format!("{prefix:02x}")))?;
        }
        remove_leftovers(&tmp)?;
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
        let tmp = self.root.join("tmp").join(&sha[..2]).join(format!("{sha}.{}", uuid::Uuid::new_v4()));
        write_flushed(&tmp, bytes)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restart_removes_cut_uploads_and_keeps_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("blobs");
        let blobs = BlobFiles::open(&root).unwrap();
        let bytes = b"\xFF\xD8\xFF a photo".to_vec();
        let sha = protocol::digest::sha256_hex(&bytes);
        blobs.write(&sha, &bytes).unwrap();
        // What a crash between writing a temporary file and renaming it leaves behind, in this layout and in
        // the earlier one (temporary files straight under tmp/).
        let cut = root.join("tmp").join(&sha[..2]).join(format!("{sha}.cut"));
        fs::write(&cut, b"half a photo").unwrap();
        let old_layout = root.join("tmp").join("old.tmp");
        fs::write(&old_layout, b"half").unwrap();

        let blobs = BlobFiles::open(&root).unwrap();
        assert!(!cut.exists() && !old_layout.exists(), "leftovers of cut uploads are removed");
        assert_eq!(blobs.read(&sha).unwrap(), bytes, "the stored blob is kept");
        // And writing still works after the clean-up.
        let other = b"\x89PNG another".to_vec();
        let other_sha = protocol::digest::sha256_hex(&other);
        blobs.write(&other_sha, &other).unwrap();
        assert_eq!(blobs.read(&other_sha).unwrap(), other);
    }

    #[test]
    fn photos_of_every_size_around_the_block_edges_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobFiles::open(dir.path()).unwrap();
        // Direct writes cover whole 4 KiB blocks and the rest is appended: sizes under, at and around a block,
        // and a photo-sized one.
        for len in [1usize, 4095, 4096, 4097, 8191, 8192, 12_289, 290_000] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            let sha = protocol::digest::sha256_hex(&bytes);
            blobs.write(&sha, &bytes).unwrap();
            let back = blobs.read(&sha).unwrap();
            assert_eq!(back.len(), len);
            assert!(back == bytes, "{len} bytes read back differently");
        }
    }
}
