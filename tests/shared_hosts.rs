//! Providers sharing one HTTP/1.1 host are reported exactly as if each had its host to itself
//! (DESIGN, "The sweep, step by step", step 2), on hosts we did not write: `tests/peers/issuer.py`
//! (Python's `http.server` over TLS, HTTP/1.1 only) keeping connections, closing after every
//! response, closing after a few requests (announced or not), answering slowly, or failing some
//! of its issuers' fetches; and our own hyper issuer with keep-alive off.
//!
//! Each test goes through a whole `sweep::run` against moto and reads the report; the peer's own
//! counters (connections, handshakes, connections open at once) are read from its stats port.

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use support::env::{Env, STS};
use support::issuer::{ChainSpec, IssuerServer};
use support::moto;
use support::peer::{Closing, PeerIssuer, PeerOptions, PeerReply, PeerStats};
use thumbprint_guard::config::Config;
use thumbprint_guard::report::{FindingCode, Report};

/// One provider of a test: its issuer name on the peer, its ARN, and the only finding it would
/// have alone on its host (`None`: healthy).
struct Provider {
    name: String,
    arn: String,
    alone: Option<FindingCode>,
}

/// Registers one provider per `(name, alone)` on `peer`, each configured with `top`.
async fn register(
    env: &Env,
    peer: &PeerIssuer,
    top: &str,
    names: &[(String, Option<FindingCode>)],
) -> Vec<Provider> {
    let mut providers = Vec::new();
    for (name, alone) in names {
        let arn =
            moto::create_provider(&env.iam, &peer.issuer_url(name), &[STS], &[top], &[]).await;
        providers.push(Provider {
            name: name.clone(),
            arn,
            alone: *alone,
        });
    }
    providers
}

/// `count` healthy issuer names `{prefix}-0`, `{prefix}-1`, ...
fn healthy(prefix: &str, count: usize) -> Vec<(String, Option<FindingCode>)> {
    (0..count)
        .map(|i| (format!("{prefix}-{i}"), None))
        .collect()
}

/// The reply overrides of `names` for the peer.
fn replies(names: &[(String, PeerReply)]) -> BTreeMap<String, PeerReply> {
    names.iter().cloned().collect()
}

/// The finding a reply override leads to when its provider is alone on its host.
fn alone_code(reply: PeerReply) -> FindingCode {
    match reply {
        PeerReply::DiscoveryNotFound | PeerReply::IssuerMismatch => FindingCode::DiscoveryInvalid,
        PeerReply::EmptyJwks => FindingCode::JwksInvalid,
    }
}

/// Every provider is reported with exactly the finding it has alone (none for a healthy one),
/// serves exactly `top`, and nothing anywhere is ISSUER_UNREACHABLE. Panics with every provider
/// that differs, and `counts` (the peers' counters).
fn assert_each_as_if_alone(report: &Report, providers: &[Provider], top: &str, counts: &str) {
    assert_eq!(
        report.providers.len(),
        providers.len(),
        "every provider is in the report ({counts})"
    );
    let mut wrong = Vec::new();
    for provider in providers {
        let findings: Vec<String> = report
            .findings_about(&provider.arn)
            .map(|f| format!("{} '{}'", f.code.as_str(), f.message))
            .collect();
        let codes: Vec<FindingCode> = report
            .findings_about(&provider.arn)
            .map(|f| f.code)
            .collect();
        let expected: Vec<FindingCode> = provider.alone.into_iter().collect();
        let served = report
            .provider(&provider.arn)
            .map(|p| p.served_thumbprints.clone())
            .unwrap_or_default();
        if codes != expected || served != [top] {
            wrong.push(format!(
                "{}: expected {:?} serving [{top}], reported {findings:?} serving {served:?}",
                provider.name,
                expected.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            ));
        }
    }
    let unreachable = report
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::IssuerUnreachable)
        .count();
    assert!(
        wrong.is_empty() && unreachable == 0,
        "{} of {} providers not reported as if alone on their host ({unreachable} ISSUER_UNREACHABLE; {counts}):\n{}",
        wrong.len(),
        providers.len(),
        wrong.join("\n")
    );
}

/// The peer's counters for an assertion message.
fn counters(stats: &PeerStats) -> String {
    format!(
        "peer: {} TCP connections, {} TLS handshakes ({} failed), {} requests, at most {} open at once",
        stats.connections, stats.handshakes, stats.handshake_failures, stats.requests, stats.max_open
    )
}

/// The control for every other test: each kind of issuer (healthy, discovery 404, issuer mismatch,
/// empty JWKS) alone on a peer of its own is reported with its own finding and nothing else.
#[tokio::test]
async fn each_kind_alone_on_its_own_host_is_reported_as_expected() {
    let env = Env::new("peers").await;
    let chain = env.ca.chain(ChainSpec::default());
    let top = chain.top_sha1();
    let kinds = [
        None,
        Some(PeerReply::DiscoveryNotFound),
        Some(PeerReply::IssuerMismatch),
        Some(PeerReply::EmptyJwks),
    ];
    let mut peers = Vec::new();
    let mut providers = Vec::new();
    for kind in kinds {
        let name = "ALONE".to_string();
        let options = PeerOptions {
            replies: kind
                .map(|reply| replies(&[(name.clone(), reply)]))
                .unwrap_or_default(),
            ..PeerOptions::default()
        };
        let peer = PeerIssuer::start(&chain, &options);
        let alone = kind.map(alone_code);
        let mut registered = register(&env, &peer, &top, &[(name, alone)]).await;
        registered[0].name = format!("{kind:?} on {}", peer.address());
        providers.extend(registered);
        peers.push(peer);
    }

    let report = env.sweep(&env.base_config).await;

    let counts: Vec<String> = peers
        .iter()
        .map(|peer| format!("{}: {}", peer.address(), counters(&peer.stats())))
        .collect();
    assert_each_as_if_alone(&report, &providers, &top, &counts.join("; "));
}

/// The first measurement: an issuer mismatch, a discovery 404 and an empty JWKS on one
/// keep-alive host, named so that the inventory lists them in that order.
#[tokio::test]
async fn three_failing_providers_on_one_keep_alive_host_are_each_reported_as_if_alone() {
    let env = Env::new("peers").await;
    let chain = env.ca.chain(ChainSpec::default());
    let top = chain.top_sha1();
    let overrides = [
        ("A-MISMATCH".to_string(), PeerReply::IssuerMismatch),
        ("B-NOT-FOUND".to_string(), PeerReply::DiscoveryNotFound),
        ("C-EMPTY-JWKS".to_string(), PeerReply::EmptyJwks),
    ];
    let peer = PeerIssuer::start(
        &chain,
        &PeerOptions {
            replies: replies(&overrides),
            ..PeerOptions::default()
        },
    );
    let names: Vec<(String, Option<FindingCode>)> = overrides
        .iter()
        .map(|(name, reply)| (name.clone(), Some(alone_code(*reply))))
        .collect();
    let providers = register(&env, &peer, &top, &names).await;

    let report = env.sweep(&env.base_config).await;

    assert_each_as_if_alone(&report, &providers, &top, &counters(&peer.stats()));
}

/// Twelve providers on one keep-alive host: 3 discovery 404, 3 issuer mismatches, 3 empty JWKS,
/// 3 healthy, named so that the inventory lists the kinds in turn.
#[tokio::test]
async fn twelve_providers_on_one_keep_alive_host_some_failing_are_each_reported_as_if_alone() {
    let env = Env::new("peers").await;
    let chain = env.ca.chain(ChainSpec::default());
    let top = chain.top_sha1();
    let kinds = [
        ("HEALTHY", None),
        ("MISMATCH", Some(PeerReply::IssuerMismatch)),
        ("NOT-FOUND", Some(PeerReply::DiscoveryNotFound)),
        ("EMPTY-JWKS", Some(PeerReply::EmptyJwks)),
    ];
    let mut overrides = Vec::new();
    let mut names: Vec<(String, Option<FindingCode>)> = Vec::new();
    for i in 0..12 {
        let (kind, reply) = kinds[i % kinds.len()];
        let name = format!("{i:02}-{kind}");
        if let Some(reply) = reply {
            overrides.push((name.clone(), reply));
        }
        names.push((name, reply.map(alone_code)));
    }
    let peer = PeerIssuer::start(
        &chain,
        &PeerOptions {
            replies: replies(&overrides),
            ..PeerOptions::default()
        },
    );
    let providers = register(&env, &peer, &top, &names).await;

    let report = env.sweep(&env.base_config).await;

    assert_each_as_if_alone(&report, &providers, &top, &counters(&peer.stats()));
}

/// Twenty healthy providers on a host with `closing`, swept under the base configuration.
async fn twenty_healthy_on_a_host_that(closing: Closing) {
    let env = Env::new("peers").await;
    let chain = env.ca.chain(ChainSpec::default());
    let top = chain.top_sha1();
    let peer = PeerIssuer::start(
        &chain,
        &PeerOptions {
            closing,
            ..PeerOptions::default()
        },
    );
    let providers = register(&env, &peer, &top, &healthy("HEALTHY", 20)).await;

    let report = env.sweep(&env.base_config).await;

    let stats = peer.stats();
    assert_each_as_if_alone(&report, &providers, &top, &counters(&stats));
    assert_eq!(stats.requests, 40, "a discovery document and a JWKS each");
}

#[tokio::test]
async fn twenty_providers_on_a_host_that_closes_after_every_response_are_clean() {
    twenty_healthy_on_a_host_that(Closing::EveryResponse).await;
}

#[tokio::test]
async fn twenty_providers_on_a_host_that_announces_a_close_after_three_requests_are_clean() {
    twenty_healthy_on_a_host_that(Closing::AfterRequests {
        requests: 3,
        announced: true,
    })
    .await;
}

#[tokio::test]
async fn twenty_providers_on_a_host_that_silently_closes_after_three_requests_are_clean() {
    twenty_healthy_on_a_host_that(Closing::AfterRequests {
        requests: 3,
        announced: false,
    })
    .await;
}

/// Our own hyper issuer with keep-alive off (`Connection: close` on every response), for the
/// same twenty providers: the peer's case on the server the bench uses.
#[tokio::test]
async fn twenty_providers_on_a_hyper_host_without_keep_alive_are_clean() {
    let env = Env::new("peers").await;
    let chain = env.ca.chain(ChainSpec::default());
    let top = chain.top_sha1();
    let server = IssuerServer::start(chain.clone()).await;
    server.set_keep_alive(false);
    let mut providers = Vec::new();
    for i in 0..20 {
        let name = format!("HEALTHY-{i}");
        let url = server.issuer_url(&format!("/id/{name}"));
        let arn = moto::create_provider(&env.iam, &url, &[STS], &[&top], &[]).await;
        providers.push(Provider {
            name,
            arn,
            alone: None,
        });
    }

    let report = env.sweep(&env.base_config).await;

    let counts = format!(
        "hyper issuer: {} TCP connections, {} TLS handshakes, {} requests",
        server.connections(),
        server.handshakes(),
        server.requests().len()
    );
    assert_each_as_if_alone(&report, &providers, &top, &counts);
    assert_eq!(server.requests().len(), 40, "{counts}");
    assert!(
        server.connections() >= 40,
        "one request per connection: {counts}"
    );
}

/// Forty healthy providers on one HTTP/1.1 keep-alive host answering every request after
/// `delay`, with a step bound of `probe_timeout`.
async fn forty_healthy_on_a_slow_host(
    delay: Duration,
    probe_timeout: Duration,
) -> (Report, Vec<Provider>, String, PeerStats) {
    let env = Env::new("peers").await;
    let chain = env.ca.chain(ChainSpec::default());
    let top = chain.top_sha1();
    let peer = PeerIssuer::start(
        &chain,
        &PeerOptions {
            delay,
            ..PeerOptions::default()
        },
    );
    let providers = register(&env, &peer, &top, &healthy("SLOW", 40)).await;
    let config = Config {
        probe_timeout,
        ..env.base_config.clone()
    };

    let report = env.sweep(&config).await;

    let stats = peer.stats();
    (report, providers, top, stats)
}

/// Each provider's own exchanges take 300 ms of a 5 s bound; waiting for its turn on the shared
/// host is not one of its exchanges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_providers_on_a_slow_http1_host_are_clean_within_the_probe_timeout() {
    let (report, providers, top, stats) =
        forty_healthy_on_a_slow_host(Duration::from_millis(300), Duration::from_secs(5)).await;

    assert_each_as_if_alone(&report, &providers, &top, &counters(&stats));
    assert_eq!(stats.requests, 80, "a discovery document and a JWKS each");
}

/// A keep-alive host that never closes a connection: requests that queue open more connections,
/// never more than 8 at once to the address (DESIGN, step 2), and every connection is handshaken
/// once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keep_alive_host_is_never_held_by_more_than_eight_connections_at_once() {
    let (report, providers, top, stats) =
        forty_healthy_on_a_slow_host(Duration::from_millis(100), Duration::from_secs(5)).await;

    let counts = counters(&stats);
    assert!(stats.connections >= 1, "{counts}");
    assert!(
        stats.max_open <= 8,
        "at most 8 connections open at once to one address: {counts}"
    );
    assert!(
        stats.handshakes <= stats.connections,
        "one handshake per connection: {counts}"
    );
    assert_eq!(stats.handshake_failures, 0, "{counts}");
    assert_each_as_if_alone(&report, &providers, &top, &counters(&stats));
}
