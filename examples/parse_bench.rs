//! Microbenchmark of the response parsers, next to `httparse` alone as the floor:
//! `cargo run --release --example parse_bench`. Prints MB/s (median of 7 rounds).
//! A benchmark, not a test: numbers vary with the machine and its load.

use std::hint::black_box;
use std::time::Instant;

const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 24 Nov 2026 12:00:00 GMT\r\n\
Content-Type: application/octet-stream\r\nContent-Length: 4096\r\nLast-Modified: Tue, 24 Nov 2026 11:00:00 GMT\r\n\
Connection: keep-alive\r\nETag: \"6743f1a0-1000\"\r\nAccept-Ranges: bytes\r\n\r\n";

fn rate(name: &str, bytes_per_iter: usize, iters: usize, mut f: impl FnMut()) {
    let mut rounds: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            (bytes_per_iter * iters) as f64 / t.elapsed().as_secs_f64() / 1e6
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    println!("{name:32} {:10.0} MB/s", rounds[3]);
}

fn main() {
    rate("httparse::Response (floor)", HEAD.len(), 200_000, || {
        let mut headers = [httparse::EMPTY_HEADER; 100];
        let mut r = httparse::Response::new(&mut headers);
        black_box(r.parse(black_box(HEAD)).ok());
    });
    rate("volley head parser", HEAD.len(), 200_000, || {
        black_box(volley::fuzzing::parse_head(black_box(HEAD)));
    });
    let mut chunked = Vec::new();
    for _ in 0..256 {
        chunked.extend_from_slice(b"1000\r\n");
        chunked.extend_from_slice(&[b'x'; 4096]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    rate("volley chunked decoder (4 KiB)", chunked.len(), 2_000, || {
        black_box(volley::fuzzing::decode_chunked(black_box(&chunked)));
    });
    let mut small = Vec::new();
    for _ in 0..4096 {
        small.extend_from_slice(b"10;ext=1\r\n0123456789abcdef\r\n");
    }
    small.extend_from_slice(b"0\r\nTrailer: x\r\n\r\n");
    rate("volley chunked decoder (16 B)", small.len(), 2_000, || {
        black_box(volley::fuzzing::decode_chunked(black_box(&small)));
    });
}
