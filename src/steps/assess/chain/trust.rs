//! Per-address findings: CHAIN_UNTRUSTED for an address serving a chain that does not validate,
//! ISSUER_UNREACHABLE for one that served no chain or failed the handshake after it.

use serde_json::json;

use super::rejection::{with_consequence, NotFetched};
use crate::probe::{ChainVerdict, IssuerProbe};
use crate::report::{Discriminator, Finding, FindingCode};

/// CHAIN_UNTRUSTED or ISSUER_UNREACHABLE for each address of `probe` that warrants one, in the
/// probe's order; an untrusted chain says what it kept from being fetched.
pub(super) fn address_findings(
    resource: &str,
    probe: &IssuerProbe,
    not_fetched: &[(NotFetched, &str)],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (served_host, endpoint) in probe.endpoints() {
        let host = &served_host.authority;
        let address = endpoint.address.to_string();
        match (&endpoint.verdict, &endpoint.error) {
            (ChainVerdict::Untrusted(reason), _) => findings.push(with_consequence(
                Finding::new(
                    FindingCode::ChainUntrusted,
                    resource,
                    format!(
                        "{} serves a chain that does not validate: {reason}",
                        place(host, &address)
                    ),
                )
                .with_discriminator(Discriminator::Address(address.clone()))
                .with_details(json!({
                    "host": host,
                    "address": address,
                    "top_thumbprint": endpoint.top_thumbprint(),
                    "reason": reason,
                })),
                host,
                not_fetched,
            )),
            (ChainVerdict::NotReceived | ChainVerdict::Trusted, Some(error)) => findings.push(
                Finding::new(
                    FindingCode::IssuerUnreachable,
                    resource,
                    format!(
                        "{} cannot be reached over TLS: {error}",
                        place(host, &address)
                    ),
                )
                .with_discriminator(Discriminator::Address(address.clone()))
                .with_details(json!({
                    "host": host,
                    "address": address,
                    "top_thumbprint": endpoint.top_thumbprint(),
                    "error": error,
                })),
            ),
            _ => {}
        }
    }
    findings
}

/// "host at address", or just the address when the host is that IP literal.
pub(super) fn place(host: &str, address: &str) -> String {
    if host == address {
        address.to_string()
    } else {
        format!("{host} at {address}")
    }
}
