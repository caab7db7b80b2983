//! Unit tests for `sink.rs`, against a temporary directory.

use super::*;
use crate::checksum::hex_decode_sha256;

const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

fn digest() -> Option<[u8; 32]> {
    hex_decode_sha256(ABC).ok()
}

#[test]
fn fresh_download_is_renamed_when_done() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("sub/dir/f.txt");
    let mut p = PartFile::create(&dest, false, digest()).unwrap();
    p.write(b"a").unwrap();
    p.write(b"bc").unwrap();
    assert_eq!(p.len(), 3);
    assert!(p.part().ends_with("f.txt.part"));
    assert!(!dest.exists());
    assert_eq!(p.finish().unwrap(), dest);
    assert_eq!(fs::read(&dest).unwrap(), b"abc");
    assert!(!part_path(&dest).exists());
}

#[test]
fn existing_part_is_not_clobbered_without_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f");
    fs::write(part_path(&dest), b"old").unwrap();
    let e = PartFile::create(&dest, false, None).err().unwrap();
    assert!(e.to_string().starts_with("cannot create") && e.to_string().contains("f.part"), "{e}");
    let mut p = PartFile::create(&dest, true, None).unwrap();
    p.write(b"new").unwrap();
    p.finish().unwrap();
    assert_eq!(fs::read(&dest).unwrap(), b"new");
}

#[test]
fn final_name_appearing_meanwhile_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f");
    let mut p = PartFile::create(&dest, false, None).unwrap();
    p.write(b"mine").unwrap();
    fs::write(&dest, b"theirs").unwrap();
    let e = p.finish().err().unwrap().to_string();
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
    p.finish().unwrap();
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
    p.finish().unwrap();
    assert_eq!(fs::read(&dest).unwrap(), b"abc");
}

#[test]
fn checksum_mismatch_removes_the_part() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f");
    let mut p = PartFile::create(&dest, false, digest()).unwrap();
    p.write(b"abd").unwrap();
    let e = p.finish().err().unwrap();
    assert!(matches!(e, SinkError::Checksum(_)));
    assert!(e.to_string().starts_with("sha-256 mismatch"));
    assert!(!dest.exists() && !part_path(&dest).exists());
}

#[test]
fn abandon_removes_unless_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f");
    let mut p = PartFile::create(&dest, false, None).unwrap();
    p.write(b"x").unwrap();
    p.abandon(false);
    assert!(!part_path(&dest).exists());
    let e = PartFile::create(&tmp.path().join("file-as-dir"), false, None).unwrap();
    e.abandon(true);
    let bad = tmp.path().join("file-as-dir.part/x");
    let err = PartFile::create(&bad, false, None).err().unwrap().to_string();
    assert!(err.starts_with("cannot create directory"), "{err}");
}
