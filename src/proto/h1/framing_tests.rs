//! Framing tests: RFC 9112 §6.3 rule by rule.

use super::framing::{response_framing, Framing};
use crate::headers::Headers;

fn headers(fields: &[(&str, &str)]) -> Headers {
    let mut h = Headers::new();
    for (name, value) in fields {
        h.push(*name, value.as_bytes());
    }
    h
}

fn framing(status: u16, fields: &[(&str, &str)]) -> Result<Framing, String> {
    response_framing(false, status, &headers(fields)).map_err(|e| e.message().to_string())
}

#[test]
fn rule_1_no_body_regardless_of_fields() {
    let te_cl = [("Transfer-Encoding", "chunked"), ("Content-Length", "5")];
    for status in [100, 103, 204, 304] {
        assert_eq!(framing(status, &te_cl), Ok(Framing::NoBody), "{status}");
    }
    assert_eq!(response_framing(true, 200, &headers(&te_cl)).ok(), Some(Framing::NoBody));
}

#[test]
fn rule_3_te_with_cl_is_an_error() {
    let e =
        framing(200, &[("Content-Length", "5"), ("Transfer-Encoding", "chunked")]).expect_err("must fail");
    assert!(e.contains("both"), "{e}");
}

#[test]
fn rule_4_transfer_codings() {
    assert_eq!(framing(200, &[("Transfer-Encoding", "chunked")]), Ok(Framing::Chunked));
    assert_eq!(framing(200, &[("transfer-encoding", " Chunked ")]), Ok(Framing::Chunked));
    assert_eq!(framing(200, &[("Transfer-Encoding", "identity, chunked")]), Ok(Framing::Chunked));
    // Chunked not final: read until close (§6.3 rule 4).
    assert_eq!(framing(200, &[("Transfer-Encoding", "chunked, identity")]), Ok(Framing::CloseDelimited));
    assert_eq!(framing(200, &[("Transfer-Encoding", "identity")]), Ok(Framing::CloseDelimited));
    let twice = framing(200, &[("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")]);
    assert!(twice.expect_err("must fail").contains("more than once"));
    assert!(framing(200, &[("Transfer-Encoding", "chunked, chunked")]).is_err());
    assert!(framing(200, &[("Transfer-Encoding", "gzip")]).expect_err("must fail").contains("gzip"));
    assert!(framing(200, &[("Transfer-Encoding", "")]).expect_err("must fail").contains("empty"));
}

#[test]
fn rule_5_content_length() {
    assert_eq!(framing(200, &[("Content-Length", "0")]), Ok(Framing::Length(0)));
    assert_eq!(framing(200, &[("Content-Length", "007")]), Ok(Framing::Length(7)));
    assert_eq!(framing(200, &[("Content-Length", "5, 5"), ("Content-Length", "5")]), Ok(Framing::Length(5)));
    assert_eq!(framing(200, &[("Content-Length", "18446744073709551615")]), Ok(Framing::Length(u64::MAX)));
    for bad in ["18446744073709551616", "-1", "5 5", "0x10", "", "5,", "1e3", "٣"] {
        assert!(framing(200, &[("Content-Length", bad)]).is_err(), "{bad:?}");
    }
    assert!(framing(200, &[("Content-Length", "5"), ("Content-Length", "6")]).is_err());
}

#[test]
fn rule_8_neither_is_close_delimited() {
    assert_eq!(framing(200, &[("Content-Type", "text/plain")]), Ok(Framing::CloseDelimited));
    assert_eq!(framing(404, &[]), Ok(Framing::CloseDelimited));
}
