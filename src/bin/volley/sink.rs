//! Where a body goes on disk: `NAME.part`, renamed to `NAME` once complete (and its
//! checksum, if one was given, verified). A crash or a failure never leaves a
//! half-written file under the final name.
//!
//! - Every call is made relative to the directory's descriptor, opened once per directory
//!   (see [`dirs`]): the `.part`'s create, the rename and the removal of a failed `.part`.
//! - A fresh download creates `NAME.part` exclusively (`O_EXCL`: never through an
//!   existing file or symlink); with `--overwrite` it truncates instead. No open follows
//!   a symlink at the `.part` (`O_NOFOLLOW`), `--overwrite` and `-c` included: the
//!   driver's check that the `.part` is a plain file cannot be raced.
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
use crate::naming::part_path;
use crate::sys;
use dirs::Dir;
use std::ffi::{CStr, CString};
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

mod dirs;

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
    /// Where `name` and `part_name` are: the `.part` is made, renamed and removed there.
    dir: Rc<Dir>,
    name: CString,
    part_name: CString,
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
        let dir = dirs::dir_of(dest)?;
        let flags = libc::O_WRONLY | libc::O_CREAT | if overwrite { libc::O_TRUNC } else { libc::O_EXCL };
        let mut target = dest.to_path_buf();
        loop {
            let (name, part_name) = names_in(&dir, &target)?;
            let part = part_path(&target);
            match sys::open_at(dir.fd(), &part_name, flags) {
                Ok(file) => {
                    let hasher = expected.map(|x| (Sha256Stream::new(), x));
                    let names = (target, part, name, part_name);
                    return Ok(PartFile::new(dir, names, file, 0, overwrite, hasher));
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
                Err(e) => return Err(open_err("create", &part, &e)),
            }
        }
    }

    /// Continue a download of `dest` from its `.part` (created empty if missing).
    pub fn resume(dest: &Path, overwrite: bool, expected: Option<[u8; 32]>) -> Result<PartFile, SinkError> {
        let dir = dirs::dir_of(dest)?;
        let (name, part_name) = names_in(&dir, dest)?;
        let part = part_path(dest);
        let flags = libc::O_RDWR | libc::O_APPEND | libc::O_CREAT;
        let mut file = sys::open_at(dir.fd(), &part_name, flags).map_err(|e| open_err("open", &part, &e))?;
        let mut hasher = expected.map(|x| (Sha256Stream::new(), x));
        let len = match &mut hasher {
            Some((h, _)) => hash_all(&mut file, h).map_err(|e| io_err("read", &part, &e))?,
            None => file.metadata().map_err(|e| io_err("read", &part, &e))?.len(),
        };
        let names = (dest.to_path_buf(), part, name, part_name);
        Ok(PartFile::new(dir, names, file, len, overwrite, hasher))
    }

    fn new(
        dir: Rc<Dir>,
        (dest, part, name, part_name): (PathBuf, PathBuf, CString, CString),
        file: File,
        len: u64,
        overwrite: bool,
        hasher: Option<(Sha256Stream, [u8; 32])>,
    ) -> PartFile {
        PartFile { dest, part, dir, name, part_name, file, len, overwrite, hasher }
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
                self.remove_part();
                return Err(SinkError::Checksum(m));
            }
        }
        let fd = self.dir.fd();
        if self.overwrite {
            sys::rename_at(fd, &self.part_name, &self.name, false)
                .map_err(|e| io_err("rename to", &self.dest, &e))?;
            return Ok(self.dest);
        }
        if self.move_noreplace(&self.dest, &self.name)? {
            return Ok(self.dest);
        }
        // The first name is taken: only now are the others looked at.
        let dir = &self.dir;
        let others = others.filter_map(|c| {
            let (name, part_name) = names_in(dir, &c).ok()?;
            (!sys::exists_at(dir.fd(), &part_name)).then_some((c, name))
        });
        let mut last = None;
        for (target, name) in others {
            if self.move_noreplace(&target, &name)? {
                return Ok(target);
            }
            last = Some(target);
        }
        Err(SinkError::Io(match last {
            None => format!(
                "{} appeared while downloading; the data is kept in {}",
                self.dest.display(),
                self.part.display()
            ),
            Some(last) => format!(
                "no free file name for {}: every name up to {} exists; the data is kept in {}",
                self.dest.display(),
                last.display(),
                self.part.display()
            ),
        }))
    }

    /// The download failed: keep the `.part` for a later `-c` (`keep`), or remove it.
    pub fn abandon(self, keep: bool) {
        if !keep {
            self.remove_part();
        }
    }

    fn remove_part(&self) {
        let _ = sys::unlink_at(self.dir.fd(), &self.part_name);
    }

    /// Move the `.part` to `dest` (called `name` in the same directory) unless something
    /// is there: `Ok(false)` then.
    fn move_noreplace(&self, dest: &Path, name: &CStr) -> Result<bool, SinkError> {
        let (fd, part) = (self.dir.fd(), self.part_name.as_c_str());
        match sys::rename_at(fd, part, name, true) {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
            Err(e) => return Err(io_err("rename to", dest, &e)),
        }
        self.move_by_link(dest, name)
    }

    /// [`PartFile::move_noreplace`] where the file system cannot rename without replacing:
    /// a hard link refuses an existing name just as well.
    fn move_by_link(&self, dest: &Path, name: &CStr) -> Result<bool, SinkError> {
        let (fd, part) = (self.dir.fd(), self.part_name.as_c_str());
        match sys::link_at(fd, part, name) {
            Ok(()) => {
                sys::unlink_at(fd, part).map_err(|e| io_err("remove", &self.part, &e))?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(_) => {
                // No hard links either: check, then rename (racy, but nothing better is left).
                if sys::exists_at(fd, name) {
                    return Ok(false);
                }
                sys::rename_at(fd, part, name, false).map_err(|e| io_err("rename to", dest, &e))?;
                Ok(true)
            }
        }
    }
}

/// The names of `path` and of its `.part` in `dir`.
fn names_in(dir: &Dir, path: &Path) -> Result<(CString, CString), SinkError> {
    let name = dir.name_of(path).map_err(|e| io_err("use", path, &e))?;
    let part = part_path(path);
    let part_name = dir.name_of(&part).map_err(|e| io_err("use", &part, &e))?;
    Ok((name, part_name))
}

/// [`io_err`] for an open that failed; out of descriptors, first close the directories
/// no download is in, so that the relaunched download finds one.
fn open_err(what: &str, path: &Path, e: &io::Error) -> SinkError {
    if dirs::is_out_of_fds(e) {
        dirs::close_idle();
    }
    io_err(what, path, e)
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

#[cfg(test)]
mod tests;
