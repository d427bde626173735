//! One address of a host for the rest of the run ([`Link`]): hyper-util's pooled client over a
//! [`Dialer`], and the turns (requests in flight) the address allows.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::client::TlsStream;

use super::dialer::{DialState, Dialer};
use super::io::ProbeIo;
use super::seen::Seen;
use crate::probe::context::ProbeContext;
use crate::probe::facts::{ChainVerdict, EndpointProbe};
use crate::probe::sync::lock;

/// HTTP/1.1 connections open at once to one address (DESIGN, the sweep's step 2).
const HTTP1_CONNECTIONS_PER_ADDRESS: usize = 8;
/// Requests in flight at once on one address's HTTP/2 connection (servers allow 100 or more).
const HTTP2_STREAMS_PER_ADDRESS: usize = 64;

/// The client every request to one address goes through.
pub(crate) type PooledClient = Client<Dialer, Empty<Bytes>>;

/// One address of a host for the rest of the run: its pooled client and whose turn it is.
pub(crate) struct Link {
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
