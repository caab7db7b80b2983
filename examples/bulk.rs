//! Download every URL in a list file into a directory, one file per URL, using only
//! the library (no CLI): a floor for what the CLI adds on top.
//! `cargo run --release --example bulk -- LIST DIR [PARALLEL]`

use std::io::BufRead;
use volley::{BodyTarget, Client, Config, Event, Request};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (list, dir) = (&args[1], std::path::PathBuf::from(&args[2]));
    let parallel = args.get(3).and_then(|p| p.parse().ok()).unwrap_or(64);
    std::fs::create_dir_all(&dir)?;
    let config = Config { max_connections: parallel, max_per_origin: parallel, ..Config::default() };
    let mut client = Client::new(config)?;
    for line in std::io::BufReader::new(std::fs::File::open(list)?).lines() {
        let url = line?;
        let name = url.rsplit('/').next().unwrap_or("index.html").to_string();
        client.submit(Request::get(&url)?.target(BodyTarget::File(dir.join(name))))?;
    }
    let (mut ok, mut failed) = (0, 0);
    client.run(|_, event| match event {
        Event::Done { .. } => ok += 1,
        Event::Failed { error, .. } => {
            failed += 1;
            eprintln!("{error}");
        }
        _ => {}
    })?;
    println!("{ok} ok, {failed} failed");
    Ok(())
}
