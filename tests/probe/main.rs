//! End-to-end probes of local TLS issuers (tests/support/issuer.rs): every thumbprint is
//! cross-checked against the SHA-1 of the DER rcgen generated, never against the probe's own output.

#[path = "../support/mod.rs"]
mod support;

use std::net::IpAddr;
use std::time::Duration;

use serde_json::json;
use support::issuer::{
    pair_addresses, probe_config, sha1_hex, Blackhole, ChainSpec, IssuerServer, Reply, TestCa,
    TrustFile, PAIR_HOST,
};
use thumbprint_guard::assess::chain::issuer_findings;
use thumbprint_guard::config::Config;
use thumbprint_guard::probe::{
    probe_issuer, served_thumbprints, thumbprint_enforced, ChainVerdict, EndpointProbe, HostCache,
    HostProbe, IssuerProbe, ProbeContext,
};
use thumbprint_guard::report::{Finding, FindingCode};
use time::OffsetDateTime;

use FindingCode::*;

/// One trusted CA, its anchors file and a probe context that trusts it.
struct Lab {
    ca: TestCa,
    _trust: TrustFile,
    ctx: ProbeContext,
}

impl Lab {
    fn new() -> Lab {
        Self::with(|_| {})
    }

    fn with(adjust: impl FnOnce(&mut Config)) -> Lab {
        let ca = TestCa::new("trusted");
        let trust = TrustFile::new(&[&ca]);
        let mut config = probe_config(&trust);
        adjust(&mut config);
        let ctx = ProbeContext::new(&config).expect("probe context");
        Lab {
            ca,
            _trust: trust,
            ctx,
        }
    }

    /// This lab with `host` pinned to `addresses` in its probe context.
    fn pinned(self, host: &str, addresses: Vec<IpAddr>) -> Lab {
        let Lab { ca, _trust, ctx } = self;
        let ctx = ctx.with_resolve(host, addresses).expect("pin the host");
        Lab { ca, _trust, ctx }
    }

    async fn probe(&self, issuer: &str) -> (IssuerProbe, Vec<Finding>) {
        let cache = HostCache::new();
        let probe = probe_issuer(&self.ctx, issuer, &cache).await;
        let findings = issuer_findings(issuer, &probe, 30, OffsetDateTime::now_utc());
        (probe, findings)
    }
}

fn codes(findings: &[Finding]) -> Vec<FindingCode> {
    let mut codes: Vec<FindingCode> = findings.iter().map(|f| f.code).collect();
    codes.sort();
    codes
}

fn find(findings: &[Finding], code: FindingCode) -> &Finding {
    findings
        .iter()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("no {code} in {findings:#?}"))
}

/// The probed host serving the JWKS (the issuer's host when discovery failed).
fn host(probe: &IssuerProbe) -> &HostProbe {
    probe.hosts.last().expect("a probed host")
}

/// Every probed address, both hosts.
fn endpoints(probe: &IssuerProbe) -> Vec<&EndpointProbe> {
    probe.endpoints().map(|(_, e)| e).collect()
}

/// The single endpoint's top thumbprint, asserting the chain was captured as served.
fn top_of(probe: &IssuerProbe, served: usize) -> String {
    assert_eq!(endpoints(probe).len(), 1, "{probe:#?}");
    let endpoint = endpoints(probe)[0];
    assert_eq!(endpoint.chain.len(), served, "{endpoint:#?}");
    endpoint.top_thumbprint().expect("a chain").to_string()
}

#[tokio::test]
async fn leaf_and_intermediate_thumbprint_is_the_intermediate() {
    let lab = Lab::new();
    let chain = lab.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    let (probe, findings) = lab.probe(&server.url()).await;

    assert_eq!(codes(&findings), vec![], "{findings:#?}");
    let intermediate = sha1_hex(&chain.certs[1]);
    assert_eq!(top_of(&probe, 2), intermediate);
    assert_ne!(intermediate, chain.leaf_sha1());
    assert_eq!(host(&probe).endpoints[0].chain[0].sha1, chain.leaf_sha1());
    assert_eq!(host(&probe).endpoints[0].verdict, ChainVerdict::Trusted);
    assert_eq!(host(&probe).endpoints[0].error, None);
    assert_eq!(probe.jwks_uri.as_deref(), Some(server.jwks_url().as_str()));
    assert_eq!(probe.jwks_keys, Some(1));
    assert_eq!(served_thumbprints(&probe), vec![intermediate]);
    // A private CA: IAM cannot anchor it in its root library, so the thumbprint matters.
    assert!(!host(&probe).endpoints[0].publicly_anchored);
    assert!(thumbprint_enforced(&probe));
    let leaf = &host(&probe).endpoints[0].chain[0];
    assert!(leaf.subject.contains("CN=127.0.0.1"), "{leaf:?}");
    assert!(leaf.issuer.contains("intermediate"), "{leaf:?}");
}

#[tokio::test]
async fn full_chain_thumbprint_is_the_root() {
    let lab = Lab::new();
    let chain = lab.ca.chain(ChainSpec::full());
    let server = IssuerServer::start(chain.clone()).await;
    let (probe, findings) = lab.probe(&server.url()).await;

    assert_eq!(codes(&findings), vec![], "{findings:#?}");
    assert_eq!(top_of(&probe, 3), lab.ca.sha1());
    assert_eq!(sha1_hex(lab.ca.der()), chain.top_sha1());
}

#[tokio::test]
async fn leaf_only_thumbprint_is_the_leaf() {
    let lab = Lab::new();
    let chain = lab.ca.chain(ChainSpec::leaf_only());
    let server = IssuerServer::start(chain.clone()).await;
    let (probe, findings) = lab.probe(&server.url()).await;

    assert_eq!(codes(&findings), vec![], "{findings:#?}");
    assert_eq!(top_of(&probe, 1), chain.leaf_sha1());
}

#[tokio::test]
async fn the_jwks_host_chain_wins_over_the_issuer_host() {
    let lab = Lab::new();
    let issuer_chain = lab.ca.chain(ChainSpec::default());
    let keys_chain = lab.ca.chain(ChainSpec::full());
    let issuer = IssuerServer::start(issuer_chain.clone()).await;
    let keys = IssuerServer::start(keys_chain.clone()).await;
    issuer.set_jwks_uri(Some(keys.jwks_url()));
    let (probe, findings) = lab.probe(&issuer.url()).await;

    assert_eq!(codes(&findings), vec![], "{findings:#?}");
    assert_eq!(host(&probe).authority, format!("127.0.0.1:{}", keys.port()));
    // Both hosts count: the issuer's chain first, then the JWKS host's.
    assert_eq!(
        served_thumbprints(&probe),
        vec![issuer_chain.top_sha1(), keys_chain.top_sha1()]
    );
    assert_eq!(
        host(&probe).endpoints[0].top_thumbprint(),
        Some(keys_chain.top_sha1().as_str())
    );
    assert_eq!(issuer.connections(), 1);
    assert_eq!(keys.connections(), 1);
    assert_ne!(keys_chain.top_sha1(), issuer_chain.top_sha1());
    assert_eq!(probe.jwks_keys, Some(1));
    assert_eq!(keys.requests(), vec!["/keys"]);
}

#[tokio::test]
async fn expired_intermediate_is_cert_expired_with_the_chain_captured() {
    let lab = Lab::new();
    let chain = lab.ca.chain(ChainSpec::expired_intermediate());
    let server = IssuerServer::start(chain.clone()).await;
    let (probe, findings) = lab.probe(&server.url()).await;

    // One cause, one finding: the expired chain says that discovery was not fetched.
    assert_eq!(codes(&findings), vec![CertExpired], "{findings:#?}");
    let intermediate = sha1_hex(&chain.certs[1]);
    assert_eq!(top_of(&probe, 2), intermediate);
    assert!(matches!(
        host(&probe).endpoints[0].verdict,
        ChainVerdict::Expired(_)
    ));
    let expired = find(&findings, CertExpired);
    assert_eq!(expired.details["sha1"], intermediate);
    assert!(expired.details["days_left"].as_i64().unwrap() < 0);
    assert_eq!(expired.details["not_fetched"], json!(["discovery", "jwks"]));
    // Nothing was fetched from an unverified peer.
    assert_eq!(server.requests(), Vec::<String>::new());
}

/// WebPKI builds leaf → intermediate → trusted root and ignores the expired root copy served
/// after them; the handshake succeeds. That copy is still served, and it is the top certificate
/// (its thumbprint is the one that would be added), so the endpoint is not trusted.
#[tokio::test]
async fn an_expired_certificate_served_beyond_a_valid_path_is_cert_expired() {
    let lab = Lab::new();
    let chain = lab.ca.chain(ChainSpec::expired_root_appended());
    assert_eq!(chain.certs.len(), 3);
    let server = IssuerServer::start(chain.clone()).await;
    let (probe, findings) = lab.probe(&server.url()).await;

    let expired_root = chain.top_sha1();
    assert_eq!(top_of(&probe, 3), expired_root);
    assert_ne!(expired_root, lab.ca.sha1());
    let endpoint = &host(&probe).endpoints[0];
    let ChainVerdict::Expired(reason) = &endpoint.verdict else {
        panic!("expected an expired verdict: {endpoint:#?}");
    };
    assert!(reason.contains(&expired_root), "{reason}");
    assert!(reason.contains("test root trusted"), "{reason}");
    assert!(reason.contains("expired"), "{reason}");
    assert_eq!(endpoint.error, None, "the handshake itself succeeded");
    assert!(!thumbprint_guard::report::Endpoint::from(endpoint).trusted);

    // CERT_EXPIRED names the served root copy and says the JWKS was not fetched from a chain we
    // do not trust (discovery was: WebPKI accepts the host); no JWKS_INVALID repeats it.
    assert_eq!(codes(&findings), vec![CertExpired], "{findings:#?}");
    let expired = find(&findings, CertExpired);
    assert_eq!(expired.details["sha1"], expired_root);
    assert_eq!(expired.details["not_fetched"], json!(["jwks"]));
    assert!(expired.details["days_left"].as_i64().unwrap() < 0);
    assert_eq!(server.requests(), vec!["/.well-known/openid-configuration"]);
}

#[tokio::test]
async fn certificate_expiring_in_ten_days_is_cert_expiring() {
    let lab = Lab::new();
    let chain = lab.ca.chain(ChainSpec::leaf_expiring_in(10));
    let server = IssuerServer::start(chain.clone()).await;
    let (probe, findings) = lab.probe(&server.url()).await;

    assert_eq!(codes(&findings), vec![CertExpiring], "{findings:#?}");
    let expiring = find(&findings, CertExpiring);
    assert_eq!(expiring.details["sha1"], chain.leaf_sha1());
    let days_left = expiring.details["days_left"].as_i64().unwrap();
    assert!((9..=10).contains(&days_left), "{days_left}");
    assert_eq!(top_of(&probe, 2), chain.top_sha1());
}

#[tokio::test]
async fn unknown_ca_is_chain_untrusted_with_the_chain_captured() {
    let lab = Lab::new();
    let stranger = TestCa::new("unknown");
    let chain = stranger.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    let (probe, findings) = lab.probe(&server.url()).await;

    // One cause, one finding: no DISCOVERY_INVALID beside the chain that kept it from being fetched.
    assert_eq!(codes(&findings), vec![ChainUntrusted], "{findings:#?}");
    assert_eq!(top_of(&probe, 2), chain.top_sha1());
    let untrusted = find(&findings, ChainUntrusted);
    assert_eq!(untrusted.details["top_thumbprint"], chain.top_sha1());
    assert!(
        untrusted.details["reason"]
            .as_str()
            .unwrap()
            .contains("unknown issuer"),
        "{untrusted:?}"
    );
    assert!(
        untrusted
            .message
            .ends_with("so the discovery document and the JWKS were not fetched"),
        "{}",
        untrusted.message
    );
    assert_eq!(
        untrusted.details["not_fetched"],
        json!(["discovery", "jwks"])
    );
    assert_eq!(server.requests(), Vec::<String>::new());
}

#[tokio::test]
async fn wrong_host_name_is_chain_untrusted() {
    let lab = Lab::new();
    let chain = lab.ca.chain(ChainSpec::named("oidc.other.example"));
    let server = IssuerServer::start(chain.clone()).await;
    let (probe, findings) = lab.probe(&server.url()).await;

    assert_eq!(codes(&findings), vec![ChainUntrusted], "{findings:#?}");
    assert_eq!(top_of(&probe, 2), chain.top_sha1());
    let reason = find(&findings, ChainUntrusted).details["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("not valid for"), "{reason}");
}

/// A discovery reply that must give exactly one DISCOVERY_INVALID and probe no JWKS host.
async fn assert_discovery_invalid(reply: impl FnOnce(&IssuerServer) -> Reply, expect: &str) {
    let lab = Lab::new();
    let server = IssuerServer::start(lab.ca.chain(ChainSpec::default())).await;
    server.set_discovery(reply(&server));
    let (probe, findings) = lab.probe(&server.url()).await;

    assert_eq!(codes(&findings), vec![DiscoveryInvalid], "{findings:#?}");
    let message = &find(&findings, DiscoveryInvalid).message;
    assert!(message.contains(expect), "{message}");
    // Only the issuer's host was probed (for discovery); no JWKS host.
    assert_eq!(probe.hosts.len(), 1, "{probe:#?}");
    assert_eq!(
        probe.hosts[0].serves,
        vec![thumbprint_guard::report::Fetch::Discovery]
    );
    assert_eq!(probe.jwks_uri, None);
    assert_eq!(server.requests(), vec!["/.well-known/openid-configuration"]);
}

#[tokio::test]
async fn issuer_mismatch_is_discovery_invalid() {
    assert_discovery_invalid(
        |s| Reply::Json(json!({"issuer": "https://elsewhere.example", "jwks_uri": s.jwks_url()})),
        "https://elsewhere.example",
    )
    .await;
}

#[tokio::test]
async fn missing_jwks_uri_is_discovery_invalid() {
    assert_discovery_invalid(|s| Reply::Json(json!({"issuer": s.url()})), "jwks_uri").await;
}

#[tokio::test]
async fn plain_http_jwks_uri_is_discovery_invalid() {
    assert_discovery_invalid(
        |s| {
            Reply::Json(json!({"issuer": s.url(), "jwks_uri": format!("http://{}/keys", s.addr())}))
        },
        "https",
    )
    .await;
}

#[tokio::test]
async fn not_found_is_discovery_invalid() {
    assert_discovery_invalid(|_| Reply::Status(404), "404").await;
}

#[tokio::test]
async fn non_json_is_discovery_invalid() {
    assert_discovery_invalid(
        |_| Reply::Body {
            status: 200,
            content_type: "text/html".into(),
            body: b"<html>hello</html>".to_vec(),
        },
        "JSON",
    )
    .await;
}

#[tokio::test]
async fn redirect_is_discovery_invalid_and_not_followed() {
    assert_discovery_invalid(
        |_| Reply::Redirect("https://elsewhere.example/.well-known/openid-configuration".into()),
        "redirecting to https://elsewhere.example/",
    )
    .await;
}

#[tokio::test]
async fn oversized_discovery_is_discovery_invalid() {
    assert_discovery_invalid(|_| Reply::Oversized, "65536 bytes").await;
}

#[tokio::test]
async fn silent_server_is_issuer_unreachable_within_the_timeout() {
    let lab = Lab::with(|c| c.probe_timeout = Duration::from_secs(1));
    let blackhole = Blackhole::start().await;
    let (probe, findings) = lab.probe(&blackhole.url()).await;

    assert_eq!(codes(&findings), vec![IssuerUnreachable], "{findings:#?}");
    assert!(find(&findings, IssuerUnreachable)
        .message
        .contains("timed out"));
    // The one address was reached over TCP and never completed a handshake: no chain.
    assert!(endpoints(&probe)
        .iter()
        .all(|e| e.chain.is_empty() && e.error.is_some()));
    assert!(blackhole.connections() >= 1);
}

#[tokio::test]
async fn jwks_without_keys_is_jwks_invalid() {
    let lab = Lab::new();
    let chain = lab.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    server.set_jwks(Reply::Json(json!({"keys": []})));
    let (probe, findings) = lab.probe(&server.url()).await;

    assert_eq!(codes(&findings), vec![JwksInvalid], "{findings:#?}");
    assert_eq!(probe.jwks_keys, Some(0));
    // The chain is still reported: the JWKS host was probed.
    assert_eq!(top_of(&probe, 2), chain.top_sha1());
}

#[tokio::test]
async fn jwks_not_found_is_jwks_invalid() {
    let lab = Lab::new();
    let server = IssuerServer::start(lab.ca.chain(ChainSpec::default())).await;
    server.set_jwks(Reply::Status(500));
    let (_, findings) = lab.probe(&server.url()).await;

    assert_eq!(codes(&findings), vec![JwksInvalid], "{findings:#?}");
    assert!(find(&findings, JwksInvalid).message.contains("500"));
}

#[tokio::test]
async fn loopback_without_allow_private_is_refused_without_connecting() {
    let lab = Lab::with(|c| c.allow_private_addresses = false);
    let server = IssuerServer::start(lab.ca.chain(ChainSpec::default())).await;
    let (probe, findings) = lab.probe(&server.url()).await;

    assert_eq!(codes(&findings), vec![AddressRefused], "{findings:#?}");
    assert!(find(&findings, AddressRefused)
        .message
        .contains("ALLOW_PRIVATE_ADDRESSES"));
    assert!(endpoints(&probe).is_empty());
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn issuers_sharing_a_jwks_host_probe_it_once() {
    let lab = Lab::new();
    let chain = lab.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    let cache = HostCache::new();
    let one = server.issuer_url("/id/ONE");
    let two = server.issuer_url("/id/TWO");
    let (a, b) = tokio::join!(
        probe_issuer(&lab.ctx, &one, &cache),
        probe_issuer(&lab.ctx, &two, &cache)
    );

    assert_eq!(cache.len(), 1);
    assert_eq!(a.hosts, b.hosts);
    assert_eq!(a.jwks_uri, Some(format!("{one}/keys")));
    assert_eq!(top_of(&a, 2), chain.top_sha1());
    let now = OffsetDateTime::now_utc();
    assert!(issuer_findings(&one, &a, 30, now).is_empty());
    assert!(issuer_findings(&two, &b, 30, now).is_empty());
    // 2 discovery + 2 JWKS fetches + 1 TLS probe (not 2).
    assert!(server.connections() <= 5, "{}", server.connections());
}

#[tokio::test]
async fn rotation_shows_the_new_thumbprint() {
    let lab = Lab::new();
    let before = lab.ca.chain(ChainSpec::default());
    let after = lab.ca.chain(ChainSpec::full());
    let server = IssuerServer::start(before.clone()).await;
    let (probe, _) = lab.probe(&server.url()).await;
    assert_eq!(top_of(&probe, 2), before.top_sha1());

    server.rotate(after.clone());
    let (probe, findings) = lab.probe(&server.url()).await;
    assert_eq!(codes(&findings), vec![], "{findings:#?}");
    assert_eq!(top_of(&probe, 3), after.top_sha1());
}

#[tokio::test]
async fn two_addresses_of_one_host_are_two_endpoints_with_their_own_thumbprints() {
    let lab = Lab::new().pinned(PAIR_HOST, pair_addresses());
    let first = lab.ca.chain(ChainSpec::named(PAIR_HOST));
    let second = lab.ca.chain(ChainSpec::named(PAIR_HOST));
    assert_ne!(first.top_sha1(), second.top_sha1());
    let (one, two) = IssuerServer::start_pair(PAIR_HOST, first.clone(), second.clone()).await;
    let port = one.port();
    let issuer = one.issuer_url("/id/PAIR");
    assert_eq!(issuer, format!("https://issuer.test:{port}/id/PAIR"));
    let (probe, findings) = lab.probe(&issuer).await;

    assert_eq!(codes(&findings), vec![], "{findings:#?}");
    assert_eq!(host(&probe).authority, format!("issuer.test:{port}"));
    assert_eq!(probe.jwks_uri, Some(format!("{issuer}/keys")));
    assert_eq!(probe.jwks_keys, Some(1));
    // One endpoint per pinned address, each with the intermediate its backend serves.
    let served: Vec<(String, String)> = host(&probe)
        .endpoints
        .iter()
        .map(|e| {
            let top = e.top_thumbprint().expect("a chain").to_string();
            (e.address.to_string(), top)
        })
        .collect();
    assert_eq!(
        served,
        vec![
            (format!("127.0.0.1:{port}"), sha1_hex(&first.certs[1])),
            (format!("127.0.0.2:{port}"), sha1_hex(&second.certs[1])),
        ]
    );
    for (endpoint, chain) in host(&probe).endpoints.iter().zip([&first, &second]) {
        assert_eq!(endpoint.verdict, ChainVerdict::Trusted, "{endpoint:#?}");
        assert_eq!(endpoint.error, None);
        assert_eq!(endpoint.chain.len(), 2);
        assert_eq!(endpoint.chain[0].sha1, chain.leaf_sha1());
    }
    assert_eq!(
        served_thumbprints(&probe),
        vec![first.top_sha1(), second.top_sha1()]
    );
    // The TLS probe reached both backends; the fetches, through the same pin (issuer.test has no
    // DNS), found the discovery document and the JWKS.
    assert!(one.connections() >= 1 && two.connections() >= 1);
    let requests = [one.requests(), two.requests()].concat();
    for path in ["/id/PAIR/.well-known/openid-configuration", "/id/PAIR/keys"] {
        assert!(
            requests.iter().any(|r| r == path),
            "{path} not in {requests:?}"
        );
    }
}

mod hostile;
mod order;
