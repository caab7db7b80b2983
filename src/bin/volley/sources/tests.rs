//! Unit tests for `sources.rs`.

use super::*;
use crate::input::InputReader;
use std::io::Cursor;

fn input(text: &str) -> Option<InputIter> {
    Some(Box::new(InputReader::new(Cursor::new(text.as_bytes().to_vec()))))
}

fn urls(s: &[&str]) -> Vec<String> {
    s.iter().map(|u| u.to_string()).collect()
}

fn collect(src: Sources) -> Vec<Result<(String, Origin), String>> {
    src.map(|r| r.map(|j| (j.url, j.origin)).map_err(|e| e.to_string())).collect()
}

#[test]
fn args_then_input_with_globs() {
    let src = Sources::new(
        &urls(&["http://a/[1-2]", "http://b/{x,y}"]),
        input("http://c/[8-9]\n  out=c.bin\nhttp://d/\n"),
        true,
        None,
    )
    .unwrap();
    let got = collect(src);
    let want: Vec<Result<(String, Origin), String>> = vec![
        Ok(("http://a/1".into(), Origin::Arg(1))),
        Ok(("http://a/2".into(), Origin::Arg(1))),
        Ok(("http://b/x".into(), Origin::Arg(2))),
        Ok(("http://b/y".into(), Origin::Arg(2))),
        Ok(("http://c/8".into(), Origin::Line(1))),
        Ok(("http://c/9".into(), Origin::Line(1))),
        Ok(("http://d/".into(), Origin::Line(3))),
    ];
    assert_eq!(got, want);
}

#[test]
fn input_options_apply_to_every_expansion() {
    let mut src = Sources::new(&[], input("http://c/[1-2]\n  out=c.bin\n  foo=1\n"), true, None).unwrap();
    let jobs: Vec<Job> = src.by_ref().map(|r| r.unwrap()).collect();
    assert_eq!(jobs.len(), 2);
    assert!(jobs.iter().all(|j| j.out.as_deref() == Some("c.bin")));
    assert_eq!(src.take_warnings().len(), 1);
    assert!(src.take_warnings().is_empty());
    assert_eq!(src.total_if_known(), Some(2));
}

#[test]
fn no_glob_takes_patterns_literally() {
    let src =
        Sources::new(&urls(&["http://a/[1-2]", "http://a/]"]), input("http://c/{x}\n"), false, None).unwrap();
    let got: Vec<String> = src.map(|r| r.unwrap().url).collect();
    assert_eq!(got, ["http://a/[1-2]", "http://a/]", "http://c/{x}"]);
}

#[test]
fn bad_globs() {
    let e = Sources::new(&urls(&["http://ok/", "http://a/[1-"]), None, true, None).err().unwrap();
    assert!(e.starts_with("URL argument 2 (http://a/[1-): bad URL glob at column 10"), "{e}");
    let got = collect(Sources::new(&[], input("http://a/{x\nhttp://b/\n"), true, None).unwrap());
    assert_eq!(got.len(), 2);
    let e = got[0].clone().unwrap_err();
    assert!(e.starts_with("input line 1: bad URL glob at column 10"), "{e}");
    assert_eq!(got[1], Ok(("http://b/".into(), Origin::Line(2))));
}

#[test]
fn shards_split_without_overlap() {
    let list: String =
        (0..200).map(|i| format!("http://host{i}.example/f\n")).collect::<String>() + "not a url\n";
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    for k in 1..=3 {
        let shard = Some(Shard { k, n: 3 });
        let src = Sources::new(&[], input(&list), true, shard).unwrap();
        for r in src {
            let job = r.unwrap();
            assert!(seen.insert(job.url.clone()), "{} in two shards", job.url);
            total += 1;
        }
    }
    assert_eq!(total, 201);
}

#[test]
fn totals() {
    assert_eq!(Sources::args_total(&urls(&["a[1-10]", "b{x,y}", "c"]), true), Some(13));
    assert_eq!(Sources::args_total(&urls(&["a[1-10]"]), false), Some(1));
    assert_eq!(Sources::args_total(&urls(&["a[1-"]), true), None);
    let mut src = Sources::new(&urls(&["a[1-3]"]), None, true, None).unwrap();
    assert_eq!(src.total_if_known(), None);
    assert_eq!(src.by_ref().count(), 3);
    assert_eq!(src.total_if_known(), Some(3));
}

#[test]
fn a_big_glob_is_lazy() {
    let mut src = Sources::new(&urls(&["http://h/[1-1000000000]"]), None, true, None).unwrap();
    assert_eq!(src.nth(999).map(|r| r.unwrap().url).as_deref(), Some("http://h/1000"));
}
