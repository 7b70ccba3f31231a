//! Pack files: photos appended to large files, one after another, each at a 4 KiB boundary.
//!
//! A file per photo costs a new inode, a rename and two flushes (the file's and its directory's) for every
//! upload. In a pack a photo is one write at an offset reserved for it, and one flush of the pack makes every
//! photo written before it durable, however many there are (`commit::Committer` flushes once per group).
//! A photo's place (pack and offset) is kept in its row in the store, which is committed only after the pack
//! was flushed: bytes that no row points to (a write cut by a crash) are never read, and the pack goes on
//! after them when the server starts again.
//!
//! Layout: `packs/00000001.pack`, `packs/00000002.pack`, …; a pack is closed to new photos when the next
//! would take it past its size limit. On Linux the photos are written and read with O_DIRECT, whole blocks
//! between memory and the disk, without the page cache: a photo is rarely read again soon, and a read through
//! the cache could otherwise read ahead into the blocks of a photo still being written and keep them stale. A
//! filesystem that refuses O_DIRECT gets ordinary writes and reads.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::sync_dir;

/// Photos start at multiples of this and are written in whole blocks of it.
pub const BLOCK: u64 = 4096;

/// Size past which no more photos go into a pack.
pub const DEFAULT_PACK_BYTES: u64 = 1 << 30;

/// Where a photo is in the packs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackPlace {
    pub pack: u32,
    pub offset: u64,
}

/// One pack file, open for appending.
pub struct PackFile {
    id: u32,
    /// Opened with O_DIRECT, where the filesystem takes it.
    direct: Option<File>,
    /// Set when the filesystem refused a direct write: the rest go the ordinary way.
    direct_refused: AtomicBool,
    plain: File,
}

impl PackFile {
    /// Makes every photo written to this pack so far durable.
    pub fn flush(&self) -> io::Result<()> {
        self.plain.sync_data()
    }

    pub fn id(&self) -> u32 {
        self.id
    }
}

/// A photo written to a pack, not yet flushed.
pub struct Written {
    pub place: PackPlace,
    pub file: Arc<PackFile>,
}

struct Tail {
    file: Arc<PackFile>,
    /// Where the next photo goes (a multiple of `BLOCK`).
    next: u64,
}

pub struct Packs {
    dir: PathBuf,
    limit: u64,
    tail: Mutex<Tail>,
}

fn align_up(n: u64) -> u64 {
    n.div_ceil(BLOCK) * BLOCK
}

fn pack_name(id: u32) -> String {
    format!("{id:08}.pack")
}

fn open_pack(dir: &Path, id: u32) -> io::Result<PackFile> {
    let path = dir.join(pack_name(id));
    let plain = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path)?;
    // A new pack's name must be on disk before any row points into it.
    sync_dir(dir)?;
    let direct = open_direct(OpenOptions::new().write(true), &path);
    Ok(PackFile { id, direct, direct_refused: AtomicBool::new(false), plain })
}

#[cfg(target_os = "linux")]
fn open_direct(options: &mut OpenOptions, path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    options.custom_flags(libc::O_DIRECT).open(path).ok()
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_options: &mut OpenOptions, _path: &Path) -> Option<File> {
    None
}

/// Punches a hole of `len` bytes at `offset`, keeping the file's size; false where the filesystem cannot.
#[cfg(target_os = "linux")]
fn punch_hole(file: &File, offset: u64, len: u64) -> io::Result<bool> {
    use rustix::fs::{FallocateFlags, fallocate};
    match fallocate(file, FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE, offset, len) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::OPNOTSUPP || e == rustix::io::Errno::NOSYS => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn punch_hole(_file: &File, _offset: u64, _len: u64) -> io::Result<bool> {
    Ok(false)
}

fn refused(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EINVAL)
}

/// An empty buffer with room for `len` bytes from a block boundary on, as O_DIRECT needs: the vector and
/// where in it that boundary is.
fn aligned(len: usize) -> (Vec<u8>, usize) {
    let buf: Vec<u8> = Vec::with_capacity(len + BLOCK as usize);
    let start = buf.as_ptr().align_offset(BLOCK as usize);
    (buf, start)
}

impl Packs {
    /// Opens the packs under `dir`, going on after the last pack's end. The caller flushes `dir`'s parent, so
    /// that the directory's own name is on disk.
    pub fn open(dir: impl Into<PathBuf>, limit: u64) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        let mut last = 0u32;
        for entry in fs::read_dir(&dir)? {
            let name = entry?.file_name();
            if let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".pack")).and_then(|n| n.parse::<u32>().ok()) {
                last = last.max(id);
            }
        }
        let file = open_pack(&dir, last.max(1))?;
        let next = align_up(file.plain.metadata()?.len());
        Ok(Packs { dir, limit: limit.max(BLOCK), tail: Mutex::new(Tail { file: Arc::new(file), next }) })
    }

    fn tail(&self) -> MutexGuard<'_, Tail> {
        self.tail.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reserves room for `len` bytes, in the next pack if this one would grow past its limit.
    fn reserve(&self, len: u64) -> io::Result<(Arc<PackFile>, u64)> {
        let room = align_up(len.max(1));
        let mut tail = self.tail();
        if tail.next > 0 && tail.next + room > self.limit {
            let id = tail.file.id + 1;
            *tail = Tail { file: Arc::new(open_pack(&self.dir, id)?), next: 0 };
        }
        let offset = tail.next;
        tail.next += room;
        Ok((tail.file.clone(), offset))
    }

    /// Writes a photo at a place of its own; it is durable once its pack has been flushed.
    pub fn write(&self, bytes: &[u8]) -> io::Result<Written> {
        let (file, offset) = self.reserve(bytes.len() as u64)?;
        // The photo copied to block-aligned memory and padded with zeros to whole blocks, as O_DIRECT needs.
        let padded = align_up(bytes.len().max(1) as u64) as usize;
        let (mut buf, start) = aligned(padded);
        buf.resize(start, 0);
        buf.extend_from_slice(bytes);
        buf.resize(start + padded, 0);
        let blocks = &buf[start..];
        let direct = match &file.direct {
            Some(direct) if !file.direct_refused.load(Ordering::Relaxed) => match direct.write_all_at(blocks, offset) {
                Err(e) if refused(&e) => {
                    file.direct_refused.store(true, Ordering::Relaxed);
                    false
                }
                written => {
                    written?;
                    true
                }
            },
            _ => false,
        };
        if !direct {
            file.plain.write_all_at(blocks, offset)?;
        }
        Ok(Written { place: PackPlace { pack: file.id, offset }, file })
    }

    /// Gives back the room of the photo at `place` (`len` bytes), by a hole punched into its pack: the pack
    /// keeps its size and every other photo's place, and the filesystem frees the blocks. Where holes cannot be
    /// punched, the bytes are overwritten with zeros (gone, though the room stays taken). Flushed before it
    /// returns.
    pub fn release(&self, place: PackPlace, len: u64) -> io::Result<()> {
        let file = OpenOptions::new().write(true).open(self.dir.join(pack_name(place.pack)))?;
        let room = align_up(len.max(1));
        if !punch_hole(&file, place.offset, room)? {
            file.write_all_at(&vec![0u8; room as usize], place.offset)?;
        }
        file.sync_data()
    }

    /// Reads `len` bytes of the photo at `place`: its whole blocks, with O_DIRECT where the filesystem takes it.
    pub fn read(&self, place: PackPlace, len: u64) -> io::Result<Vec<u8>> {
        let path = self.dir.join(pack_name(place.pack));
        if let Some(direct) = open_direct(OpenOptions::new().read(true), &path) {
            let padded = align_up(len.max(1)) as usize;
            let (mut buf, start) = aligned(padded);
            buf.resize(start + padded, 0);
            match direct.read_exact_at(&mut buf[start..], place.offset) {
                Ok(()) => return Ok(buf[start..start + len as usize].to_vec()),
                // Refused, or a pack that ends before its last photo's padding (one copied by a tool that
                // dropped it): the ordinary read needs neither.
                Err(e) if refused(&e) || e.kind() == io::ErrorKind::UnexpectedEof => {}
                Err(e) => return Err(e),
            }
        }
        let mut bytes = vec![0u8; len as usize];
        File::open(&path)?.read_exact_at(&mut bytes, place.offset)?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(len: usize, seed: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + seed * 13 + len) as u8).collect()
    }

    #[test]
    fn photos_of_every_size_around_the_block_edges_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Packs::open(dir.path(), DEFAULT_PACK_BYTES).unwrap();
        let mut placed = Vec::new();
        for (i, len) in [1usize, 4095, 4096, 4097, 8191, 8192, 12_289, 290_000].into_iter().enumerate() {
            let bytes = photo(len, i);
            let w = packs.write(&bytes).unwrap();
            assert_eq!(w.place.offset % BLOCK, 0, "every photo starts on a block");
            w.file.flush().unwrap();
            placed.push((w.place, bytes));
        }
        for (place, bytes) in &placed {
            let back = packs.read(*place, bytes.len() as u64).unwrap();
            assert!(&back == bytes, "{} bytes read back differently", bytes.len());
        }
        // One after another, none overlapping.
        for pair in placed.windows(2) {
            assert!(pair[1].0.offset >= pair[0].0.offset + pair[0].1.len() as u64);
        }
    }

    #[test]
    fn a_full_pack_is_followed_by_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Packs::open(dir.path(), 64 * 1024).unwrap();
        let written: Vec<_> =
            (0..10).map(|i| (packs.write(&photo(20_000, i)).unwrap().place, photo(20_000, i))).collect();
        // 20,000 bytes take five blocks: three photos fit in 64 KiB, the fourth opens the next pack.
        let in_packs: Vec<u32> = written.iter().map(|(p, _)| p.pack).collect();
        assert_eq!(in_packs, [1, 1, 1, 2, 2, 2, 3, 3, 3, 4]);
        for (place, bytes) in &written {
            assert_eq!(&packs.read(*place, 20_000).unwrap(), bytes);
        }
        // A photo larger than the limit gets a pack of its own.
        let big = photo(100_000, 99);
        let w = packs.write(&big).unwrap();
        assert_eq!((w.place.pack, w.place.offset), (5, 0));
        assert_eq!(packs.read(w.place, 100_000).unwrap(), big);
        assert_eq!(packs.write(&photo(10, 1)).unwrap().place.pack, 6);
    }

    #[test]
    fn a_pack_that_lost_its_last_padding_still_gives_its_photo() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Packs::open(dir.path(), DEFAULT_PACK_BYTES).unwrap();
        let bytes = photo(5000, 5);
        let w = packs.write(&bytes).unwrap();
        w.file.flush().unwrap();
        // As a copy that kept the bytes but not the zeros after the last photo.
        File::options().write(true).open(dir.path().join(pack_name(1))).unwrap().set_len(5000).unwrap();
        assert_eq!(packs.read(w.place, 5000).unwrap(), bytes);
    }

    #[test]
    fn a_restart_goes_on_after_the_last_photo() {
        let dir = tempfile::tempdir().unwrap();
        let first = photo(5000, 1);
        let place = {
            let packs = Packs::open(dir.path(), DEFAULT_PACK_BYTES).unwrap();
            let w = packs.write(&first).unwrap();
            w.file.flush().unwrap();
            w.place
        };
        let packs = Packs::open(dir.path(), DEFAULT_PACK_BYTES).unwrap();
        let second = packs.write(&photo(5000, 2)).unwrap().place;
        assert_eq!(second, PackPlace { pack: 1, offset: 2 * BLOCK }, "after the first photo's two blocks");
        assert_eq!(packs.read(place, 5000).unwrap(), first, "the photo written before the restart is untouched");
    }
}
