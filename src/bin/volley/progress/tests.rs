//! Unit tests for `progress.rs`.

use super::*;

const MIB: u64 = 1 << 20;

#[test]
fn rate_estimator_follows_and_smooths() {
    let t0 = Instant::now();
    let ms = Duration::from_millis;
    let mut r = RateEstimator::default();
    r.sample(t0, 0);
    assert_eq!(r.rate(), None);
    r.sample(t0 + ms(50), 10 * MIB); // too close: ignored
    assert_eq!(r.rate(), None);
    r.sample(t0 + ms(1000), MIB);
    assert_eq!(r.rate().map(|x| x as u64), Some(MIB));
    // A burst moves the average only part of the way.
    r.sample(t0 + ms(1100), MIB + MIB);
    let x = r.rate().unwrap_or(0.0);
    assert!(x > MIB as f64 && x < 10.0 * MIB as f64, "{x}");
}

#[test]
fn overall_line_and_eta() {
    let t0 = Instant::now();
    let mut s = ProgressState::new(t0);
    assert_eq!(s.overall_line(t0), "0/? files  0 B  -/s  ETA ?");
    s.set_total(Some(4));
    s.start(1, "a", None);
    s.add_bytes(1, 3 * MIB / 2);
    s.finish(1, true);
    s.start(2, "b", None);
    s.finish(2, false);
    let t10 = t0 + Duration::from_secs(10);
    // 2 files in 10 s, 2 left: 10 s.
    assert_eq!(s.overall_line(t10), "2/4 files (1 failed)  1.5 MiB  -/s  ETA 0:00:10");
    // Everything left is active with known sizes and a known speed: bytes-based ETA.
    s.start(3, "c", Some(10 * MIB));
    s.start(4, "d", Some(10 * MIB));
    s.sample(t10);
    s.add_bytes(3, MIB);
    s.add_bytes(4, MIB);
    s.sample(t10 + Duration::from_secs(1));
    // 18 MiB left at 2 MiB/s.
    assert_eq!(s.eta(t10 + Duration::from_secs(1)), Some(Duration::from_secs(9)));
    s.finish(3, true);
    s.finish(4, true);
    assert_eq!(s.eta(t10), Some(Duration::ZERO));
    assert_eq!(clock(Duration::from_secs(3725)), "1:02:05");
}

#[test]
fn active_lines_show_the_largest() {
    let mut s = ProgressState::new(Instant::now());
    s.start(1, "small.bin", Some(MIB));
    s.start(2, "big.iso", Some(100 * MIB));
    s.start(3, "unknown-size", None);
    s.start(4, "mid.tar", Some(10 * MIB));
    s.add_bytes(2, 25 * MIB);
    s.add_bytes(3, 50 * MIB);
    let lines = s.active_lines(ACTIVE_LINES);
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("  big.iso ") && lines[0].ends_with("25.0 MiB / 100.0 MiB  25%"));
    assert!(lines[1].starts_with("  unknown-size ") && lines[1].ends_with("  50.0 MiB"));
    assert!(lines[2].contains("mid.tar"));
    s.set_size(3, Some(200 * MIB));
    assert!(s.active_lines(1)[0].contains("unknown-size"));
    s.start(5, "evil\u{1b}[2J", Some(0));
    assert!(s.active_lines(10).iter().any(|l| l.contains("evil\\u{1b}[2J")));
}

#[test]
fn ellipsis_keeps_both_ends() {
    assert_eq!(ellipsize("short", 10), "short");
    let e = ellipsize("abcdefghijklmnopqrstuvwxyz.jpg", 11);
    assert_eq!(e, "abcde…z.jpg");
    assert_eq!(ellipsize("ééééééééééé", 5).chars().count(), 5);
}

#[test]
fn display_is_driven_and_rate_limited() {
    let t0 = Instant::now();
    let mut p = Progress::hidden(t0);
    p.state.start(1, "a", Some(10));
    p.state.start(2, "b", Some(20));
    p.tick(t0);
    assert_eq!(p.active_line_count(), 2);
    p.state.finish(1, true);
    p.tick(t0 + Duration::from_millis(50)); // too soon: nothing changes
    assert_eq!(p.active_line_count(), 2);
    p.tick(t0 + Duration::from_millis(150));
    assert_eq!(p.active_line_count(), 1);
    for i in 10..20 {
        p.state.start(i, "x", None);
    }
    p.tick(t0 + Duration::from_millis(300));
    assert_eq!(p.active_line_count(), ACTIVE_LINES);
    p.println("[-] something failed");
    p.finish();
    assert_eq!(p.active_line_count(), 0);
}
