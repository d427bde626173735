//! The local issuers of the bench: distinct hosts (each its own loopback address, so each is a
//! distinct host to the tool, no resolver needed), shared hosts (many issuer paths on one server),
//! and their connection and handshake counters.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::support::issuer::{ChainSpec, Http, IssuerServer, TestCa};

/// One local issuer host and the thumbprint it serves (the top of its chain, computed from
/// rcgen's DER, never from the tool's output).
pub struct Host {
    pub server: IssuerServer,
    pub top: String,
}

/// The address of distinct host `i`: 127.10.x.y (Linux routes all of 127/8 to `lo`).
fn distinct_address(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 10, (i / 250) as u8, (i % 250 + 1) as u8))
}

/// A host on `address` whose URLs and certificate name that address, waiting `latency` before
/// every TLS handshake and every HTTP response.
pub async fn host(ca: &TestCa, address: IpAddr, latency: Duration, http: Http) -> Host {
    let name = address.to_string();
    let chain = ca.chain(ChainSpec::named(&name));
    let top = chain.top_sha1();
    let server = IssuerServer::start_with(SocketAddr::new(address, 0), &name, chain, http)
        .await
        .unwrap_or_else(|e| {
            panic!("bind {address}:0 (needs 127.0.0.0/8 routed to loopback, as on Linux): {e}")
        });
    server.set_delay(latency);
    Host { server, top }
}

/// `n` hosts on 127.10.0.1, 127.10.0.2, ...: HTTP/1.1 only, like the test fixtures.
pub async fn distinct_hosts(ca: &TestCa, n: usize, latency: Duration) -> Vec<Host> {
    let mut hosts = Vec::with_capacity(n);
    for i in 0..n {
        hosts.push(host(ca, distinct_address(i), latency, Http::Http1Only).await);
    }
    hosts
}

/// Connections and handshakes each host had accepted at one moment.
#[derive(Clone)]
pub struct Tally {
    connections: Vec<usize>,
    handshakes: Vec<usize>,
}

impl Tally {
    pub fn of(hosts: &[&Host]) -> Tally {
        Tally {
            connections: hosts.iter().map(|h| h.server.connections()).collect(),
            handshakes: hosts.iter().map(|h| h.server.handshakes()).collect(),
        }
    }

    /// Per host, what happened since `before`: (TCP connections, TLS handshakes).
    pub fn since(&self, before: &Tally) -> Vec<(usize, usize)> {
        self.connections
            .iter()
            .zip(&before.connections)
            .zip(self.handshakes.iter().zip(&before.handshakes))
            .map(|((c, c0), (h, h0))| (c - c0, h - h0))
            .collect()
    }
}

/// Min, max and total of per-host counts.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct PerHost {
    pub min: usize,
    pub max: usize,
    pub total: usize,
}

impl PerHost {
    pub fn of(counts: impl Iterator<Item = usize> + Clone) -> PerHost {
        PerHost {
            min: counts.clone().min().unwrap_or(0),
            max: counts.clone().max().unwrap_or(0),
            total: counts.sum(),
        }
    }
}

impl std::fmt::Display for PerHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.min == self.max {
            write!(f, "{}", self.max)
        } else {
            write!(f, "{}-{}", self.min, self.max)
        }
    }
}
