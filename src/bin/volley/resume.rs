//! `-c/--continue`: what to ask for and what to do with the answer, as pure functions.
//!
//! A download resumes from the size of its `NAME.part` with `Range: bytes=N-`
//! (RFC 9110 §14.2). The answer decides the rest (§14.4, §15.3.7, §15.5.17):
//! - `206` whose `Content-Range` starts at N: append;
//! - `200`: the server ignored the range and sends the whole body: truncate, write from 0;
//! - `416` with `Content-Range: bytes */N`: the part file is already the whole file;
//! - `416` otherwise (the file shrank or changed): ask again without a range;
//! - a `206` starting elsewhere, or without a usable `Content-Range`: fail — appending it
//!   would corrupt the file.
//!
//! No `If-Range` validator is sent (volley keeps no metadata beside the `.part` file), so
//! a file that changed on the server but kept its length is not detected; a checksum in
//! the input file catches that.

/// The `Range` value to resume from `offset`.
pub fn range_header(offset: u64) -> String {
    format!("bytes={offset}-")
}

/// A parsed `Content-Range`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentRange {
    /// `bytes FIRST-LAST/LENGTH` (`LENGTH` `None` for `*`).
    Bytes {
        /// First byte position.
        first: u64,
        /// Last byte position (inclusive).
        last: u64,
        /// Complete length, if known.
        complete: Option<u64>,
    },
    /// `bytes */LENGTH` (in a 416).
    Unsatisfied {
        /// Complete length.
        complete: u64,
    },
}

/// Parse a `Content-Range` value (RFC 9110 §14.4); `None` if malformed.
pub fn parse_content_range(value: &str) -> Option<ContentRange> {
    let rest = value.trim();
    let unit_end = rest.find(' ')?;
    if !rest[..unit_end].eq_ignore_ascii_case("bytes") {
        return None;
    }
    let (range, complete) = rest[unit_end..].trim_start().split_once('/')?;
    let num = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    if range == "*" {
        return Some(ContentRange::Unsatisfied { complete: num(complete)? });
    }
    let (first, last) = range.split_once('-')?;
    let (first, last) = (num(first)?, num(last)?);
    let complete = if complete == "*" { None } else { Some(num(complete)?) };
    // §14.4: invalid if last < first, or if last >= complete length.
    if last < first || complete.is_some_and(|c| last >= c) {
        return None;
    }
    Some(ContentRange::Bytes { first, last, complete })
}

/// What to do with the response to a resumed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Append the body to the part file (it continues at the requested offset).
    Append,
    /// The body is the whole file: truncate the part file and write from the start.
    Truncate,
    /// The part file already holds the whole file: finish it without a body.
    Complete,
    /// Send the request again without a `Range` (truncating the part file).
    Refetch,
    /// Not a range answer (e.g. 404): handle as without `-c`.
    NotRange,
    /// The answer cannot be used; the message says why.
    Fail(String),
}

/// Decide for a request that asked for `offset..` and got `status` with this
/// `Content-Range` header (if any).
pub fn decide(offset: u64, status: u16, content_range: Option<&str>) -> Decision {
    let cr = content_range.and_then(parse_content_range);
    match status {
        206 => match cr {
            Some(ContentRange::Bytes { first, .. }) if first == offset => Decision::Append,
            Some(ContentRange::Bytes { first, .. }) => Decision::Fail(format!(
                "asked to resume at byte {offset} but the server sent from byte {first}"
            )),
            _ => Decision::Fail(match content_range {
                Some(v) => format!("206 response with an invalid Content-Range {v:?}"),
                None => "206 response without Content-Range".to_string(),
            }),
        },
        200 => Decision::Truncate,
        416 => match cr {
            Some(ContentRange::Unsatisfied { complete }) if complete == offset => Decision::Complete,
            _ => Decision::Refetch,
        },
        _ => Decision::NotRange,
    }
}

/// The total size to show for a resumed download: the complete length from a 206's
/// `Content-Range`, or `offset + Content-Length`.
pub fn total_size(offset: u64, content_range: Option<&str>, content_length: Option<u64>) -> Option<u64> {
    match content_range.and_then(parse_content_range) {
        Some(ContentRange::Bytes { complete: Some(c), .. }) => Some(c),
        _ => content_length.and_then(|l| offset.checked_add(l)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_parsing() {
        let b = |first, last, complete| Some(ContentRange::Bytes { first, last, complete });
        assert_eq!(parse_content_range("bytes 21010-47021/47022"), b(21010, 47021, Some(47022)));
        assert_eq!(parse_content_range("BYTES 0-0/*"), b(0, 0, None));
        assert_eq!(parse_content_range(" bytes  5-9/10 "), b(5, 9, Some(10)));
        assert_eq!(parse_content_range("bytes */47022"), Some(ContentRange::Unsatisfied { complete: 47022 }));
        for bad in [
            "",
            "bytes",
            "items 0-1/2",
            "bytes 5-4/10",
            "bytes 0-10/10",
            "bytes -1-5/10",
            "bytes 0-5",
            "bytes */*",
            "bytes 1-2/x",
            "bytes +1-2/3",
            "bytes 0-99999999999999999999/*",
        ] {
            assert_eq!(parse_content_range(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn decisions() {
        assert_eq!(range_header(1000), "bytes=1000-");
        assert_eq!(decide(100, 206, Some("bytes 100-199/200")), Decision::Append);
        assert_eq!(decide(100, 200, None), Decision::Truncate);
        assert_eq!(decide(200, 416, Some("bytes */200")), Decision::Complete);
        assert_eq!(decide(300, 416, Some("bytes */200")), Decision::Refetch);
        assert_eq!(decide(300, 416, None), Decision::Refetch);
        assert_eq!(decide(100, 404, None), Decision::NotRange);
        let Decision::Fail(m) = decide(100, 206, Some("bytes 0-199/200")) else { panic!() };
        assert!(m.contains("resume at byte 100") && m.contains("from byte 0"), "{m}");
        let Decision::Fail(m) = decide(100, 206, None) else { panic!() };
        assert!(m.contains("without Content-Range"));
        let Decision::Fail(m) = decide(100, 206, Some("bytes x")) else { panic!() };
        assert!(m.contains("invalid Content-Range \"bytes x\""));
    }

    #[test]
    fn sizes() {
        assert_eq!(total_size(100, Some("bytes 100-199/200"), Some(100)), Some(200));
        assert_eq!(total_size(100, Some("bytes 100-199/*"), Some(100)), Some(200));
        assert_eq!(total_size(100, None, Some(50)), Some(150));
        assert_eq!(total_size(100, None, None), None);
        assert_eq!(total_size(u64::MAX, None, Some(1)), None);
    }
}
