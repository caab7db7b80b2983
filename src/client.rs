//! The public façade over the reactor: submit requests, turn the loop, receive
//! events through a handler. The CLI uses exactly this API.

use crate::config::Config;
use crate::error::Error;
use crate::event::Event;
use crate::reactor::Reactor;
use crate::request::{Request, RequestId};
use std::time::{Duration, Instant};

/// A command issued from inside an event handler, applied right after it returns.
pub(crate) enum Command {
    Submit(RequestId, Box<Request>),
    Cancel(RequestId),
    Pause(RequestId),
    Resume(RequestId),
    HoldHost(String, Instant),
}

/// Passed to the event handler so it can steer requests while an event borrows the
/// client: cancel, pause, resume, or submit more work. Commands take effect as soon
/// as the handler returns.
#[derive(Default)]
pub struct Control {
    pub(crate) commands: Vec<Command>,
    pub(crate) next_id: u64,
}

impl Control {
    /// Submit another request; its problems (a bad header, say) come back as a
    /// `Failed` event.
    pub fn submit(&mut self, request: Request) -> RequestId {
        let id = self.allocate_id();
        self.commands.push(Command::Submit(id, Box::new(request)));
        id
    }

    /// Abort a request: it ends with a `Failed` event of kind `Cancelled`.
    pub fn cancel(&mut self, id: RequestId) {
        self.commands.push(Command::Cancel(id));
    }

    /// Stop reading this request's response (backpressure: the peer's TCP window
    /// fills); nothing is buffered beyond what was already received.
    pub fn pause(&mut self, id: RequestId) {
        self.commands.push(Command::Pause(id));
    }

    /// Undo [`Control::pause`].
    pub fn resume(&mut self, id: RequestId) {
        self.commands.push(Command::Resume(id));
    }

    /// Send no new request to `host` (on any scheme or port) before `until`: how a
    /// caller honours a 429 or 503 `Retry-After` for every request waiting for that
    /// server, not only the one that got it. Requests already sent (pipelined ones
    /// included) are not recalled; a later hold replaces an earlier one.
    pub fn hold_host(&mut self, host: &str, until: Instant) {
        self.commands.push(Command::HoldHost(host.to_string(), until));
    }

    pub(crate) fn allocate_id(&mut self) -> RequestId {
        self.next_id += 1;
        RequestId(self.next_id)
    }
}

/// An HTTP/1.1 client that drives every request on the calling thread.
///
/// ```no_run
/// use volley::{Client, Config, Event, Request};
/// let mut client = Client::new(Config::default())?;
/// let id = client.submit(Request::get("http://127.0.0.1:8080/a")?)?;
/// client.run(|_ctl, event| match event {
///     Event::Head { response, .. } => println!("status {}", response.status),
///     Event::Body { data, .. } => println!("{} bytes", data.len()),
///     Event::Done { stats, .. } => println!("done in {:?}", stats.total),
///     Event::Failed { error, .. } => eprintln!("{error}"),
///     _ => {}
/// })?;
/// # let _ = id;
/// # Ok::<(), volley::Error>(())
/// ```
pub struct Client {
    reactor: Reactor,
}

impl Client {
    /// A client with `config`; fails if the TLS roots or client certificate cannot
    /// be loaded or the poll cannot be created.
    pub fn new(config: Config) -> Result<Client, Error> {
        Ok(Client { reactor: Reactor::new(config)? })
    }

    /// Queue a request. Errors here are about the request itself (bad URL scheme,
    /// bad header); everything later arrives as an event.
    pub fn submit(&mut self, request: Request) -> Result<RequestId, Error> {
        request.validate()?;
        let id = self.reactor.ctl.allocate_id();
        self.reactor.submit(id, request, Instant::now())?;
        Ok(id)
    }

    /// Abort a request; a `Failed` event of kind `Cancelled` follows at the next turn.
    pub fn cancel(&mut self, id: RequestId) {
        self.reactor.ctl.cancel(id);
    }

    /// Stop reading a request's response until [`Client::resume`].
    pub fn pause(&mut self, id: RequestId) {
        self.reactor.ctl.pause(id);
    }

    /// Resume a paused request.
    pub fn resume(&mut self, id: RequestId) {
        self.reactor.ctl.resume(id);
    }

    /// See [`Control::hold_host`].
    pub fn hold_host(&mut self, host: &str, until: Instant) {
        self.reactor.ctl.hold_host(host, until);
    }

    /// One loop iteration: wait for readiness at most `timeout` (or until the next
    /// internal deadline; `None` waits for those alone), do all the I/O that is ready,
    /// fire due timers, admit queued requests, and call `handler` for every event.
    /// Body bytes are borrowed from the receive buffer for the call only.
    ///
    /// Returns `Err` only when the loop itself cannot go on (the poll failed); a
    /// failed request is a `Failed` event.
    pub fn turn<F>(&mut self, timeout: Option<Duration>, mut handler: F) -> Result<(), Error>
    where
        F: FnMut(&mut Control, Event<'_>),
    {
        self.reactor.turn(timeout, &mut handler)
    }

    /// Turn until every submitted request (and every request submitted from the
    /// handler) has ended.
    pub fn run<F>(&mut self, mut handler: F) -> Result<(), Error>
    where
        F: FnMut(&mut Control, Event<'_>),
    {
        while !self.reactor.is_idle() {
            self.reactor.turn(None, &mut handler)?;
        }
        Ok(())
    }

    /// The earliest instant at which [`Client::turn`] has timer work to do. A
    /// program with its own event loop waits until then or until the poll's file
    /// descriptor (see `AsRawFd`) is readable, then calls `turn(Some(Duration::ZERO), ..)`.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.reactor.next_deadline()
    }

    /// Requests submitted and not yet ended (queued or active).
    pub fn in_flight(&self) -> usize {
        self.reactor.in_flight()
    }

    /// Whether nothing is in flight and no command is waiting.
    pub fn is_idle(&self) -> bool {
        self.reactor.is_idle()
    }

    /// Register another event source (a signal pipe, a socket of the caller's) in the
    /// client's poll; its readiness arrives as [`Event::Ready`] with `key`.
    pub fn register<S: crate::reactor::Source + ?Sized>(
        &mut self,
        source: &mut S,
        key: usize,
    ) -> std::io::Result<()> {
        self.reactor.register_external(source, key)
    }

    /// Warnings from loading the system's DNS configuration (missing or odd files).
    pub fn warnings(&self) -> Vec<String> {
        self.reactor.warnings()
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for Client {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.reactor.as_raw_fd()
    }
}
