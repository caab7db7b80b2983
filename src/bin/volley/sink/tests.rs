//! Unit tests for `sink.rs`, against a temporary directory.

use super::*;
use crate::checksum::hex_decode_sha256;
use std::fs;

const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

fn digest() -> Option<[u8; 32]> {
    hex_decode_sha256(ABC).ok()
}

/// No other names: a path given with `-O` or `-c`.
fn fixed() -> std::iter::Empty<PathBuf> {
    std::iter::empty()
}

/// Files in `dir` that hold their own names, for [`assert_untouched`].
fn sentinels(dir: &Path, names: &[&str]) {
    for name in names {
        fs::write(dir.join(name), name).unwrap();
    }
}

fn assert_untouched(dir: &Path, names: &[&str]) {
    for name in names {
        assert_eq!(fs::read_to_string(dir.join(name)).unwrap(), *name);
    }
}

/// `dest.1`, `dest.2`, … up to `dest.last`.
fn numbered(dest: &Path, last: u32) -> impl Iterator<Item = PathBuf> + '_ {
    (1..=last).map(move |n| PathBuf::from(format!("{}.{n}", dest.display())))
}

#[test]
fn fresh_download_is_renamed_when_done() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("sub/dir/f.txt");
    let mut p = PartFile::create(&dest, false, digest(), fixed()).unwrap();
    p.write(b"a").unwrap();
    p.write(b"bc").unwrap();
    assert_eq!(p.len(), 3);
    assert!(p.part().ends_with("f.txt.part"));
    assert!(!dest.exists());
    assert_eq!(p.finish(fixed()).unwrap(), dest);
    assert_eq!(fs::read(&dest).unwrap(), b"abc");
    assert!(!part_path(&dest).exists());
}

#[test]
fn existing_part_is_not_clobbered_without_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f");
    fs::write(part_path(&dest), b"old").unwrap();
    let e = PartFile::create(&dest, false, None, fixed()).err().unwrap();
    assert!(e.to_string().starts_with("cannot create") && e.to_string().contains("f.part"), "{e}");
    let mut p = PartFile::create(&dest, true, None, fixed()).unwrap();
    p.write(b"new").unwrap();
    p.finish(fixed()).unwrap();
    assert_eq!(fs::read(&dest).unwrap(), b"new");
}

/// `dir/f.part` holding "mine", and `dir/f` holding "theirs", made while it downloaded.
fn taken_meanwhile(dir: &Path) -> (PathBuf, PartFile) {
    let dest = dir.join("f");
    let mut p = PartFile::create(&dest, false, None, fixed()).unwrap();
    p.write(b"mine").unwrap();
    fs::write(&dest, b"theirs").unwrap();
    (dest, p)
}

#[test]
fn final_name_appearing_meanwhile_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let (dest, p) = taken_meanwhile(tmp.path());
    let e = p.finish(fixed()).err().unwrap().to_string();
    assert!(e.contains("appeared while downloading"), "{e}");
    assert_eq!(fs::read(&dest).unwrap(), b"theirs");
    assert_eq!(fs::read(part_path(&dest)).unwrap(), b"mine");
}

#[test]
fn resume_appends_and_hashes_the_whole_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f");
    fs::write(part_path(&dest), b"ab").unwrap();
    let mut p = PartFile::resume(&dest, false, digest()).unwrap();
    assert_eq!(p.len(), 2);
    p.write(b"c").unwrap();
    p.finish(fixed()).unwrap();
    assert_eq!(fs::read(&dest).unwrap(), b"abc");
    // Resuming with no part file starts at 0.
    let other = tmp.path().join("g");
    let p = PartFile::resume(&other, false, None).unwrap();
    assert_eq!(p.len(), 0);
    p.abandon(true);
    assert!(part_path(&other).exists());
}

#[test]
fn truncate_restarts_the_file_and_the_digest() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f");
    fs::write(part_path(&dest), b"garbage").unwrap();
    let mut p = PartFile::resume(&dest, false, digest()).unwrap();
    p.truncate().unwrap();
    assert_eq!(p.len(), 0);
    p.write(b"abc").unwrap();
    p.finish(fixed()).unwrap();
    assert_eq!(fs::read(&dest).unwrap(), b"abc");
}

#[test]
fn checksum_mismatch_removes_the_part() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f");
    let mut p = PartFile::create(&dest, false, digest(), fixed()).unwrap();
    p.write(b"abd").unwrap();
    let e = p.finish(fixed()).err().unwrap();
    assert!(matches!(e, SinkError::Checksum(_)));
    assert!(e.to_string().starts_with("sha-256 mismatch"));
    assert!(!dest.exists() && !part_path(&dest).exists());
}

#[test]
fn abandon_removes_unless_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f");
    let mut p = PartFile::create(&dest, false, None, fixed()).unwrap();
    p.write(b"x").unwrap();
    p.abandon(false);
    assert!(!part_path(&dest).exists());
    let e = PartFile::create(&tmp.path().join("file-as-dir"), false, None, fixed()).unwrap();
    e.abandon(true);
    let bad = tmp.path().join("file-as-dir.part/x");
    let err = PartFile::create(&bad, false, None, fixed()).err().unwrap().to_string();
    assert!(err.starts_with("cannot open directory") && err.contains("file-as-dir.part"), "{err}");
}

#[test]
fn an_existing_part_sends_the_download_to_the_next_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f");
    fs::write(part_path(&dest), b"earlier run").unwrap();
    fs::write(tmp.path().join("f.1.part"), b"another").unwrap();
    let mut p = PartFile::create(&dest, false, None, numbered(&dest, 5)).unwrap();
    assert_eq!(p.dest(), tmp.path().join("f.2"));
    assert_eq!(p.part(), tmp.path().join("f.2.part"));
    p.write(b"new").unwrap();
    assert_eq!(p.finish(fixed()).unwrap(), tmp.path().join("f.2"));
    assert_eq!(fs::read(part_path(&dest)).unwrap(), b"earlier run");
    assert_eq!(fs::read(tmp.path().join("f.1.part")).unwrap(), b"another");
    assert_eq!(fs::read(tmp.path().join("f.2")).unwrap(), b"new");
}

#[test]
fn every_part_existing_is_an_error_that_touches_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f");
    let parts = ["f.part", "f.1.part", "f.2.part"];
    sentinels(tmp.path(), &parts);
    let e = PartFile::create(&dest, false, None, numbered(&dest, 2)).err().unwrap().to_string();
    assert!(e.contains("no free file name") && e.contains("f.2"), "{e}");
    assert_untouched(tmp.path(), &parts);
}

#[test]
fn an_existing_name_sends_the_rename_to_the_next_free_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f");
    let mut p = PartFile::create(&dest, false, digest(), numbered(&dest, 5)).unwrap();
    assert_eq!(p.dest(), dest);
    p.write(b"abc").unwrap();
    fs::write(&dest, b"old").unwrap();
    // f.1 holds a `.part` of an earlier run (kept for its -c); f.2 is a finished file.
    fs::write(tmp.path().join("f.1.part"), b"partial").unwrap();
    fs::write(tmp.path().join("f.2"), b"older").unwrap();
    assert_eq!(p.finish(numbered(&dest, 5)).unwrap(), tmp.path().join("f.3"));
    assert_eq!(fs::read(tmp.path().join("f.3")).unwrap(), b"abc");
    assert_eq!(fs::read(&dest).unwrap(), b"old");
    assert_eq!(fs::read(tmp.path().join("f.1.part")).unwrap(), b"partial");
    assert!(!tmp.path().join("f.1").exists());
    assert_eq!(fs::read(tmp.path().join("f.2")).unwrap(), b"older");
    assert!(!part_path(&dest).exists());
}

#[test]
fn other_names_are_not_looked_at_when_the_first_is_free() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f");
    let asked = std::cell::Cell::new(0);
    let counting = || {
        std::iter::from_fn(|| {
            asked.set(asked.get() + 1);
            None
        })
    };
    let mut p = PartFile::create(&dest, false, None, counting()).unwrap();
    p.write(b"x").unwrap();
    assert_eq!(p.finish(counting()).unwrap(), dest);
    assert_eq!(asked.get(), 0);
}

#[test]
fn no_free_name_at_the_rename_keeps_the_data() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f");
    let mut p = PartFile::create(&dest, false, None, fixed()).unwrap();
    p.write(b"mine").unwrap();
    let names = ["f", "f.1", "f.2"];
    sentinels(tmp.path(), &names);
    let e = p.finish(numbered(&dest, 2)).err().unwrap().to_string();
    assert!(e.contains("no free file name") && e.contains("kept in"), "{e}");
    assert_eq!(fs::read(part_path(&dest)).unwrap(), b"mine");
    assert_untouched(tmp.path(), &names);
}

#[test]
fn overwrite_never_moves_to_another_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f");
    fs::write(part_path(&dest), b"stale").unwrap();
    fs::write(&dest, b"old").unwrap();
    let mut p = PartFile::create(&dest, true, None, numbered(&dest, 5)).unwrap();
    assert_eq!(p.dest(), dest);
    p.write(b"new").unwrap();
    assert_eq!(p.finish(numbered(&dest, 5)).unwrap(), dest);
    assert_eq!(fs::read(&dest).unwrap(), b"new");
    assert!(!tmp.path().join("f.1").exists());
}

#[test]
fn a_symlink_at_the_part_is_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f");
    let target = tmp.path().join("target");
    fs::write(&target, b"precious").unwrap();
    std::os::unix::fs::symlink(&target, part_path(&dest)).unwrap();
    let fresh = PartFile::create(&dest, false, None, fixed()).err().unwrap().to_string();
    assert!(fresh.contains("(os error 17)"), "{fresh}");
    // --overwrite and -c open an existing `.part`, but not through a symlink.
    for (what, opened) in [
        ("overwrite", PartFile::create(&dest, true, None, fixed())),
        ("resume", PartFile::resume(&dest, false, None)),
    ] {
        let e = opened.err().unwrap().to_string();
        assert!(e.contains("(os error 40)"), "{what}: {e}");
    }
    assert_eq!(fs::read(&target).unwrap(), b"precious");
    // A dangling one is not created through either.
    let dangling = tmp.path().join("g");
    std::os::unix::fs::symlink(tmp.path().join("nowhere"), part_path(&dangling)).unwrap();
    assert!(PartFile::create(&dangling, true, None, fixed()).is_err());
    assert!(PartFile::resume(&dangling, false, None).is_err());
    assert!(!tmp.path().join("nowhere").exists());
}

#[test]
fn files_of_one_directory_share_its_descriptor() {
    let tmp = tempfile::tempdir().unwrap();
    let a = PartFile::create(&tmp.path().join("d/a"), false, None, fixed()).unwrap();
    let b = PartFile::resume(&tmp.path().join("d/b"), false, None).unwrap();
    let c = PartFile::create(&tmp.path().join("e/c"), false, None, fixed()).unwrap();
    assert!(Rc::ptr_eq(&a.dir, &b.dir));
    assert!(!Rc::ptr_eq(&a.dir, &c.dir));
    for p in [a, b, c] {
        p.finish(fixed()).unwrap();
    }
    assert!(tmp.path().join("d/a").is_file() && tmp.path().join("d/b").is_file());
}

/// The directory is moved away during the run and a symlink to another directory put
/// in its place: what was opened is where the files go, the `.part` of a download in
/// flight is renamed and removed there, and nothing is written through the symlink.
#[test]
fn a_directory_replaced_by_a_symlink_keeps_receiving_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, moved, elsewhere) =
        (tmp.path().join("out"), tmp.path().join("moved"), tmp.path().join("elsewhere"));
    fs::create_dir(&elsewhere).unwrap();
    let mut done = PartFile::create(&dir.join("f"), false, None, fixed()).unwrap();
    done.write(b"f").unwrap();
    let mut wrong = PartFile::create(&dir.join("g"), false, digest(), fixed()).unwrap();
    wrong.write(b"not abc").unwrap();
    let failed = PartFile::create(&dir.join("h"), false, None, fixed()).unwrap();
    fs::rename(&dir, &moved).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &dir).unwrap();

    assert_eq!(done.finish(fixed()).unwrap(), dir.join("f"));
    assert!(matches!(wrong.finish(fixed()), Err(SinkError::Checksum(_))));
    failed.abandon(false);
    let mut later = PartFile::create(&dir.join("i"), false, None, fixed()).unwrap();
    later.write(b"i").unwrap();
    later.finish(fixed()).unwrap();

    assert_eq!(fs::read(moved.join("f")).unwrap(), b"f");
    assert_eq!(fs::read(moved.join("i")).unwrap(), b"i");
    let mut left: Vec<_> = fs::read_dir(&moved).unwrap().map(|e| e.unwrap().file_name()).collect();
    left.sort();
    assert_eq!(left, ["f", "i"]);
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
}

#[test]
fn without_a_no_replace_rename_a_link_does_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let (dest, p) = taken_meanwhile(tmp.path());
    let name = |n: &str| CString::new(n).unwrap();
    assert!(!p.move_by_link(&dest, &name("f")).unwrap());
    assert_eq!(fs::read(&dest).unwrap(), b"theirs");
    assert!(p.move_by_link(&tmp.path().join("f.1"), &name("f.1")).unwrap());
    assert_eq!(fs::read(tmp.path().join("f.1")).unwrap(), b"mine");
    assert!(!part_path(&dest).exists());
}
