//! Unit tests for `glob.rs`.

use super::*;

fn expand(p: &str) -> Vec<String> {
    match Glob::parse(p) {
        Ok(g) => g.into_iter().collect(),
        Err(e) => panic!("{p}: {e}"),
    }
}

fn error(p: &str) -> GlobError {
    match Glob::parse(p) {
        Ok(g) => panic!("{p} parsed as {g:?}"),
        Err(e) => e,
    }
}

#[test]
fn plain_url_is_itself() {
    let g = Glob::parse("http://x/a?b=c").unwrap_or_else(|e| panic!("{e}"));
    assert!(!g.has_globs());
    assert_eq!(g.count(), 1);
    assert_eq!(expand("http://x/a?b=c"), ["http://x/a?b=c"]);
}

#[test]
fn numbers_padding_and_steps() {
    assert_eq!(expand("x[1-3]"), ["x1", "x2", "x3"]);
    assert_eq!(expand("x[8-10]"), ["x8", "x9", "x10"]);
    assert_eq!(expand("[001-003]"), ["001", "002", "003"]);
    assert_eq!(expand("[09-11]"), ["09", "10", "11"]);
    assert_eq!(expand("[0-100:50]"), ["0", "50", "100"]);
    assert_eq!(expand("[0-10:3]"), ["0", "3", "6", "9"]);
    assert_eq!(expand("[5-5]"), ["5"]);
}

#[test]
fn letters_and_lists() {
    assert_eq!(expand("[a-c]"), ["a", "b", "c"]);
    assert_eq!(expand("[X-Z]"), ["X", "Y", "Z"]);
    assert_eq!(expand("[a-e:2]"), ["a", "c", "e"]);
    assert_eq!(expand("f{oo,ee,}d"), ["food", "feed", "fd"]);
    assert_eq!(expand("{a\\,b,c\\}}"), ["a,b", "c}"]);
}

#[test]
fn cartesian_product_leftmost_slowest() {
    assert_eq!(
        expand("http://h/{a,b}/[1-2]/[x-y]"),
        [
            "http://h/a/1/x",
            "http://h/a/1/y",
            "http://h/a/2/x",
            "http://h/a/2/y",
            "http://h/b/1/x",
            "http://h/b/1/y",
            "http://h/b/2/x",
            "http://h/b/2/y",
        ]
    );
}

#[test]
fn escapes_and_ipv6() {
    assert_eq!(expand("a\\[1-2\\]b"), ["a[1-2]b"]);
    assert_eq!(expand("a\\{x\\}\\\\"), ["a{x}\\"]);
    assert_eq!(expand("C:\\dir"), ["C:\\dir"]);
    assert_eq!(expand("http://[::1]:8080/[1-2]"), ["http://[::1]:8080/1", "http://[::1]:8080/2"]);
    assert_eq!(expand("http://[fe80::1%25eth0]/"), ["http://[fe80::1%25eth0]/"]);
}

#[test]
fn errors_name_the_column() {
    let e = error("http://x/[1-2");
    assert_eq!(e.column, 10);
    assert!(e.message.contains("never closed"));
    assert!(e.to_string().contains("column 10"));
    assert_eq!(error("ab{c,d").column, 3);
    assert_eq!(error("ab}").column, 3);
    assert_eq!(error("a]").column, 2);
    assert!(error("[1-]").message.contains("end \"\""));
    assert!(error("[3-1]").message.contains("start is after end"));
    assert!(error("[c-a]").message.contains("start is after end"));
    assert!(error("[a-Z]").message.contains("same case"));
    assert!(error("[1-5:0]").message.contains("at least 1"));
    assert!(error("[1-5:x]").message.contains("step"));
    assert!(error("[abc]").message.contains("expected START-END"));
    assert!(error("[1-99999999999999999999]").message.contains("too large"));
    assert!(error("{a,{b}}").message.contains("nested"));
    assert!(error("{}").message.contains("empty"));
    assert_eq!(error("é[x").column, 2);
}

#[test]
fn huge_expansion_is_lazy() {
    let g = Glob::parse("http://h/[1-1000000]/[1-1000000]").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(g.count(), 1_000_000_000_000);
    let mut it = g.into_iter();
    assert_eq!(it.next().as_deref(), Some("http://h/1/1"));
    assert_eq!(it.nth(1_000_000 - 1).as_deref(), Some("http://h/2/1"));
    assert!(it.size_hint().0 > 0);
    let over = "[0-4294967295][0-4294967295][0-4294967295]";
    assert!(error(over).message.contains("more than 2^64"));
}

#[test]
fn exact_count_and_end() {
    let g = Glob::parse("[1-3]{a,b}").unwrap_or_else(|e| panic!("{e}"));
    let mut it = g.into_iter();
    assert_eq!(it.size_hint(), (6, Some(6)));
    assert_eq!(it.by_ref().count(), 6);
    assert_eq!(it.next(), None);
}
