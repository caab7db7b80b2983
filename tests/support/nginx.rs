//! A real nginx for interop tests: a private prefix in a temp dir (config, PEMs, logs,
//! temp paths, document root), certificates from a [`TestPki`], ports picked on
//! 127.0.0.1, and a Drop guard that kills the child by its PID.
//!
//! ```ignore
//! let Some(bin) = nginx::binary_or_skip() else { return };
//! let nginx = Nginx::start(&bin, &[("a.txt", b"hello".to_vec())]);
//! let url = nginx.url(Port::Https, "/a.txt");
//! ```
//!
//! Listeners (one `server` block each, all with the same document root):
//! - `Https` (TLS 1.2 + 1.3) and `Http` (plain) share a server; under `/chunked/` SSI
//!   is on, so nginx drops Content-Length and sends chunked; under `/close/` SSI with
//!   chunked encoding off, so the body is close-delimited (ended by close_notify).
//! - `Tls12`: `ssl_protocols TLSv1.2` only.
//! - `Close`: `keepalive_timeout 0` (every response closes; for resumption tests).
//! - `Mtls`: `ssl_verify_client on` with the test CA.
//! - `Limit`: `keepalive_requests 3`.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::tls::TestPki;

/// Which listener of the test nginx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// TLS 1.2 and 1.3, keep-alive.
    Https,
    /// Plain HTTP, same server as `Https`.
    Http,
    /// TLS 1.2 only.
    Tls12,
    /// TLS; every response closes the connection.
    Close,
    /// TLS; a client certificate from the test CA is requested and verified.
    Mtls,
    /// TLS; `keepalive_requests 3` (nginx closes after every third request).
    Limit,
}

const PORTS: [Port; 6] = [Port::Https, Port::Http, Port::Tls12, Port::Close, Port::Mtls, Port::Limit];

/// The nginx binary, if installed: `$VOLLEY_NGINX` when set (a path; anything that is
/// not a file means "no nginx"), else `nginx` on PATH, else /usr/sbin/nginx.
pub fn binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("VOLLEY_NGINX") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).map(|d| d.join("nginx")).collect::<Vec<_>>());
    on_path.chain([PathBuf::from("/usr/sbin/nginx")]).find(|p| p.is_file())
}

/// [`binary`], or print a visible SKIPPED line (the caller then returns and passes).
pub fn binary_or_skip() -> Option<PathBuf> {
    let bin = binary();
    if bin.is_none() {
        eprintln!("SKIPPED: nginx not installed");
    }
    bin
}

/// One access-log line (see `LOG_FORMAT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The listener's port.
    pub port: u16,
    /// nginx's connection serial number (`$connection`).
    pub connection: u64,
    /// The request's position on its connection, from 1 (`$connection_requests`).
    pub connection_requests: u64,
    /// `$ssl_session_reused`: true when the TLS session was resumed.
    pub session_reused: bool,
    /// `$ssl_protocol` (`TLSv1.3`, `-` for plain HTTP).
    pub protocol: String,
    /// `$request_uri` as sent.
    pub uri: String,
    /// Response status.
    pub status: u16,
    /// `$ssl_client_verify` (`SUCCESS`, `NONE`, `-`).
    pub client_verify: String,
}

const LOG_FORMAT: &str = "$server_port $connection $connection_requests $ssl_session_reused \
                          $ssl_protocol $request_uri $status $ssl_client_verify";

/// A running nginx; killed (by PID) and reaped on drop.
pub struct Nginx {
    /// The CA whose certificate nginx presents (for 127.0.0.1 and localhost).
    pub pki: TestPki,
    /// The prefix directory (config, PEMs, logs).
    pub dir: tempfile::TempDir,
    /// The document root (`dir/www`).
    pub root: PathBuf,
    ports: Vec<(Port, u16)>,
    child: Child,
}

impl Nginx {
    /// Write `files` (relative paths, directories created) under the document root and
    /// start nginx; panics with the error log if it does not listen within 5 s.
    pub fn start(bin: &Path, files: &[(&str, Vec<u8>)]) -> Nginx {
        let mut last_error = String::new();
        // Ports are picked by binding and releasing; another process may take one in
        // between, so a failed start is retried with fresh ports.
        for _ in 0..3 {
            match Nginx::try_start(bin, files) {
                Ok(n) => return n,
                Err(e) => last_error = e,
            }
        }
        panic!("nginx did not start: {last_error}");
    }

    fn try_start(bin: &Path, files: &[(&str, Vec<u8>)]) -> Result<Nginx, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let root = dir.path().join("www");
        for (rel, data) in files {
            let path = root.join(rel);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(&path, data).expect("write file");
        }
        fs::create_dir_all(&root).expect("mkdir www");
        fs::create_dir_all(dir.path().join("tmp")).expect("mkdir tmp");
        let pki = TestPki::new();
        let ca = pki.write_ca(dir.path());
        pki.server_cert(&["localhost", "127.0.0.1"]).write_to(dir.path(), "server");
        pki.client_cert().write_to(dir.path(), "client");
        let ports = pick_ports(PORTS.len());
        let ports: Vec<(Port, u16)> = PORTS.iter().copied().zip(ports).collect();
        let conf = dir.path().join("nginx.conf");
        fs::write(&conf, config_text(bin, dir.path(), &ca, &ports)).expect("write conf");
        let stderr = fs::File::create(dir.path().join("stderr.log")).expect("stderr log");
        let mut child = Command::new(bin)
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let log = read_logs(dir.path());
                return Err(format!("nginx exited with {status}:\n{log}"));
            }
            let all_up = ports.iter().all(|(_, p)| TcpStream::connect(("127.0.0.1", *p)).is_ok());
            if all_up {
                break;
            }
            if started.elapsed() > Duration::from_secs(5) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("not listening after 5 s:\n{}", read_logs(dir.path())));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Nginx { pki, dir, root, ports, child })
    }

    /// The port of listener `which`.
    pub fn port(&self, which: Port) -> u16 {
        self.ports.iter().find(|(p, _)| *p == which).map(|(_, n)| *n).expect("port")
    }

    /// `https://localhost:PORT/path` (or `http://127.0.0.1:PORT/path` for `Http`).
    pub fn url(&self, which: Port, path: &str) -> String {
        match which {
            Port::Http => format!("http://127.0.0.1:{}{path}", self.port(which)),
            _ => format!("https://localhost:{}{path}", self.port(which)),
        }
    }

    /// A client TLS configuration trusting only the test CA, read from its PEM file.
    pub fn tls_config(&self) -> volley::TlsConfig {
        volley::TlsConfig {
            extra_roots_pem: vec![self.dir.path().join("ca.pem")],
            only_extra_roots: true,
            ..volley::TlsConfig::default()
        }
    }

    /// The client certificate and key nginx's `Mtls` listener accepts.
    pub fn client_cert(&self) -> (PathBuf, PathBuf) {
        (self.dir.path().join("client.pem"), self.dir.path().join("client.key"))
    }

    /// The access log so far. Waits (up to 2 s) until it has `at_least` lines, since
    /// nginx logs a request just after sending its last byte.
    pub fn log(&self, at_least: usize) -> Vec<LogLine> {
        let started = Instant::now();
        loop {
            let text = fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
            let lines: Vec<LogLine> = text.lines().filter_map(parse_log_line).collect();
            if lines.len() >= at_least || started.elapsed() > Duration::from_secs(2) {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// nginx's error log and stderr, for failure messages.
    pub fn error_log(&self) -> String {
        read_logs(self.dir.path())
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse_log_line(line: &str) -> Option<LogLine> {
    let f: Vec<&str> = line.split(' ').collect();
    if f.len() != 8 {
        return None;
    }
    Some(LogLine {
        port: f[0].parse().ok()?,
        connection: f[1].parse().ok()?,
        connection_requests: f[2].parse().ok()?,
        session_reused: f[3] == "r",
        protocol: f[4].to_string(),
        uri: f[5].to_string(),
        status: f[6].parse().ok()?,
        client_verify: f[7].to_string(),
    })
}

fn read_logs(dir: &Path) -> String {
    let mut out = String::new();
    for name in ["stderr.log", "error.log"] {
        let text = fs::read_to_string(dir.join(name)).unwrap_or_default();
        out.push_str(&format!("--- {name}\n{text}"));
    }
    out
}

/// `n` distinct free ports on 127.0.0.1 (bound together, then released).
fn pick_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> =
        (0..n).map(|_| TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0")).collect();
    listeners.iter().map(|l| l.local_addr().expect("addr").port()).collect()
}

/// Temp-path directives for the modules this nginx was built with (an unknown
/// directive is a configuration error).
fn temp_paths(bin: &Path, dir: &Path) -> String {
    let configure = Command::new(bin)
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        .unwrap_or_default();
    let mut out = format!("    client_body_temp_path {};\n", dir.join("tmp/body").display());
    for module in ["proxy", "fastcgi", "uwsgi", "scgi"] {
        if !configure.contains(&format!("--without-http_{module}_module")) {
            let path = dir.join(format!("tmp/{module}"));
            out.push_str(&format!("    {module}_temp_path {};\n", path.display()));
        }
    }
    out
}

fn config_text(bin: &Path, dir: &Path, ca: &Path, ports: &[(Port, u16)]) -> String {
    let d = dir.display();
    let port = |w: Port| ports.iter().find(|(p, _)| *p == w).expect("port").1;
    let tls =
        format!("        ssl_certificate {d}/server.pem;\n        ssl_certificate_key {d}/server.key;\n");
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 1024; }}
http {{
    log_format volley '{LOG_FORMAT}';
    access_log {d}/access.log volley;
{temp}    default_type application/octet-stream;
    sendfile on;
    keepalive_requests 10000;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:volley:1m;
    root {d}/www;
    server {{
        listen 127.0.0.1:{https} ssl;
        listen 127.0.0.1:{http};
        server_name localhost;
{tls}        location /chunked/ {{ ssi on; ssi_types *; }}
        location /close/ {{ ssi on; ssi_types *; chunked_transfer_encoding off; }}
    }}
    server {{
        listen 127.0.0.1:{tls12} ssl;
        ssl_protocols TLSv1.2;
{tls}    }}
    server {{
        listen 127.0.0.1:{close} ssl;
        keepalive_timeout 0;
{tls}    }}
    server {{
        listen 127.0.0.1:{mtls} ssl;
        ssl_verify_client on;
        ssl_client_certificate {ca};
{tls}    }}
    server {{
        listen 127.0.0.1:{limit} ssl;
        keepalive_requests 3;
{tls}    }}
}}
"#,
        temp = temp_paths(bin, dir),
        https = port(Port::Https),
        http = port(Port::Http),
        tls12 = port(Port::Tls12),
        close = port(Port::Close),
        mtls = port(Port::Mtls),
        limit = port(Port::Limit),
        ca = ca.display(),
    )
}
