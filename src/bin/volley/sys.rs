//! Small facts about the system and the disk the driver needs: the file-descriptor
//! limit (read from `/proc/self/limits`, no `unsafe`), error-number checks on sink
//! messages, the `NAME.part.meta` sidecar that keeps a resumable download's validator
//! for `If-Range`, and the `*at` file calls a download makes in its directory.

use std::ffi::CStr;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Descriptors kept free for stdio, the poll, DNS sockets, the report and signals.
const FD_RESERVE: u64 = 16;

/// The soft `RLIMIT_NOFILE`, if it can be read and is finite.
pub fn fd_soft_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_fd_limit(&text)
}

fn parse_fd_limit(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..].split_whitespace().next()?;
    soft.parse().ok()
}

/// The most connections that fit the descriptor limit: each download holds a socket
/// and its `.part` file. Output directories are held open too, but shared by the
/// downloads in them, and the idle ones are closed when descriptors run out (see
/// `sink::dirs`), so they are not counted here.
pub fn max_connections_for(limit: Option<u64>) -> usize {
    match limit {
        Some(l) => usize::try_from(l.saturating_sub(FD_RESERVE) / 2).unwrap_or(usize::MAX).max(1),
        None => usize::MAX,
    }
}

/// Whether a sink error message comes from running out of descriptors (EMFILE/ENFILE).
pub fn is_fd_exhaustion(msg: &str) -> bool {
    msg.contains("(os error 24)") || msg.contains("(os error 23)")
}

/// Whether a sink error message comes from a full disk or quota (ENOSPC/EDQUOT).
pub fn is_disk_full(msg: &str) -> bool {
    msg.contains("(os error 28)") || msg.contains("(os error 122)")
}

/// `NAME.part.meta`.
pub fn meta_path(dest: &Path) -> PathBuf {
    let mut s = crate::naming::part_path(dest).into_os_string();
    s.push(".meta");
    PathBuf::from(s)
}

/// The validator stored for `dest`'s `.part`, if any.
pub fn read_validator(dest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(meta_path(dest)).ok()?;
    let v = text.lines().next()?.trim();
    (!v.is_empty() && v.len() < 1024 && v.bytes().all(|b| (0x20..0x7f).contains(&b))).then(|| v.to_string())
}

/// Store `validator` for `dest`'s `.part` (best effort: without it a resume is still
/// correct, just not protected against a changed file).
pub fn write_validator(dest: &Path, validator: &str) {
    let _ = std::fs::write(meta_path(dest), format!("{validator}\n"));
}

/// Remove the sidecar of `dest`.
pub fn remove_validator(dest: &Path) {
    let _ = std::fs::remove_file(meta_path(dest));
}

/// The `If-Range` validator of a response: a strong ETag, else Last-Modified
/// (RFC 9110 §13.1.5: a weak ETag cannot be used).
pub fn validator_of(headers: &volley::Headers) -> Option<String> {
    if let Some(etag) = headers.get("etag") {
        if etag.starts_with('"') && etag.len() >= 2 {
            return Some(etag.to_string());
        }
    }
    headers.get("last-modified").map(str::to_string)
}

// The file operations of a download, relative to its directory's descriptor: the kernel
// then walks one component per call instead of the whole output path (with a permission
// check on each), which measured as a large share of a small file's `openat` and
// `renameat2`. std has no `*at` calls, hence the `unsafe` below; each block only passes
// NUL-terminated names owned by the caller and a descriptor it borrows.

/// Open `path` as a directory to resolve names against, following symlinks on the way
/// as any path does. `O_PATH` needs no read permission on the directory (a `-wx`
/// directory can still be written into) and cannot be read from by mistake.
pub fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    let file = OpenOptions::new().read(true).custom_flags(libc::O_PATH | libc::O_DIRECTORY).open(path)?;
    Ok(OwnedFd::from(file))
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// `openat(dir, name, flags | O_CLOEXEC | O_NOFOLLOW, 0666)`: never through a symlink,
/// whatever `flags` asks (an existing symlink is `ELOOP`, or `EEXIST` with `O_EXCL`).
#[allow(unsafe_code)]
pub fn open_at(dir: BorrowedFd<'_>, name: &CStr, flags: libc::c_int) -> io::Result<File> {
    let flags = flags | libc::O_CLOEXEC | libc::O_NOFOLLOW;
    let mode: libc::c_uint = 0o666;
    // SAFETY: `name` is NUL-terminated and borrowed for the whole call, `dir` is an open
    // descriptor borrowed for the whole call; openat keeps no pointer to either.
    let fd = check(unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags, mode) })?;
    // SAFETY: openat succeeded, so `fd` is a new open descriptor that nothing else owns;
    // the OwnedFd becomes its only owner and closes it once.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// Whether anything (even a dangling symlink) is at `name` in `dir`, without following it.
pub fn exists_at(dir: BorrowedFd<'_>, name: &CStr) -> bool {
    // O_PATH with O_NOFOLLOW opens a symlink itself; the descriptor is closed at once.
    open_at(dir, name, libc::O_PATH).is_ok()
}

/// Rename `from` to `to`, both in `dir`. With `noreplace`, only if `to` does not exist,
/// atomically, in one system call (`renameat2` with `RENAME_NOREPLACE`, Linux 3.15+);
/// `Ok(false)` then means the file system cannot do it (the caller falls back to link +
/// unlink), and an existing `to` is an `AlreadyExists` error, so a file that appeared
/// meanwhile is never clobbered.
#[allow(unsafe_code)]
pub fn rename_at(dir: BorrowedFd<'_>, from: &CStr, to: &CStr, noreplace: bool) -> io::Result<bool> {
    let fd = dir.as_raw_fd();
    let flags = if noreplace { libc::RENAME_NOREPLACE } else { 0 };
    // SAFETY: both names are NUL-terminated and borrowed across the call, `dir` is an
    // open descriptor borrowed across the call; renameat2 keeps no pointer to them.
    // std offers no no-replace rename; link + unlink costs a second syscall per file,
    // which measured as 10% of the small-file benchmark.
    let r = unsafe { libc::renameat2(fd, from.as_ptr(), fd, to.as_ptr(), flags) };
    if r == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EPERM) if noreplace => Ok(false),
        _ => Err(e),
    }
}

/// Hard-link `from` to `to`, both in `dir`, without following a symlink at `from`; an
/// existing `to` is `AlreadyExists`.
#[allow(unsafe_code)]
pub fn link_at(dir: BorrowedFd<'_>, from: &CStr, to: &CStr) -> io::Result<()> {
    let fd = dir.as_raw_fd();
    // SAFETY: as for `rename_at`: NUL-terminated names and a descriptor, all borrowed
    // across the call and not kept by linkat.
    check(unsafe { libc::linkat(fd, from.as_ptr(), fd, to.as_ptr(), 0) }).map(drop)
}

/// Remove the file (or symlink, never what it points to) `name` in `dir`.
#[allow(unsafe_code)]
pub fn unlink_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    // SAFETY: a NUL-terminated name and a descriptor, both borrowed across the call and
    // not kept by unlinkat.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) }).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max cpu time              unlimited            unlimited            seconds   \n\
                    Max open files            64                   1048576              files     \n";
        assert_eq!(parse_fd_limit(text), Some(64));
        assert_eq!(max_connections_for(Some(64)), 24);
        assert_eq!(max_connections_for(Some(10)), 1);
        assert_eq!(max_connections_for(None), usize::MAX);
        let unl = "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_fd_limit(unl), None);
    }

    #[test]
    fn errnos() {
        assert!(is_fd_exhaustion("cannot create x: Too many open files (os error 24)"));
        assert!(is_disk_full("cannot write x: No space left on device (os error 28)"));
        assert!(!is_disk_full("cannot write x: Permission denied (os error 13)"));
    }

    #[test]
    fn validators() {
        let mut h = volley::Headers::new();
        h.push("ETag", "W/\"weak\"");
        h.push("Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(validator_of(&h).as_deref(), Some("Sun, 06 Nov 1994 08:49:37 GMT"));
        let mut h = volley::Headers::new();
        h.push("ETag", "\"abc\"");
        assert_eq!(validator_of(&h).as_deref(), Some("\"abc\""));
        assert_eq!(validator_of(&volley::Headers::new()), None);
    }
}
