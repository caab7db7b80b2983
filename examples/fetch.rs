//! Fetch every URL given on the command line concurrently and print what happened.
//! `cargo run --example fetch -- http://127.0.0.1:8080/a http://127.0.0.1:8080/b`

use volley::{Client, Config, Event, Request};

fn main() -> Result<(), volley::Error> {
    let mut client = Client::new(Config::default())?;
    for url in std::env::args().skip(1) {
        client.submit(Request::get(&url)?)?;
    }
    let mut bytes = std::collections::HashMap::new();
    client.run(|_ctl, event| match event {
        Event::Head { id, response } => {
            println!("#{} {} {}", id.as_u64(), response.status, response.url)
        }
        Event::Body { id, data } => *bytes.entry(id).or_insert(0usize) += data.len(),
        Event::Done { id, stats, .. } => {
            println!("#{} done: {} bytes in {:?}", id.as_u64(), bytes.get(&id).unwrap_or(&0), stats.total)
        }
        Event::Failed { error, .. } => eprintln!("failed: {error}"),
        _ => {}
    })
}
