//! CHAIN_ORDER: a served chain that is not contiguous (out of order, a certificate repeated, or
//! one off the path), which STS rejects whatever the thumbprint list holds.

use serde_json::json;

use crate::probe::IssuerProbe;
use crate::report::{Discriminator, Finding, FindingCode};

/// What the IAM user guide says STS does with a chain that is not contiguous ("Obtain the
/// thumbprint for an OpenID Connect identity provider").
pub const STS_CHAIN_ORDER: &str = "If the certificate chain order is different or includes duplicate or additional certificates, you will receive a signature mismatch error and STS fails to validate the JSON Web Token";

/// One CHAIN_ORDER per host and distinct served chain that is not contiguous (the same chain on
/// several addresses of a host is one finding listing them all), whatever else holds: browsers,
/// curl and rustls build a path from any order, STS does not.
///
/// The id's discriminator is the chain's top thumbprint, as for the other findings about one
/// served certificate (CERT_EXPIRED, THUMBPRINT_MISMATCH): it is the thumbprint the chain would
/// put in the provider's list, it stays the same when the leaf is renewed or an address changes,
/// and it is what the mismatch's fix checks to withhold that thumbprint. Two broken chains with
/// the same top (on two hosts, or two leaves under one top) are told apart by the report's
/// id disambiguation.
///
/// A lone certificate that cannot be parsed has no order to speak of: CHAIN_UNTRUSTED reports it.
pub(super) fn chain_order_findings(resource: &str, probe: &IssuerProbe) -> Vec<Finding> {
    let mut findings = Vec::new();
    for served_host in &probe.hosts {
        let host = &served_host.authority;
        // (the chain's SHA-1s, where it breaks, the addresses serving it)
        let mut chains: Vec<(Vec<&str>, crate::probe::ChainBreak, Vec<String>)> = Vec::new();
        for endpoint in &served_host.endpoints {
            let Some(chain_break) = endpoint.order_break() else {
                continue;
            };
            let sha1s: Vec<&str> = endpoint.chain.iter().map(|c| c.sha1.as_str()).collect();
            let address = endpoint.address.to_string();
            match chains.iter_mut().find(|(served, _, _)| *served == sha1s) {
                Some((_, _, addresses)) => addresses.push(address),
                None => chains.push((sha1s, chain_break, vec![address])),
            }
        }
        for (sha1s, chain_break, addresses) in chains {
            let top = sha1s.last().copied().unwrap_or_default();
            findings.push(
                Finding::new(
                    FindingCode::ChainOrder,
                    resource,
                    format!(
                        "{host} serves a chain that is not contiguous (at {}): {chain_break}. STS needs the order: \"{STS_CHAIN_ORDER}\" (IAM user guide). Serve the chain in order (the host's certificate, then each intermediate, optionally ending with the root) without duplicate or extra certificates; its top certificate {top} is never added to the thumbprint list",
                        addresses.join(", ")
                    ),
                )
                .with_discriminator(Discriminator::Thumbprint(top.to_string()))
                .with_details(json!({
                    "host": host,
                    "addresses": addresses,
                    "top_thumbprint": top,
                    "served_chain": sha1s,
                    "position": chain_break.index + 1,
                    "reason": chain_break.to_string(),
                })),
            );
        }
    }
    findings
}
