//! The pool's connector ([`Dialer`]): hands the pool the host probe's first connection, then dials
//! replacements to its one address (permits first, TLS through [`crate::probe::tls::reconnect`]),
//! records each replacement's chain in [`Seen`] and refuses one not trusted like the first.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use rustls_pki_types::ServerName;
use tokio::sync::Semaphore;

use super::io::ProbeIo;
use super::seen::Seen;
use crate::probe::context::ProbeContext;
use crate::probe::facts::{ChainVerdict, EndpointProbe};
use crate::probe::sync::lock;
use crate::probe::tls;

/// How long a request that finds the pool empty waits for a connection on its way back before the
/// dialer gives up on it (the request's checkout, which waits too, then gets that connection).
const RETURN_GRACE: Duration = Duration::from_millis(250);
/// How often that wait looks again.
const RETURN_POLL: Duration = Duration::from_millis(5);

/// Why the pool could not get a new connection to an address.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DialError {
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
pub(crate) struct Dialer(pub(super) Arc<DialState>);

/// What the dialer of one address knows: the first connection, the permits, how to judge a
/// replacement.
pub(super) struct DialState {
    pub(super) ctx: Arc<ProbeContext>,
    pub(super) server_name: ServerName<'static>,
    pub(super) address: SocketAddr,
    /// The first handshake's connection, handed to the pool on its first request.
    pub(super) first: Mutex<Option<ProbeIo>>,
    /// Connections open at once to this address.
    pub(super) address_permits: Arc<Semaphore>,
    /// A replacement must be trusted like the first connection was (the JWKS goes only over those).
    pub(super) trusted: bool,
    /// The first handshake found the address refusing TLS 1.2: replacements offer TLS 1.3 at once.
    pub(super) tls13_only: bool,
    /// Whether the address speaks HTTP/2 (one multiplexed connection).
    pub(super) h2: bool,
    /// The address permits' number.
    pub(super) connections_cap: usize,
    /// The link's turns (requests in flight) and their number.
    pub(super) turns: Arc<Semaphore>,
    pub(super) turns_cap: usize,
    pub(super) seen: Arc<Seen>,
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
