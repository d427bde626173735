//! Probe throughput: one shared JWKS host and many distinct hosts.

use std::time::{Duration, Instant};

use crate::measure::{mib, ms, spread, Figures, Memory};
use crate::support::issuer::{probe_config, ChainSpec, IssuerServer, TestCa, TrustFile};
use crate::{CONCURRENCY, RUNS};
use thumbprint_guard::config::Config;
use thumbprint_guard::probe::{IssuerProbe, ProbeContext};
use thumbprint_guard::sweep;

pub fn probe_settings(trust: &TrustFile) -> Config {
    Config {
        probe_concurrency: CONCURRENCY,
        probe_timeout: Duration::from_secs(10),
        ..probe_config(trust)
    }
}

/// How many probes came back complete: discovery, JWKS with a key, one trusted endpoint serving
/// `expected_top` (the issuer's index picks the expected thumbprint).
/// Every issuer probed concurrently through one host cache, as a sweep does.
pub async fn probe_all(
    ctx: &ProbeContext,
    issuers: &[String],
    concurrency: usize,
    deadline: Option<tokio::time::Instant>,
) -> std::collections::BTreeMap<String, Option<IssuerProbe>> {
    use futures::stream::{self, StreamExt};
    let probes = sweep::SharedProbes::new(concurrency);
    let probes = &probes;
    stream::iter(issuers)
        .map(|issuer| async move { (issuer.clone(), probes.probe(ctx, issuer, deadline).await) })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

pub fn healthy(
    probes: &std::collections::BTreeMap<String, Option<IssuerProbe>>,
    expected_top: impl Fn(&str) -> String,
) -> usize {
    probes
        .iter()
        .filter(|(issuer, probe)| {
            probe.as_ref().is_some_and(|p| {
                p.issues.is_empty()
                    && p.jwks_keys == Some(1)
                    && p.endpoints().count() == 1
                    && p.endpoints().next().and_then(|(_, e)| e.top_thumbprint())
                        == Some(expected_top(issuer).as_str())
            })
        })
        .count()
}

/// One probe scenario: the issuers, the servers behind them and what each must serve.
pub struct Scenario<'a> {
    label: &'a str,
    issuers: Vec<String>,
    hosts: usize,
    servers: &'a [IssuerServer],
    expected_top: &'a dyn Fn(&str) -> String,
}

/// Warm-up, then [`RUNS`] timed runs of `probe_all`, each with a fresh context.
pub async fn probe_scenario(
    figures: &mut Figures,
    memory: &Memory,
    config: &Config,
    scenario: Scenario<'_>,
) {
    let Scenario {
        label,
        issuers,
        hosts,
        servers,
        expected_top,
    } = scenario;
    let issuers = &issuers;
    let rss_before = memory.start_phase();
    let connections = || servers.iter().map(IssuerServer::connections).sum::<usize>();
    let mut samples = Vec::with_capacity(RUNS);
    let mut connections_per_run = 0;
    for run in 0..=RUNS {
        let ctx = ProbeContext::new(config).expect("probe context");
        let before = connections();
        let started = Instant::now();
        let probes = probe_all(&ctx, issuers, CONCURRENCY, None).await;
        let elapsed = started.elapsed();
        connections_per_run = connections() - before;
        let ok = healthy(&probes, expected_top);
        figures.check(ok == issuers.len(), || {
            format!(
                "{label}, run {run}: {ok} of {} probes healthy",
                issuers.len()
            )
        });
        if run > 0 {
            samples.push(elapsed);
        }
    }
    let (median, min, max) = spread(&mut samples);
    figures.line(format!(
        "| {label:<34} | {:>7} | {hosts:>5} | {:>9} | {:>7} | {:>7} | {:>9.0} | {connections_per_run:>9} | {:>8} | {:>8} |",
        issuers.len(),
        ms(median),
        ms(min),
        ms(max),
        issuers.len() as f64 / median.as_secs_f64(),
        mib(rss_before),
        mib(memory.peak()),
    ));
}

pub async fn probe_throughput(figures: &mut Figures, memory: &Memory) {
    let ca = TestCa::new("bench");
    let trust = TrustFile::new(&[&ca]);
    let config = probe_settings(&trust);
    figures.line(format!(
        "## Probe throughput: sweep::probe_all, PROBE_CONCURRENCY {CONCURRENCY}, fresh ProbeContext per run, \
         median of {RUNS} runs after 1 warm-up"
    ));
    figures.line("");
    figures.line(
        "| scenario                           | issuers | hosts | median ms |  min ms |  max ms | issuers/s | TCP conns | RSS MiB  | peak MiB |",
    );
    figures.line(
        "|------------------------------------|--------:|------:|----------:|--------:|--------:|----------:|----------:|---------:|---------:|",
    );

    let chain = ca.chain(ChainSpec::default());
    let shared_top = chain.top_sha1();
    let shared = vec![IssuerServer::start(chain).await];
    let issuers: Vec<String> = (0..200)
        .map(|i| shared[0].issuer_url(&format!("/id/{i:032X}")))
        .collect();
    probe_scenario(
        figures,
        memory,
        &config,
        Scenario {
            label: "200 issuers, 1 shared JWKS host",
            issuers,
            hosts: 1,
            servers: &shared,
            expected_top: &|_| shared_top.clone(),
        },
    )
    .await;
    drop(shared);

    let mut distinct = Vec::new();
    let mut tops = std::collections::HashMap::new();
    for _ in 0..50 {
        let chain = ca.chain(ChainSpec::default());
        let top = chain.top_sha1();
        let server = IssuerServer::start(chain).await;
        tops.insert(server.issuer_url("/id/X"), top);
        distinct.push(server);
    }
    let issuers: Vec<String> = distinct.iter().map(|s| s.issuer_url("/id/X")).collect();
    probe_scenario(
        figures,
        memory,
        &config,
        Scenario {
            label: "50 issuers, 50 distinct hosts",
            issuers,
            hosts: 50,
            servers: &distinct,
            expected_top: &|issuer| tops.get(issuer).cloned().unwrap_or_default(),
        },
    )
    .await;
    figures.line("");
    figures.line(
        "TCP conns: connections the issuers accepted per run (the host's TLS probe + pooled HTTPS fetches). \
         RSS MiB: this process at the start of the scenario; peak MiB: VmHWM during it (servers included).",
    );
    figures.line("");
}
