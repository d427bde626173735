//! Connections per sweep, as the local issuers count them (behaviour, not timings): one TLS
//! handshake per address of a host for its fetches, and over HTTP/1.1 at most one more per
//! provider in flight at once (HTTP/2 multiplexes on one); a JWKS host other than the issuer's is
//! probed and reported beside it. tests/shared_hosts.rs runs the same against real-world peers.
//!
//! tests/probe covers the probe alone (`probe_issuer` on a host cache); these go through a whole
//! `sweep::run` against moto and read the report.

#[path = "support/mod.rs"]
mod support;

use support::env::{Env, STS};
use support::issuer::{pair_addresses, ChainSpec, IssuerServer, PAIR_HOST};
use support::moto;
use thumbprint_guard::probe::ProbeContext;
use thumbprint_guard::report::{Fetch, Report};

/// Every provider of the report serves exactly `tops` and has no finding.
fn assert_clean(report: &Report, tops: &[String]) {
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    for provider in &report.providers {
        assert_eq!(provider.served_thumbprints, tops, "{}", provider.arn);
    }
}

#[tokio::test]
async fn discovery_and_jwks_on_one_host_share_one_connection() {
    let env = Env::new("connections").await;
    let chain = env.ca.chain(ChainSpec::default());
    let (server, _) = env.issuer(&chain, "SAME", &[&chain.top_sha1()], &[]).await;

    let report = env.sweep(&env.base_config).await;

    assert_clean(&report, &[chain.top_sha1()]);
    let endpoints = &report.providers[0].endpoints;
    assert_eq!(endpoints.len(), 1, "{endpoints:#?}");
    assert_eq!(endpoints[0].serves, vec![Fetch::Discovery, Fetch::Jwks]);
    assert_eq!(
        server.requests(),
        vec!["/id/SAME/.well-known/openid-configuration", "/id/SAME/keys"]
    );
    assert_eq!(
        server.connections(),
        1,
        "one TCP connection for the TLS probe and both fetches"
    );
    assert_eq!(server.handshakes(), 1);
}

#[tokio::test]
async fn three_providers_on_one_host_share_one_connection() {
    let env = Env::new("connections").await;
    let chain = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    for id in ["ONE", "TWO", "THREE"] {
        let url = server.issuer_url(&format!("/id/{id}"));
        moto::create_provider(&env.iam, &url, &[STS], &[&chain.top_sha1()], &[]).await;
    }

    let report = env.sweep(&env.base_config).await;

    assert_eq!(report.providers.len(), 3);
    assert_clean(&report, &[chain.top_sha1()]);
    assert_eq!(server.requests().len(), 6, "{:?}", server.requests());
    // The three probes run at once: over HTTP/1.1 a request that finds every connection busy
    // gets a new one (kept for later requests), so there is at most one connection per provider
    // in flight, never one for a connection merely on its way back to the pool, never more than 8.
    let connections = server.connections();
    assert!(
        (1..=3).contains(&connections),
        "the host's connections are shared: {connections} for 3 providers"
    );
    assert_eq!(server.handshakes(), connections);
    assert_eq!(
        report.providers[0].endpoints.len(),
        1,
        "one chain served, one endpoint"
    );
}

#[tokio::test]
async fn three_providers_on_a_two_address_host_open_one_connection_per_address() {
    let env = Env::new("connections").await;
    let first = env.ca.chain(ChainSpec::named(PAIR_HOST));
    let second = env.ca.chain(ChainSpec::named(PAIR_HOST));
    let (one, two) = IssuerServer::start_pair(PAIR_HOST, first.clone(), second.clone()).await;
    let tops = [first.top_sha1(), second.top_sha1()];
    for id in ["ONE", "TWO", "THREE"] {
        let url = one.issuer_url(&format!("/id/{id}"));
        moto::create_provider(&env.iam, &url, &[STS], &[&tops[0], &tops[1]], &[]).await;
    }
    let ctx = ProbeContext::new(&env.base_config)
        .expect("probe context")
        .with_resolve(PAIR_HOST, pair_addresses())
        .expect("pin issuer.test");

    let report = env.sweep_with(&env.base_config, &ctx).await;

    assert_eq!(report.providers.len(), 3);
    assert_clean(&report, &tops);
    for provider in &report.providers {
        assert_eq!(provider.endpoints.len(), 2, "{:#?}", provider.endpoints);
    }
    assert_eq!(one.requests().len() + two.requests().len(), 6);
    for backend in [&one, &two] {
        let connections = backend.connections();
        assert!(
            (1..=3).contains(&connections),
            "at most one connection per provider in flight: {connections}"
        );
        assert_eq!(backend.handshakes(), connections);
    }
}

#[tokio::test]
async fn a_jwks_host_of_its_own_is_reported_beside_the_issuer_host() {
    let env = Env::new("connections").await;
    let issuer_chain = env.ca.chain(ChainSpec::default());
    let keys_chain = env.ca.chain(ChainSpec::full());
    assert_ne!(issuer_chain.top_sha1(), keys_chain.top_sha1());
    let keys = IssuerServer::start(keys_chain.clone()).await;
    let (issuer, _) = env
        .issuer(
            &issuer_chain,
            "SPLIT",
            &[&issuer_chain.top_sha1(), &keys_chain.top_sha1()],
            &[],
        )
        .await;
    issuer.set_jwks_uri(Some(keys.jwks_url()));

    let report = env.sweep(&env.base_config).await;

    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    let provider = &report.providers[0];
    assert_eq!(
        provider.served_thumbprints,
        vec![issuer_chain.top_sha1(), keys_chain.top_sha1()]
    );
    let hosts: Vec<(String, Vec<Fetch>, Option<String>)> = provider
        .endpoints
        .iter()
        .map(|e| (e.host.clone(), e.serves.clone(), e.top_thumbprint.clone()))
        .collect();
    assert_eq!(
        hosts,
        vec![
            (
                format!("127.0.0.1:{}", issuer.port()),
                vec![Fetch::Discovery],
                Some(issuer_chain.top_sha1())
            ),
            (
                format!("127.0.0.1:{}", keys.port()),
                vec![Fetch::Jwks],
                Some(keys_chain.top_sha1())
            ),
        ]
    );
    assert_eq!(
        issuer.requests(),
        vec!["/id/SPLIT/.well-known/openid-configuration"]
    );
    assert_eq!(keys.requests(), vec!["/keys"]);
    assert_eq!((issuer.connections(), keys.connections()), (1, 1));
}

/// Forty providers on one host that offers HTTP/2 and answers every request after 300 ms, with a
/// 2 s step bound: one after the other, 80 responses would take 24 s and most providers would time
/// out waiting for the connection. Multiplexed on the one connection, every provider is clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_sharing_an_http2_host_multiplex_on_its_one_connection() {
    use support::issuer::Http;
    let env = Env::new("connections").await;
    let chain = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start_with(
        "127.0.0.1:0".parse().expect("address"),
        "127.0.0.1",
        chain.clone(),
        Http::H2AndHttp1,
    )
    .await
    .expect("h2 issuer");
    for i in 0..40 {
        let url = server.issuer_url(&format!("/id/H2-{i}"));
        moto::create_provider(&env.iam, &url, &[STS], &[&chain.top_sha1()], &[]).await;
    }
    server.set_delay(std::time::Duration::from_millis(300));
    let config = thumbprint_guard::config::Config {
        probe_timeout: std::time::Duration::from_secs(2),
        ..env.base_config.clone()
    };

    let report = env.sweep(&config).await;

    assert_eq!(report.providers.len(), 40);
    assert_clean(&report, &[chain.top_sha1()]);
    assert_eq!(server.requests().len(), 80);
    assert_eq!(
        server.connections(),
        1,
        "one connection carries all 80 requests"
    );
}

/// A TLS 1.3-only host that closes after every response, shared by 4 providers: each replacement
/// connection offers TLS 1.3 at once (the refused TLS 1.2 attempt happens once, on the first
/// handshake), every chain is recorded as tls13_only, and every provider is clean.
#[tokio::test]
async fn replacements_on_a_tls13_only_host_skip_the_refused_tls12_attempt() {
    let env = Env::new("connections").await;
    let chain = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start_tls13_only(chain.clone()).await;
    server.set_keep_alive(false);
    for id in ["ONE", "TWO", "THREE", "FOUR"] {
        let url = server.issuer_url(&format!("/id/{id}"));
        moto::create_provider(&env.iam, &url, &[STS], &[&chain.top_sha1()], &[]).await;
    }

    let report = env.sweep(&env.base_config).await;

    assert_clean(&report, &[chain.top_sha1()]);
    for provider in &report.providers {
        assert!(provider.thumbprint_enforced, "{}", provider.arn);
        assert_eq!(provider.endpoints.len(), 1, "{:#?}", provider.endpoints);
        assert!(
            provider.endpoints[0].tls13_only,
            "{:#?}",
            provider.endpoints
        );
    }
    assert_eq!(server.requests().len(), 8, "{:?}", server.requests());
    // Every request had its own connection (the server closes after each response), and only the
    // very first connection was a refused TLS 1.2 attempt.
    assert_eq!(server.handshakes(), 8, "one TLS 1.3 handshake per request");
    assert_eq!(
        server.connections(),
        server.handshakes() + 1,
        "one refused TLS 1.2 attempt in all"
    );
}

/// `count` providers on one HTTP/1.1 keep-alive host that waits `delay` before every handshake and
/// every response, each configured with the host's top thumbprint.
async fn on_one_slow_host(
    env: &Env,
    count: usize,
    delay: std::time::Duration,
) -> (IssuerServer, String) {
    let chain = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    server.set_delay(delay);
    for i in 0..count {
        let url = server.issuer_url(&format!("/id/QUEUE{i:03}"));
        moto::create_provider(&env.iam, &url, &[STS], &[&chain.top_sha1()], &[]).await;
    }
    (server, chain.top_sha1())
}

/// 96 providers on one HTTP/1.1 host answering after 200 ms, PROBE_TIMEOUT_SECS 1: the last ones
/// wait about 5 s for their turn (192 requests over 8 connections), more than their own bound of
/// 3 × 1 s, yet each one's own exchanges take well under a second. The wait is not charged: every
/// provider is clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_turn_on_a_shared_host_is_not_charged_to_a_provider() {
    let env = Env::new("connections").await;
    let (server, top) = on_one_slow_host(&env, 96, std::time::Duration::from_millis(200)).await;
    let config = thumbprint_guard::config::Config {
        probe_timeout: std::time::Duration::from_secs(1),
        ..env.base_config.clone()
    };

    let report = env.sweep(&config).await;

    assert_eq!(report.providers.len(), 96);
    assert_clean(&report, &[top]);
    assert_eq!(server.requests().len(), 192);
}

/// The same queue under a run deadline that comes before it drains: providers not probed by then
/// are PROBE_SKIPPED (a warning), never a false ISSUER_UNREACHABLE; those probed are clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_deadline_skips_providers_still_waiting_for_their_turn() {
    use thumbprint_guard::report::FindingCode;

    let env = Env::new("connections").await;
    let (_server, top) = on_one_slow_host(&env, 96, std::time::Duration::from_millis(400)).await;
    let config = env.base_config.clone();
    let sdk = env.moto.sdk_config(support::env::REGION).await;
    let aws = thumbprint_guard::aws::AwsClients::new(&sdk, &config);
    let ctx = ProbeContext::new(&config).expect("probe context");
    // 192 requests over 8 connections at 400 ms take about 10 s: the deadline cuts the queue.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);

    let report = thumbprint_guard::sweep::run(
        &aws,
        &ctx,
        &config,
        &thumbprint_guard::sweep::SharedProbes::default(),
        time::OffsetDateTime::now_utc(),
        Some(deadline),
        &|_| {},
    )
    .await
    .map(|swept| swept.report)
    .expect("sweep runs");

    let skipped: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::ProbeSkipped)
        .map(|f| f.resource.as_str())
        .collect();
    let others: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code != FindingCode::ProbeSkipped)
        .collect();
    assert!(others.is_empty(), "only PROBE_SKIPPED: {others:#?}");
    assert!(
        !skipped.is_empty() && skipped.len() < 96,
        "some providers probed, the rest skipped: {} skipped",
        skipped.len()
    );
    for provider in &report.providers {
        if !skipped.contains(&provider.arn.as_str()) {
            assert_eq!(
                provider.served_thumbprints,
                vec![top.as_str()],
                "{}",
                provider.arn
            );
        }
    }
}
