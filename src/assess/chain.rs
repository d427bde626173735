//! Findings from one issuer probe: chain trust, expiry, reachability, discovery, JWKS.
//!
//! Pure: the probe's facts, the expiry window and `now` in, findings out. The caller (sweep or
//! inspect) adds the provider-specific findings (thumbprint mismatch, audience) and sorts.

use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::probe::{
    ChainVerdict, DiscoveryProblem, IssuerProbe, JwksProblem, ProbeFailure, ProbeIssue,
};
use crate::report::{rfc3339, CertificateInfo, Discriminator, Fetch, Finding, FindingCode};

/// What a rejected chain on a host kept from being fetched, for the chain's own finding: one
/// cause, one finding (the fetch's DISCOVERY_INVALID or JWKS_INVALID would repeat it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NotFetched {
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
fn rejected_host(probe: &IssuerProbe, fetch: Fetch) -> Option<&str> {
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
fn not_fetched_by_rejection<'p>(
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
fn with_consequence(
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
                &not_fetched,
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

    findings.extend(chain_order_findings(resource, probe));

    // Each distinct served certificate once, with every address that served it.
    let mut served: Vec<(&CertificateInfo, Vec<String>, &str)> = Vec::new();
    for (served_host, endpoint) in probe.endpoints() {
        for cert in &endpoint.chain {
            let address = endpoint.address.to_string();
            match served.iter_mut().find(|(c, _, _)| c.sha1 == cert.sha1) {
                Some((_, addresses, _)) => {
                    if !addresses.contains(&address) {
                        addresses.push(address)
                    }
                }
                None => served.push((cert, vec![address], served_host.authority.as_str())),
            }
        }
    }
    let window = Duration::days(i64::from(expiry_warning_days));
    let mut expired_shas: Vec<&str> = Vec::new();
    for (cert, addresses, host) in &served {
        // An unparseable certificate has no dates: it is CHAIN_UNTRUSTED, never CERT_EXPIRED.
        let Some(cert_not_after) = cert.not_after else {
            continue;
        };
        let left = cert_not_after - now;
        let days_left = left.whole_days();
        let not_after = rfc3339(cert_not_after);
        let details = json!({
            "host": host,
            "subject": cert.subject,
            "sha1": cert.sha1,
            "not_after": not_after,
            "days_left": days_left,
            "addresses": addresses,
        });
        if cert_not_after <= now {
            expired_shas.push(&cert.sha1);
            findings.push(with_consequence(
                Finding::new(
                    FindingCode::CertExpired,
                    resource,
                    format!(
                        "{host} serves an expired certificate: {} (SHA-1 {}) expired {not_after}",
                        cert.subject, cert.sha1
                    ),
                )
                .with_discriminator(Discriminator::Thumbprint(cert.sha1.clone()))
                .with_details(details),
                host,
                &not_fetched,
            ));
        } else if left <= window {
            findings.push(
                Finding::new(
                    FindingCode::CertExpiring,
                    resource,
                    format!(
                        "{host} serves a certificate expiring in {}: {} (SHA-1 {}) on {not_after}",
                        crate::report::count(days_left, "day", "days"),
                        cert.subject,
                        cert.sha1
                    ),
                )
                .with_discriminator(Discriminator::Thumbprint(cert.sha1.clone()))
                .with_details(details),
            );
        }
    }

    for (served_host, endpoint) in probe.endpoints() {
        let host = &served_host.authority;
        if let ChainVerdict::Expired(reason) = &endpoint.verdict {
            let covered = endpoint
                .chain
                .iter()
                .any(|c| expired_shas.contains(&c.sha1.as_str()));
            if !covered {
                let address = endpoint.address.to_string();
                findings.push(with_consequence(
                    Finding::new(
                        FindingCode::CertExpired,
                        resource,
                        format!(
                            "{} serves a chain outside its validity period: {reason}",
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
                    &not_fetched,
                ));
            }
        }
    }
    findings
}

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
fn chain_order_findings(resource: &str, probe: &IssuerProbe) -> Vec<Finding> {
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

/// "host at address", or just the address when the host is that IP literal.
fn place(host: &str, address: &str) -> String {
    if host == address {
        address.to_string()
    } else {
        format!("{host} at {address}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{BreakReason, ChainBreak, EndpointProbe, HostProbe, ProbeIssue};
    use crate::report::Severity;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 10:00 UTC);

    fn cert(sha1: &str, not_after: OffsetDateTime) -> CertificateInfo {
        CertificateInfo {
            subject: format!("CN={sha1}"),
            issuer: "CN=ca".into(),
            sha1: sha1.into(),
            not_before: Some(datetime!(2020-01-01 0:00 UTC)),
            not_after: Some(not_after),
        }
    }

    fn endpoint(
        address: &str,
        chain: Vec<CertificateInfo>,
        verdict: ChainVerdict,
    ) -> EndpointProbe {
        EndpointProbe {
            address: address.parse().unwrap(),
            chain,
            verdict,
            publicly_anchored: false,
            contiguity: Ok(()),
            tls13_only: false,
            error: None,
        }
    }

    fn probe(endpoints: Vec<EndpointProbe>) -> IssuerProbe {
        IssuerProbe {
            issuer: "https://oidc.example/id/X".into(),
            jwks_uri: Some("https://oidc.example/id/X/keys".into()),
            hosts: vec![HostProbe {
                serves: vec![crate::report::Fetch::Discovery, crate::report::Fetch::Jwks],
                authority: "oidc.example:443".into(),
                endpoints,
                issues: vec![],
            }],
            jwks_keys: Some(1),
            issues: vec![],
        }
    }

    fn codes(findings: &[Finding]) -> Vec<FindingCode> {
        findings.iter().map(|f| f.code).collect()
    }

    const FAR: OffsetDateTime = datetime!(2030-01-01 0:00 UTC);

    #[test]
    fn healthy_issuer_has_no_findings() {
        let p = probe(vec![endpoint(
            "192.0.2.1:443",
            vec![cert("leaf", FAR), cert("int", FAR)],
            ChainVerdict::Trusted,
        )]);
        assert!(issuer_findings("arn", &p, 30, NOW).is_empty());
    }

    #[test]
    fn probe_issues_keep_their_code_and_details() {
        let mut p = probe(vec![]);
        p.issues.push(ProbeIssue {
            failure: crate::probe::ProbeFailure::DiscoveryInvalid {
                problem: crate::probe::DiscoveryProblem::IssuerMismatch,
            },
            message: "issuer mismatch".into(),
            details: json!({"served_issuer": "x"}),
        });
        p.hosts[0].issues.push(ProbeIssue {
            failure: crate::probe::ProbeFailure::Refused { address: None },
            message: "refused".into(),
            details: json!({"address": "10.0.0.1:443"}),
        });
        let f = issuer_findings("arn:p", &p, 30, NOW);
        assert_eq!(
            codes(&f),
            vec![FindingCode::AddressRefused, FindingCode::DiscoveryInvalid]
        );
        assert_eq!(f[1].details["served_issuer"], "x");
        assert!(f
            .iter()
            .all(|f| f.resource == "arn:p" && f.severity == Severity::Critical));
    }

    #[test]
    fn untrusted_chain_names_address_and_top_thumbprint() {
        let p = probe(vec![endpoint(
            "192.0.2.1:443",
            vec![cert("leaf", FAR), cert("top", FAR)],
            ChainVerdict::Untrusted("unknown issuer".into()),
        )]);
        let f = issuer_findings("arn", &p, 30, NOW);
        assert_eq!(codes(&f), vec![FindingCode::ChainUntrusted]);
        assert_eq!(f[0].details["top_thumbprint"], "top");
        assert_eq!(f[0].details["address"], "192.0.2.1:443");
        assert_eq!(f[0].details["reason"], "unknown issuer");
    }

    fn rejected_discovery() -> ProbeIssue {
        ProbeIssue {
            failure: crate::probe::ProbeFailure::DiscoveryInvalid {
                problem: crate::probe::DiscoveryProblem::CertificateRejected,
            },
            message: "could not be fetched over verified TLS".into(),
            details: json!({"cause": "certificate_rejected"}),
        }
    }

    #[test]
    fn an_untrusted_chain_is_one_finding_that_says_discovery_was_not_fetched() {
        let mut p = probe(vec![endpoint(
            "192.0.2.1:443",
            vec![cert("leaf", FAR), cert("top", FAR)],
            ChainVerdict::Untrusted("unknown issuer".into()),
        )]);
        p.jwks_uri = None;
        p.hosts[0].serves = vec![crate::report::Fetch::Discovery];
        p.issues.push(rejected_discovery());
        let f = issuer_findings("arn", &p, 30, NOW);
        assert_eq!(codes(&f), vec![FindingCode::ChainUntrusted], "{f:#?}");
        assert!(
            f[0].message
                .ends_with("so the discovery document and the JWKS were not fetched"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].details["not_fetched"], json!(["discovery", "jwks"]));
    }

    #[test]
    fn a_rejected_discovery_without_a_rejected_chain_is_still_reported() {
        let mut p = probe(vec![endpoint(
            "192.0.2.1:443",
            vec![cert("leaf", FAR)],
            ChainVerdict::Trusted,
        )]);
        p.issues.push(rejected_discovery());
        let f = issuer_findings("arn", &p, 30, NOW);
        assert_eq!(codes(&f), vec![FindingCode::DiscoveryInvalid]);
    }

    #[test]
    fn silent_address_is_unreachable() {
        let mut silent = endpoint("192.0.2.9:443", vec![], ChainVerdict::NotReceived);
        silent.error = Some("TLS handshake timed out".into());
        let f = issuer_findings("arn", &probe(vec![silent]), 30, NOW);
        assert_eq!(codes(&f), vec![FindingCode::IssuerUnreachable]);
        assert_eq!(f[0].details["address"], "192.0.2.9:443");
    }

    #[test]
    fn expired_certificate_is_reported_once_with_every_address() {
        let expired = cert("int", datetime!(2026-11-01 0:00 UTC));
        let chain = vec![cert("leaf", FAR), expired];
        let why = ChainVerdict::Expired("certificate expired".into());
        let p = probe(vec![
            endpoint("192.0.2.1:443", chain.clone(), why.clone()),
            endpoint("192.0.2.2:443", chain, why),
        ]);
        let f = issuer_findings("arn", &p, 30, NOW);
        assert_eq!(codes(&f), vec![FindingCode::CertExpired]);
        assert_eq!(f[0].details["sha1"], "int");
        assert_eq!(f[0].details["days_left"], -21);
        assert_eq!(
            f[0].details["addresses"],
            json!(["192.0.2.1:443", "192.0.2.2:443"])
        );
        assert_eq!(f[0].details["not_after"], "2026-11-01T00:00:00Z");
    }

    #[test]
    fn expiring_within_the_window_is_a_warning() {
        let soon = cert("leaf", NOW + Duration::days(10));
        let p = probe(vec![endpoint(
            "192.0.2.1:443",
            vec![soon, cert("int", FAR)],
            ChainVerdict::Trusted,
        )]);
        let f = issuer_findings("arn", &p, 30, NOW);
        assert_eq!(codes(&f), vec![FindingCode::CertExpiring]);
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].details["days_left"], 10);
        assert!(issuer_findings("arn", &p, 5, NOW).is_empty());
    }

    fn broken(
        address: &str,
        chain: Vec<CertificateInfo>,
        verdict: ChainVerdict,
        index: usize,
        reason: BreakReason,
    ) -> EndpointProbe {
        EndpointProbe {
            contiguity: Err(ChainBreak { index, reason }),
            ..endpoint(address, chain, verdict)
        }
    }

    #[test]
    fn a_chain_served_out_of_order_is_one_chain_order_per_host_and_distinct_chain() {
        let out_of_order = vec![cert("leaf", FAR), cert("root", FAR), cert("int", FAR)];
        let twice = vec![cert("leaf", FAR), cert("int", FAR), cert("int", FAR)];
        let order = BreakReason::OutOfOrder { issuer: 2 };
        let p = probe(vec![
            broken(
                "192.0.2.1:443",
                out_of_order.clone(),
                ChainVerdict::Trusted,
                1,
                order,
            ),
            broken(
                "192.0.2.2:443",
                out_of_order,
                ChainVerdict::Trusted,
                1,
                order,
            ),
            broken(
                "192.0.2.3:443",
                twice,
                ChainVerdict::Trusted,
                2,
                BreakReason::Repeated { first: 1 },
            ),
            endpoint(
                "192.0.2.4:443",
                vec![cert("leaf", FAR), cert("int", FAR)],
                ChainVerdict::Trusted,
            ),
        ]);
        let f = issuer_findings("arn", &p, 30, NOW);
        assert_eq!(
            codes(&f),
            vec![FindingCode::ChainOrder, FindingCode::ChainOrder]
        );
        assert!(f.iter().all(|f| f.severity == Severity::Critical));
        assert_eq!(
            f[0].details["addresses"],
            json!(["192.0.2.1:443", "192.0.2.2:443"])
        );
        assert_eq!(f[0].details["top_thumbprint"], "int");
        assert_eq!(f[0].details["served_chain"], json!(["leaf", "root", "int"]));
        assert_eq!(f[0].details["position"], 2);
        assert_eq!(
            f[0].discriminator,
            Discriminator::Thumbprint("int".to_string())
        );
        let message = &f[0].message;
        assert!(
            message.starts_with("oidc.example:443 serves a chain that is not contiguous (at 192.0.2.1:443, 192.0.2.2:443): served certificate #2 did not issue certificate #1"),
            "{message}"
        );
        assert!(message.contains(STS_CHAIN_ORDER), "{message}");
        assert!(message.contains("Serve the chain in order"), "{message}");
        assert_eq!(f[1].details["addresses"], json!(["192.0.2.3:443"]));
        assert!(
            f[1].message.contains("repeats certificate #2"),
            "{}",
            f[1].message
        );
    }

    #[test]
    fn chain_order_fires_whatever_else_holds_and_on_each_host() {
        let extra = vec![cert("leaf", FAR), cert("int", FAR), cert("other", FAR)];
        let untrusted = ChainVerdict::Untrusted("unknown issuer".into());
        let mut p = probe(vec![broken(
            "192.0.2.1:443",
            extra.clone(),
            untrusted,
            2,
            BreakReason::Extra,
        )]);
        p.hosts.push(HostProbe {
            serves: vec![crate::report::Fetch::Jwks],
            authority: "keys.example:443".into(),
            endpoints: vec![broken(
                "192.0.2.9:443",
                extra,
                ChainVerdict::Trusted,
                2,
                BreakReason::Extra,
            )],
            issues: vec![],
        });
        p.hosts[0].serves = vec![crate::report::Fetch::Discovery];
        let f = issuer_findings("arn", &p, 30, NOW);
        assert_eq!(
            codes(&f),
            vec![
                FindingCode::ChainUntrusted,
                FindingCode::ChainOrder,
                FindingCode::ChainOrder
            ]
        );
        assert_eq!(f[1].details["host"], "oidc.example:443");
        assert_eq!(f[2].details["host"], "keys.example:443");
    }

    #[test]
    fn a_lone_unparseable_certificate_is_untrusted_not_out_of_order() {
        let p = probe(vec![broken(
            "192.0.2.1:443",
            vec![cert("junk", FAR)],
            ChainVerdict::Untrusted("cannot be parsed".into()),
            0,
            BreakReason::Unparseable,
        )]);
        let f = issuer_findings("arn", &p, 30, NOW);
        assert_eq!(codes(&f), vec![FindingCode::ChainUntrusted]);
    }

    #[test]
    fn expired_verdict_without_dates_still_reports() {
        // Not yet valid: the dates say nothing expired, the verifier says the validity is wrong.
        let p = probe(vec![endpoint(
            "192.0.2.1:443",
            vec![cert("leaf", FAR)],
            ChainVerdict::Expired("certificate not valid yet".into()),
        )]);
        let f = issuer_findings("arn", &p, 30, NOW);
        assert_eq!(codes(&f), vec![FindingCode::CertExpired]);
        assert_eq!(f[0].details["top_thumbprint"], "leaf");
    }
}
