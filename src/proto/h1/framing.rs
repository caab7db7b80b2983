//! How a response body is delimited: RFC 9112 §6.3 ("Message Body Length"), rule by rule,
//! with RFC 9112 §6.1 (Transfer-Encoding) and RFC 9110 §8.6 (Content-Length).
//!
//! Ambiguous framing is an error, not a guess: when two parties can disagree about where
//! a body ends, an attacker can hide a second response in the first (§11.2 of RFC 9112).

use crate::error::Error;
use crate::headers::Headers;

/// Where the response body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body at all (HEAD, 1xx, 204, 304).
    NoBody,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding (§7.1).
    Chunked,
    /// Everything until the server closes the connection.
    CloseDelimited,
}

/// The framing of a response to a request (HEAD or not) with `status` and `headers`.
pub(crate) fn response_framing(
    request_was_head: bool,
    status: u16,
    headers: &Headers,
) -> Result<Framing, Error> {
    // §6.3 rule 1: HEAD responses and 1xx/204/304 end at the head, whatever the fields say.
    // (Rule 2, a 2xx answer to CONNECT, cannot happen: we never send CONNECT.)
    if request_was_head || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Framing::NoBody);
    }
    let has_te = headers.contains("transfer-encoding");
    let has_cl = headers.contains("content-length");
    if has_te {
        // §6.3 rule 3: TE overrides CL, but the pair "ought to be handled as an error"
        // because it is the shape of request smuggling / response splitting.
        if has_cl {
            return Err(Error::protocol(
                "response has both Transfer-Encoding and Content-Length (ambiguous framing)",
            ));
        }
        return transfer_coding_framing(headers);
    }
    if has_cl {
        // §6.3 rule 5.
        return content_length(headers).map(Framing::Length);
    }
    // §6.3 rule 8: a response without either is read until the connection closes.
    Ok(Framing::CloseDelimited)
}

/// §6.3 rule 4 for responses: chunked as the final coding means chunked framing;
/// otherwise the body runs until close.
///
/// We decode only chunked and never send `TE` (RFC 9110 §10.1.4), so a server may not
/// apply another coding (§7.4 of RFC 9112, RFC 9110 §10.1.4); delivering gzip'd bytes as
/// the body would silently corrupt a download, so any coding other than `chunked` (and
/// the no-op `identity` of RFC 2616 that old servers still send) is an error.
fn transfer_coding_framing(headers: &Headers) -> Result<Framing, Error> {
    let mut codings: Vec<String> = Vec::new();
    for value in headers.get_all("transfer-encoding") {
        for element in value.split(|&b| b == b',') {
            let element = element.trim_ascii();
            if element.is_empty() {
                // RFC 9110 §5.6.1: empty list elements are ignored.
                continue;
            }
            // Parameters (";q=...") are not defined for chunked; keep the coding name.
            let name = element.split(|&b| b == b';').next().unwrap_or_default().trim_ascii();
            codings.push(String::from_utf8_lossy(name).to_ascii_lowercase());
        }
    }
    if codings.is_empty() {
        return Err(Error::protocol("empty Transfer-Encoding field"));
    }
    if codings.iter().filter(|c| *c == "chunked").count() > 1 {
        // §6.1: "A sender MUST NOT apply the chunked transfer coding more than once".
        return Err(Error::protocol("Transfer-Encoding applies chunked more than once"));
    }
    if let Some(other) = codings.iter().find(|c| *c != "chunked" && *c != "identity") {
        return Err(Error::protocol(format!("unsupported transfer coding {other:?} (not requested)")));
    }
    if codings.last().is_some_and(|c| c == "chunked") {
        Ok(Framing::Chunked)
    } else {
        // Chunked present but not final, or identity only: read until close (rule 4).
        Ok(Framing::CloseDelimited)
    }
}

/// Every Content-Length value (fields and list elements) must be 1*DIGIT and all must be
/// equal: RFC 9110 §8.6 allows accepting "5, 5"; differing values are §6.3 rule 5's
/// "unrecoverable error".
fn content_length(headers: &Headers) -> Result<u64, Error> {
    let mut length: Option<u64> = None;
    for value in headers.get_all("content-length") {
        for element in value.split(|&b| b == b',') {
            let n = parse_decimal(element.trim_ascii()).ok_or_else(|| {
                Error::protocol(format!("invalid Content-Length {:?}", String::from_utf8_lossy(value)))
            })?;
            match length {
                Some(prev) if prev != n => {
                    return Err(Error::protocol(format!("conflicting Content-Length values {prev} and {n}")));
                }
                _ => length = Some(n),
            }
        }
    }
    length.ok_or_else(|| Error::protocol("empty Content-Length field"))
}

/// 1*DIGIT as u64; `None` for an empty string, any other byte, or overflow.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        let d = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        acc.checked_mul(10)?.checked_add(u64::from(d))
    })
}
