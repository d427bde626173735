//! The issuer probes of one run, shared by every provider and (in organization mode) every
//! account: every EKS cluster of a region, in every account, sits behind the same
//! `oidc.eks.REGION.amazonaws.com`, so each issuer and each host is probed once per run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OnceCell, Semaphore};
use tokio::time::Instant;

use crate::probe::{self, HostCache, IssuerProbe, ProbeContext};

/// Providers (and issuer probes) in flight at once. TLS connections are bounded inside the probe
/// (`PROBE_CONCURRENCY`); this only keeps a huge account from holding every provider's state at
/// once.
pub const PROVIDERS_IN_FLIGHT: usize = 1024;

/// The issuer and host probes of one run (build one per run: chains change).
#[derive(Debug)]
pub struct SharedProbes {
    hosts: HostCache,
    issuers: Mutex<HashMap<String, Arc<OnceCell<IssuerProbe>>>>,
    in_flight: Semaphore,
}

impl Default for SharedProbes {
    /// An empty set for one run, at most [`PROVIDERS_IN_FLIGHT`] issuer probes at once.
    fn default() -> Self {
        SharedProbes::new(PROVIDERS_IN_FLIGHT)
    }
}

impl SharedProbes {
    /// An empty set of probes; at most `concurrency` issuer probes run at once over all accounts.
    pub fn new(concurrency: usize) -> Self {
        SharedProbes {
            hosts: HostCache::new(),
            issuers: Mutex::new(HashMap::new()),
            in_flight: Semaphore::new(concurrency.max(1)),
        }
    }

    /// How many distinct issuers have been (or are being) probed.
    pub fn issuers_probed(&self) -> usize {
        self.issuers.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// The probe of `issuer`, running it if no account has; `None` when `deadline` came first
    /// (PROBE_SKIPPED). A probe cut off by the deadline is not remembered.
    pub async fn probe(
        &self,
        ctx: &ProbeContext,
        issuer: &str,
        deadline: Option<Instant>,
    ) -> Option<IssuerProbe> {
        if deadline.is_some_and(|at| Instant::now() >= at) {
            return None;
        }
        let cell = {
            let mut issuers = self.issuers.lock().unwrap_or_else(|p| p.into_inner());
            issuers.entry(issuer.to_string()).or_default().clone()
        };
        let probe = cell.get_or_init(|| async {
            let _permit = self.in_flight.acquire().await.ok();
            probe::probe_issuer(ctx, issuer, &self.hosts).await
        });
        match deadline {
            Some(at) => tokio::time::timeout_at(at, probe).await.ok().cloned(),
            None => Some(probe.await.clone()),
        }
    }
}
