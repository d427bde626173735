use super::*;
use crate::report::{self, CertificateInfo, Fetch, FindingCode};
use time::macros::datetime;

fn endpoint(address: &str, tops: &[&str], verdict: ChainVerdict, public: bool) -> EndpointProbe {
    EndpointProbe {
        chain: tops
            .iter()
            .map(|sha1| CertificateInfo {
                subject: "CN=x".into(),
                issuer: "CN=y".into(),
                sha1: sha1.to_string(),
                not_before: Some(datetime!(2025-01-01 0:00 UTC)),
                not_after: Some(datetime!(2027-01-01 0:00 UTC)),
            })
            .collect(),
        verdict,
        publicly_anchored: public,
        ..EndpointProbe::new(address.parse().unwrap())
    }
}

fn issuer(hosts: Vec<Vec<EndpointProbe>>) -> IssuerProbe {
    IssuerProbe {
        hosts: hosts
            .into_iter()
            .enumerate()
            .map(|(i, endpoints)| HostProbe {
                authority: format!("h{i}:443"),
                endpoints,
                ..HostProbe::default()
            })
            .collect(),
        ..IssuerProbe::default()
    }
}

#[test]
fn enforced_unless_every_served_chain_of_both_hosts_is_public() {
    let public = endpoint("192.0.2.1:443", &["aa"], ChainVerdict::Trusted, true);
    let private = endpoint("192.0.2.2:443", &["bb"], ChainVerdict::Trusted, false);
    let silent = endpoint("192.0.2.3:443", &[], ChainVerdict::NotReceived, false);
    assert!(!thumbprint_enforced(&issuer(vec![vec![
        public.clone(),
        silent.clone()
    ]])));
    assert!(thumbprint_enforced(&issuer(vec![vec![
        public.clone(),
        private.clone()
    ]])));
    assert!(thumbprint_enforced(&issuer(vec![
        vec![public.clone()],
        vec![private.clone()]
    ])));
    assert!(thumbprint_enforced(&issuer(vec![vec![silent]])));
    assert!(thumbprint_enforced(&issuer(vec![])));
    assert_eq!(
        served_thumbprints(&issuer(vec![
            vec![public.clone(), private.clone()],
            vec![public]
        ])),
        vec!["aa", "bb"]
    );
    assert_eq!(
        served_thumbprints(&issuer(vec![
            vec![private],
            vec![endpoint(
                "192.0.2.4:443",
                &["x", "cc"],
                ChainVerdict::Trusted,
                false
            )]
        ])),
        vec!["bb", "cc"]
    );
}

#[test]
fn a_publicly_anchored_chain_is_enforced_when_an_address_accepts_only_tls13() {
    let public = endpoint("192.0.2.1:443", &["aa"], ChainVerdict::Trusted, true);
    let tls13 = EndpointProbe {
        tls13_only: true,
        ..endpoint("192.0.2.2:443", &["aa"], ChainVerdict::Trusted, true)
    };
    assert!(!thumbprint_enforced(&issuer(vec![vec![public.clone()]])));
    // Same public chain, one address refusing TLS 1.2: IAM falls back to the thumbprint.
    let probe = issuer(vec![vec![public.clone(), tls13.clone()]]);
    assert!(thumbprint_enforced(&probe));
    let enforcement = thumbprint_enforcement(&probe);
    assert_eq!(
        enforcement,
        Enforcement {
            private_anchor: vec![],
            tls13_only: vec!["192.0.2.2:443".parse().unwrap()],
            no_chain: false,
        }
    );
    let why = enforcement.to_string();
    assert!(
        why.starts_with("192.0.2.2:443 accepts only TLS 1.3 (it refused a TLS 1.2 handshake)"),
        "{why}"
    );
    assert!(why.contains("\"if TLS v1.3 is required\""), "{why}");
    assert!(!why.contains("public root"), "{why}");
    // On the JWKS host alone it counts too.
    assert!(thumbprint_enforced(&issuer(vec![
        vec![public.clone()],
        vec![tls13.clone()]
    ])));
    // Both reasons at once are both named.
    let private = endpoint("192.0.2.3:443", &["bb"], ChainVerdict::Trusted, false);
    let both = thumbprint_enforcement(&issuer(vec![vec![private], vec![tls13]])).to_string();
    assert!(
        both.starts_with("the chain served at 192.0.2.3:443 does not anchor in a public root CA"),
        "{both}"
    );
    assert!(
        both.contains("; and 192.0.2.2:443 accepts only TLS 1.3"),
        "{both}"
    );
    assert_eq!(
        thumbprint_enforcement(&issuer(vec![vec![public]])).to_string(),
        ""
    );
}

#[test]
fn report_endpoint_carries_host_serves_top_thumbprint_and_reason() {
    let untrusted = endpoint(
        "[2001:db8::1]:443",
        &["leaf", "top"],
        ChainVerdict::Untrusted("unknown issuer".into()),
        false,
    );
    let shown = report::Endpoint::from(&untrusted);
    assert!(!shown.tls13_only);
    assert!(
        report::Endpoint::from(&EndpointProbe {
            tls13_only: true,
            ..untrusted.clone()
        })
        .tls13_only
    );
    assert_eq!(shown.address, "[2001:db8::1]:443");
    assert_eq!(shown.top_thumbprint.as_deref(), Some("top"));
    assert!(!shown.trusted);
    assert_eq!(shown.error.as_deref(), Some("unknown issuer"));
    let mut probe = issuer(vec![
        vec![untrusted],
        vec![endpoint(
            "192.0.2.1:443",
            &["a"],
            ChainVerdict::Trusted,
            false,
        )],
    ]);
    probe.hosts[0].serves = vec![Fetch::Discovery];
    probe.hosts[1].serves = vec![Fetch::Jwks];
    let shown = probe.report_endpoints();
    assert_eq!(shown.len(), 2);
    assert_eq!(
        (shown[0].host.as_str(), shown[0].serves.as_slice()),
        ("h0:443", &[Fetch::Discovery][..])
    );
    assert_eq!(
        (shown[1].host.as_str(), shown[1].serves.as_slice()),
        ("h1:443", &[Fetch::Jwks][..])
    );
    assert!(shown[1].trusted && shown[1].error.is_none());
}

#[test]
fn failures_give_their_codes() {
    let issue = ProbeIssue::new(
        ProbeFailure::Unreachable { step: Step::Jwks },
        "x".repeat(5000),
        serde_json::json!({}),
    );
    assert_eq!(issue.code(), FindingCode::IssuerUnreachable);
    assert!(issue.message.chars().count() <= report::ISSUER_TEXT_MAX);
    assert_eq!(
        ProbeFailure::DiscoveryInvalid {
            problem: DiscoveryProblem::BadIssuerUrl
        }
        .code(),
        FindingCode::DiscoveryInvalid
    );
    assert_eq!(
        ProbeFailure::Refused { address: None }.code(),
        FindingCode::AddressRefused
    );
    assert_eq!(
        ProbeFailure::JwksInvalid {
            problem: JwksProblem::NoUsableKey
        }
        .code(),
        FindingCode::JwksInvalid
    );
}
