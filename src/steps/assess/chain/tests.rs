use super::*;
use crate::probe::ChainVerdict;
use crate::probe::{BreakReason, ChainBreak, EndpointProbe, HostProbe, ProbeIssue};
use crate::report::Severity;
use crate::report::{CertificateInfo, Discriminator, FindingCode};
use serde_json::json;
use time::macros::datetime;
use time::Duration;

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

fn endpoint(address: &str, chain: Vec<CertificateInfo>, verdict: ChainVerdict) -> EndpointProbe {
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
