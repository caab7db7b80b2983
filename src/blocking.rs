//! Simple calls for simple callers: fetch one URL, or many at once, and get whole
//! responses back. Built on [`crate::Client`] like everything else; bodies are
//! collected in memory up to `Config::max_collect`.

use crate::client::Client;
use crate::config::Config;
use crate::error::Error;
use crate::event::{Event, Stats, Version};
use crate::headers::Headers;
use crate::request::{BodyTarget, Request};
use std::collections::HashMap;

/// A complete response.
#[derive(Debug, Clone)]
pub struct FullResponse {
    /// Status code.
    pub status: u16,
    /// Protocol version.
    pub version: Version,
    /// Header fields.
    pub headers: Headers,
    /// The whole body.
    pub body: Vec<u8>,
    /// The URL that answered, after redirects.
    pub url: String,
    /// Timings and counters.
    pub stats: Stats,
}

/// `GET url` with the default configuration, blocking until the body is complete.
///
/// ```no_run
/// let r = volley::get("http://127.0.0.1:8080/")?;
/// println!("{} {} bytes", r.status, r.body.len());
/// # Ok::<(), volley::Error>(())
/// ```
pub fn get(url: &str) -> Result<FullResponse, Error> {
    let mut results = fetch_all(Config::default(), vec![Request::get(url)?])?;
    results.pop().unwrap_or_else(|| Err(Error::new(crate::ErrorKind::Io, "no result")))
}

/// Run every request concurrently (within `config`'s limits) and return each result
/// in the order given. Fails as a whole only if the client cannot be created.
pub fn fetch_all(config: Config, requests: Vec<Request>) -> Result<Vec<Result<FullResponse, Error>>, Error> {
    let mut client = Client::new(config)?;
    let mut order = HashMap::new();
    let mut results: Vec<Option<Result<FullResponse, Error>>> = Vec::with_capacity(requests.len());
    for (i, r) in requests.into_iter().enumerate() {
        results.push(None);
        match client.submit(r.target(BodyTarget::Collect)) {
            Ok(id) => {
                order.insert(id, i);
            }
            Err(e) => results[i] = Some(Err(e)),
        }
    }
    let mut heads: HashMap<crate::RequestId, (u16, Version, Headers)> = HashMap::new();
    client.run(|_, event| match event {
        Event::Head { id, response } => {
            heads.insert(id, (response.status, response.version, response.headers.clone()));
        }
        Event::Done { id, stats, body } => {
            if let (Some(&i), Some((status, version, headers))) = (order.get(&id), heads.remove(&id)) {
                let url = stats.final_url.clone();
                results[i] = Some(Ok(FullResponse {
                    status,
                    version,
                    headers,
                    body: body.unwrap_or_default(),
                    url,
                    stats,
                }));
            }
        }
        Event::Failed { id, error, .. } => {
            if let Some(&i) = order.get(&id) {
                results[i] = Some(Err(error));
            }
        }
        _ => {}
    })?;
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::new(crate::ErrorKind::Io, "request ended without a result"))))
        .collect())
}
