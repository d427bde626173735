use super::*;
use crate::probe::IssuerProbe;
use crate::probe::{ChainVerdict, EndpointProbe, HostProbe, ProbeIssue};
use crate::report::CertificateInfo;
use crate::report::FindingCode;
use serde_json::json;
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2026-11-22 10:00 UTC);
const URL: &str = "https://oidc.example/id/X";

fn cert(sha1: &str, subject: &str, not_after: OffsetDateTime) -> CertificateInfo {
    CertificateInfo {
        subject: subject.into(),
        issuer: "CN=Example Root".into(),
        sha1: sha1.into(),
        not_before: Some(datetime!(2026-01-01 0:00 UTC)),
        not_after: Some(not_after),
    }
}

fn probe(verdict: ChainVerdict, leaf_expiry: OffsetDateTime) -> IssuerProbe {
    IssuerProbe {
        issuer: URL.into(),
        jwks_uri: Some(format!("{URL}/keys")),
        hosts: vec![HostProbe {
            serves: vec![crate::report::Fetch::Discovery, crate::report::Fetch::Jwks],
            authority: "oidc.example:443".into(),
            endpoints: vec![EndpointProbe {
                address: "192.0.2.10:443".parse().unwrap(),
                chain: vec![
                    cert("aaaa", "CN=oidc.example", leaf_expiry),
                    cert(
                        "9e99a48a9960b14926bb7f3b02e22da2b0ab7280",
                        "CN=Example CA",
                        datetime!(2030-01-01 0:00 UTC),
                    ),
                ],
                verdict,
                publicly_anchored: false,
                contiguity: Ok(()),
                tls13_only: false,
                error: None,
            }],
            issues: vec![],
        }],
        jwks_keys: Some(1),
        issues: vec![],
    }
}

#[test]
fn healthy_issuer_prints_the_top_thumbprint_and_exits_0() {
    let report = build_report(
        URL,
        &probe(ChainVerdict::Trusted, datetime!(2027-01-01 0:00 UTC)),
        30,
        NOW,
    );
    assert_eq!(exit_code(&report), 0);
    let text = render_text(&report, NOW);
    assert!(
        text.contains("Thumbprint to configure in IAM: 9e99a48a9960b14926bb7f3b02e22da2b0ab7280"),
        "{text}"
    );
    assert!(
        text.contains("Endpoint   192.0.2.10:443  trusted"),
        "{text}"
    );
    assert!(text.contains("(39 days left)"), "{text}");
    assert!(text.contains("Findings   none"), "{text}");
    assert!(
        text.contains("  IAM relies on the thumbprint: the chain served at 192.0.2.10:443 does not anchor in a public root CA"),
        "{text}"
    );
}

#[test]
fn json_has_the_provider_shape_without_iam_fields() {
    let report = build_report(
        URL,
        &probe(ChainVerdict::Trusted, datetime!(2027-01-01 0:00 UTC)),
        30,
        NOW,
    );
    let value = serde_json::to_value(&report).unwrap();
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "endpoints",
            "findings",
            "jwks_uri",
            "served_thumbprints",
            "thumbprint_enforced",
            "url"
        ]
    );
    assert_eq!(
        value["endpoints"][0]["top_thumbprint"],
        "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
    );
    assert_eq!(
        value["endpoints"][0]["chain"][0]["not_after"],
        "2027-01-01T00:00:00Z"
    );
    assert_eq!(
        value["served_thumbprints"],
        json!(["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])
    );
}

#[test]
fn untrusted_chain_warns_and_exits_1() {
    let untrusted = ChainVerdict::Untrusted("unknown issuer".into());
    let report = build_report(
        URL,
        &probe(untrusted, datetime!(2027-01-01 0:00 UTC)),
        30,
        NOW,
    );
    assert_eq!(exit_code(&report), 1);
    let text = render_text(&report, NOW);
    assert!(text.contains("NOT TRUSTED"), "{text}");
    assert!(text.contains("do not configure its thumbprint"), "{text}");
    assert!(text.contains("CRITICAL CHAIN_UNTRUSTED"), "{text}");
    assert!(text.contains("fix: serve a chain"), "{text}");
}

#[test]
fn each_address_shows_its_tls_version_and_chain_order_and_why_iam_relies_on_the_thumbprint() {
    let mut probe = probe(ChainVerdict::Trusted, datetime!(2027-01-01 0:00 UTC));
    let first = probe.hosts[0].endpoints[0].clone();
    probe.hosts[0].endpoints[0].publicly_anchored = true;
    probe.hosts[0].endpoints.push(EndpointProbe {
        address: "192.0.2.11:443".parse().unwrap(),
        publicly_anchored: true,
        tls13_only: true,
        contiguity: Err(crate::probe::ChainBreak {
            index: 1,
            reason: crate::probe::BreakReason::Extra,
        }),
        ..first
    });
    let report = build_report(URL, &probe, 30, NOW);
    assert!(report.thumbprint_enforced);
    assert_eq!(exit_code(&report), 1);
    let text = render_text(&report, NOW);
    let second = text
        .find("Endpoint   192.0.2.11:443")
        .expect("second endpoint");
    let (first, second) = text.split_at(second);
    assert!(
        first.contains("  tls      TLS 1.2 (as IAM's certificate retrieval speaks it)"),
        "{text}"
    );
    assert!(
        first.contains(
            "  order    in order: each certificate issued by the next, none repeated or extra"
        ),
        "{text}"
    );
    assert!(
        second.contains("  tls      TLS 1.3 only: refused a TLS 1.2 handshake"),
        "{text}"
    );
    assert!(
        second.contains("  order    NOT CONTIGUOUS: served certificate #2 is not on the path"),
        "{text}"
    );
    assert!(
        text.contains("  IAM relies on the thumbprint: 192.0.2.11:443 accepts only TLS 1.3"),
        "{text}"
    );
    assert!(
        text.contains(
            "Thumbprint to configure in IAM: none until the issuer serves its chain in order"
        ),
        "{text}"
    );
    assert!(
        text.contains("  WARNING: 9e99a48a9960b14926bb7f3b02e22da2b0ab7280 tops a served chain that is not contiguous (CHAIN_ORDER)"),
        "{text}"
    );
    assert!(text.contains("CRITICAL CHAIN_ORDER"), "{text}");
    assert!(text.contains("fix: on the issuer's server, serve the chain in order"));
}

#[test]
fn expiring_leaf_is_a_warning_only() {
    let report = build_report(
        URL,
        &probe(ChainVerdict::Trusted, NOW + time::Duration::days(10)),
        30,
        NOW,
    );
    assert_eq!(exit_code(&report), 0);
    assert_eq!(report.findings[0].code, FindingCode::CertExpiring);
    assert!(render_text(&report, NOW).contains("WARNING  CERT_EXPIRING"));
}

#[test]
fn failed_discovery_has_no_thumbprint() {
    let mut failed = IssuerProbe {
        issuer: URL.into(),
        ..IssuerProbe::default()
    };
    failed.issues.push(ProbeIssue {
        failure: crate::probe::ProbeFailure::DiscoveryInvalid {
            problem: crate::probe::DiscoveryProblem::IssuerMismatch,
        },
        message: "HTTP 404".into(),
        details: json!({}),
    });
    let report = build_report(URL, &failed, 30, NOW);
    assert_eq!(exit_code(&report), 1);
    let text = render_text(&report, NOW);
    assert!(text.contains("none (no address served a chain)"), "{text}");
    assert!(text.contains("(unknown: discovery failed)"), "{text}");
    assert!(
        text.contains("/id/X/.well-known/openid-configuration directly"),
        "{text}"
    );
}
