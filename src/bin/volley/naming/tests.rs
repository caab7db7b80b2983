//! Unit tests for `naming.rs`.

use super::*;
use std::path::Component;

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

#[test]
fn safe_component_rules() {
    assert_eq!(safe_component("a.txt").as_deref(), Some("a.txt"));
    assert_eq!(safe_component("a/b\\c").as_deref(), Some("a_b_c"));
    assert_eq!(safe_component("a\u{1b}[31mred\u{7f}\u{85}").as_deref(), Some("a_[31mred__"));
    assert_eq!(safe_component(".bashrc").as_deref(), Some("bashrc"));
    assert_eq!(safe_component("..").as_deref(), None);
    assert_eq!(safe_component(" . ").as_deref(), None);
    assert_eq!(safe_component("").as_deref(), None);
    assert_eq!(safe_component("-rf").as_deref(), Some("_rf"));
    assert_eq!(safe_component("  x y  ").as_deref(), Some("x y"));
    assert_eq!(safe_component("../../etc/passwd").as_deref(), Some("_.._etc_passwd"));
}

#[test]
fn long_names_keep_extension_and_utf8() {
    let long = format!("{}.tar.gz", "€".repeat(100));
    let s = safe_component(&long).unwrap();
    assert!(s.len() <= MAX_NAME_BYTES, "{}", s.len());
    assert!(s.ends_with("€.gz") || s.ends_with(".gz"));
    assert!(s.ends_with(".gz"));
    let no_ext = "x".repeat(300);
    assert_eq!(safe_component(&no_ext).unwrap().len(), MAX_NAME_BYTES);
    let huge_ext = format!("a.{}", "e".repeat(300));
    assert_eq!(safe_component(&huge_ext).unwrap().len(), MAX_NAME_BYTES);
}

#[test]
fn names_from_urls() {
    assert_eq!(name_from_url(&url("http://h/a/b.iso")), "b.iso");
    assert_eq!(name_from_url(&url("http://h/a/b.iso?x=1#f")), "b.iso");
    assert_eq!(name_from_url(&url("http://h/")), "index.html");
    assert_eq!(name_from_url(&url("http://h")), "index.html");
    assert_eq!(name_from_url(&url("http://h/dir/")), "index.html");
    assert_eq!(name_from_url(&url("http://h/%E2%82%AC%20rates.txt")), "€ rates.txt");
    assert_eq!(name_from_url(&url("http://h/a%2Fb")), "a_b");
    assert_eq!(name_from_url(&url("http://h/%2e%2e")), "index.html");
    assert_eq!(name_from_url(&url("http://h/x%ff%zz")), "x\u{fffd}%zz");
    assert_eq!(name_from_url(&url("http://h/100%")), "100%");
    assert_eq!(name_from_url(&url("http://h/%0a.txt")), "_.txt");
}

#[test]
fn force_directories_cannot_escape() {
    // The URL parser already resolves `..` and `%2e%2e` segments.
    let p = force_dir_path(&url("http://Example.org:8080/a/%2e%2e/b%2Fc/../d/f.txt"));
    assert_eq!(p, PathBuf::from("example.org_8080/d/f.txt"));
    let p = force_dir_path(&url("http://h/a/b%2Fc/.hidden/-d/f.txt"));
    assert_eq!(p, PathBuf::from("h/a/b_c/hidden/_d/f.txt"));
    assert_eq!(force_dir_path(&url("https://h:443/x")), PathBuf::from("h/x"));
    assert_eq!(force_dir_path(&url("http://h/dir/")), PathBuf::from("h/dir/index.html"));
    assert_eq!(force_dir_path(&url("http://[::1]:81/a")), PathBuf::from("[::1]_81/a"));
    for u in ["http://h/..%2f..%2fx", "http://h/%2e./.%2e/y", "http://h/a/%5c..%5c/z"] {
        let p = force_dir_path(&url(u));
        assert!(p.components().all(|c| matches!(c, Component::Normal(_))), "{u}: {p:?}");
    }
}

#[test]
fn content_disposition() {
    let cd = |s: &str| content_disposition_filename(s.as_bytes());
    assert_eq!(cd("attachment; filename=\"a b.txt\"").as_deref(), Some("a b.txt"));
    assert_eq!(cd("attachment; filename=plain.txt").as_deref(), Some("plain.txt"));
    assert_eq!(
        cd("attachment; filename=\"EURO rates.txt\"; filename*=UTF-8''%e2%82%ac%20rates.txt").as_deref(),
        Some("€ rates.txt")
    );
    assert_eq!(
        cd("attachment; filename*=utf-8'en'%e2%82%ac.txt; filename=\"x.txt\"").as_deref(),
        Some("€.txt")
    );
    assert_eq!(cd("attachment; filename*=iso-8859-1''%A3%20rates").as_deref(), Some("£ rates"));
    // Undecodable filename* falls back to filename.
    assert_eq!(cd("attachment; filename*=UTF-8''%ff; filename=ok").as_deref(), Some("ok"));
    assert_eq!(cd("attachment; filename*=koi8-r''x; filename=ok").as_deref(), Some("ok"));
    assert_eq!(cd(r#"attachment; filename="q\"uote""#).as_deref(), Some("q\"uote"));
    // An escaped backslash is still a directory separator for the last-part rule.
    assert_eq!(cd(r#"attachment; filename="q\\d""#).as_deref(), Some("d"));
    assert_eq!(cd("attachment; filename=\"../../etc/passwd\"").as_deref(), Some("passwd"));
    assert_eq!(cd("attachment; filename=\"C:\\\\x\\\\evil.exe\"").as_deref(), Some("evil.exe"));
    assert_eq!(cd("attachment; filename=\"..\"").as_deref(), None);
    assert_eq!(cd("inline").as_deref(), None);
    assert_eq!(cd("attachment; foo; size=3; FILENAME=\"up.txt\"").as_deref(), Some("up.txt"));
    assert_eq!(cd("attachment; filename=\"unterminated").as_deref(), Some("unterminated"));
    assert_eq!(cd("attachment; filename=\"a\"junk; x=y").as_deref(), Some("a"));
    // Raw Latin-1 bytes in the header.
    assert_eq!(content_disposition_filename(b"attachment; filename=\"\xa3.txt\"").as_deref(), Some("£.txt"));
}

fn paths(slot: Result<Slot, String>) -> Result<PathBuf, String> {
    slot.map(|s| s.path())
}

#[test]
fn allocator_suffixes_within_a_run() {
    let mut alloc = NameAllocator::new(false);
    let dir = Path::new("d");
    assert_eq!(paths(alloc.allocate(dir, "a")), Ok(PathBuf::from("d/a")));
    assert_eq!(paths(alloc.allocate(dir, "a")), Ok(PathBuf::from("d/a.1")));
    assert!(alloc.claim(Path::new("d/c")));
    assert_eq!(paths(alloc.allocate(dir, "c")), Ok(PathBuf::from("d/c.1")));
    alloc.release(Path::new("d/c"));
    assert_eq!(paths(alloc.allocate(dir, "c")), Ok(PathBuf::from("d/c")));
    assert!(!alloc.claim(Path::new("d/a.1")));
    for n in 0..=MAX_SUFFIX {
        alloc.claim(&numbered(&dir.join("full"), n));
    }
    let err = alloc.allocate(dir, "full").unwrap_err();
    assert!(err.contains("no free file name"), "{err}");
}

#[test]
fn allocator_overwrite_keeps_names_of_the_run() {
    let mut alloc = NameAllocator::new(true);
    let dir = Path::new("d");
    assert_eq!(paths(alloc.allocate(dir, "a")), Ok(PathBuf::from("d/a")));
    assert_eq!(paths(alloc.allocate(dir, "a")), Ok(PathBuf::from("d/a.1")));
    alloc.release(Path::new("d/a"));
    assert_eq!(paths(alloc.allocate(dir, "a")), Ok(PathBuf::from("d/a.2")));
    assert_eq!(alloc.len(), 3);
}

#[test]
fn allocator_does_not_look_at_the_disk() {
    // What is on disk is learnt from the create and the rename (see `sink`).
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("f.bin"), b"old").unwrap();
    std::fs::write(dir.join("f.bin.part"), b"partial").unwrap();
    let mut alloc = NameAllocator::new(false);
    assert_eq!(paths(alloc.allocate(dir, "f.bin")), Ok(dir.join("f.bin")));
    assert_eq!(part_path(&dir.join("x")), dir.join("x.part"));
}

#[test]
fn others_skip_names_of_the_run_and_move_the_claim() {
    let mut alloc = NameAllocator::new(false);
    let dir = Path::new("d");
    let mut slot = alloc.allocate(dir, "a.txt").unwrap();
    let held_by_another = alloc.allocate(dir, "a.txt").unwrap();
    assert_eq!(held_by_another.path(), PathBuf::from("d/a.txt.1"));
    let taken: Vec<PathBuf> = alloc.others(Some(&mut slot)).take(2).collect();
    assert_eq!(taken, [PathBuf::from("d/a.txt.2"), PathBuf::from("d/a.txt.3")]);
    assert_eq!(slot.path(), PathBuf::from("d/a.txt.3"));
    // Only the slot's current name and the other download's stay claimed.
    assert_eq!(alloc.len(), 2);
    assert!(alloc.claim(Path::new("d/a.txt")));
    assert!(!alloc.claim(Path::new("d/a.txt.3")));
    // A fixed name has no others.
    assert_eq!(alloc.others(None).next(), None);
}

#[test]
fn others_end_at_the_last_suffix() {
    let mut alloc = NameAllocator::new(false);
    let mut slot = Slot { base: PathBuf::from("d/z"), n: MAX_SUFFIX - 1 };
    alloc.claim(&slot.path());
    let got: Vec<PathBuf> = alloc.others(Some(&mut slot)).take(5).collect();
    assert_eq!(got, [PathBuf::from(format!("d/z.{MAX_SUFFIX}"))]);
    assert_eq!(slot.path(), PathBuf::from(format!("d/z.{MAX_SUFFIX}")));
    assert_eq!(alloc.len(), 1);
}
