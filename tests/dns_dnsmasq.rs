//! Interop with a real dnsmasq on 127.0.0.1: the client's queries, answers and error
//! mapping against a server it was not written alongside. Skips (passing) when dnsmasq
//! is not installed. dnsmasq is told to read no config, resolv.conf or hosts file and to
//! forward nothing, so every answer is local.

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::dns::*;
use volley::{DnsFailure, ErrorKind};

fn find_dnsmasq() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join("dnsmasq"))
        .find(|p| p.is_file())
}

/// 60 addresses for big.other.test: 127.0.0.1, then 127.0.1.x where nothing listens;
/// an answer of about 1 KB, past the 512 bytes of plain UDP.
fn big() -> Vec<String> {
    std::iter::once("127.0.0.1".to_string()).chain((1..60).map(|i| format!("127.0.1.{i}"))).collect()
}

/// A dnsmasq child, killed (by its PID) and reaped on drop.
struct Dnsmasq {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("addr").port()
}

/// A standard query for `name` (type A) with ID 0x4242.
fn query(name: &str) -> Vec<u8> {
    let mut q = vec![0x42, 0x42, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

/// Whether a server at `addr` answers a query for `name` within `wait`.
fn answers(addr: SocketAddr, name: &str, wait: Duration) -> bool {
    let Ok(s) = UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    let _ = s.set_read_timeout(Some(wait));
    if s.send_to(&query(name), addr).is_err() {
        return false;
    }
    let mut buf = [0u8; 512];
    matches!(s.recv_from(&mut buf), Ok((n, _)) if n >= 12 && buf[..2] == [0x42, 0x42])
}

/// Starts dnsmasq on a free port; `None` (after printing SKIPPED) if it is not installed.
fn start() -> Option<Dnsmasq> {
    let Some(bin) = find_dnsmasq() else {
        eprintln!("SKIPPED: dnsmasq not installed");
        return None;
    };
    for _ in 0..5 {
        let port = free_port();
        let child = Command::new(&bin)
            .args([
                "--no-daemon",
                "--conf-file=/dev/null",
                "--pid-file=",
                &format!("--port={port}"),
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--no-resolv",
                "--no-hosts",
                "--no-negcache",
                "--address=/volley.test/127.0.0.1",
                "--host-record=a.volley.test,127.0.0.1",
                // Names under local.test are answered only from local data: NXDOMAIN.
                "--local=/local.test/",
                "--local=/other.test/",
                "--host-record=six.other.test,::1",
                "--cname=alias.other.test,a.volley.test",
            ])
            .args(big().iter().map(|ip| format!("--host-record=big.other.test,{ip}")))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn dnsmasq");
        let mut d = Dnsmasq { child, addr: SocketAddr::from(([127, 0, 0, 1], port)) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = d.child.try_wait() {
                // Most likely the port was taken in between: try another one.
                eprintln!("dnsmasq exited early ({status}); retrying");
                break;
            }
            if answers(d.addr, "a.volley.test", Duration::from_millis(100)) {
                return Some(d);
            }
        }
    }
    panic!("dnsmasq did not start answering");
}

#[test]
fn fetch_by_name_through_dnsmasq() {
    let Some(dnsmasq) = start() else { return };
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (stats, body) =
        fetch(files.config(&[dnsmasq.addr]), &format!("http://a.volley.test:{}/", http.port)).expect("fetch");
    assert_eq!(body, BODY);
    assert!(stats.dns > Duration::ZERO);
    assert_eq!(http.hosts(), vec![format!("a.volley.test:{}", http.port)]);
}

#[test]
fn many_wildcard_names_through_dnsmasq() {
    let Some(dnsmasq) = start() else { return };
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let urls: Vec<String> = (0..50).map(|i| format!("http://n{i}.volley.test:{}/", http.port)).collect();
    for r in fetch_all(files.config(&[dnsmasq.addr]), &urls) {
        assert_eq!(r.expect("fetch").1, BODY);
    }
    assert_eq!(http.hosts().len(), 50);
}

#[test]
fn nxdomain_from_dnsmasq() {
    let Some(dnsmasq) = start() else { return };
    let files = DnsFiles::new(RESOLV_CONF, "");
    let err = fetch(files.config(&[dnsmasq.addr]), "http://missing.local.test:9/").expect_err("no such name");
    assert_eq!(err.kind(), ErrorKind::Dns(DnsFailure::NxDomain), "{err}");
    assert!(err.message().contains("missing.local.test"), "{err}");
}

#[test]
fn search_domain_through_dnsmasq() {
    let Some(dnsmasq) = start() else { return };
    let http = HttpServer::start();
    let files =
        DnsFiles::new("nameserver 127.0.0.1\nsearch volley.test\noptions ndots:1 timeout:1 attempts:1\n", "");
    let (_, body) = fetch(files.config(&[dnsmasq.addr]), &format!("http://a:{}/", http.port)).expect("fetch");
    assert_eq!(body, BODY);
}

#[test]
fn large_answer_from_dnsmasq() {
    let Some(dnsmasq) = start() else { return };
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (_, body) = fetch(files.config(&[dnsmasq.addr]), &format!("http://big.other.test:{}/", http.port))
        .expect("fetch");
    assert_eq!(body, BODY);
}

#[test]
fn cname_from_dnsmasq() {
    let Some(dnsmasq) = start() else { return };
    let http = HttpServer::start();
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (_, body) = fetch(files.config(&[dnsmasq.addr]), &format!("http://alias.other.test:{}/", http.port))
        .expect("fetch");
    assert_eq!(body, BODY);
    assert_eq!(http.hosts(), vec![format!("alias.other.test:{}", http.port)]);
}

#[test]
fn aaaa_from_dnsmasq() {
    let Some(dnsmasq) = start() else { return };
    let Ok(v6) = std::net::TcpListener::bind("[::1]:0") else {
        eprintln!("SKIPPED: no IPv6 loopback");
        return;
    };
    let http = HttpServer::on(v6);
    let files = DnsFiles::new(RESOLV_CONF, "");
    let (_, body) = fetch(files.config(&[dnsmasq.addr]), &format!("http://six.other.test:{}/", http.port))
        .expect("fetch");
    assert_eq!(body, BODY);
}
