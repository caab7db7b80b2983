//! Replays every checked-in fuzz corpus file through the same function the fuzz
//! target calls, so the corpora guard against regressions on stable Rust.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("corpus entry").path();
        let data = std::fs::read(&path).expect("corpus file");
        run(&data);
        count += 1;
    }
    assert!(count > 0, "no corpus files in {}", dir.display());
}

#[test]
fn response_corpus() {
    replay("response", volley::fuzzing::response);
}

#[test]
fn dns_message_corpus() {
    replay("dns_message", volley::fuzzing::dns_message);
}
