#![allow(clippy::unwrap_used)]
//! Many requests at once: every body byte for byte, connection limits respected as
//! the server sees them; and the blocking convenience API over the same machinery.

mod support;

use std::time::Duration;
use support::http::{drive_for, ok, response, test_config, Action, Server};
use volley::{Client, Config, ErrorKind, Request, RequestId};

/// The body for `/n/<i>`: distinct per path in length and content.
fn body_for(i: usize) -> Vec<u8> {
    let len = 500 + (i * 7919) % 20_000;
    let tag = format!("<{i}>");
    tag.bytes().cycle().take(len).collect()
}

fn numbered_server() -> Server {
    Server::start(|r| {
        let i: usize = r.path().rsplit('/').next().unwrap().parse().unwrap();
        Action::Reply(ok(body_for(i)))
    })
}

#[test]
fn a_thousand_requests_every_body_checked() {
    let server = numbered_server();
    let config = Config { max_connections: 64, max_per_origin: 64, ..test_config() };
    let mut client = Client::new(config).unwrap();
    let ids: Vec<(usize, RequestId)> = (0..1000)
        .map(|i| (i, client.submit(Request::get(&server.url(&format!("/n/{i}"))).unwrap()).unwrap()))
        .collect();
    assert_eq!(client.in_flight(), 1000);
    let outs = drive_for(&mut client, Duration::from_secs(60));
    assert_eq!(outs.len(), 1000);
    for (i, id) in ids {
        let o = &outs[&id];
        assert_eq!(o.status(), 200, "request {i}: {o:#?}");
        assert!(o.event_body == body_for(i), "body of /n/{i} differs");
        assert_eq!(o.stats().final_url, server.url(&format!("/n/{i}")));
    }
    assert_eq!(server.requests(), 1000);
    assert!(server.max_open() <= 64, "max simultaneous connections {}", server.max_open());
    assert!(server.connections() <= 64, "{} connections for one origin", server.connections());
    // Each request was sent exactly once, with the right target.
    let mut targets: Vec<String> = server.seen().into_iter().map(|s| s.target).collect();
    targets.sort();
    targets.dedup();
    assert_eq!(targets.len(), 1000);
    assert_eq!(client.in_flight(), 0);
}

#[test]
fn per_origin_limit_is_respected() {
    let server = Server::start(|r| Action::Trickle {
        pieces: vec![ok(r.path())],
        delay: Duration::from_millis(50),
        close: false,
    });
    let config = Config { max_per_origin: 4, ..test_config() };
    let mut client = Client::new(config).unwrap();
    let ids: Vec<_> = (0..20)
        .map(|i| client.submit(Request::get(&server.url(&format!("/{i}"))).unwrap()).unwrap())
        .collect();
    let outs = drive_for(&mut client, Duration::from_secs(20));
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(outs[id].body(), format!("/{i}").as_bytes());
    }
    assert_eq!(server.max_open(), 4, "at most (and, with 20 waiting, exactly) 4 at once");
}

#[test]
fn global_limit_is_respected_below_the_per_origin_limit() {
    let server = Server::start(|r| Action::Trickle {
        pieces: vec![ok(r.path())],
        delay: Duration::from_millis(50),
        close: false,
    });
    let config = Config { max_connections: 3, max_per_origin: 10, ..test_config() };
    let mut client = Client::new(config).unwrap();
    for i in 0..12 {
        client.submit(Request::get(&server.url(&format!("/{i}"))).unwrap()).unwrap();
    }
    let outs = drive_for(&mut client, Duration::from_secs(20));
    assert!(outs.values().all(|o| o.done.is_some()));
    assert!(server.max_open() <= 3, "{}", server.max_open());
}

#[test]
fn two_origins_share_the_global_limit_and_both_finish() {
    let a = numbered_server();
    let b = numbered_server();
    let config = Config { max_connections: 4, max_per_origin: 4, ..test_config() };
    let mut client = Client::new(config).unwrap();
    let mut ids = Vec::new();
    for i in 0..100 {
        let server = if i % 2 == 0 { &a } else { &b };
        ids.push((i, client.submit(Request::get(&server.url(&format!("/n/{i}"))).unwrap()).unwrap()));
    }
    let outs = drive_for(&mut client, Duration::from_secs(30));
    for (i, id) in ids {
        assert!(outs[&id].event_body == body_for(i), "body {i}");
    }
    assert!(a.max_open() + b.max_open() <= 8);
    assert_eq!(a.requests() + b.requests(), 100);
}

#[test]
fn blocking_get() {
    let server = Server::always(response(200, &[("X-Test", "yes")], "blocking body"));
    let r = volley::get(&server.url("/b")).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"blocking body");
    assert_eq!(r.headers.get("x-test"), Some("yes"));
    assert_eq!(r.url, server.url("/b"));
    assert_eq!(r.stats.body_bytes, 13);
    assert_eq!(
        server.only().head_str(),
        format!("GET /b HTTP/1.1\r\nHost: {}\r\nUser-Agent: volley/0.1.0\r\n\r\n", server.host())
    );
}

#[test]
fn blocking_get_follows_redirects_and_reports_errors() {
    let server = Server::start(|r| match r.path() {
        "/r" => Action::Reply(support::http::redirect(302, "/final")),
        "/final" => Action::Reply(ok("landed")),
        _ => Action::head_then_close(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\ncut".to_vec()),
    });
    let r = volley::get(&server.url("/r")).unwrap();
    assert_eq!(r.body, b"landed");
    assert_eq!(r.url, server.url("/final"));
    assert_eq!(r.stats.redirects, 1);
    let e = volley::get(&server.url("/broken")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol);
    assert!(e.to_string().contains("/broken"), "{e}");
}

#[test]
fn fetch_all_returns_results_in_order() {
    let server = numbered_server();
    let broken = Server::start(|_| Action::Close);
    let mut requests: Vec<Request> =
        (0..30).map(|i| Request::get(&server.url(&format!("/n/{i}"))).unwrap()).collect();
    requests.insert(7, Request::get(&broken.url("/x")).unwrap());
    let results = volley::fetch_all(Config { max_per_origin: 8, ..test_config() }, requests).unwrap();
    assert_eq!(results.len(), 31);
    for (k, r) in results.iter().enumerate() {
        if k == 7 {
            assert!(r.is_err(), "{r:?}");
            continue;
        }
        let i = if k < 7 { k } else { k - 1 };
        let r = r.as_ref().unwrap();
        assert_eq!(r.status, 200);
        assert!(r.body == body_for(i), "result {k} has the wrong body");
        assert_eq!(r.url, server.url(&format!("/n/{i}")));
    }
}

#[test]
fn one_connection_cap_moves_between_origins() {
    // With max_connections 1, the idle connection to a must be closed so b can be
    // reached; nothing may wait forever.
    let a = numbered_server();
    let b = numbered_server();
    let mut client = Client::new(Config { max_connections: 1, ..test_config() }).unwrap();
    let r1 = client.submit(Request::get(&a.url("/n/1")).unwrap()).unwrap();
    let mut outs = drive_for(&mut client, Duration::from_secs(10));
    let r2 = client.submit(Request::get(&b.url("/n/2")).unwrap()).unwrap();
    let r3 = client.submit(Request::get(&a.url("/n/3")).unwrap()).unwrap();
    outs.extend(drive_for(&mut client, Duration::from_secs(10)));
    assert!(outs[&r1].event_body == body_for(1));
    assert!(outs[&r2].event_body == body_for(2), "{:#?}", outs[&r2]);
    assert!(outs[&r3].event_body == body_for(3), "{:#?}", outs[&r3]);
    assert!(a.max_open() <= 1 && b.max_open() <= 1);
}

#[test]
fn cross_origin_redirects_under_a_one_connection_cap() {
    let b = numbered_server();
    let to = b.url("/n/9");
    let a = Server::start(move |_| Action::Reply(support::http::redirect(302, &to)));
    let mut client = Client::new(Config { max_connections: 1, ..test_config() }).unwrap();
    let ids: Vec<_> =
        (0..3).map(|i| client.submit(Request::get(&a.url(&format!("/{i}"))).unwrap()).unwrap()).collect();
    let outs = drive_for(&mut client, Duration::from_secs(10));
    for id in ids {
        assert!(outs[&id].event_body == body_for(9), "{:#?}", outs[&id]);
    }
}

#[test]
fn churn_with_connection_close_on_every_response() {
    let server = Server::start(|r| {
        let i: usize = r.path().rsplit('/').next().unwrap().parse().unwrap();
        Action::ReplyClose(response(200, &[("Connection", "close")], body_for(i)))
    });
    let mut client = Client::new(Config { max_per_origin: 16, ..test_config() }).unwrap();
    let ids: Vec<(usize, RequestId)> = (0..300)
        .map(|i| (i, client.submit(Request::get(&server.url(&format!("/n/{i}"))).unwrap()).unwrap()))
        .collect();
    let outs = drive_for(&mut client, Duration::from_secs(60));
    for (i, id) in ids {
        assert!(outs[&id].event_body == body_for(i), "body {i}: {:#?}", outs[&id].failed);
        assert!(!outs[&id].stats().reused);
    }
    assert_eq!(server.connections(), 300);
}

#[test]
fn mixed_failures_under_load_leave_the_rest_exact() {
    let server = Server::start(|r| {
        let i: usize = r.path().rsplit('/').next().unwrap().parse().unwrap();
        if i % 7 == 3 {
            Action::head_then_close(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort".to_vec())
        } else if i % 11 == 5 {
            Action::Hang(Duration::from_secs(3))
        } else if i % 13 == 6 {
            Action::Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx".to_vec())
        } else {
            Action::Reply(ok(body_for(i)))
        }
    });
    let config = Config { max_per_origin: 32, head_timeout: Duration::from_millis(300), ..test_config() };
    let mut client = Client::new(config).unwrap();
    let ids: Vec<(usize, RequestId)> = (0..200)
        .map(|i| (i, client.submit(Request::get(&server.url(&format!("/n/{i}"))).unwrap()).unwrap()))
        .collect();
    let outs = drive_for(&mut client, Duration::from_secs(30));
    for (i, id) in ids {
        let o = &outs[&id];
        let want = if i % 7 == 3 {
            Some(ErrorKind::Protocol)
        } else if i % 11 == 5 {
            Some(ErrorKind::Timeout(volley::Phase::Head))
        } else if i % 13 == 6 {
            Some(ErrorKind::Protocol)
        } else {
            None
        };
        match want {
            Some(kind) => assert_eq!(o.error().kind(), kind, "request {i}: {}", o.error()),
            None => assert!(o.event_body == body_for(i), "body {i}: {:#?}", o.failed),
        }
    }
}

#[test]
fn fetch_all_reports_an_invalid_request_in_its_place() {
    let server = numbered_server();
    let requests = vec![
        Request::get(&server.url("/n/0")).unwrap(),
        Request::get(&server.url("/n/1")).unwrap().header("Bad\nName", "v"),
        Request::get(&server.url("/n/2")).unwrap(),
    ];
    let results = volley::fetch_all(test_config(), requests).unwrap();
    assert!(results[0].as_ref().unwrap().body == body_for(0));
    assert_eq!(results[1].as_ref().unwrap_err().kind(), ErrorKind::InvalidRequest);
    assert!(results[2].as_ref().unwrap().body == body_for(2));
    assert_eq!(server.requests(), 2);
}

#[test]
fn many_origins_under_a_small_global_cap() {
    let servers: Vec<Server> = (0..30).map(|_| numbered_server()).collect();
    let mut client = Client::new(Config { max_connections: 4, ..test_config() }).unwrap();
    let mut ids = Vec::new();
    for round in 0..3 {
        for (s, server) in servers.iter().enumerate() {
            let i = round * 100 + s;
            ids.push((i, client.submit(Request::get(&server.url(&format!("/n/{i}"))).unwrap()).unwrap()));
        }
    }
    let outs = drive_for(&mut client, Duration::from_secs(30));
    for (i, id) in ids {
        assert!(outs[&id].event_body == body_for(i), "body {i}: {:#?}", outs[&id].failed);
    }
    assert!(servers.iter().all(|s| s.requests() == 3));
}

#[test]
fn cancelling_everything_in_flight_and_queued() {
    let server = Server::start(|_| Action::Hang(Duration::from_secs(3)));
    let mut client = Client::new(Config { max_per_origin: 16, ..test_config() }).unwrap();
    let ids: Vec<RequestId> = (0..300)
        .map(|i| client.submit(Request::get(&server.url(&format!("/{i}"))).unwrap()).unwrap())
        .collect();
    let start = std::time::Instant::now();
    while server.requests() < 16 && start.elapsed() < Duration::from_secs(5) {
        client.turn(Some(Duration::from_millis(10)), |_, e| panic!("early {e:?}")).unwrap();
    }
    for id in &ids {
        client.cancel(*id);
    }
    let outs = drive_for(&mut client, Duration::from_secs(5));
    assert_eq!(outs.len(), 300);
    assert!(outs.values().all(|o| o.error().kind() == ErrorKind::Cancelled));
    assert_eq!(client.in_flight(), 0);
    assert_eq!(server.requests(), 16, "queued requests were never sent");
}
