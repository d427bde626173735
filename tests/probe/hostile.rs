//! Hostile issuers: stalls, credentials in the URL, unparseable and unrelated certificates.

use super::*;

/// An issuer that stays just inside every step's limit (each TLS handshake and each response
/// 0.8 × PROBE_TIMEOUT_SECS, JWKS on a second host) is cut off at 3 × PROBE_TIMEOUT_SECS and
/// reported unreachable, naming the step that was still running, not healthy.
#[tokio::test]
async fn a_whole_issuer_probe_is_bounded_by_three_timeouts() {
    let lab = Lab::with(|c| c.probe_timeout = Duration::from_secs(1));
    let issuer = IssuerServer::start(lab.ca.chain(ChainSpec::default())).await;
    let keys = IssuerServer::start(lab.ca.chain(ChainSpec::default())).await;
    issuer.set_jwks_uri(Some(keys.jwks_url()));
    for server in [&issuer, &keys] {
        server.set_delay(Duration::from_millis(800));
    }
    let (probe, findings) = lab.probe(&issuer.url()).await;
    let cut = findings
        .iter()
        .find(|f| f.code == IssuerUnreachable && f.message.contains("3 × PROBE_TIMEOUT_SECS"))
        .unwrap_or_else(|| panic!("no bound finding in {findings:#?}"));
    assert!(cut.message.contains("still running"), "{}", cut.message);
    let step = cut.details["step"].as_str().unwrap_or_default();
    assert!(
        ["jwks_host", "jwks"].contains(&step),
        "{step}: {}",
        cut.message
    );
    assert_eq!(probe.jwks_keys, None, "the JWKS never arrived");
    // What was learned before the cut is kept: the issuer host's chain.
    assert!(!endpoints(&probe).is_empty());
}

/// A provider URL with credentials, a query or a fragment is DISCOVERY_INVALID and the issuer
/// sees no connection at all; the password is never echoed.
#[tokio::test]
async fn credentials_query_or_fragment_in_the_url_fetch_nothing() {
    let lab = Lab::new();
    let server = IssuerServer::start(lab.ca.chain(ChainSpec::default())).await;
    let port = server.port();
    for url in [
        format!("https://user:s3cr3t@127.0.0.1:{port}/id/X"),
        format!("https://127.0.0.1:{port}/id/X?token=1"),
        format!("https://127.0.0.1:{port}/id/X#frag"),
    ] {
        let (probe, findings) = lab.probe(&url).await;
        assert_eq!(
            codes(&findings),
            vec![DiscoveryInvalid],
            "{url}: {findings:#?}"
        );
        assert!(endpoints(&probe).is_empty(), "{url}");
        for finding in &findings {
            assert!(!finding.message.contains("s3cr3t"), "{}", finding.message);
            assert!(!finding.details.to_string().contains("s3cr3t"));
        }
    }
    assert_eq!(server.connections(), 0, "nothing was fetched");
}

/// A served certificate that cannot be parsed (random bytes after a valid chain): CHAIN_UNTRUSTED
/// "cannot be parsed", its SHA-1 still captured, its dates null, and no CERT_EXPIRED; the bytes
/// are an extra certificate after the chain, so CHAIN_ORDER as well.
#[tokio::test]
async fn an_unparseable_served_certificate_is_untrusted_with_its_thumbprint_and_no_dates() {
    let lab = Lab::new();
    let mut chain = lab.ca.chain(ChainSpec::default());
    let garbage: Vec<u8> = (0u8..=200).map(|b| b.wrapping_mul(37)).collect();
    chain
        .certs
        .push(rustls_pki_types::CertificateDer::from(garbage.clone()));
    let server = IssuerServer::start(chain).await;
    let (probe, findings) = lab.probe(&server.url()).await;
    let untrusted = find(&findings, ChainUntrusted);
    assert!(
        untrusted.message.contains("cannot be parsed"),
        "{}",
        untrusted.message
    );
    assert_eq!(
        codes(&findings),
        vec![ChainUntrusted, ChainOrder],
        "{findings:#?}"
    );
    let endpoint = endpoints(&probe)[0];
    let last = endpoint.chain.last().expect("the garbage was captured");
    assert_eq!(last.sha1, sha1_hex(&garbage));
    assert_eq!((last.not_before, last.not_after), (None, None));
    assert_eq!(endpoint.top_thumbprint(), Some(last.sha1.as_str()));
}

/// A valid chain with an unrelated CA certificate appended: reported (its thumbprint is the served
/// top), but the chain is not contiguous (CHAIN_ORDER), so add-mode remediation skips it and says
/// which certificate breaks the chain.
#[tokio::test]
async fn an_unrelated_certificate_appended_to_a_valid_chain_is_never_added() {
    use thumbprint_guard::config::{HostGlobs, RemediationMode};
    use thumbprint_guard::inventory::OidcProvider;
    use thumbprint_guard::remediate::{decide, Decision, SkipReason};

    let lab = Lab::new();
    let other = TestCa::new("unrelated");
    let mut chain = lab.ca.chain(ChainSpec::default());
    chain.certs.push(other.der().clone());
    let server = IssuerServer::start(chain.clone()).await;
    let (probe, findings) = lab.probe(&server.url()).await;
    assert_eq!(codes(&findings), vec![ChainOrder], "{findings:#?}");
    let endpoint = endpoints(&probe)[0];
    let broken = endpoint
        .contiguity
        .as_ref()
        .expect_err("the appended certificate breaks the chain");
    assert_eq!(broken.index, 2, "{broken}");
    assert_eq!(endpoint.top_thumbprint(), Some(other.sha1().as_str()));

    let provider = OidcProvider {
        arn: "arn:aws:iam::123456789012:oidc-provider/127.0.0.1/id/X".into(),
        url: server.url(),
        client_ids: vec!["sts.amazonaws.com".into()],
        thumbprints: vec!["0".repeat(40)],
        tags: Default::default(),
    };
    let config = Config {
        remediation_mode: RemediationMode::Add,
        remediation_allowed_hosts: HostGlobs::parse("127.0.0.1").expect("glob"),
        ..Config::default()
    };
    let missing = thumbprint_guard::assess::missing_thumbprints(&provider, &probe);
    let decision = decide(&provider, &probe, &missing, &config);
    match &decision {
        Decision::Skip {
            reason: reason @ SkipReason::NotContiguous { .. },
            ..
        } => assert!(
            reason
                .to_string()
                .starts_with("CHAIN_ORDER: the chain served at 127.0.0.1:"),
            "{reason}"
        ),
        other => panic!("expected a non-contiguous skip, got {other:?}"),
    }
}
