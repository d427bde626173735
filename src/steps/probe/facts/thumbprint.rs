//! What IAM's thumbprint check sees of an issuer probe: the distinct top thumbprints served, and
//! whether and why IAM relies on them ([`Enforcement`]).

use std::fmt;
use std::net::SocketAddr;

use super::endpoint::{EndpointProbe, IssuerProbe};

/// Why IAM relies on the thumbprint for an issuer. Since 2023 IAM verifies most issuers against
/// its own library of trusted root CAs (webpki-roots stands in for it) and uses the thumbprint for
/// a certificate outside it, and as a fallback: "AWS will fall back to thumbprint verification if
/// we are unable to retrieve the TLS certificate or if TLS v1.3 is required" (IAM user guide).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enforcement {
    /// Addresses whose served chain does not anchor in Mozilla's roots.
    pub private_anchor: Vec<SocketAddr>,
    /// Addresses that refused TLS 1.2 and served their chain over TLS 1.3 only.
    pub tls13_only: Vec<SocketAddr>,
    /// No address of either host served a chain: nothing shows IAM could verify one.
    pub no_chain: bool,
}

impl Enforcement {
    /// True when IAM relies on the thumbprint (any reason holds).
    pub fn enforced(&self) -> bool {
        self.no_chain || !self.private_anchor.is_empty() || !self.tls13_only.is_empty()
    }
}

impl fmt::Display for Enforcement {
    /// Why, in words ("" when not enforced): each reason, naming its addresses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |addresses: &[SocketAddr]| {
            addresses
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut reasons = Vec::new();
        if self.no_chain {
            reasons.push(
                "no address served a chain, so nothing shows IAM could verify one against its library of trusted root CAs"
                    .to_string(),
            );
        }
        if !self.private_anchor.is_empty() {
            reasons.push(format!(
                "the chain served at {} does not anchor in a public root CA (IAM's library of trusted root CAs)",
                list(&self.private_anchor)
            ));
        }
        if !self.tls13_only.is_empty() {
            reasons.push(format!(
                "{} accepts only TLS 1.3 (it refused a TLS 1.2 handshake), and IAM falls back to the thumbprint \"if TLS v1.3 is required\" (IAM user guide)",
                list(&self.tls13_only)
            ));
        }
        f.write_str(&reasons.join("; and "))
    }
}

/// Why IAM relies on the thumbprint for this issuer: every address of both hosts that served a
/// chain not anchored in Mozilla's roots, every address that accepts only TLS 1.3, and whether
/// none served a chain at all.
pub fn thumbprint_enforcement(probe: &IssuerProbe) -> Enforcement {
    let served: Vec<&EndpointProbe> = probe
        .endpoints()
        .map(|(_, e)| e)
        .filter(|e| !e.chain.is_empty())
        .collect();
    Enforcement {
        private_anchor: served
            .iter()
            .filter(|e| !e.publicly_anchored)
            .map(|e| e.address)
            .collect(),
        tls13_only: served
            .iter()
            .filter(|e| e.tls13_only)
            .map(|e| e.address)
            .collect(),
        no_chain: served.is_empty(),
    }
}

/// Whether IAM relies on the thumbprint for this issuer: true when any address of either host
/// served a chain that does not anchor in Mozilla's roots or accepts only TLS 1.3, or when none
/// served a chain (see [`thumbprint_enforcement`] for which and why).
pub fn thumbprint_enforced(probe: &IssuerProbe) -> bool {
    thumbprint_enforcement(probe).enforced()
}

/// Distinct top thumbprints served by every address of both hosts, in first-seen order (issuer
/// host first).
pub fn served_thumbprints(probe: &IssuerProbe) -> Vec<String> {
    let mut thumbprints: Vec<String> = Vec::new();
    for top in probe.endpoints().filter_map(|(_, e)| e.top_thumbprint()) {
        if !thumbprints.iter().any(|t| t == top) {
            thumbprints.push(top.to_string());
        }
    }
    thumbprints
}
