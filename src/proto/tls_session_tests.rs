//! Adapter tests, sans-IO: the session once it is up (data both ways, resumption,
//! close_notify and truncation, zero-copy reads, backpressure, byte-at-a-time input).

// Tests may panic on their own fixtures; the lint guards untrusted data in library code.
#![allow(clippy::unwrap_used)]

use super::testutil::*;

#[test]
fn plaintext_queued_during_handshake_is_sent_after_it() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    let ctx = TlsContext::new(&trusting(&pki)).unwrap();
    let mut client = ctx.start("example.test").unwrap();
    assert!(client.is_handshaking());
    assert_eq!(client.write_plaintext(b"early").unwrap(), 5);
    let mut server = ServerConnection::new(server_config(&leaf, DEFAULT_VERSIONS, None)).unwrap();
    pump(&mut client, &mut server).client.unwrap();
    let mut req = [0u8; 16];
    let n = server.reader().read(&mut req).unwrap();
    assert_eq!(&req[..n], b"early");
}

#[test]
fn resumption_tls13_and_tls12() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    for versions in [&[&rustls::version::TLS13][..], &[&rustls::version::TLS12][..]] {
        let server_cfg = server_config(&leaf, versions, None);
        let ctx = TlsContext::new(&trusting(&pki)).unwrap();
        let (first, server, p) = connect_with(&ctx, "example.test", server_cfg.clone());
        p.client.unwrap();
        assert!(!first.was_resumed());
        assert_eq!(server.handshake_kind(), Some(HandshakeKind::Full));
        let (second, server, p) = connect_with(&ctx, "example.test", server_cfg.clone());
        p.client.unwrap();
        assert!(second.was_resumed(), "{:?}", second.protocol_version());
        assert_eq!(server.handshake_kind(), Some(HandshakeKind::Resumed));
        // Another context has its own cache: a full handshake again.
        let other = TlsContext::new(&trusting(&pki)).unwrap();
        let (third, _, p) = connect_with(&other, "example.test", server_cfg);
        p.client.unwrap();
        assert!(!third.was_resumed());
    }
}

#[test]
fn close_notify_is_a_clean_end() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    let (mut client, mut server, p) =
        connect(&trusting(&pki), "example.test", server_config(&leaf, DEFAULT_VERSIONS, None));
    p.client.unwrap();
    server.writer().write_all(b"last bytes").unwrap();
    server.send_close_notify();
    pump(&mut client, &mut server).client.unwrap();
    assert!(client.received_close_notify());
    assert!(!client.wants_read());
    let (got, end) = read_all_plaintext(&mut client);
    assert_eq!(got, b"last bytes");
    assert_eq!(end.unwrap(), 0);
    // read_tls after close_notify is Ok(0) without touching the transport.
    assert_eq!(client.read_tls(&mut &b"junk"[..]).unwrap(), 0);
    // Our own close_notify goes out for the server.
    client.send_close_notify();
    assert!(client.wants_write());
    pump(&mut client, &mut server).server.unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(server.reader().read(&mut buf).unwrap(), 0);
}

#[test]
fn eof_without_close_notify_is_detectable() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    let (mut client, mut server, p) =
        connect(&trusting(&pki), "example.test", server_config(&leaf, DEFAULT_VERSIONS, None));
    p.client.unwrap();
    server.writer().write_all(b"partial").unwrap();
    pump(&mut client, &mut server).client.unwrap();
    // Transport EOF: an empty reader.
    assert_eq!(client.read_tls(&mut io::empty()).unwrap(), 0);
    client.process().unwrap();
    assert!(!client.received_close_notify());
    let (got, end) = read_all_plaintext(&mut client);
    assert_eq!(got, b"partial");
    assert_eq!(end.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    let err = TlsSession::truncation_error();
    assert_eq!(err.kind(), ErrorKind::Tls(TlsFailure::Truncated));
    assert!(err.message().contains("close_notify"));
}

#[test]
fn zero_copy_plaintext_chunks() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    let (mut client, mut server, p) =
        connect(&trusting(&pki), "example.test", server_config(&leaf, DEFAULT_VERSIONS, None));
    p.client.unwrap();
    assert_eq!(client.plaintext_chunk().unwrap_err().kind(), io::ErrorKind::WouldBlock);
    let body: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
    let mut sent = 0;
    let mut got = Vec::new();
    // rustls holds ~16 KiB of plaintext before refusing more TLS input, so feed and
    // drain in turns like the reactor will.
    while got.len() < body.len() {
        if sent < body.len() {
            let end = body.len().min(sent + 10_000);
            sent += server.writer().write(&body[sent..end]).unwrap();
        }
        pump(&mut client, &mut server).client.unwrap();
        loop {
            let chunk = match client.plaintext_chunk() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            };
            assert!(!chunk.is_empty() && chunk.len() <= 16 * 1024);
            // Take part of a chunk to show consume's partial use works.
            let take = chunk.len().min(1000);
            got.extend_from_slice(&chunk[..take]);
            client.consume_plaintext(take);
        }
    }
    assert_eq!(got, body);
    server.send_close_notify();
    pump(&mut client, &mut server).client.unwrap();
    assert_eq!(client.plaintext_chunk().unwrap(), b"");
}

#[test]
fn undrained_plaintext_stops_reading() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    let (mut client, mut server, p) =
        connect(&trusting(&pki), "example.test", server_config(&leaf, DEFAULT_VERSIONS, None));
    p.client.unwrap();
    assert!(client.wants_read());
    server.writer().write_all(&[7u8; 40_000]).unwrap();
    let mut buf = Vec::new();
    while server.wants_write() {
        server.write_tls(&mut buf).unwrap();
    }
    let mut rd = &buf[..];
    let mut refused = false;
    while !rd.is_empty() {
        match client.read_tls(&mut rd) {
            Ok(_) => client.process().unwrap(),
            Err(e) => {
                assert_eq!(e.kind(), io::ErrorKind::Other);
                refused = true;
                break;
            }
        }
    }
    assert!(refused, "rustls applies backpressure");
    assert!(!client.wants_read());
}

#[test]
fn handshake_and_data_one_byte_at_a_time() {
    let pki = Pki::new("ca");
    let leaf = pki.server(&["example.test"], Validity::Now);
    let ctx = TlsContext::new(&trusting(&pki)).unwrap();
    let mut client = ctx.start("example.test").unwrap();
    let mut server = ServerConnection::new(server_config(&leaf, DEFAULT_VERSIONS, None)).unwrap();
    let mut got = Vec::new();
    let mut sent_response = false;
    for _ in 0..20 {
        let mut buf = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut buf).unwrap();
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            server.read_tls(&mut rd).unwrap();
            server.process_new_packets().unwrap();
        }
        if !server.is_handshaking() && !sent_response {
            server.writer().write_all(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
            server.send_close_notify();
            sent_response = true;
        }
        let mut buf = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut buf).unwrap();
        }
        for byte in buf.chunks(1) {
            assert_eq!(client.read_tls(&mut &byte[..]).unwrap(), 1);
            client.process().unwrap();
            let mut pt = [0u8; 64];
            match client.read_plaintext(&mut pt) {
                Ok(n) => got.extend_from_slice(&pt[..n]),
                Err(e) => assert_eq!(e.kind(), io::ErrorKind::WouldBlock),
            }
        }
        if client.received_close_notify() {
            break;
        }
    }
    assert!(client.received_close_notify());
    assert_eq!(got, b"HTTP/1.1 200 OK\r\n\r\n");
}

#[test]
fn eof_during_handshake() {
    let ctx = TlsContext::new(&TlsConfig::default()).unwrap();
    let mut client = ctx.start("example.test").unwrap();
    let mut hello = Vec::new();
    client.write_tls(&mut hello).unwrap();
    assert!(hello.len() > 100, "a ClientHello went out");
    assert_eq!(client.read_tls(&mut io::empty()).unwrap(), 0);
    client.process().unwrap();
    assert!(client.is_handshaking());
    let err = TlsSession::handshake_eof_error();
    assert_eq!(err.kind(), ErrorKind::Tls(TlsFailure::Protocol));
    assert!(format!("{client:?}").contains("example.test"));
}
