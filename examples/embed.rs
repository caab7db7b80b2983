//! Driving volley from a program's own event loop: here a plain `poll(2)` loop built
//! on mio's `Poll` stands in for "your loop". volley's poll fd is registered in it;
//! when that fd is readable, or volley's next deadline has passed, the program calls
//! `turn` with a zero timeout. `cargo run --example embed -- http://127.0.0.1:8080/`

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};
use volley::{Client, Config, Event, Request};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut client = Client::new(Config::default())?;
    for url in std::env::args().skip(1) {
        client.submit(Request::get(&url)?)?;
    }
    // "Your" event loop, with volley's fd in it next to whatever else you watch.
    let mut outer = Poll::new()?;
    let fd = client.as_raw_fd();
    outer.registry().register(&mut SourceFd(&fd), Token(0), Interest::READABLE)?;
    let mut events = Events::with_capacity(16);
    let mut handler = |_: &mut volley::Control, event: Event<'_>| match event {
        Event::Head { response, .. } => println!("{} {}", response.status, response.url),
        Event::Done { stats, .. } => {
            println!("done: {} bytes in {:?}", stats.body_bytes, stats.total)
        }
        Event::Failed { error, .. } => eprintln!("{error}"),
        _ => {}
    };
    // The first turn submits connects; after that, wake only when needed.
    client.turn(Some(Duration::ZERO), &mut handler)?;
    while client.in_flight() > 0 {
        let timeout = client.next_deadline().map(|d| d.saturating_duration_since(Instant::now()));
        outer.poll(&mut events, timeout)?;
        client.turn(Some(Duration::ZERO), &mut handler)?;
    }
    Ok(())
}
