//! The chains a host served: the host probe's first handshake per address, then each replacement
//! connection's chain when it differs (at most [`MAX_CHAINS_PER_ADDRESS`] per address).

use std::sync::Mutex;

use crate::probe::facts::EndpointProbe;
use crate::probe::sync::lock;

/// Distinct chains recorded per address: a hostile server presenting a new chain on every
/// connection cannot grow the report without bound.
const MAX_CHAINS_PER_ADDRESS: usize = 4;

/// Every chain served on the connections of one host, in the order seen: the host probe's first
/// handshake per address, then each new connection's chain when it differs from those recorded for
/// that address (a rotation mid-run is one more served chain, never a replacement).
#[derive(Debug, Default)]
pub(crate) struct Seen {
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
    pub(super) fn again(&self, endpoint: &EndpointProbe) {
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
