//! Unit tests for `cat.rs`.

use super::*;

fn text(q: CatQueue<Vec<u8>>) -> String {
    String::from_utf8(q.into_inner().unwrap()).unwrap()
}

#[test]
fn in_order_whatever_the_arrival_order() {
    let mut q = CatQueue::new(Vec::new(), 1 << 20);
    q.data(2, b"C1").unwrap();
    q.data(0, b"A1").unwrap();
    q.data(1, b"B1").unwrap();
    q.data(2, b"C2").unwrap();
    q.finish(2, true).unwrap();
    q.data(0, b"A2").unwrap();
    assert_eq!(q.buffered(), 6);
    q.data(1, b"B2").unwrap();
    q.finish(0, true).unwrap();
    // B is now the head: its held bytes are out, new ones stream.
    assert_eq!(q.head(), 1);
    assert_eq!(q.buffered(), 4);
    q.data(1, b"B3").unwrap();
    q.finish(1, true).unwrap();
    // C was complete, so the head moved past it.
    assert_eq!(q.head(), 3);
    assert_eq!(q.buffered(), 0);
    assert_eq!(text(q), "A1A2B1B2B3C1C2");
}

#[test]
fn failed_jobs_still_advance_the_order() {
    let mut q = CatQueue::new(Vec::new(), 100);
    q.data(1, b"partial").unwrap();
    q.finish(1, false).unwrap();
    q.data(2, b"ok").unwrap();
    q.finish(0, false).unwrap();
    assert_eq!(q.head(), 2);
    q.finish(2, true).unwrap();
    // A failed job's partial body is written: stdout is a stream, and the error line
    // and exit status 1 say which part is incomplete.
    assert_eq!(text(q), "partialok");
}

#[test]
fn limit_and_restarts() {
    let mut q = CatQueue::new(Vec::new(), 4);
    assert!(!q.is_full());
    q.data(1, b"abc").unwrap();
    assert!(!q.is_full());
    q.data(1, b"de").unwrap();
    assert!(q.is_full());
    assert_eq!(q.accepted(1), 5);
    assert_eq!(q.restart(1), 0);
    assert_eq!(q.buffered(), 0);
    assert_eq!(q.accepted(1), 0);
    q.data(0, b"xyz").unwrap();
    assert_eq!(q.accepted(0), 3);
    // The head cannot unwrite: its retry resumes at 3.
    assert_eq!(q.restart(0), 3);
    q.data(1, b"B").unwrap();
    q.finish(0, true).unwrap();
    q.finish(1, true).unwrap();
    // Data for finished jobs is ignored.
    q.data(0, b"late").unwrap();
    q.finish(0, true).unwrap();
    q.data(5, b"x").unwrap();
    q.finish(5, true).unwrap();
    q.data(5, b"after end").unwrap();
    assert_eq!(q.accepted(5), 1);
    assert_eq!(text(q), "xyzB");
}

#[test]
fn spills_to_unnamed_files_past_the_limit() {
    let dir = std::env::temp_dir().join(format!("volley-cat-spill-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut q = CatQueue::new(Vec::new(), 4).with_spill_dir(dir.clone());
    q.data(1, b"ab").unwrap();
    q.data(1, b"cde").unwrap(); // over the limit: to a file, and so is the rest of job 1
    q.data(2, b"x").unwrap(); // memory still has room for job 2
    q.data(1, b"f").unwrap();
    assert!(!q.is_full(), "spilling, not pausing");
    assert_eq!(q.buffered(), 3);
    assert_eq!(q.accepted(1), 6);
    q.data(3, b"long body").unwrap();
    q.finish(3, true).unwrap();
    q.finish(2, true).unwrap();
    q.finish(1, true).unwrap();
    q.data(0, b"0").unwrap();
    q.finish(0, true).unwrap();
    assert_eq!(q.head(), 4);
    assert_eq!(q.buffered(), 0);
    assert_eq!(text(q), "0abcdefxlong body");
    // The spill files were unlinked as soon as they were made.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir(&dir).unwrap();
}
