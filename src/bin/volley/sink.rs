//! Where a body goes on disk: `NAME.part`, renamed to `NAME` once complete (and its
//! checksum, if one was given, verified). A crash or a failure never leaves a
//! half-written file under the final name.
//!
//! - A fresh download creates `NAME.part` with `create_new` (never through an existing
//!   file or symlink); with `--overwrite` it truncates instead.
//! - `-c` opens the existing `NAME.part` for appending; with a checksum, the bytes
//!   already there are hashed first so the digest covers the whole file.
//! - The final rename does not replace an existing `NAME` unless overwriting: one
//!   `renameat2(RENAME_NOREPLACE)`, else a hard link (which fails if the name exists)
//!   then removal of the `.part`, else — where hard links are unsupported — a check and
//!   a rename.
//! - Nothing is `stat`ed first: when `NAME.part` or `NAME` is already there, the create
//!   or the rename says so, and the download moves on to the other names its caller
//!   offers (`NAME.1`, `NAME.2`, …). A name whose `.part` exists is skipped at the
//!   rename too, so that a later `-c` still finds that `.part` beside no finished file.
//! - Files are not fsynced: for millions of files that would cost more than the
//!   download, and a crash leaves a `.part` that `-c` resumes.

use crate::checksum::{Mismatch, Sha256Stream};
use crate::naming::{exists_on_disk, part_path};
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Read buffer for hashing an existing `.part` on resume. Writes are not buffered:
/// network reads are already large when data flows fast, and a buffer per open file
/// would cost 64 KiB for each of a thousand slow downloads.
const HASH_BUFFER: usize = 64 * 1024;

/// Why a download could not be completed on disk.
#[derive(Debug)]
pub enum SinkError {
    /// A file operation failed; the message names the file.
    Io(String),
    /// The body's digest is not the expected one (the `.part` was removed).
    Checksum(Mismatch),
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SinkError::Io(m) => f.write_str(m),
            SinkError::Checksum(m) => m.fmt(f),
        }
    }
}

impl std::error::Error for SinkError {}

fn io_err(what: &str, path: &Path, e: &io::Error) -> SinkError {
    SinkError::Io(format!("cannot {what} {}: {e}", path.display()))
}

/// An open `NAME.part`.
pub struct PartFile {
    dest: PathBuf,
    part: PathBuf,
    file: File,
    len: u64,
    overwrite: bool,
    hasher: Option<(Sha256Stream, [u8; 32])>,
}

impl PartFile {
    /// Start a fresh download of `dest` (its directory is created if needed) or, when
    /// `dest`'s `.part` exists and not overwriting, of the first of `others` whose
    /// `.part` does not; [`PartFile::dest`] tells which.
    pub fn create(
        dest: &Path,
        overwrite: bool,
        expected: Option<[u8; 32]>,
        mut others: impl Iterator<Item = PathBuf>,
    ) -> Result<PartFile, SinkError> {
        // Every other name is `dest` with a suffix: one directory for all.
        make_parent(dest)?;
        let mut opts = OpenOptions::new();
        opts.write(true);
        if overwrite {
            opts.create(true).truncate(true);
        } else {
            opts.create_new(true);
        }
        let mut target = dest.to_path_buf();
        loop {
            let part = part_path(&target);
            match opts.open(&part) {
                Ok(file) => {
                    let hasher = expected.map(|x| (Sha256Stream::new(), x));
                    return Ok(PartFile::new(&target, part, file, 0, overwrite, hasher));
                }
                // A `.part` left by another run (or process): leave it for its `-c`.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match others.next() {
                    Some(next) => target = next,
                    None if target == dest => return Err(io_err("create", &part, &e)),
                    None => {
                        return Err(SinkError::Io(format!(
                            "no free file name for {}: the .part of every name up to {} exists",
                            dest.display(),
                            target.display()
                        )))
                    }
                },
                Err(e) => return Err(io_err("create", &part, &e)),
            }
        }
    }

    /// Continue a download of `dest` from its `.part` (created empty if missing).
    pub fn resume(dest: &Path, overwrite: bool, expected: Option<[u8; 32]>) -> Result<PartFile, SinkError> {
        let part = part_path(dest);
        make_parent(dest)?;
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&part)
            .map_err(|e| io_err("open", &part, &e))?;
        let mut hasher = expected.map(|x| (Sha256Stream::new(), x));
        let len = match &mut hasher {
            Some((h, _)) => hash_all(&mut file, h).map_err(|e| io_err("read", &part, &e))?,
            None => file.metadata().map_err(|e| io_err("read", &part, &e))?.len(),
        };
        Ok(PartFile::new(dest, part, file, len, overwrite, hasher))
    }

    fn new(
        dest: &Path,
        part: PathBuf,
        file: File,
        len: u64,
        overwrite: bool,
        hasher: Option<(Sha256Stream, [u8; 32])>,
    ) -> PartFile {
        PartFile { dest: dest.to_path_buf(), part, file, len, overwrite, hasher }
    }

    /// Bytes in the part file: where a resumed request starts.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// The final path.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// The `.part` path.
    pub fn part(&self) -> &Path {
        &self.part
    }

    /// Append body bytes.
    pub fn write(&mut self, data: &[u8]) -> Result<(), SinkError> {
        self.file.write_all(data).map_err(|e| io_err("write", &self.part, &e))?;
        self.len += data.len() as u64;
        if let Some((h, _)) = &mut self.hasher {
            h.update(data);
        }
        Ok(())
    }

    /// Empty the part file (the server sent the whole body after all).
    pub fn truncate(&mut self) -> Result<(), SinkError> {
        let part = self.part.clone();
        let err = |e: io::Error| io_err("truncate", &part, &e);
        self.file.set_len(0).map_err(err)?;
        // In append mode writes go to the end anyway; the seek keeps a non-append file right.
        self.file.rewind().map_err(err)?;
        self.len = 0;
        if let Some((h, _)) = &mut self.hasher {
            *h = Sha256Stream::new();
        }
        Ok(())
    }

    /// The download is complete: verify the checksum and move the file to its name or,
    /// when that exists on disk and not overwriting, to the first of `others` that is
    /// free (and has no `.part`). Returns the name used.
    pub fn finish(mut self, others: impl Iterator<Item = PathBuf>) -> Result<PathBuf, SinkError> {
        if let Some((h, expected)) = self.hasher.take() {
            if let Err(m) = h.verify(&expected) {
                // A wrong file is not worth resuming: remove it.
                let _ = fs::remove_file(&self.part);
                return Err(SinkError::Checksum(m));
            }
        }
        if self.overwrite {
            fs::rename(&self.part, &self.dest).map_err(|e| io_err("rename to", &self.dest, &e))?;
            return Ok(self.dest);
        }
        // Only reached when the first name is taken, so the common case stats nothing.
        let mut others = others.filter(|c| !exists_on_disk(&part_path(c)));
        let mut target = self.dest.clone();
        while !move_noreplace(&self.part, &target)? {
            target = match others.next() {
                Some(next) => next,
                None if target == self.dest => {
                    return Err(SinkError::Io(format!(
                        "{} appeared while downloading; the data is kept in {}",
                        target.display(),
                        self.part.display()
                    )))
                }
                None => {
                    return Err(SinkError::Io(format!(
                        "no free file name for {}: every name up to {} exists; the data is kept in {}",
                        self.dest.display(),
                        target.display(),
                        self.part.display()
                    )))
                }
            };
        }
        Ok(target)
    }

    /// The download failed: keep the `.part` for a later `-c` (`keep`), or remove it.
    pub fn abandon(self, keep: bool) {
        if !keep {
            let _ = fs::remove_file(&self.part);
        }
    }
}

/// Move `part` to `dest` unless something is at `dest`: `Ok(false)` then.
fn move_noreplace(part: &Path, dest: &Path) -> Result<bool, SinkError> {
    match crate::sys::rename_noreplace(part, dest) {
        Ok(true) => return Ok(true),
        Ok(false) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(io_err("rename to", dest, &e)),
    }
    // The file system cannot rename without replacing; a hard link refuses an existing
    // name just as well.
    match fs::hard_link(part, dest) {
        Ok(()) => {
            fs::remove_file(part).map_err(|e| io_err("remove", part, &e))?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(_) => {
            // No hard links either: check, then rename (racy, but nothing better is left).
            if exists_on_disk(dest) {
                return Ok(false);
            }
            fs::rename(part, dest).map_err(|e| io_err("rename to", dest, &e))?;
            Ok(true)
        }
    }
}

/// Hash everything in `file` from the start; returns its length.
fn hash_all(file: &mut File, h: &mut Sha256Stream) -> io::Result<u64> {
    file.rewind()?;
    let mut buf = vec![0u8; HASH_BUFFER];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(h.bytes());
        }
        h.update(&buf[..n]);
    }
}

thread_local! {
    /// Directories this run already made: one `mkdir` per directory, not per file.
    static MADE_DIRS: RefCell<HashSet<PathBuf>> = RefCell::new(HashSet::new());
}

fn make_parent(dest: &Path) -> Result<(), SinkError> {
    let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if MADE_DIRS.with(|m| m.borrow().contains(dir)) {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(|e| io_err("create directory", dir, &e))?;
    MADE_DIRS.with(|m| {
        let mut m = m.borrow_mut();
        // Bounded: a mirror of millions of directories only pays a mkdir again.
        if m.len() >= 4096 {
            m.clear();
        }
        m.insert(dir.to_path_buf());
    });
    Ok(())
}

#[cfg(test)]
mod tests;
