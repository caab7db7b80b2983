//! The output directories, each opened once: a download creates, renames and removes
//! its files relative to its directory's descriptor, so the kernel does not walk the
//! whole output path (checking permissions on every component) twice per file.
//!
//! - The descriptor is opened by path, following symlinks as any path does, the first
//!   time a directory is used (and the directory made then if missing). After that, a
//!   download holds its [`Dir`] from the create of its `.part` to the rename: both happen
//!   in the same directory even if its path is made to point elsewhere meanwhile (say,
//!   the directory is moved and a symlink put in its place). Later files keep going to
//!   the directory that was opened — the one the run started writing into — while it is
//!   cached; one removed during the run is not made again (file creation fails there),
//!   as when only its `mkdir` was remembered.
//! - The cache is bounded ([`DIR_CACHE_MAX`]): with `-x`, a run can touch any number of
//!   directories. When full, the directories no download holds are closed; a directory
//!   used again later is opened again (one extra `openat`). So at most that many
//!   directories are open, plus one for each download whose directory did not fit.
//! - Out of descriptors (`EMFILE`/`ENFILE`), the idle directories are closed
//!   ([`close_idle`]): the directory being opened then finds one, and a `.part` whose
//!   create failed finds one when its download is relaunched.

use super::{io_err, SinkError};
use crate::sys;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::CString;
use std::fs;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Most directories kept open by the cache.
pub const DIR_CACHE_MAX: usize = 256;

/// An open output directory.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

impl Dir {
    /// The path it was opened by (for messages and to check names against).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The descriptor names are resolved against.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The name of `path` inside this directory; an error when `path` is not directly
    /// in it or has no file name (`-O dir/..`).
    pub fn name_of(&self, path: &Path) -> io::Result<CString> {
        let (parent, name) = split(path);
        match name {
            Some(name) if parent == self.path => Ok(CString::new(name.as_bytes())?),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not a file name in {}", self.path.display()),
            )),
        }
    }
}

/// The directory `path` is resolved in (`.` for a bare name) and its last component.
fn split(path: &Path) -> (&Path, Option<&std::ffi::OsStr>) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    (parent, path.file_name())
}

/// Open directories by path, at most `max` of them.
#[derive(Debug)]
pub struct DirCache {
    open: HashMap<PathBuf, Rc<Dir>>,
    max: usize,
}

impl DirCache {
    pub fn new(max: usize) -> DirCache {
        DirCache { open: HashMap::new(), max }
    }

    /// The directory `path` is in, opened (and made, if missing) the first time.
    pub fn dir_of(&mut self, path: &Path) -> Result<Rc<Dir>, SinkError> {
        let (dir, _) = split(path);
        if let Some(d) = self.open.get(dir) {
            return Ok(Rc::clone(d));
        }
        let fd = match self.open_dir(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(dir).map_err(|e| io_err("create directory", dir, &e))?;
                self.open_dir(dir)
            }
            r => r,
        }
        .map_err(|e| io_err("open directory", dir, &e))?;
        let d = Rc::new(Dir { fd, path: dir.to_path_buf() });
        if self.open.len() >= self.max {
            self.close_idle();
        }
        // Still full: every cached directory has a download in it. This one is not
        // cached; its descriptor closes when its download ends.
        if self.open.len() < self.max {
            self.open.insert(dir.to_path_buf(), Rc::clone(&d));
        }
        Ok(d)
    }

    /// Open `dir`; out of descriptors, close the idle directories and try once more.
    fn open_dir(&mut self, dir: &Path) -> io::Result<OwnedFd> {
        match sys::open_dir(dir) {
            Err(e) if is_out_of_fds(&e) => {
                self.close_idle();
                sys::open_dir(dir)
            }
            r => r,
        }
    }

    /// Close the directories no download holds.
    pub fn close_idle(&mut self) {
        self.open.retain(|_, d| Rc::strong_count(d) > 1);
    }

    pub fn len(&self) -> usize {
        self.open.len()
    }
}

thread_local! {
    /// The run's directories: the driver runs on one thread.
    static DIRS: RefCell<DirCache> = RefCell::new(DirCache::new(DIR_CACHE_MAX));
}

/// [`DirCache::dir_of`] on this thread's cache.
pub fn dir_of(path: &Path) -> Result<Rc<Dir>, SinkError> {
    DIRS.with(|c| c.borrow_mut().dir_of(path))
}

/// Whether `e` is `EMFILE` or `ENFILE`.
pub fn is_out_of_fds(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
}

/// [`DirCache::close_idle`] on this thread's cache.
pub fn close_idle() {
    DIRS.with(|c| c.borrow_mut().close_idle());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_descriptor_per_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let mut c = DirCache::new(4);
        let a = c.dir_of(&tmp.path().join("x/f")).unwrap();
        let b = c.dir_of(&tmp.path().join("x/g")).unwrap();
        assert!(Rc::ptr_eq(&a, &b));
        assert_eq!(a.path(), tmp.path().join("x"));
        assert!(tmp.path().join("x").is_dir());
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn the_cache_is_bounded_and_keeps_directories_in_use() {
        let tmp = tempfile::tempdir().unwrap();
        let mut c = DirCache::new(3);
        let held = c.dir_of(&tmp.path().join("held/f")).unwrap();
        for i in 0..10 {
            drop(c.dir_of(&tmp.path().join(format!("d{i}/f"))).unwrap());
            assert!(c.len() <= 3, "{} open after d{i}", c.len());
        }
        // The held directory was never closed under its download.
        assert!(Rc::ptr_eq(&held, &c.dir_of(&tmp.path().join("held/g")).unwrap()));
        c.close_idle();
        assert_eq!(c.len(), 1);
        drop(held);
        c.close_idle();
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn a_full_cache_of_busy_directories_still_serves_new_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let mut c = DirCache::new(2);
        let busy: Vec<_> = (0..2).map(|i| c.dir_of(&tmp.path().join(format!("b{i}/f"))).unwrap()).collect();
        let extra = c.dir_of(&tmp.path().join("extra/f")).unwrap();
        assert_eq!(c.len(), 2);
        // Not cached: only the download holds it, and drops (closes) it at its end.
        assert_eq!(Rc::strong_count(&extra), 1);
        assert!(!Rc::ptr_eq(&extra, &c.dir_of(&tmp.path().join("extra/g")).unwrap()));
        drop(busy);
    }

    #[test]
    fn the_cache_of_the_run_is_bounded() {
        let tmp = tempfile::tempdir().unwrap();
        // A thread of its own: a cache of its own.
        let after = std::thread::scope(|s| {
            s.spawn(|| {
                let held: Vec<_> = (0..DIR_CACHE_MAX + 50)
                    .map(|i| dir_of(&tmp.path().join(format!("{i}/f"))).unwrap())
                    .collect();
                assert_eq!(DIRS.with(|c| c.borrow().len()), DIR_CACHE_MAX);
                drop(held);
                drop(dir_of(&tmp.path().join("one-more/f")).unwrap());
                DIRS.with(|c| c.borrow().len())
            })
            .join()
            .unwrap()
        });
        // Full of idle directories, the cache closed them all to take the new one.
        assert_eq!(after, 1);
    }

    #[test]
    fn bare_names_are_in_the_current_directory() {
        let mut c = DirCache::new(2);
        let d = c.dir_of(Path::new("f")).unwrap();
        assert_eq!(d.path(), Path::new("."));
        assert_eq!(d.name_of(Path::new("f")).unwrap().as_bytes(), b"f");
        assert!(d.name_of(Path::new("sub/f")).is_err());
        assert!(d.name_of(Path::new("..")).is_err());
    }

    #[test]
    fn a_file_where_the_directory_should_be_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("file"), b"").unwrap();
        let mut c = DirCache::new(2);
        let e = c.dir_of(&tmp.path().join("file/f")).unwrap_err().to_string();
        assert!(e.starts_with("cannot open directory") && e.contains("(os error 20)"), "{e}");
        assert_eq!(c.len(), 0);
    }
}
