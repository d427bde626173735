//! Findings from one issuer probe: chain trust, expiry, reachability, discovery, JWKS.
//!
//! Pure: the probe's facts, the expiry window and `now` in, findings out. The caller (sweep or
//! inspect) adds the provider-specific findings (thumbprint mismatch, audience) and sorts.
//!
//! One module per code family, [`issuer_findings`] gathering them in the report's order:
//! - `rejection`: what a rejected chain kept from being fetched (said in the chain's finding);
//! - `trust`: CHAIN_UNTRUSTED and ISSUER_UNREACHABLE per address;
//! - `order`: CHAIN_ORDER per host and distinct chain that is not contiguous;
//! - `expiry`: CERT_EXPIRED and CERT_EXPIRING per served certificate, and expired verdicts.

mod expiry;
mod order;
mod rejection;
mod trust;

use time::OffsetDateTime;

use crate::probe::IssuerProbe;
use crate::report::Finding;

use expiry::expiry_findings;
use order::chain_order_findings;
pub use order::STS_CHAIN_ORDER;
use rejection::{not_fetched_by_rejection, NotFetched};
use trust::address_findings;

/// Every finding one issuer probe supports, about `resource` (a provider ARN, or the issuer URL
/// for `inspect`).
///
/// - each probe issue → a finding with its code, except a fetch that failed only because its
///   host's chain was rejected: that chain's CHAIN_UNTRUSTED or CERT_EXPIRED says so instead
///   ("discovery/JWKS not fetched"), one cause, one finding;
/// - an address serving an untrusted chain → CHAIN_UNTRUSTED;
/// - each host's distinct served chain that is not contiguous → CHAIN_ORDER, whatever else holds
///   (one finding listing every address that served it);
/// - an address that served no chain (or failed the handshake after it) → ISSUER_UNREACHABLE;
/// - each distinct served certificate expired at `now` → CERT_EXPIRED, or expiring within
///   `expiry_warning_days` → CERT_EXPIRING (one finding per certificate, listing every address);
/// - an address whose chain the verifier judged expired with no date-based finding covering it
///   (e.g. not yet valid) → CERT_EXPIRED.
pub fn issuer_findings(
    resource: &str,
    probe: &IssuerProbe,
    expiry_warning_days: u32,
    now: OffsetDateTime,
) -> Vec<Finding> {
    let not_fetched: Vec<(NotFetched, &str)> = probe
        .all_issues()
        .filter_map(|issue| not_fetched_by_rejection(probe, issue))
        .collect();
    let mut findings: Vec<Finding> = probe
        .all_issues()
        .filter(|issue| not_fetched_by_rejection(probe, issue).is_none())
        .map(|issue| {
            Finding::new(issue.code(), resource, issue.message.clone())
                .with_details(issue.details.clone())
        })
        .collect();
    findings.extend(address_findings(resource, probe, &not_fetched));
    findings.extend(chain_order_findings(resource, probe));
    findings.extend(expiry_findings(
        resource,
        probe,
        expiry_warning_days,
        now,
        &not_fetched,
    ));
    findings
}

#[cfg(test)]
mod tests;
