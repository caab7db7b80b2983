//! Offline demo: serves 10,000 generated files on 127.0.0.1 and downloads them all
//! with the `volley` binary and its progress display, then checks every byte.
//!
//! ```sh
//! cargo build --release && cargo run --release --example demo
//! ```
//! Nothing leaves the machine: the server listens on loopback only and stops when
//! the demo ends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;

const FILES: usize = 10_000;

/// The bytes of file `n`: deterministic, so the check needs no copy of them.
fn content(n: usize) -> Vec<u8> {
    let len = 1024 + (n * 7919) % 16384;
    let mut x = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A minimal keep-alive HTTP/1.1 server: `GET /f/N` returns file N.
fn serve(stream: TcpStream) {
    let Ok(write_half) = stream.try_clone() else { return };
    let mut out = write_half;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        // Skip the rest of the head.
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h == "\r\n" || h == "\n" {
                break;
            }
        }
        let n =
            line.split(' ').nth(1).and_then(|p| p.strip_prefix("/f/")).and_then(|n| n.parse::<usize>().ok());
        let response = match n {
            Some(n) if n < FILES => {
                let body = content(n);
                let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
                r.extend_from_slice(&body);
                r
            }
            _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
        };
        if out.write_all(&response).is_err() {
            return;
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let exe = std::env::current_exe()?;
    let volley = exe.parent().and_then(|p| p.parent()).map(|p| p.join("volley")).unwrap_or_default();
    if !volley.exists() {
        eprintln!("build the CLI first: cargo build --release (looked for {})", volley.display());
        std::process::exit(2);
    }
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream));
        }
    });
    let dir = std::env::temp_dir().join(format!("volley-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let list: PathBuf = dir.join("urls.txt");
    let mut f = std::fs::File::create(&list)?;
    for n in 0..FILES {
        writeln!(f, "http://{addr}/f/{n}")?;
    }
    drop(f);
    let out = dir.join("out");
    println!("serving {FILES} files on http://{addr}/ ; downloading into {}", out.display());
    let status = Command::new(&volley)
        .arg("-i")
        .arg(&list)
        .arg("-P")
        .arg(&out)
        .args(["-j", "32", "--per-host", "32"])
        .status()?;
    let mut bad = 0;
    for n in 0..FILES {
        let mut got = Vec::new();
        match std::fs::File::open(out.join(n.to_string())) {
            Ok(mut file) => {
                file.read_to_end(&mut got)?;
            }
            Err(_) => {
                bad += 1;
                continue;
            }
        }
        if got != content(n) {
            bad += 1;
        }
    }
    println!("volley exited with {status}; {} of {FILES} files verified byte for byte", FILES - bad);
    std::fs::remove_dir_all(&dir)?;
    if bad > 0 || !status.success() {
        std::process::exit(1);
    }
    Ok(())
}
