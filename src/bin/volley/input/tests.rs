//! Unit tests for `input.rs`.

use super::*;
use std::io::Cursor;

const HEX: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

fn read_all(text: &str) -> Vec<Result<InputItem, String>> {
    InputReader::new(Cursor::new(text.as_bytes().to_vec())).map(|r| r.map_err(|e| e.to_string())).collect()
}

fn item(url: &str, line: usize) -> InputItem {
    InputItem { url: url.into(), out: None, checksum: None, line, warnings: vec![] }
}

#[test]
fn urls_comments_blanks_and_options() {
    let text = format!(
        "\u{feff}# list\n\nhttp://a/1\r\n  out=one.bin\n\t checksum=sha-256={HEX}\n\n# c\n  # indented comment\nhttp://a/2\n   \nhttp://a/3"
    );
    let got = read_all(&text);
    let mut first = item("http://a/1", 3);
    first.out = Some("one.bin".into());
    first.checksum = checksum::hex_decode_sha256(HEX).ok();
    assert_eq!(got, vec![Ok(first), Ok(item("http://a/2", 9)), Ok(item("http://a/3", 11))]);
}

#[test]
fn unknown_options_warn() {
    let got = read_all("http://a/\n  split=4\n  noequals\n  out=x\n  out=y\n");
    let Some(Ok(it)) = got.first() else { panic!("{got:?}") };
    assert_eq!(it.out.as_deref(), Some("y"));
    assert_eq!(it.warnings.len(), 3, "{:?}", it.warnings);
    assert!(it.warnings[0].contains("line 2: ignoring unknown option \"split\""));
    assert!(it.warnings[1].contains("expected key=value"));
    assert!(it.warnings[2].contains("given twice"));
}

#[test]
fn errors_name_the_line_and_reading_continues() {
    let text =
        "  out=x\nhttp://a/1\n  checksum=md5=00\nhttp://a/2\n  checksum=sha-256=abc\n  out=\nhttp://a/3\n";
    let got = read_all(text);
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[0], Err("input line 1: option \"out=x\" is not below a URL".into()));
    let e = got[1].clone().unwrap_err();
    assert!(e.starts_with("input line 3: unsupported checksum algorithm \"md5\""), "{e}");
    // The first bad option is reported.
    assert!(got[2].clone().unwrap_err().starts_with("input line 5: sha-256 digest must be 64"));
    assert_eq!(got[3], Ok(item("http://a/3", 7)));
}

#[test]
fn bad_utf8_and_overlong_lines() {
    let mut bytes = b"http://a/1\n\xff\xfe\n".to_vec();
    bytes.extend(vec![b'x'; MAX_LINE + 10]);
    bytes.extend(b"\nhttp://a/2\n");
    let got: Vec<_> = InputReader::new(Cursor::new(bytes)).map(|r| r.map_err(|e| e.to_string())).collect();
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[0], Ok(item("http://a/1", 1)));
    assert!(got[1].clone().unwrap_err().contains("line 2: not valid UTF-8"));
    assert!(got[2].clone().unwrap_err().contains(&format!("line 3: line is longer than {MAX_LINE}")));
    assert_eq!(got[3], Ok(item("http://a/2", 4)));
}

/// A reader that makes lines on the fly, so the test itself holds no big buffer.
struct Generated {
    next: usize,
    total: usize,
    cur: Vec<u8>,
    pos: usize,
}

impl Read for Generated {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.cur.len() {
            if self.next == self.total {
                return Ok(0);
            }
            self.cur = format!("http://h/{}\n", self.next).into_bytes();
            self.next += 1;
            self.pos = 0;
        }
        let n = out.len().min(self.cur.len() - self.pos);
        out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn a_million_lines_stream() {
    let src = Generated { next: 0, total: 1_000_000, cur: Vec::new(), pos: 0 };
    let mut reader = InputReader::new(io::BufReader::new(src));
    let mut n = 0usize;
    let mut last = None;
    for r in reader.by_ref() {
        let it = r.map_err(|e| e.to_string());
        last = Some(it.clone());
        n += 1;
        assert!(it.is_ok());
    }
    assert_eq!(n, 1_000_000);
    assert_eq!(last, Some(Ok(item("http://h/999999", 1_000_000))));
    // The reader kept one line's buffer, not the input.
    assert!(reader.buf.capacity() < 1024);
}

#[test]
fn read_errors_stop_iteration() {
    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("disk on fire"))
        }
    }
    let got: Vec<_> = InputReader::new(io::BufReader::new(Failing)).collect();
    assert_eq!(got.len(), 1);
    assert!(got[0].as_ref().is_err_and(|e| e.to_string().contains("read error: disk on fire")));
}

#[test]
fn open_names_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("urls.txt");
    std::fs::write(&path, "http://a/\n").unwrap();
    let items: Vec<_> = InputReader::new(open(path.to_str().unwrap()).unwrap()).collect();
    assert_eq!(items.len(), 1);
    let missing = tmp.path().join("missing.txt");
    let e = open(missing.to_str().unwrap()).err().unwrap();
    assert!(e.starts_with("cannot open input file") && e.contains("missing.txt"), "{e}");
}
