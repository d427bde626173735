//! What STS and IAM check that a browser does not: the served order (CHAIN_ORDER) and the TLS
//! versions an address takes (the probe offers TLS 1.2 first, as IAM does; an address that accepts
//! only TLS 1.3 makes IAM rely on the thumbprint).

use super::*;
use rustls::ProtocolVersion;
use support::issuer::Order;
use thumbprint_guard::probe::{thumbprint_enforcement, BreakReason};
use thumbprint_guard::report::Severity;

/// The three malformed chains of the IAM user guide, each served by a local issuer: one
/// CHAIN_ORDER, critical, naming the position that breaks and the served top (the SHA-1 of rcgen's
/// DER); the handshake and the fetches still succeed, as WebPKI builds a path from any order.
#[tokio::test]
async fn chains_out_of_order_with_a_duplicate_or_an_extra_certificate_are_chain_order() {
    let lab = Lab::new();
    for (order, position, reason) in [
        (
            Order::LeafRootIntermediate,
            2,
            BreakReason::OutOfOrder { issuer: 2 },
        ),
        (
            Order::IntermediateTwice,
            3,
            BreakReason::Repeated { first: 1 },
        ),
        (Order::UnrelatedAppended, 3, BreakReason::Extra),
    ] {
        let chain = lab.ca.chain(ChainSpec::ordered(order));
        assert_eq!(chain.certs.len(), 3, "{order:?}");
        let server = IssuerServer::start(chain.clone()).await;
        let (probe, findings) = lab.probe(&server.url()).await;

        assert_eq!(
            codes(&findings),
            vec![ChainOrder],
            "{order:?}: {findings:#?}"
        );
        let finding = &findings[0];
        assert_eq!(finding.severity, Severity::Critical);
        assert_eq!(finding.details["position"], position, "{order:?}");
        assert_eq!(finding.details["top_thumbprint"], chain.top_sha1());
        assert_eq!(finding.details["served_chain"], json!(chain.sha1s()));
        assert_eq!(
            finding.details["addresses"],
            json!([server.addr().to_string()])
        );
        assert!(
            finding
                .message
                .contains("STS fails to validate the JSON Web Token"),
            "{}",
            finding.message
        );
        let endpoint = endpoints(&probe)[0];
        assert_eq!(endpoint.contiguity.map_err(|b| b.reason), Err(reason));
        assert_eq!(endpoint.verdict, ChainVerdict::Trusted, "{order:?}");
        assert_eq!(top_of(&probe, 3), chain.top_sha1());
        assert_eq!(probe.jwks_keys, Some(1), "{order:?}");
    }
}

/// The leaf alone, leaf + intermediate, and a chain ending with its self-signed root are served
/// in order: no finding at all.
#[tokio::test]
async fn well_formed_chains_with_or_without_their_root_are_clean() {
    let lab = Lab::new();
    for spec in [
        ChainSpec::leaf_only(),
        ChainSpec::default(),
        ChainSpec::full(),
    ] {
        let chain = lab.ca.chain(spec.clone());
        let server = IssuerServer::start(chain.clone()).await;
        let (probe, findings) = lab.probe(&server.url()).await;
        assert_eq!(codes(&findings), vec![], "{spec:?}: {findings:#?}");
        assert_eq!(endpoints(&probe)[0].contiguity, Ok(()), "{spec:?}");
        assert_eq!(top_of(&probe, chain.certs.len()), chain.top_sha1());
    }
    assert_eq!(
        lab.ca.chain(ChainSpec::full()).top_sha1(),
        sha1_hex(lab.ca.der())
    );
}

/// Two addresses of one host serving the same chain out of order are one CHAIN_ORDER listing
/// both, not one per address.
#[tokio::test]
async fn one_chain_out_of_order_on_every_address_of_a_host_is_one_finding() {
    let lab = Lab::new().pinned(PAIR_HOST, pair_addresses());
    let chain = lab.ca.chain(ChainSpec {
        order: Order::IntermediateTwice,
        ..ChainSpec::named(PAIR_HOST)
    });
    let (one, two) = IssuerServer::start_pair(PAIR_HOST, chain.clone(), chain.clone()).await;
    let (_probe, findings) = lab.probe(&one.issuer_url("/id/PAIR")).await;

    assert_eq!(codes(&findings), vec![ChainOrder], "{findings:#?}");
    assert_eq!(
        findings[0].details["addresses"],
        json!([one.addr().to_string(), two.addr().to_string()])
    );
    assert_eq!(findings[0].details["top_thumbprint"], chain.top_sha1());
}

/// An issuer that refuses TLS 1.2 (a TLS 1.3-only security policy): one refused TLS 1.2
/// handshake, then one TLS 1.3 handshake on a new connection that carries the fetches. The
/// endpoint is `tls13_only` and the thumbprint is enforced because of it.
#[tokio::test]
async fn a_tls13_only_issuer_is_tls13_only_and_enforced_after_one_more_handshake() {
    let lab = Lab::new();
    let chain = lab.ca.chain(ChainSpec::default());
    let server = IssuerServer::start_tls13_only(chain.clone()).await;
    let (probe, findings) = lab.probe(&server.url()).await;

    assert_eq!(codes(&findings), vec![], "{findings:#?}");
    let endpoint = endpoints(&probe)[0];
    assert!(endpoint.tls13_only, "{endpoint:#?}");
    assert_eq!(endpoint.verdict, ChainVerdict::Trusted);
    assert_eq!(endpoint.error, None);
    assert_eq!(top_of(&probe, 2), chain.top_sha1());
    assert_eq!(probe.jwks_keys, Some(1));
    assert!(thumbprint_enforced(&probe));
    assert_eq!(
        thumbprint_enforcement(&probe).tls13_only,
        vec![server.addr()]
    );
    assert!(probe.report_endpoints()[0].tls13_only);
    assert_eq!(server.connections(), 2, "one refused, one accepted");
    assert_eq!(server.handshakes(), 1);
    assert_eq!(server.versions(), vec![ProtocolVersion::TLSv1_3]);
}

/// An issuer that takes TLS 1.2 and 1.3, on two addresses: each is handshaken exactly once,
/// over TLS 1.2 (what IAM's certificate retrieval speaks), and neither is `tls13_only`.
#[tokio::test]
async fn an_issuer_taking_both_versions_costs_one_tls12_handshake_per_address() {
    let lab = Lab::new().pinned(PAIR_HOST, pair_addresses());
    let first = lab.ca.chain(ChainSpec::named(PAIR_HOST));
    let second = lab.ca.chain(ChainSpec::named(PAIR_HOST));
    let (one, two) = IssuerServer::start_pair(PAIR_HOST, first, second).await;
    let (probe, findings) = lab.probe(&one.issuer_url("/id/PAIR")).await;

    assert_eq!(codes(&findings), vec![], "{findings:#?}");
    assert_eq!(endpoints(&probe).len(), 2);
    assert!(endpoints(&probe).iter().all(|e| !e.tls13_only));
    assert!(probe.report_endpoints().iter().all(|e| !e.tls13_only));
    assert_eq!(thumbprint_enforcement(&probe).tls13_only, vec![]);
    for server in [&one, &two] {
        assert_eq!(server.connections(), 1, "{}", server.addr());
        assert_eq!(server.handshakes(), 1, "{}", server.addr());
        assert_eq!(server.versions(), vec![ProtocolVersion::TLSv1_2]);
    }
}
