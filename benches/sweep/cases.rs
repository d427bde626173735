//! The sweep cases: N providers registered in moto, each on its own host or all on one shared
//! host, swept by the real CLI binary (`sweep --output json`) through the counting proxy.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde::Serialize;
use serde_json::Value;

use crate::cli::{self, CliRun};
use crate::fleet::{Host, PerHost, Tally};
use crate::measure::{mib, millis, secs};
use crate::Bench;

/// What one case measured (medians over the runs; counts from the last run, which the checks
/// compare with every other run's).
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub name: String,
    pub providers: usize,
    pub hosts: usize,
    /// ALPN the issuers offer: `http/1.1` or `h2+http/1.1`.
    pub issuer_http: &'static str,
    pub runs: usize,
    pub wall_s: f64,
    pub wall_s_min: f64,
    pub wall_s_max: f64,
    /// Median wall time over the 1-provider case's.
    pub ratio_to_one_provider: Option<f64>,
    pub peak_rss_mib: Option<f64>,
    pub first_aws_request_ms: Option<f64>,
    /// Spawn to the last AWS call's arrival: the inventory's end (the probes come after it).
    pub last_aws_request_ms: Option<f64>,
    pub tcp_connections_per_host: PerHost,
    pub tls_handshakes_per_host: PerHost,
    /// Total TCP connections the issuers accepted, per run.
    pub tcp_connections_by_run: Vec<usize>,
    pub aws_calls: BTreeMap<String, usize>,
    pub aws_calls_total: usize,
    /// Providers whose served thumbprint is the one their host serves, with no warning or
    /// critical finding.
    pub healthy_providers: usize,
    pub findings: BTreeMap<String, usize>,
    /// The first warning or critical finding's message, if any.
    pub first_problem: Option<String>,
    pub exit_codes: Vec<Option<i32>>,
}

impl CaseResult {
    /// The one line printed per case.
    pub fn line(&self) -> String {
        let calls: Vec<String> = self
            .aws_calls
            .iter()
            .map(|(op, n)| format!("{op} {n}"))
            .collect();
        format!(
            "{:<24} {:>5} providers {:>5} hosts ({:<11}) wall {:>7.3} s (x{:<5} of 1 provider) peak RSS {:>5} MiB \
             first AWS request {:>6} ms, last {:>7} ms  per host: TCP {} TLS {}  healthy {}/{}  AWS calls {} ({})",
            self.name,
            self.providers,
            self.hosts,
            self.issuer_http,
            self.wall_s,
            self.ratio_to_one_provider
                .map_or("?".to_string(), |r| format!("{r:.2}")),
            self.peak_rss_mib.map_or("n/a".into(), |m| format!("{m:.1}")),
            self.first_aws_request_ms
                .map_or("n/a".into(), |m| format!("{m:.1}")),
            self.last_aws_request_ms
                .map_or("n/a".into(), |m| format!("{m:.0}")),
            self.tcp_connections_per_host,
            self.tls_handshakes_per_host,
            self.healthy_providers,
            self.providers,
            self.aws_calls_total,
            calls.join(", "),
        ) + &match (&self.first_problem, self.healthy_providers < self.providers) {
            (Some(problem), true) => {
                let cut: String = problem.chars().take(240).collect();
                format!("  first problem: {cut}")
            }
            _ => String::new(),
        }
    }
}

/// Empties moto (every backend, every account).
pub async fn reset_moto(bench: &Bench) {
    let resp = reqwest::Client::new()
        .post(format!("{}/moto-api/reset", bench.moto.endpoint))
        .send()
        .await
        .expect("POST /moto-api/reset");
    assert!(resp.status().is_success(), "moto reset: {}", resp.status());
}

/// Registers the providers `(url, thumbprint)` in moto, 16 at a time, straight to moto (not
/// through the proxy); returns their ARNs.
pub async fn register(iam: &aws_sdk_iam::Client, providers: &[(String, String)]) -> Vec<String> {
    stream::iter(providers)
        .map(|(url, thumbprint)| async move {
            crate::support::moto::create_provider(iam, url, &[crate::STS], &[thumbprint], &[]).await
        })
        .buffered(16)
        .collect()
        .await
}

/// Sweeps with the CLI `runs` times; `expected` maps each issuer URL to its host's thumbprint.
pub async fn measure(
    bench: &Bench,
    name: &str,
    hosts: &[&Host],
    issuer_http: &'static str,
    expected: &HashMap<String, String>,
    env: &[(String, String)],
    args: &[&str],
) -> (CaseResult, Vec<CliRun>) {
    let mut runs = Vec::new();
    let mut tallies = Vec::new();
    let mut calls = Vec::new();
    let mut first = Vec::new();
    let mut last_calls = Vec::new();
    for _ in 0..bench.settings.runs {
        bench.proxy.reset();
        let before = Tally::of(hosts);
        let run = cli::run(&bench.cli, args, env).await;
        // Connections close when the process exits; the servers count at accept, so the
        // count is complete once the run is.
        tallies.push(Tally::of(hosts).since(&before));
        calls.push(bench.proxy.calls());
        first.push(
            bench
                .proxy
                .first_request()
                .map(|at| at.saturating_duration_since(run.spawned)),
        );
        last_calls.push(
            bench
                .proxy
                .last_request()
                .map(|at| at.saturating_duration_since(run.spawned)),
        );
        runs.push(run);
    }
    let mut last_calls: Vec<Duration> = last_calls.into_iter().flatten().collect();
    last_calls.sort();
    let mut walls: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
    walls.sort();
    let median = walls[walls.len() / 2];
    let mut rss: Vec<u64> = runs.iter().filter_map(|r| r.peak_rss_kib).collect();
    rss.sort();
    let mut firsts: Vec<Duration> = first.iter().flatten().copied().collect();
    firsts.sort();
    let last = runs.last().expect("at least one run");
    let tally = tallies.last().expect("at least one run");
    let aws_calls = calls.last().cloned().unwrap_or_default();
    let (healthy, findings, first_problem) = assess_output(&last.stdout, expected);
    let result = CaseResult {
        name: name.to_string(),
        providers: expected.len(),
        hosts: hosts.len(),
        issuer_http,
        runs: runs.len(),
        wall_s: secs(median),
        wall_s_min: secs(walls[0]),
        wall_s_max: secs(walls[walls.len() - 1]),
        ratio_to_one_provider: None,
        peak_rss_mib: rss
            .get(rss.len() / 2)
            .map(|k| (*k as f64 / 1024.0 * 10.0).round() / 10.0),
        first_aws_request_ms: firsts.get(firsts.len() / 2).map(|d| millis(*d)),
        last_aws_request_ms: last_calls.get(last_calls.len() / 2).map(|d| millis(*d)),
        tcp_connections_per_host: PerHost::of(tally.iter().map(|t| t.0)),
        tls_handshakes_per_host: PerHost::of(tally.iter().map(|t| t.1)),
        tcp_connections_by_run: tallies
            .iter()
            .map(|t| t.iter().map(|c| c.0).sum())
            .collect(),
        aws_calls_total: aws_calls.values().sum(),
        aws_calls,
        healthy_providers: healthy,
        findings,
        first_problem,
        exit_codes: runs.iter().map(|r| r.code).collect(),
    };
    if calls.windows(2).any(|w| w[0] != w[1]) {
        eprintln!("bench: {name}: AWS calls differ between runs: {calls:?}");
    }
    eprintln!(
        "bench: {name}: peak RSS by run {:?} MiB",
        runs.iter().map(|r| mib(r.peak_rss_kib)).collect::<Vec<_>>()
    );
    (result, runs)
}

/// Healthy providers, findings by code and the first warning or critical finding's message in
/// one `sweep --output json` report.
pub fn assess_output(
    stdout: &[u8],
    expected: &HashMap<String, String>,
) -> (usize, BTreeMap<String, usize>, Option<String>) {
    let Ok(report) = serde_json::from_slice::<Value>(stdout) else {
        return (0, BTreeMap::new(), None);
    };
    let empty = Vec::new();
    let findings = report["findings"].as_array().unwrap_or(&empty);
    let mut by_code = BTreeMap::new();
    for finding in findings {
        let code = finding["code"].as_str().unwrap_or("?").to_string();
        *by_code.entry(code).or_default() += 1;
    }
    let serious_findings: Vec<&Value> = findings
        .iter()
        .filter(|f| f["severity"] == "critical" || f["severity"] == "warning")
        .collect();
    let first_problem = serious_findings
        .first()
        .and_then(|f| f["message"].as_str())
        .map(str::to_string);
    let serious: std::collections::HashSet<&str> = serious_findings
        .iter()
        .filter_map(|f| f["resource"].as_str())
        .collect();
    let providers = report["providers"].as_array().unwrap_or(&empty);
    let healthy = providers
        .iter()
        .filter(|p| {
            let url = p["url"].as_str().unwrap_or_default();
            let served: Vec<&str> = p["served_thumbprints"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            expected
                .get(url)
                .is_some_and(|top| served == [top.as_str()])
                && !serious.contains(p["arn"].as_str().unwrap_or_default())
        })
        .count();
    (healthy, by_code, first_problem)
}
