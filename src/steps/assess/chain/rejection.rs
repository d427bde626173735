//! What a rejected chain kept from being fetched: a fetch that failed only because its host's
//! chain was rejected is said in that chain's finding (CHAIN_UNTRUSTED, CERT_EXPIRED), not in a
//! finding of its own. One cause, one finding.

use serde_json::json;

use crate::probe::{
    ChainVerdict, DiscoveryProblem, IssuerProbe, JwksProblem, ProbeFailure, ProbeIssue,
};
use crate::report::{Fetch, Finding};

/// What a rejected chain on a host kept from being fetched, for the chain's own finding: one
/// cause, one finding (the fetch's DISCOVERY_INVALID or JWKS_INVALID would repeat it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NotFetched {
    /// The issuer host's chain was rejected: neither discovery nor the JWKS was fetched.
    DiscoveryAndJwks,
    /// The JWKS host's chain was rejected: the JWKS was not fetched.
    Jwks,
}

impl NotFetched {
    fn consequence(self) -> &'static str {
        match self {
            NotFetched::DiscoveryAndJwks => {
                "so the discovery document and the JWKS were not fetched"
            }
            NotFetched::Jwks => "so the JWKS was not fetched",
        }
    }

    fn fetches(self) -> &'static [&'static str] {
        match self {
            NotFetched::DiscoveryAndJwks => &["discovery", "jwks"],
            NotFetched::Jwks => &["jwks"],
        }
    }
}

/// The host (`host:port`) carrying `fetch`, when one of its addresses served a chain the verifier
/// rejected (untrusted or expired): that chain's finding is the cause of anything not fetched there.
pub(super) fn rejected_host(probe: &IssuerProbe, fetch: Fetch) -> Option<&str> {
    let host = probe.host_serving(fetch)?;
    host.endpoints
        .iter()
        .any(|e| {
            matches!(
                e.verdict,
                ChainVerdict::Untrusted(_) | ChainVerdict::Expired(_)
            )
        })
        .then_some(host.authority.as_str())
}

/// The fetch `issue` reports as failed because a chain was rejected on its host, when the chain's
/// finding covers it.
pub(super) fn not_fetched_by_rejection<'p>(
    probe: &'p IssuerProbe,
    issue: &ProbeIssue,
) -> Option<(NotFetched, &'p str)> {
    match issue.failure {
        ProbeFailure::DiscoveryInvalid {
            problem: DiscoveryProblem::CertificateRejected,
        } => rejected_host(probe, Fetch::Discovery).map(|h| (NotFetched::DiscoveryAndJwks, h)),
        ProbeFailure::JwksInvalid {
            problem: JwksProblem::NoVerifiedConnection,
        } => rejected_host(probe, Fetch::Jwks).map(|h| (NotFetched::Jwks, h)),
        _ => None,
    }
}

/// `finding` about `host`, with what its rejected chain kept from being fetched.
pub(super) fn with_consequence(
    mut finding: Finding,
    host: &str,
    not_fetched: &[(NotFetched, &str)],
) -> Finding {
    if let Some((what, _)) = not_fetched.iter().find(|(_, h)| *h == host) {
        finding.message = format!("{}; {}", finding.message, what.consequence());
        if let Some(details) = finding.details.as_object_mut() {
            details.insert("not_fetched".into(), json!(what.fetches()));
        }
    }
    finding
}
