//! Host probing: one TLS handshake per resolved address (policy checked first, capped at
//! [`MAX_ADDRESSES`]), each chain and verdict recorded; and the run's hosts, each probed once and
//! kept, with its addresses' pooled connections, for every provider of the run that uses it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use rustls_pki_types::ServerName;
use serde_json::json;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::address::{authority, resolve};
use super::context::ProbeContext;
use super::facts::{EndpointProbe, HostProbe, ProbeFailure, ProbeIssue, Step, MAX_ADDRESSES};
use super::permits::{Idle, Permits};
use super::pool::{Link, Seen};
use super::route::skip_unroutable_ipv6;
use super::tls;

/// A probed host for the rest of the run: what its addresses served (the first handshake of each,
/// and any other chain a later connection was served), resolution problems, and one [`Link`] per
/// address whose handshake completed.
pub(crate) struct HostEntry {
    authority: String,
    issues: Vec<ProbeIssue>,
    seen: Arc<Seen>,
    links: Vec<Link>,
    /// Providers using the host right now.
    users: AtomicUsize,
    next: AtomicUsize,
    /// How long the probe waited for `PROBE_CONCURRENCY` permits (a wait for its turn, not an
    /// exchange: not charged to the providers waiting for the probe).
    permit_wait: Duration,
}

impl std::fmt::Debug for HostEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostEntry")
            .field("authority", &self.authority)
            .field("links", &self.links)
            .finish_non_exhaustive()
    }
}

impl HostEntry {
    /// What the host served so far: every address's first handshake, then any other chain a new
    /// connection was served.
    pub fn probe(&self) -> HostProbe {
        HostProbe {
            authority: self.authority.clone(),
            serves: Vec::new(),
            endpoints: self.seen.snapshot(),
            issues: self.issues.clone(),
        }
    }

    /// `host:port`.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The addresses that can carry requests, rotated so that concurrent users spread over them;
    /// `trusted_only` keeps those whose chain was trusted (the JWKS fetch).
    pub fn links(&self, trusted_only: bool) -> Vec<&Link> {
        let usable: Vec<&Link> = self
            .links
            .iter()
            .filter(|link| link.trusted || !trusted_only)
            .collect();
        if usable.is_empty() {
            return usable;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed) % usable.len();
        usable[start..]
            .iter()
            .chain(&usable[..start])
            .copied()
            .collect()
    }

    /// Whether any address completed a handshake whose chain was rejected (expired, untrusted),
    /// and the first such reason.
    pub fn rejection(&self) -> Option<String> {
        self.seen
            .snapshot()
            .iter()
            .find_map(|e| e.verdict.rejection().map(str::to_string))
    }
}

impl Idle for HostEntry {
    fn close_if_idle(&self) -> bool {
        if self.users.load(Ordering::Acquire) != 0 {
            return false;
        }
        for link in &self.links {
            link.close_idle();
        }
        true
    }
}

/// Probes every address of `host:port` (at most [`MAX_ADDRESSES`]; the pinned ones if the context
/// pins it): policy check, TCP, TLS with SNI (the DNS name, or the IP for an IP literal), chain
/// and verdict per address. Each completed handshake becomes its address's first pooled
/// connection, holding one `PROBE_CONCURRENCY` permit while open.
///
/// IPv6 addresses this machine has no route to are skipped, logged and not reported, as long as
/// another allowed address remains (see [`super::route`]). When `PROBE_CONCURRENCY` is smaller than
/// the number of addresses, they are probed in batches and only the last batch's connections stay
/// open.
pub(crate) async fn probe_host(ctx: &ProbeContext, host: &str, port: u16) -> HostEntry {
    let authority = authority(host, port);
    let mut entry = HostEntry {
        authority: authority.clone(),
        issues: Vec::new(),
        seen: Arc::new(Seen::default()),
        links: Vec::new(),
        users: AtomicUsize::new(0),
        next: AtomicUsize::new(0),
        permit_wait: Duration::ZERO,
    };
    let (server_name, addresses) =
        match resolve(&ctx.pins, host, port, ctx.timeout, MAX_ADDRESSES).await {
            Ok(resolved) => resolved,
            Err(e) => {
                entry.issues.push(ProbeIssue::new(
                    ProbeFailure::Unreachable {
                        step: Step::IssuerHost,
                    },
                    e.to_string(),
                    json!({"host": authority}),
                ));
                return entry;
            }
        };
    let allowed = allowed_addresses(ctx, &mut entry, addresses);
    connect_all(ctx, &mut entry, &server_name, &allowed).await;
    entry
}

/// The addresses the policy allows, each refused one an issue of `entry`; IPv6 addresses this
/// machine has no route to skipped (logged) while another allowed address remains.
fn allowed_addresses(
    ctx: &ProbeContext,
    entry: &mut HostEntry,
    addresses: Vec<SocketAddr>,
) -> Vec<SocketAddr> {
    let authority = &entry.authority;
    let mut allowed = Vec::new();
    for address in addresses {
        match ctx.policy.check(address.ip()) {
            Ok(()) => allowed.push(address),
            Err(reason) => entry.issues.push(ProbeIssue::new(
                ProbeFailure::Refused {
                    address: Some(address),
                },
                format!("{authority} resolves to {address}, which the probe refuses to contact: {reason}"),
                json!({"host": authority, "address": address.to_string(), "reason": reason.to_string()}),
            )),
        }
    }
    // After the policy: a refused address never counts as "another address remains".
    let (allowed, skipped) = skip_unroutable_ipv6(allowed, ctx.has_route);
    for address in &skipped {
        tracing::info!(
            host = %authority,
            %address,
            "skipping an IPv6 address this machine has no route to; other addresses remain"
        );
    }
    allowed
}

/// One handshake per allowed address, in batches of at most `PROBE_CONCURRENCY` (each batch closing
/// the previous one): every endpoint recorded, every completed handshake kept as its address's
/// [`Link`].
async fn connect_all(
    ctx: &ProbeContext,
    entry: &mut HostEntry,
    server_name: &ServerName<'static>,
    allowed: &[SocketAddr],
) {
    // The links' connector outlives this call (the pool may reconnect at any time of the run).
    let shared_ctx = Arc::new(ctx.clone());
    for batch in allowed.chunks(ctx.max_connections.max(1)) {
        entry.links.clear(); // closes the previous batch, returning its permits
        let waited = Instant::now();
        // Waiting for permits is waiting for a turn: bounded by the run's deadline, not the step's.
        let permits = ctx.permits.acquire(batch.len() as u32, Duration::MAX).await;
        entry.permit_wait += waited.elapsed();
        let Some(permits) = permits else {
            for address in batch {
                let mut endpoint = EndpointProbe::new(*address);
                endpoint.error = Some("no connection permit available".to_string());
                entry.seen.first(endpoint);
            }
            continue;
        };
        let mut permits = Some(permits);
        let mut handshakes = Vec::with_capacity(batch.len());
        for address in batch {
            let permit = permits
                .as_mut()
                .and_then(|p| p.split(1))
                .or_else(|| permits.take());
            let server_name = server_name.clone();
            handshakes.push(async move {
                let (endpoint, stream) = tls::connect(ctx, server_name, *address).await;
                (endpoint, stream, permit)
            });
        }
        for (mut endpoint, stream, permit) in futures::future::join_all(handshakes).await {
            if let (Some(stream), Some(permit)) = (stream, permit) {
                match Link::new(
                    shared_ctx.clone(),
                    server_name.clone(),
                    stream,
                    permit,
                    &endpoint,
                    entry.seen.clone(),
                ) {
                    Ok(link) => entry.links.push(link),
                    Err(e) => endpoint.error = Some(format!("the connection closed: {e}")),
                }
            }
            entry.seen.first(endpoint);
        }
    }
}

type Cell = Arc<OnceCell<Arc<HostEntry>>>;

/// The hosts of one run, keyed by `host:port`: each probed once, when its first provider needs
/// it, and kept with its connections for the rest of the run, so providers sharing a host (every
/// EKS cluster of a region, in every account of an organization) share its probe and send their
/// requests over its connections. Dropping the cache (the end of the run) closes them all.
#[derive(Debug, Default)]
pub struct HostCache {
    hosts: Mutex<HashMap<String, Cell>>,
}

impl HostCache {
    /// An empty cache (one per run: chains change between runs).
    pub fn new() -> Self {
        HostCache::default()
    }

    /// How many distinct hosts have been (or are being) probed.
    pub fn len(&self) -> usize {
        self.hosts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    /// True before the first probe.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Uses `host:port`: its probe, running it if no other provider has (concurrent users wait for
    /// the one in flight), and how much of the wait was the probe's own exchanges (the rest was
    /// waiting for connection permits). The use ends when the lease is dropped; a host nobody uses
    /// keeps its connections until a permit is wanted elsewhere.
    pub(super) async fn lease(
        &self,
        ctx: &ProbeContext,
        host: &str,
        port: u16,
    ) -> (HostLease, Duration) {
        let cell = {
            let mut hosts = self
                .hosts
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            hosts.entry(authority(host, port)).or_default().clone()
        };
        let started = Instant::now();
        let entry = cell
            .get_or_init(|| async { Arc::new(probe_host(ctx, host, port).await) })
            .await
            .clone();
        entry.users.fetch_add(1, Ordering::AcqRel);
        let own = started.elapsed().saturating_sub(entry.permit_wait);
        let lease = HostLease {
            entry,
            permits: ctx.permits.clone(),
        };
        (lease, own)
    }
}

/// One provider's use of a host.
pub(super) struct HostLease {
    entry: Arc<HostEntry>,
    permits: Arc<Permits>,
}

impl HostLease {
    /// The host.
    pub fn entry(&self) -> &Arc<HostEntry> {
        &self.entry
    }
}

impl Drop for HostLease {
    fn drop(&mut self) {
        if self.entry.users.fetch_sub(1, Ordering::AcqRel) == 1 {
            let idle: Arc<dyn Idle> = self.entry.clone();
            let idle: Weak<dyn Idle> = Arc::downgrade(&idle);
            self.permits.idle(idle);
        }
    }
}
