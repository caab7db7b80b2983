#![allow(clippy::unwrap_used)]
//! Redirects (RFC 9110 §15.4): chains, loops, relative references, credentials across
//! origins, method rewriting and the body on 303/307/308.

mod support;

use std::io::Cursor;
use support::http::{fetch, fetch_with, ok, redirect, response, test_config, Action, Server};
use volley::{ErrorKind, Method, Request, RequestOptions};

#[test]
fn chain_of_three_reports_final_url() {
    let server = Server::start(|r| {
        Action::Reply(match r.path() {
            "/r1" => redirect(302, "/r2"),
            "/r2" => response(301, &[("Location", "/r3")], "moved body is discarded"),
            "/r3" => redirect(307, "/final?x=1"),
            "/final" => ok("done"),
            _ => response(404, &[], ""),
        })
    });
    let out = fetch(Request::get(&server.url("/r1")).unwrap());
    assert_eq!(out.status(), 200);
    assert_eq!(out.body(), b"done");
    let stats = out.stats();
    assert_eq!(stats.final_url, server.url("/final?x=1"));
    assert_eq!(stats.redirects, 3);
    assert_eq!(stats.status, 200);
    assert_eq!(out.head.as_ref().unwrap().url.as_str(), server.url("/final?x=1"));
    let want: Vec<(u16, String)> =
        vec![(302, server.url("/r2")), (301, server.url("/r3")), (307, server.url("/final?x=1"))];
    assert_eq!(out.redirects, want);
    let targets: Vec<String> = server.seen().iter().map(|s| s.target.clone()).collect();
    assert_eq!(targets, ["/r1", "/r2", "/r3", "/final?x=1"]);
    assert_eq!(server.connections(), 1, "redirect bodies are drained and the connection reused");
}

#[test]
fn redirect_loop_is_too_many_redirects() {
    let server = Server::always(redirect(302, "/loop"));
    let req = Request::get(&server.url("/loop"))
        .unwrap()
        .options(RequestOptions { max_redirects: Some(5), ..Default::default() });
    let out = fetch(req);
    let e = out.error();
    assert_eq!(e.kind(), ErrorKind::TooManyRedirects, "{e}");
    assert!(e.to_string().contains("/loop"), "{e}");
    assert!(out.head.is_none(), "no final head for a failed redirect chain");
    assert_eq!(server.requests(), 6, "the first request and five followed redirects");
}

#[test]
fn relative_location_is_resolved_against_the_current_url() {
    let server = Server::start(|r| {
        Action::Reply(match r.path() {
            "/a/b/c" => redirect(302, "../x"),
            "/x" | "/a/x" => ok(r.path()),
            _ => response(404, &[], ""),
        })
    });
    let out = fetch(Request::get(&server.url("/a/b/c")).unwrap());
    assert_eq!(out.body(), b"/a/x");
    assert_eq!(server.seen()[1].target, "/a/x");
    assert_eq!(out.stats().final_url, server.url("/a/x"));
}

#[test]
fn query_only_and_absolute_path_locations() {
    let server = Server::start(|r| {
        Action::Reply(match r.target.as_str() {
            "/p/q" => redirect(302, "?page=2"),
            "/p/q?page=2" => redirect(302, "/abs"),
            "/abs" => ok("abs"),
            _ => response(404, &[], ""),
        })
    });
    let out = fetch(Request::get(&server.url("/p/q")).unwrap());
    assert_eq!(out.body(), b"abs");
    let targets: Vec<String> = server.seen().iter().map(|s| s.target.clone()).collect();
    assert_eq!(targets, ["/p/q", "/p/q?page=2", "/abs"]);
}

#[test]
fn cross_origin_redirect_drops_credentials_keeps_other_headers() {
    let b = Server::always(ok("at b"));
    let to = b.url("/landing");
    let a = Server::start(move |_| Action::Reply(redirect(302, &to)));
    let req = Request::get(&a.url("/start"))
        .unwrap()
        .header("Authorization", "Bearer secret")
        .header("Cookie", "session=1")
        .header("X-Keep", "kept")
        .header("Accept", "text/plain");
    let out = fetch(req);
    assert_eq!(out.body(), b"at b");
    let first = a.only();
    assert_eq!(first.header("authorization"), Some("Bearer secret"));
    assert_eq!(first.header("cookie"), Some("session=1"));
    let second = b.only();
    assert_eq!(
        second.head_str(),
        format!(
            "GET /landing HTTP/1.1\r\nHost: {}\r\nUser-Agent: volley/0.1.0\r\nX-Keep: kept\r\nAccept: text/plain\r\n\r\n",
            b.host()
        )
    );
}

#[test]
fn same_origin_redirect_keeps_credentials() {
    let server =
        Server::start(|r| Action::Reply(if r.path() == "/a" { redirect(302, "/b") } else { ok("b") }));
    let req = Request::get(&server.url("/a"))
        .unwrap()
        .header("Authorization", "Basic eDp5")
        .header("Cookie", "c=1");
    fetch(req);
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].header("authorization"), Some("Basic eDp5"));
    assert_eq!(seen[1].header("cookie"), Some("c=1"));
}

#[test]
fn see_other_after_post_becomes_get_without_body() {
    let server = Server::start(|r| {
        Action::Reply(if r.path() == "/form" { redirect(303, "/after") } else { ok(r.method.clone()) })
    });
    let req = Request::post(&server.url("/form"), "a=1&b=2")
        .unwrap()
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Keep", "1");
    let out = fetch(req);
    assert_eq!(out.body(), b"GET");
    let seen = server.seen();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].body, b"a=1&b=2");
    assert_eq!(seen[0].header("content-length"), Some("7"));
    assert_eq!(
        seen[1].head_str(),
        format!(
            "GET /after HTTP/1.1\r\nHost: {}\r\nUser-Agent: volley/0.1.0\r\nX-Keep: 1\r\n\r\n",
            server.host()
        )
    );
    assert!(seen[1].raw_body.is_empty());
}

#[test]
fn found_after_post_becomes_get() {
    let server = Server::start(|r| {
        Action::Reply(if r.path() == "/form" { redirect(302, "/after") } else { ok(r.method.clone()) })
    });
    let out = fetch(Request::post(&server.url("/form"), "x").unwrap());
    assert_eq!(out.body(), b"GET");
    assert!(!server.seen()[1].has_header("content-length"));
}

fn keeps_method_and_body(status: u16) {
    let server = Server::start(move |r| {
        Action::Reply(if r.path() == "/in" { redirect(status, "/out") } else { ok(r.method.clone()) })
    });
    let req =
        Request::post(&server.url("/in"), &b"exact body \x00\xff"[..]).unwrap().header("Content-Type", "x/y");
    let out = fetch(req);
    assert_eq!(out.body(), b"POST");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    for s in &seen {
        assert_eq!(s.method, "POST");
        assert_eq!(s.body, b"exact body \x00\xff");
        assert_eq!(s.header("content-length"), Some("13"));
        assert_eq!(s.header("content-type"), Some("x/y"));
    }
}

#[test]
fn temporary_redirect_keeps_post_and_body() {
    keeps_method_and_body(307);
}

#[test]
fn permanent_redirect_keeps_post_and_body() {
    keeps_method_and_body(308);
}

#[test]
fn temporary_redirect_replays_a_file_body() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("up.bin");
    std::fs::write(&path, b"file body").unwrap();
    let server = Server::start(|r| {
        Action::Reply(if r.path() == "/in" { redirect(307, "/out") } else { ok(r.body.clone()) })
    });
    let out = fetch(Request::new(Method::Put, &server.url("/in")).unwrap().body_file(&path));
    assert_eq!(out.body(), b"file body");
    assert_eq!(server.seen()[1].body, b"file body");
}

#[test]
fn temporary_redirect_of_one_shot_reader_fails_cleanly() {
    let server = Server::always(redirect(307, "/out"));
    let req = Request::new(Method::Post, &server.url("/in"))
        .unwrap()
        .body_reader(Cursor::new(b"once".to_vec()), Some(4));
    let out = fetch(req);
    assert_eq!(out.error().kind(), ErrorKind::Redirect, "{:?}", out.error());
    assert_eq!(server.requests(), 1);
}

#[test]
fn max_redirects_zero_returns_the_redirect_itself() {
    let server = Server::always(response(302, &[("Location", "/elsewhere")], "see elsewhere"));
    let req = Request::get(&server.url("/r"))
        .unwrap()
        .options(RequestOptions { max_redirects: Some(0), ..Default::default() });
    let out = fetch(req);
    assert_eq!(out.status(), 302);
    assert_eq!(out.head.as_ref().unwrap().headers.get("location"), Some("/elsewhere"));
    assert_eq!(out.body(), b"see elsewhere");
    assert!(out.redirects.is_empty());
    assert_eq!(out.stats().redirects, 0);
    assert_eq!(server.requests(), 1);
}

#[test]
fn config_max_redirects_zero_returns_the_redirect_itself() {
    let server = Server::always(redirect(301, "/elsewhere"));
    let out = fetch_with(
        volley::Config { max_redirects: 0, ..test_config() },
        Request::get(&server.url("/r")).unwrap(),
    );
    assert_eq!(out.status(), 301);
    assert_eq!(server.requests(), 1);
}

#[test]
fn redirect_without_location_is_the_final_response() {
    let server = Server::always(response(302, &[], "no location"));
    let out = fetch(Request::get(&server.url("/r")).unwrap());
    assert_eq!(out.status(), 302);
    assert_eq!(out.body(), b"no location");
}

#[test]
fn redirect_to_unsupported_scheme_fails() {
    let server = Server::always(redirect(302, "ftp://127.0.0.1/file"));
    let out = fetch(Request::get(&server.url("/r")).unwrap());
    assert_eq!(out.error().kind(), ErrorKind::Redirect);
    assert!(out.error().to_string().contains(&server.url("/r")), "{}", out.error());
}

#[test]
fn chunked_redirect_body_is_drained_before_following() {
    let server = Server::start(|r| {
        Action::Reply(if r.path() == "/r" {
            b"HTTP/1.1 302 Found\r\nLocation: /f\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nskip\r\n0\r\n\r\n"
                .to_vec()
        } else {
            ok("final")
        })
    });
    let out = fetch(Request::get(&server.url("/r")).unwrap());
    assert_eq!(out.body(), b"final");
    assert_eq!(out.body_events, 1);
    assert_eq!(server.connections(), 1);
}

#[test]
fn head_redirected_by_303_stays_head() {
    let server = Server::start(|r| {
        Action::Reply(if r.path() == "/r" { redirect(303, "/f") } else { response(200, &[], "") })
    });
    let out = fetch(Request::head(&server.url("/r")).unwrap());
    assert_eq!(out.status(), 200);
    assert_eq!(server.seen()[1].method, "HEAD");
}

#[test]
fn redirect_limit_boundary() {
    // /c3 -> /c2 -> /c1 -> /c0 (200): three redirects.
    let server = Server::start(|r| {
        let n: u32 = r.path()[2..].parse().unwrap();
        Action::Reply(if n == 0 { ok("end") } else { redirect(302, &format!("/c{}", n - 1)) })
    });
    let opts = |m| RequestOptions { max_redirects: Some(m), ..Default::default() };
    let out = fetch(Request::get(&server.url("/c3")).unwrap().options(opts(3)));
    assert_eq!(out.body(), b"end");
    assert_eq!(out.stats().redirects, 3);
    let out = fetch(Request::get(&server.url("/c3")).unwrap().options(opts(2)));
    assert_eq!(out.error().kind(), ErrorKind::TooManyRedirects);
}

#[test]
fn credentials_dropped_once_stay_dropped_when_coming_back() {
    // a/start -> b/hop -> a/home: once the credentials left with the cross-origin hop,
    // they are not sent to a again.
    let a_home = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let target = a_home.clone();
    let b = Server::start(move |_| Action::Reply(redirect(302, target.get().unwrap())));
    let b_hop = b.url("/hop");
    let a = Server::start(move |r| {
        Action::Reply(if r.path() == "/start" { redirect(302, &b_hop) } else { ok("home") })
    });
    a_home.set(a.url("/home")).unwrap();
    let req = Request::get(&a.url("/start"))
        .unwrap()
        .header("Authorization", "Bearer t")
        .header("Proxy-Authorization", "p")
        .header("X-Keep", "k");
    let out = fetch(req);
    assert_eq!(out.body(), b"home");
    assert_eq!(out.stats().redirects, 2);
    let seen = a.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].header("authorization"), Some("Bearer t"));
    assert!(!seen[1].has_header("authorization"), "{}", seen[1].head_str());
    assert!(!seen[1].has_header("proxy-authorization"));
    assert_eq!(seen[1].header("x-keep"), Some("k"));
    assert!(!b.only().has_header("authorization"));
}

#[test]
fn fragment_is_inherited_but_never_sent() {
    let server =
        Server::start(|r| Action::Reply(if r.path() == "/a" { redirect(302, "/b") } else { ok("b") }));
    let out = fetch(Request::get(&server.url("/a#sec")).unwrap());
    assert_eq!(out.body(), b"b");
    let targets: Vec<String> = server.seen().iter().map(|s| s.target.clone()).collect();
    assert_eq!(targets, ["/a", "/b"]);
    assert_eq!(out.stats().final_url, server.url("/b#sec"));
}
