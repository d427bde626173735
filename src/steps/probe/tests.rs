//! Host and issuer probing against addresses that need no server: refusals, pins, routes.

use std::net::IpAddr;
use std::time::Duration;

use super::host::probe_host;
use super::*;
use crate::config::Config;
use crate::report::FindingCode;

#[tokio::test]
async fn refused_addresses_are_never_contacted() {
    let ctx = ProbeContext::new(&Config::default()).unwrap();
    let probe = probe_host(&ctx, "169.254.169.254", 80).await.probe();
    assert!(probe.endpoints.is_empty());
    assert_eq!(probe.issues.len(), 1);
    assert_eq!(probe.issues[0].code(), FindingCode::AddressRefused);
    let cache = HostCache::new();
    let issuer = probe_issuer(&ctx, "https://127.0.0.1:9/id/X", &cache).await;
    let issues: Vec<&ProbeIssue> = issuer.all_issues().collect();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].code(), FindingCode::AddressRefused);
    // A DNS name resolving to loopback is refused too.
    let issuer = probe_issuer(&ctx, "https://localhost:9/id/X", &cache).await;
    let issues: Vec<&ProbeIssue> = issuer.all_issues().collect();
    assert!(!issues.is_empty(), "{issues:?}");
    assert!(issues
        .iter()
        .all(|i| i.code() == FindingCode::AddressRefused));
    assert!(issuer.endpoints().next().is_none());
}

#[tokio::test]
async fn pinned_addresses_are_judged_by_the_policy() {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    // Strict policy: a name pinned to loopback is refused.
    let strict = ProbeContext::new(&Config::default())
        .unwrap()
        .with_resolve("issuer.test", vec![ip("127.0.0.1")])
        .unwrap();
    let probe = probe_host(&strict, "issuer.test", 9).await.probe();
    assert!(probe.endpoints.is_empty());
    assert_eq!(probe.issues.len(), 1, "{:?}", probe.issues);
    assert_eq!(probe.issues[0].code(), FindingCode::AddressRefused);
    assert!(probe.issues[0].message.contains("127.0.0.1:9"));
    let issuer = probe_issuer(&strict, "https://issuer.test:9/id/X", &HostCache::new()).await;
    let issues: Vec<&ProbeIssue> = issuer.all_issues().collect();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].code(), FindingCode::AddressRefused);
    assert!(issues[0].message.contains("127.0.0.1"));

    // Private addresses allowed: the metadata address stays refused, loopback is probed
    // (port 9 on loopback is closed: a TCP failure, not a refusal, proves the pin was used).
    let lenient = ProbeContext::new(&Config {
        allow_private_addresses: true,
        probe_timeout: Duration::from_secs(2),
        ..Config::default()
    })
    .unwrap()
    .with_resolve("issuer.test", vec![ip("127.0.0.1"), ip("169.254.169.254")])
    .unwrap();
    let probe = probe_host(&lenient, "Issuer.Test", 9).await.probe();
    assert_eq!(probe.authority, "issuer.test:9");
    assert_eq!(probe.issues.len(), 1, "{:?}", probe.issues);
    assert_eq!(probe.issues[0].code(), FindingCode::AddressRefused);
    assert!(probe.issues[0].message.contains("169.254.169.254:9"));
    assert_eq!(probe.endpoints.len(), 1);
    assert_eq!(probe.endpoints[0].address, "127.0.0.1:9".parse().unwrap());
    assert!(probe.endpoints[0].error.is_some());
}

/// A context allowing private addresses, `issuer.test` pinned to `pinned`, and a route to
/// IPv4 addresses only (a Lambda outside a VPC).
fn ipv4_only_context(pinned: &[&str]) -> ProbeContext {
    let mut ctx = ProbeContext::new(&Config {
        allow_private_addresses: true,
        probe_timeout: Duration::from_secs(1),
        ..Config::default()
    })
    .unwrap()
    .with_resolve(
        "issuer.test",
        pinned.iter().map(|ip| ip.parse().unwrap()).collect(),
    )
    .unwrap();
    ctx.set_has_route(|address| address.is_ipv4());
    ctx
}

#[tokio::test]
async fn unroutable_ipv6_is_skipped_while_ipv4_remains() {
    // 127.0.0.1:9 is closed: a TCP failure proves it was probed; 2001:db8::1 is never tried.
    let ctx = ipv4_only_context(&["2001:db8::1", "127.0.0.1", "2001:db8::2"]);
    let probe = probe_host(&ctx, "issuer.test", 9).await.probe();
    assert!(probe.issues.is_empty(), "{:?}", probe.issues);
    let probed: Vec<String> = probe
        .endpoints
        .iter()
        .map(|e| e.address.to_string())
        .collect();
    assert_eq!(probed, ["127.0.0.1:9"]);
}

#[tokio::test]
async fn the_policy_is_applied_before_the_route_check() {
    // The refused addresses are reported; the unroutable IPv6 address is the only allowed
    // one, so it is kept and its failure is real.
    let ctx = ipv4_only_context(&["169.254.169.254", "2001:db8::1", "fe80::1"]);
    let probe = probe_host(&ctx, "issuer.test", 9).await.probe();
    let refused: Vec<FindingCode> = probe.issues.iter().map(|i| i.code()).collect();
    assert_eq!(
        refused,
        [FindingCode::AddressRefused, FindingCode::AddressRefused],
        "{:?}",
        probe.issues
    );
    assert_eq!(probe.endpoints.len(), 1, "{:?}", probe.endpoints);
    assert_eq!(
        probe.endpoints[0].address,
        "[2001:db8::1]:9".parse().unwrap()
    );
    assert!(probe.endpoints[0].error.is_some());
}

#[tokio::test]
async fn urls_with_credentials_query_or_fragment_are_discovery_invalid() {
    let ctx = ProbeContext::new(&Config::default()).unwrap();
    let cache = HostCache::new();
    for url in [
        "https://user:secret@issuer.example/id/X",
        "https://issuer.example/id/X?a=1",
        "https://issuer.example/id/X#f",
    ] {
        let probe = probe_issuer(&ctx, url, &cache).await;
        assert_eq!(probe.issues.len(), 1, "{url}: {:?}", probe.issues);
        assert_eq!(
            probe.issues[0].failure,
            ProbeFailure::DiscoveryInvalid {
                problem: DiscoveryProblem::BadIssuerUrl
            }
        );
        assert!(!probe.issues[0].message.contains("secret"));
        assert!(probe.hosts.is_empty());
    }
    assert!(cache.is_empty());
}
