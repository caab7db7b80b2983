//! Redirect decisions (RFC 9110 §15.4): whether a response is a redirect to follow,
//! where it goes (relative `Location` resolved per RFC 3986 §5.2), which method and
//! body the next hop uses, and which credentials must not cross to another origin.

use crate::error::{Error, ErrorKind};
use crate::headers::Headers;
use crate::request::Method;
use url::Url;

/// The next hop of a followed redirect.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Hop {
    pub(crate) url: Url,
    pub(crate) method: Method,
    /// The request body is dropped (and with it Content-Type and friends).
    pub(crate) drop_body: bool,
    /// The hop leaves the current origin: `Authorization` and `Cookie` must go.
    pub(crate) cross_origin: bool,
}

/// Status codes that redirect (RFC 9110 §15.4.2-§15.4.9, without 300/304/305).
pub(crate) fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Where a redirect response sends `method current`, or `Ok(None)` when it is not a
/// redirect or has no `Location` (then the response itself is the answer).
pub(crate) fn next_hop(
    status: u16,
    method: &Method,
    current: &Url,
    headers: &Headers,
) -> Result<Option<Hop>, Error> {
    if !is_redirect(status) {
        return Ok(None);
    }
    let Some(location) = headers.get_bytes("location") else {
        return Ok(None);
    };
    let location = std::str::from_utf8(location)
        .map_err(|_| Error::new(ErrorKind::Redirect, "Location header is not valid UTF-8"))?
        .trim();
    // RFC 9110 §10.2.2: Location is a URI-reference, resolved against the target URI.
    let mut url = current
        .join(location)
        .map_err(|e| Error::new(ErrorKind::Redirect, format!("bad Location {location:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(Error::new(
            ErrorKind::Redirect,
            format!("redirect to unsupported URL {location:?} (only http and https are followed)"),
        ));
    }
    // RFC 9110 §10.2.2: a fragment-less Location inherits the current fragment; the
    // fragment never goes on the wire, so only keep it for reporting.
    if url.fragment().is_none() {
        url.set_fragment(current.fragment());
    }
    // §15.4.4: 303 turns anything but HEAD into GET; §15.4.2/§15.4.3 allow (and every
    // browser does) POST → GET for 301/302; 307/308 keep method and body.
    let (method, drop_body) = match status {
        303 if *method != Method::Head => (Method::Get, true),
        301 | 302 if *method == Method::Post => (Method::Get, true),
        _ => (method.clone(), false),
    };
    let cross_origin = url.origin() != current.origin();
    Ok(Some(Hop { url, method, drop_body, cross_origin }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(status: u16, method: Method, from: &str, loc: &str) -> Result<Option<Hop>, Error> {
        let mut h = Headers::new();
        h.push("Location", loc);
        next_hop(status, &method, &Url::parse(from).expect("test url"), &h)
    }

    #[test]
    fn relative_locations_resolve_per_rfc3986() {
        let base = "http://a/b/c/d;p?q";
        for (loc, want) in [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("/g", "http://a/g"),
            ("//g", "http://g/"),
            ("?y", "http://a/b/c/d;p?y"),
            ("../../g", "http://a/g"),
            ("../../../g", "http://a/g"),
        ] {
            let h = hop(302, Method::Get, base, loc).expect("ok").expect("hop");
            assert_eq!(h.url.as_str(), want, "{loc}");
        }
    }

    #[test]
    fn methods_change_as_rfc9110_says() {
        let u = "http://h/x";
        let h = hop(303, Method::Post, u, "/y").expect("ok").expect("hop");
        assert_eq!((h.method, h.drop_body), (Method::Get, true));
        let h = hop(303, Method::Head, u, "/y").expect("ok").expect("hop");
        assert_eq!((h.method, h.drop_body), (Method::Head, false));
        let h = hop(301, Method::Post, u, "/y").expect("ok").expect("hop");
        assert_eq!((h.method, h.drop_body), (Method::Get, true));
        let h = hop(302, Method::Put, u, "/y").expect("ok").expect("hop");
        assert_eq!((h.method, h.drop_body), (Method::Put, false));
        for s in [307, 308] {
            let h = hop(s, Method::Post, u, "/y").expect("ok").expect("hop");
            assert_eq!((h.method, h.drop_body), (Method::Post, false));
        }
    }

    #[test]
    fn cross_origin_is_detected_including_scheme_and_port() {
        assert!(!hop(302, Method::Get, "http://h/x", "/y").expect("ok").expect("hop").cross_origin);
        assert!(hop(302, Method::Get, "http://h/x", "https://h/y").expect("ok").expect("hop").cross_origin);
        assert!(hop(302, Method::Get, "http://h/x", "http://h:81/y").expect("ok").expect("hop").cross_origin);
        assert!(hop(302, Method::Get, "http://h/x", "http://g/y").expect("ok").expect("hop").cross_origin);
    }

    #[test]
    fn only_http_targets_and_no_location_means_final() {
        let e = hop(302, Method::Get, "http://h/x", "ftp://h/y").expect_err("ftp refused");
        assert_eq!(e.kind(), ErrorKind::Redirect);
        assert!(hop(200, Method::Get, "http://h/x", "/y").expect("ok").is_none());
        let none = next_hop(302, &Method::Get, &Url::parse("http://h/").expect("url"), &Headers::new());
        assert!(none.expect("ok").is_none());
    }
}
