//! A small deterministic mutation run of [`super::fuzz_entry`] over the checked-in seeds
//! on stable Rust, so split-invariance is exercised by `cargo test` and not only by
//! `cargo fuzz`.

use std::path::Path;

#[test]
fn fuzz_entry_survives_mutated_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/response");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .map(|entry| std::fs::read(entry.expect("entry").path()).expect("seed"))
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 10, "expected the seed corpus");
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let alphabet = b"\r\n:;, 0123456789abcdefHTP/.\t\x00\xff";
    for seed in &seeds {
        super::fuzz_entry(seed);
        for _ in 0..300 {
            let mut data = seed.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % (data.len() + 1);
                let byte = alphabet[(next() as usize) % alphabet.len()];
                match next() % 3 {
                    0 if at < data.len() => data[at] = byte,
                    1 if at < data.len() => {
                        data.remove(at);
                    }
                    _ => data.insert(at, byte),
                }
            }
            super::fuzz_entry(&data);
        }
    }
}
