//! The run's connections to one address of a host: hyper-util's pooled client does the pooling,
//! the reconnection and HTTP/2 multiplexing; this module decides which address it dials (the one
//! probed, policy-checked again), how (rustls with the recording verifier, through the proxy when
//! one applies), and records every chain a new connection is served.
//!
//! - [`Link`]: one address's pooled client. Its first connection is the one the host probe
//!   handshook (handed to the pool on its first request, so a host that keeps its connections costs
//!   one handshake per address and run); a connection the server closes, or that an aborted
//!   exchange left unusable, is replaced by the pool through [`Dialer`], whose chain is recorded in
//!   [`Seen`] and judged like the first.
//! - HTTP/1.1: at most [`HTTP1_CONNECTIONS_PER_ADDRESS`] connections at once (requests beyond take
//!   turns); HTTP/2: one connection, requests multiplexed.
//! - [`Permits`]: `PROBE_CONCURRENCY`, the TLS connections open at once over all hosts. Hosts no
//!   provider is using keep their connections for later providers until a permit is wanted; then
//!   the least recently idle one is closed.

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::client::TlsStream;

use super::context::ProbeContext;
use super::facts::{ChainVerdict, EndpointProbe};
use super::tls;

/// HTTP/1.1 connections open at once to one address (DESIGN, the sweep's step 2).
pub const HTTP1_CONNECTIONS_PER_ADDRESS: usize = 8;
/// Requests in flight at once on one address's HTTP/2 connection (servers allow 100 or more).
const HTTP2_STREAMS_PER_ADDRESS: usize = 64;
/// Distinct chains recorded per address: a hostile server presenting a new chain on every
/// connection cannot grow the report without bound.
pub const MAX_CHAINS_PER_ADDRESS: usize = 4;
/// How long a permit waiter gives a closed idle host to hand its permits back before it looks again.
const SETTLE: Duration = Duration::from_millis(50);
/// How long a request that finds the pool empty waits for a connection on its way back before the
/// dialer gives up on it (the request's checkout, which waits too, then gets that connection).
const RETURN_GRACE: Duration = Duration::from_millis(250);
/// How often that wait looks again.
const RETURN_POLL: Duration = Duration::from_millis(5);
/// A wait with no bound of its own (the run's deadline bounds it from outside).
const FAR: Duration = Duration::from_secs(365 * 24 * 3600);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Something holding connections that nobody is using at the moment (a host between providers).
pub trait Idle: Send + Sync {
    /// Closes the connections if still unused; false when a user came back meanwhile.
    fn close_if_idle(&self) -> bool;
}

/// `PROBE_CONCURRENCY`: one permit per open TLS connection, over every host and address, for the
/// life of the connection. Built once per process; each run's idle hosts queue here.
pub struct Permits {
    semaphore: Arc<Semaphore>,
    idle: Mutex<VecDeque<Weak<dyn Idle>>>,
}

impl std::fmt::Debug for Permits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permits")
            .field("available", &self.semaphore.available_permits())
            .finish_non_exhaustive()
    }
}

impl Permits {
    /// `size` permits.
    pub fn new(size: usize) -> Self {
        Permits {
            semaphore: Arc::new(Semaphore::new(size)),
            idle: Mutex::new(VecDeque::new()),
        }
    }

    /// Permits free right now.
    pub fn available(&self) -> usize {
        self.semaphore.available_permits()
    }

    /// `count` permits, closing idle hosts (least recently idle first) while none are free; waits
    /// at most `wait` when nothing idle is left to close. `None` when the wait ran out.
    pub async fn acquire(&self, count: u32, wait: Duration) -> Option<OwnedSemaphorePermit> {
        let now = tokio::time::Instant::now();
        let give_up = now.checked_add(wait).unwrap_or(now + FAR);
        loop {
            if let Ok(permits) = self.semaphore.clone().try_acquire_many_owned(count) {
                return Some(permits);
            }
            let closed = self.close_one_idle();
            let settle = if closed {
                SETTLE
            } else {
                // Nothing idle yet: look again soon, a host may go idle meanwhile.
                SETTLE * 4
            };
            let until = (tokio::time::Instant::now() + settle).min(give_up);
            let attempt = self.semaphore.clone().acquire_many_owned(count);
            match tokio::time::timeout_at(until, attempt).await {
                Ok(Ok(permits)) => return Some(permits),
                Ok(Err(_closed)) => return None,
                Err(_) if tokio::time::Instant::now() >= give_up => return None,
                Err(_) => {}
            }
        }
    }

    /// Queues `host` as idle; closes it at once when no permit is free (someone is likely waiting).
    pub fn idle(&self, host: Weak<dyn Idle>) {
        if self.available() == 0 {
            if let Some(host) = host.upgrade() {
                host.close_if_idle();
            }
            return;
        }
        let mut idle = lock(&self.idle);
        idle.retain(|h| h.strong_count() > 0);
        idle.push_back(host);
    }

    /// Queues `host` as idle whatever the permits (tests build the queue this way).
    #[cfg(test)]
    fn queue_idle_for_test(&self, host: Weak<dyn Idle>) {
        lock(&self.idle).push_back(host);
    }

    fn close_one_idle(&self) -> bool {
        loop {
            let next = lock(&self.idle).pop_front();
            let Some(host) = next else { return false };
            if let Some(host) = host.upgrade() {
                if host.close_if_idle() {
                    return true;
                }
            }
        }
    }
}

/// Every chain served on the connections of one host, in the order seen: the host probe's first
/// handshake per address, then each new connection's chain when it differs from those recorded for
/// that address (a rotation mid-run is one more served chain, never a replacement).
#[derive(Debug, Default)]
pub struct Seen {
    endpoints: Mutex<Vec<EndpointProbe>>,
}

impl Seen {
    /// The endpoints recorded so far.
    pub fn snapshot(&self) -> Vec<EndpointProbe> {
        lock(&self.endpoints).clone()
    }

    /// Records the host probe's handshake of one address.
    pub fn first(&self, endpoint: EndpointProbe) {
        lock(&self.endpoints).push(endpoint);
    }

    /// Records a replacement connection's handshake when it served a chain not yet recorded for its
    /// address (or the same chain judged otherwise). A failed reconnection (nothing served) is not
    /// a served chain: the exchange that needed it reports its own failure.
    fn again(&self, endpoint: &EndpointProbe) {
        if endpoint.chain.is_empty() {
            return;
        }
        let mut endpoints = lock(&self.endpoints);
        let same_address = endpoints
            .iter()
            .filter(|e| e.address == endpoint.address)
            .count();
        let known = endpoints.iter().any(|e| {
            e.address == endpoint.address
                && e.chain == endpoint.chain
                && e.verdict == endpoint.verdict
        });
        if !known && same_address < MAX_CHAINS_PER_ADDRESS {
            tracing::info!(
                address = %endpoint.address,
                top = endpoint.top_thumbprint().unwrap_or(""),
                "a new connection was served another chain than before; recorded as one more served chain"
            );
            endpoints.push(endpoint.clone());
        }
    }
}

/// One open TLS connection for the pool: the stream, whether ALPN chose HTTP/2, and the permits it
/// holds until it closes (one of `PROBE_CONCURRENCY`, one of its address's).
pub struct ProbeIo {
    io: TokioIo<TlsStream<TcpStream>>,
    h2: bool,
    _permit: OwnedSemaphorePermit,
    _address_permit: OwnedSemaphorePermit,
}

impl ProbeIo {
    fn new(
        tls: TlsStream<TcpStream>,
        permit: OwnedSemaphorePermit,
        address_permit: OwnedSemaphorePermit,
    ) -> Self {
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
        ProbeIo {
            io: TokioIo::new(tls),
            h2,
            _permit: permit,
            _address_permit: address_permit,
        }
    }
}

impl Connection for ProbeIo {
    fn connected(&self) -> Connected {
        let connected = Connected::new();
        if self.h2 {
            connected.negotiated_h2()
        } else {
            connected
        }
    }
}

impl hyper::rt::Read for ProbeIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for ProbeIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Why the pool could not get a new connection to an address.
#[derive(Debug, thiserror::Error)]
pub enum DialError {
    /// No `PROBE_CONCURRENCY` or per-address permit came within `PROBE_TIMEOUT_SECS`.
    #[error("no connection to {0} could be opened within PROBE_TIMEOUT_SECS: PROBE_CONCURRENCY connections are busy")]
    Busy(SocketAddr),
    /// The new connection failed, or its chain was not trusted like the first one's.
    #[error("{0}")]
    Failed(String),
    /// No request lacked a connection: one was on its way back to the pool.
    #[error("no new connection was needed")]
    NotNeeded,
}

/// The pool's connector: dials its one address (whatever host the request URI names), handshakes
/// with the host's name and records the chain.
#[derive(Clone)]
pub struct Dialer(Arc<DialState>);

struct DialState {
    ctx: Arc<ProbeContext>,
    server_name: ServerName<'static>,
    address: SocketAddr,
    /// The first handshake's connection, handed to the pool on its first request.
    first: Mutex<Option<ProbeIo>>,
    /// Connections open at once to this address.
    address_permits: Arc<Semaphore>,
    /// A replacement must be trusted like the first connection was (the JWKS goes only over those).
    trusted: bool,
    /// The first handshake found the address refusing TLS 1.2: replacements offer TLS 1.3 at once.
    tls13_only: bool,
    /// Whether the address speaks HTTP/2 (one multiplexed connection).
    h2: bool,
    /// The address permits' number.
    connections_cap: usize,
    /// The link's turns (requests in flight) and their number.
    turns: Arc<Semaphore>,
    turns_cap: usize,
    seen: Arc<Seen>,
}

impl DialState {
    /// HTTP/1.1 connections open to this address now (each holds an address permit).
    fn open(&self) -> usize {
        self.connections_cap - self.address_permits.available_permits()
    }

    /// Requests on this address now (each holds a turn).
    fn in_flight(&self) -> usize {
        self.turns_cap - self.turns.available_permits()
    }

    /// Whether a request really lacks a connection. hyper-util hands a finished exchange's
    /// connection back to the pool from a task of its own, a moment after the body was read: a
    /// request made in that moment finds the pool empty and asks for a new connection while it
    /// waits for the old one. When as many connections are open as requests are in flight, one is
    /// on its way back: wait for it (the request's checkout takes it) instead of handshaking again,
    /// and dial only once a connection really went away. HTTP/2 takes no such wait: its pool dials
    /// only when it has no connection at all.
    async fn needed(&self) -> bool {
        if self.h2 {
            return true;
        }
        let give_up = tokio::time::Instant::now() + RETURN_GRACE;
        while self.open() >= self.in_flight() {
            if tokio::time::Instant::now() >= give_up {
                return false;
            }
            tokio::time::sleep(RETURN_POLL).await;
        }
        true
    }

    async fn dial(&self) -> Result<ProbeIo, DialError> {
        if let Some(first) = lock(&self.first).take() {
            return Ok(first);
        }
        if !self.needed().await {
            return Err(DialError::NotNeeded);
        }
        let wait = self.ctx.timeout;
        let address_permit =
            tokio::time::timeout(wait, self.address_permits.clone().acquire_owned())
                .await
                .ok()
                .and_then(Result::ok)
                .ok_or(DialError::Busy(self.address))?;
        let permit = self
            .ctx
            .permits
            .acquire(1, wait)
            .await
            .ok_or(DialError::Busy(self.address))?;
        let (endpoint, stream) = tls::reconnect(
            &self.ctx,
            self.server_name.clone(),
            self.address,
            self.tls13_only,
        )
        .await;
        self.seen.again(&endpoint);
        let Some(stream) = stream else {
            return Err(DialError::Failed(failure_of(&endpoint)));
        };
        if self.trusted && endpoint.verdict != ChainVerdict::Trusted {
            return Err(DialError::Failed(format!(
                "a new connection to {} was served a chain that is not trusted like the first one",
                self.address
            )));
        }
        Ok(ProbeIo::new(stream, permit, address_permit))
    }
}

/// Why a connection gave no stream: the verifier's reason or the connection error.
fn failure_of(endpoint: &EndpointProbe) -> String {
    match (endpoint.verdict.rejection(), &endpoint.error) {
        (Some(why), _) => why.to_string(),
        (None, Some(error)) => error.clone(),
        (None, None) => format!("a new connection to {} failed", endpoint.address),
    }
}

impl tower_service::Service<http::Uri> for Dialer {
    type Response = ProbeIo;
    type Error = DialError;
    type Future = Pin<Box<dyn Future<Output = Result<ProbeIo, DialError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), DialError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _destination: http::Uri) -> Self::Future {
        let state = self.0.clone();
        Box::pin(async move { state.dial().await })
    }
}

/// The client every request to one address goes through.
pub type PooledClient = Client<Dialer, Empty<Bytes>>;

/// One address of a host for the rest of the run: its pooled client and whose turn it is.
pub struct Link {
    /// The address.
    pub address: SocketAddr,
    /// Whether the first handshake's chain was trusted (only such addresses carry the JWKS).
    pub trusted: bool,
    h2: bool,
    turns: Arc<Semaphore>,
    dialer: Dialer,
    client: Mutex<PooledClient>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("address", &self.address)
            .field("trusted", &self.trusted)
            .field("h2", &self.h2)
            .finish_non_exhaustive()
    }
}

impl Link {
    /// A link whose first connection is `stream`, handshaken as `first` says (already recorded in
    /// `seen`), holding `permit` of `PROBE_CONCURRENCY`.
    pub fn new(
        ctx: Arc<ProbeContext>,
        server_name: ServerName<'static>,
        stream: TlsStream<TcpStream>,
        permit: OwnedSemaphorePermit,
        first: &EndpointProbe,
        seen: Arc<Seen>,
    ) -> Result<Link, std::io::Error> {
        let trusted = first.verdict == ChainVerdict::Trusted;
        let address = stream.get_ref().0.peer_addr()?;
        let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
        // HTTP/2: one connection, and room for its replacement while a closing one drains.
        let connections = if h2 { 2 } else { HTTP1_CONNECTIONS_PER_ADDRESS };
        let address_permits = Arc::new(Semaphore::new(connections));
        let address_permit = address_permits
            .clone()
            .try_acquire_owned()
            .map_err(std::io::Error::other)?;
        let turns_cap = if h2 {
            HTTP2_STREAMS_PER_ADDRESS
        } else {
            HTTP1_CONNECTIONS_PER_ADDRESS
        };
        let turns = Arc::new(Semaphore::new(turns_cap));
        let dialer = Dialer(Arc::new(DialState {
            ctx,
            server_name,
            address,
            first: Mutex::new(Some(ProbeIo::new(stream, permit, address_permit))),
            address_permits,
            trusted,
            tls13_only: first.tls13_only,
            h2,
            connections_cap: connections,
            turns: turns.clone(),
            turns_cap,
            seen,
        }));
        Ok(Link {
            address,
            trusted,
            h2,
            turns,
            client: Mutex::new(pooled_client(&dialer, h2)),
            dialer,
        })
    }

    /// Waits for this address's turn (a free HTTP/1.1 connection slot, an HTTP/2 stream): not one
    /// of the provider's own exchanges, so not charged to its bound.
    pub async fn turn(&self) -> Option<OwnedSemaphorePermit> {
        self.turns.clone().acquire_owned().await.ok()
    }

    /// The pooled client (a cheap handle; requests on it share the pool).
    pub fn client(&self) -> PooledClient {
        lock(&self.client).clone()
    }

    /// Closes the idle connections (a fresh pool replaces the old one; requests in flight keep
    /// theirs until they end). A later request reconnects through the dialer.
    pub fn close_idle(&self) {
        lock(&self.dialer.0.first).take();
        *lock(&self.client) = pooled_client(&self.dialer, self.h2);
    }
}

/// hyper-util's pooled client over `dialer`: idle connections kept for the run (up to the
/// per-address bound), HTTP/2 only when the address chose it (one connection, multiplexed).
fn pooled_client(dialer: &Dialer, h2: bool) -> PooledClient {
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(None)
        .pool_max_idle_per_host(HTTP1_CONNECTIONS_PER_ADDRESS)
        .http2_only(h2)
        .build(dialer.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A host holding one permit until it is closed; `busy` refuses the close.
    struct FakeHost {
        permit: Mutex<Option<OwnedSemaphorePermit>>,
        busy: AtomicBool,
    }

    impl Idle for FakeHost {
        fn close_if_idle(&self) -> bool {
            if self.busy.load(Ordering::SeqCst) {
                return false;
            }
            lock(&self.permit).take();
            true
        }
    }

    async fn host_holding(permits: &Permits, busy: bool) -> Arc<FakeHost> {
        let permit = permits.acquire(1, Duration::from_secs(1)).await;
        assert!(permit.is_some(), "a free permit");
        Arc::new(FakeHost {
            permit: Mutex::new(permit),
            busy: AtomicBool::new(busy),
        })
    }

    #[tokio::test]
    async fn an_idle_host_is_closed_when_a_permit_is_wanted_and_a_busy_one_is_not() {
        let permits = Permits::new(2);
        let busy = host_holding(&permits, true).await;
        let idle = host_holding(&permits, false).await;
        for host in [&busy, &idle] {
            let host: Arc<dyn Idle> = host.clone();
            permits.queue_idle_for_test(Arc::downgrade(&host));
        }
        assert_eq!(permits.available(), 0);

        let third = permits.acquire(1, Duration::from_secs(2)).await;

        assert!(
            third.is_some(),
            "the idle host's permit went to the new connection"
        );
        assert!(lock(&idle.permit).is_none(), "the idle host was closed");
        assert!(
            lock(&busy.permit).is_some(),
            "the busy host kept its connection"
        );
        // Nothing idle is left: a fourth waits out its bound and gets nothing.
        assert!(permits
            .acquire(1, Duration::from_millis(300))
            .await
            .is_none());
    }

    #[tokio::test]
    async fn a_host_going_idle_when_no_permit_is_free_is_closed_at_once() {
        let permits = Permits::new(1);
        let host = host_holding(&permits, false).await;
        let idle: Arc<dyn Idle> = host.clone();
        permits.idle(Arc::downgrade(&idle));
        assert!(lock(&host.permit).is_none());
        assert_eq!(permits.available(), 1);
    }
}
