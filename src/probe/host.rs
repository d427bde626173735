//! Host probing: one TLS connection per resolved address (policy checked first, capped at
//! [`MAX_ADDRESSES`]), each chain and verdict recorded, the verified connections kept open for the
//! HTTP requests; and the per-run cache that lets providers sharing a host share its probe and its
//! connections.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::sync::OnceCell;

use super::address::{authority, resolve};
use super::context::ProbeContext;
use super::facts::{
    ChainVerdict, EndpointProbe, HostProbe, ProbeFailure, ProbeIssue, Step, MAX_ADDRESSES,
};
use super::fetch::Connection;
use super::route::skip_unroutable_ipv6;
use super::tls;

/// A probed host: the facts, and its open connections (one per address whose handshake
/// completed) while some provider still uses it.
#[derive(Debug)]
pub struct HostEntry {
    /// What every address served.
    pub probe: HostProbe,
    connections: Mutex<Vec<Arc<Connection>>>,
    next: AtomicUsize,
}

impl HostEntry {
    /// The open connections, rotated so that concurrent users spread over the addresses;
    /// `trusted_only` keeps those whose chain was trusted (the JWKS fetch).
    pub fn connections(&self, trusted_only: bool) -> Vec<Arc<Connection>> {
        let open: Vec<Arc<Connection>> = lock(&self.connections)
            .iter()
            .filter(|c| c.trusted || !trusted_only)
            .cloned()
            .collect();
        if open.is_empty() {
            return open;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed) % open.len();
        open[start..]
            .iter()
            .chain(&open[..start])
            .cloned()
            .collect()
    }

    fn close(&self) {
        lock(&self.connections).clear();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Probes every address of `host:port` (at most [`MAX_ADDRESSES`]; the pinned ones if the context
/// pins it): policy check, TCP, TLS with SNI (the DNS name, or the IP for an IP literal), chain
/// and verdict per address. Each connection holds one `PROBE_CONCURRENCY` permit while open.
///
/// IPv6 addresses this machine has no route to are skipped, logged and not reported, as long as
/// another allowed address remains (see [`super::route`]). When `PROBE_CONCURRENCY` is smaller than
/// the number of addresses, they are probed in batches and only the last batch's connections stay
/// open.
pub async fn probe_host(ctx: &ProbeContext, host: &str, port: u16) -> HostEntry {
    let authority = authority(host, port);
    let mut probe = HostProbe {
        authority: authority.clone(),
        ..HostProbe::default()
    };
    let entry = |probe, connections| HostEntry {
        probe,
        connections: Mutex::new(connections),
        next: AtomicUsize::new(0),
    };
    let (server_name, addresses) =
        match resolve(&ctx.pins, host, port, ctx.timeout, MAX_ADDRESSES).await {
            Ok(resolved) => resolved,
            Err(e) => {
                probe.issues.push(ProbeIssue::new(
                    ProbeFailure::Unreachable {
                        step: Step::IssuerHost,
                    },
                    e.to_string(),
                    json!({"host": authority}),
                ));
                return entry(probe, Vec::new());
            }
        };
    let mut allowed = Vec::new();
    for address in addresses {
        match ctx.policy.check(address.ip()) {
            Ok(()) => allowed.push(address),
            Err(reason) => probe.issues.push(ProbeIssue::new(
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

    let mut connections = Vec::new();
    for batch in allowed.chunks(ctx.max_connections.max(1)) {
        connections.clear(); // closes the previous batch, returning its permits
        let permits = match ctx
            .connections
            .clone()
            .acquire_many_owned(batch.len() as u32)
            .await
        {
            Ok(permits) => permits,
            Err(_) => {
                // The semaphore is never closed; should it be, the addresses are reported unprobed.
                for address in batch {
                    let mut endpoint = EndpointProbe::new(*address);
                    endpoint.error = Some("no connection permit available".to_string());
                    probe.endpoints.push(endpoint);
                }
                continue;
            }
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
                let (mut endpoint, stream) = tls::connect(ctx, server_name, *address).await;
                let connection = match (stream, permit) {
                    (Some(stream), Some(permit)) => {
                        let trusted = endpoint.verdict == ChainVerdict::Trusted;
                        match Connection::open(stream, permit, trusted, ctx.timeout).await {
                            Ok(connection) => Some(Arc::new(connection)),
                            Err(e) => {
                                endpoint.error = Some(e.to_string());
                                None
                            }
                        }
                    }
                    _ => None,
                };
                (endpoint, connection)
            });
        }
        for (endpoint, connection) in futures::future::join_all(handshakes).await {
            probe.endpoints.push(endpoint);
            connections.extend(connection);
        }
    }
    entry(probe, connections)
}

type Cell = Arc<OnceCell<Arc<HostEntry>>>;

#[derive(Debug)]
struct Slot {
    users: usize,
    cell: Cell,
}

/// Host probes of one sweep, keyed by `host:port`: providers sharing a host (every EKS cluster of
/// a region) probe it once and send their requests over its connections (keep-alive), even when
/// their probes run concurrently. A host's connections close when its last user is done; a later
/// user probes it afresh.
#[derive(Debug, Default)]
pub struct HostCache {
    hosts: Mutex<HashMap<String, Slot>>,
}

impl HostCache {
    /// An empty cache (one per sweep: chains change between sweeps).
    pub fn new() -> Self {
        HostCache::default()
    }

    /// How many distinct hosts have been (or are being) probed.
    pub fn len(&self) -> usize {
        lock(&self.hosts).len()
    }

    /// True before the first probe.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Registers a user of `host:port`; the lease ends (and, for the last user, the connections
    /// close) when it is dropped, also when the probe is cancelled.
    pub(super) fn lease(&self, host: &str, port: u16) -> HostLease<'_> {
        let key = authority(host, port);
        let mut hosts = lock(&self.hosts);
        let slot = hosts.entry(key.clone()).or_insert_with(|| Slot {
            users: 0,
            cell: Cell::default(),
        });
        if slot.users == 0 {
            slot.cell = Cell::default(); // closed or never probed: probe (again)
        }
        slot.users += 1;
        HostLease {
            cache: self,
            key,
            cell: slot.cell.clone(),
        }
    }
}

/// One provider's use of a cached host.
pub(super) struct HostLease<'a> {
    cache: &'a HostCache,
    key: String,
    cell: Cell,
}

impl HostLease<'_> {
    /// The host's probe, running it if no other user has; concurrent users wait for the one in
    /// flight.
    pub async fn entry(&self, ctx: &ProbeContext, host: &str, port: u16) -> Arc<HostEntry> {
        self.cell
            .get_or_init(|| async { Arc::new(probe_host(ctx, host, port).await) })
            .await
            .clone()
    }

    /// `host:port` leased.
    pub fn authority(&self) -> &str {
        &self.key
    }
}

impl Drop for HostLease<'_> {
    fn drop(&mut self) {
        let mut hosts = lock(&self.cache.hosts);
        if let Some(slot) = hosts.get_mut(&self.key) {
            if Arc::ptr_eq(&slot.cell, &self.cell) {
                slot.users = slot.users.saturating_sub(1);
                if slot.users == 0 {
                    if let Some(entry) = slot.cell.get() {
                        entry.close();
                    }
                }
            }
        }
    }
}
