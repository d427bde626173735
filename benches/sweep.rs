//! `make bench`: sweep throughput, phase times and memory against local issuers and moto server.
//!
//! Everything runs on this machine: HTTPS issuers from tests/support/issuer.rs (rcgen chains made
//! now) on the same tokio runtime as the probe, and moto server as the AWS emulator. Figures are
//! therefore a lower bound on work, not on network latency: the servers share the CPU with the
//! code measured, and there is no round trip to speak of.
//!
//! 1. probe throughput: [`sweep::probe_all`] at `PROBE_CONCURRENCY` 32 over 200 issuers on one
//!    shared JWKS host (EKS-like: 1 TLS host probe, 200 discovery + 200 JWKS fetches) and over 50
//!    issuers on 50 distinct hosts; a fresh [`ProbeContext`] per run, as a sweep builds one.
//! 2. a full [`sweep::run`] against moto with 50 providers on 5 hosts (5 with a stale thumbprint,
//!    `REMEDIATION_MODE=add`), timed by phase; then the CLI binary's `sweep --json` as a child.
//! 3. memory: this process's peak RSS per phase (VmHWM from /proc/self/status, reset between
//!    phases through /proc/self/clear_refs), and the CLI child's max RSS (`/usr/bin/time -v`, or
//!    polling /proc/PID/status when `time` is missing).
//! 4. rendering: [`notify::render`] and [`render::table`] of a synthetic 400-provider report.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::issuer::{probe_config, ChainSpec, IssuerServer, TestCa, TrustFile};
use support::moto::{self, Moto};
use thumbprint_guard::config::{Config, HostGlobs, RemediationMode};
use thumbprint_guard::inventory::{self, AwsClients};
use thumbprint_guard::probe::{IssuerProbe, ProbeContext};
use thumbprint_guard::report::{
    CertificateInfo, ClusterReport, Endpoint, Finding, FindingCode, ProviderReport, Remediation,
    RemediationOutcome, Report, Severity, SCHEMA_VERSION,
};
use thumbprint_guard::{notify, render, sweep};
use time::OffsetDateTime;

const REGION: &str = "us-east-1";
const CONCURRENCY: usize = 32;
/// Measured runs per probe scenario (after one warm-up run).
const RUNS: usize = 5;
/// Providers in the moto sweep, and the local hosts they are spread over.
const SWEEP_PROVIDERS: usize = 50;
const SWEEP_HOSTS: usize = 5;
/// Providers in the synthetic report rendered for SNS.
const RENDER_PROVIDERS: usize = 400;

/// Peak-RSS bookkeeping of this process, from /proc/self/status.
struct Memory {
    /// Whether writing `5` to /proc/self/clear_refs resets VmHWM here (Linux 4.0+).
    resettable: bool,
}

impl Memory {
    fn new() -> Memory {
        Memory {
            resettable: std::fs::write("/proc/self/clear_refs", "5").is_ok(),
        }
    }

    /// A `/proc/self/status` field in KiB (`VmHWM`, `VmRSS`).
    fn kib(field: &str) -> Option<u64> {
        status_kib(Path::new("/proc/self/status"), field)
    }

    /// Starts a phase: resets the high-water mark to the current RSS when possible.
    fn start_phase(&self) -> Option<u64> {
        if self.resettable {
            let _ = std::fs::write("/proc/self/clear_refs", "5");
        }
        Self::kib("VmRSS")
    }

    /// Peak RSS since [`Memory::start_phase`] (since process start when not resettable).
    fn peak(&self) -> Option<u64> {
        Self::kib("VmHWM")
    }
}

fn status_kib(path: &Path, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(path).ok()?;
    let line = status
        .lines()
        .find(|l| l.split(':').next() == Some(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "n/a".to_string(),
        |k| format!("{:.1}", k as f64 / 1024.0),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// Median, min and max of `samples` (not empty).
fn spread(samples: &mut [Duration]) -> (Duration, Duration, Duration) {
    samples.sort();
    (
        samples[samples.len() / 2],
        samples[0],
        samples[samples.len() - 1],
    )
}

/// The output, collected as the phases run and printed together at the end.
#[derive(Default)]
struct Figures {
    text: String,
    failures: Vec<String>,
}

impl Figures {
    fn line(&mut self, line: impl AsRef<str>) {
        self.text.push_str(line.as_ref());
        self.text.push('\n');
        eprintln!("bench: {}", line.as_ref());
    }

    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            let what = what();
            eprintln!("bench: CHECK FAILED: {what}");
            self.failures.push(what);
        }
    }
}

fn probe_settings(trust: &TrustFile) -> Config {
    Config {
        probe_concurrency: CONCURRENCY,
        probe_timeout: Duration::from_secs(10),
        ..probe_config(trust)
    }
}

/// How many probes came back complete: discovery, JWKS with a key, one trusted endpoint serving
/// `expected_top` (the issuer's index picks the expected thumbprint).
/// Every issuer probed concurrently through one host cache, as a sweep does.
async fn probe_all(
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

fn healthy(
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
struct Scenario<'a> {
    label: &'a str,
    issuers: Vec<String>,
    hosts: usize,
    servers: &'a [IssuerServer],
    expected_top: &'a dyn Fn(&str) -> String,
}

/// Warm-up, then [`RUNS`] timed runs of `probe_all`, each with a fresh context.
async fn probe_scenario(
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

async fn probe_throughput(figures: &mut Figures, memory: &Memory) {
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

/// Max RSS (KiB) and wall time of the CLI's `sweep --json`, and its exit code.
async fn cli_sweep(
    cli: &str,
    env: &[(String, String)],
) -> (Option<u64>, Duration, Option<i32>, Vec<u8>) {
    let time = Path::new("/usr/bin/time");
    let mut command = if time.exists() {
        let mut c = tokio::process::Command::new(time);
        c.args(["-v", cli]);
        c
    } else {
        tokio::process::Command::new(cli)
    };
    command
        .args(["sweep", "--json"])
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = Instant::now();
    let child = command.spawn().expect("run the CLI");
    let pid = child.id();
    // Without `time`, sample the child's own high-water mark while it runs.
    let poll = (!time.exists()).then(|| {
        tokio::spawn(async move {
            let status = format!("/proc/{}/status", pid.unwrap_or_default());
            let mut peak = None;
            while let Some(kib) = status_kib(Path::new(&status), "VmHWM") {
                peak = Some(kib);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            peak
        })
    });
    let out = child.wait_with_output().await.expect("CLI output");
    let elapsed = started.elapsed();
    let max_rss = match poll {
        Some(task) => task.await.ok().flatten(),
        None => String::from_utf8_lossy(&out.stderr)
            .lines()
            .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
            .and_then(|v| v.trim().parse().ok()),
    };
    (max_rss, elapsed, out.status.code(), out.stdout)
}

async fn moto_sweep(figures: &mut Figures, memory: &Memory, cli: &str) {
    figures.line(format!(
        "## Full sweep: sweep::run against moto server, {SWEEP_PROVIDERS} providers on {SWEEP_HOSTS} local hosts \
         ({} with a stale thumbprint, REMEDIATION_MODE=add), EKS_REGIONS={REGION}, AUDIT_TRUST_POLICIES=true",
        SWEEP_PROVIDERS / 10
    ));
    figures.line("");
    figures.line(
        "| phase                                             |    wall ms | RSS MiB  | peak MiB |",
    );
    figures.line(
        "|---------------------------------------------------|-----------:|---------:|---------:|",
    );
    let row = |figures: &mut Figures, phase: &str, wall: Duration, rss: Option<u64>| {
        figures.line(format!(
            "| {phase:<49} | {:>10} | {:>8} | {:>8} |",
            ms(wall),
            mib(rss),
            mib(memory.peak())
        ));
    };

    let rss = memory.start_phase();
    let started = Instant::now();
    let moto = Moto::start().await;
    row(figures, "moto server start (setup)", started.elapsed(), rss);

    let ca = TestCa::new("bench-sweep");
    let trust = TrustFile::new(&[&ca]);
    let mut servers = Vec::new();
    let mut tops = Vec::new();
    for _ in 0..SWEEP_HOSTS {
        let chain = ca.chain(ChainSpec::default());
        tops.push(chain.top_sha1());
        servers.push(IssuerServer::start(chain).await);
    }
    let stale = ca.chain(ChainSpec::default()).top_sha1(); // issued, never served
    let sdk = moto.sdk_config(REGION).await;
    let iam = aws_sdk_iam::Client::new(&sdk);

    let rss = memory.start_phase();
    let started = Instant::now();
    for i in 0..SWEEP_PROVIDERS {
        let host = i % SWEEP_HOSTS;
        let url = servers[host].issuer_url(&format!("/id/BENCH{i:03}"));
        let thumbprint = if i % 10 == 0 { &stale } else { &tops[host] };
        moto::create_provider(&iam, &url, &["sts.amazonaws.com"], &[thumbprint], &[]).await;
    }
    row(
        figures,
        "create the providers in IAM (setup)",
        started.elapsed(),
        rss,
    );

    let config = Config {
        remediation_mode: RemediationMode::Add,
        remediation_allowed_hosts: HostGlobs::parse("127.0.0.1").expect("glob"),
        ..probe_settings(&trust)
    };
    let aws = AwsClients::new(&sdk, &config);
    let ctx = ProbeContext::new(&config).expect("probe context");

    // Warm the SDK clients (credentials, connection pool) as the CLI's first call would; the
    // phases below and the whole runs then start from the same state.
    inventory::collect(&aws, &config).await.expect("inventory");
    let rss = memory.start_phase();
    let started = Instant::now();
    let inventory = inventory::collect(&aws, &config).await.expect("inventory");
    let inventory_wall = started.elapsed();
    row(
        figures,
        "inventory::collect (STS, IAM, EKS, roles)",
        inventory_wall,
        rss,
    );
    figures.check(inventory.providers.len() == SWEEP_PROVIDERS, || {
        format!("inventory read {} providers", inventory.providers.len())
    });

    let rss = memory.start_phase();
    let started = Instant::now();
    let issuers: Vec<String> = inventory.providers.iter().map(|p| p.url.clone()).collect();
    let probes = probe_all(&ctx, &issuers, CONCURRENCY, None).await;
    let probe_wall = started.elapsed();
    row(
        figures,
        "sweep::probe_all (50 issuers, 5 hosts)",
        probe_wall,
        rss,
    );
    let ok = probes
        .values()
        .filter(|p| p.as_ref().is_some_and(|p| p.issues.is_empty()))
        .count();
    figures.check(ok == SWEEP_PROVIDERS, || {
        format!("{ok} of {SWEEP_PROVIDERS} sweep probes clean")
    });

    let ctx = ProbeContext::new(&config).expect("probe context");
    let rss = memory.start_phase();
    let started = Instant::now();
    let report = sweep::run(&aws, &ctx, &config, OffsetDateTime::now_utc(), None)
        .await
        .expect("sweep runs");
    let first = started.elapsed();
    row(
        figures,
        "sweep::run #1, whole (adds 5 thumbprints)",
        first,
        rss,
    );
    figures.line(format!(
        "|   ~ assess + remediate (whole - the 2 rows above) | {:>10} |          |          |",
        ms(first.saturating_sub(inventory_wall + probe_wall))
    ));
    figures.check(
        report.summary.providers == SWEEP_PROVIDERS
            && report.summary.thumbprints_added == SWEEP_PROVIDERS / 10
            && report.summary.critical == 0,
        || format!("sweep #1 summary: {:?}", report.summary),
    );

    let ctx = ProbeContext::new(&config).expect("probe context");
    let rss = memory.start_phase();
    let started = Instant::now();
    let report = sweep::run(&aws, &ctx, &config, OffsetDateTime::now_utc(), None)
        .await
        .expect("sweep runs");
    row(
        figures,
        "sweep::run #2, whole (nothing to add)",
        started.elapsed(),
        rss,
    );
    figures.check(
        report.summary.thumbprints_added == 0 && report.findings.is_empty(),
        || format!("sweep #2 summary: {:?}", report.summary),
    );

    let mut env = moto.env(REGION);
    for (k, v) in [
        (
            "EXTRA_TRUST_ANCHORS_PEM",
            trust.path().to_string_lossy().into_owned(),
        ),
        ("ALLOW_PRIVATE_ADDRESSES", "true".to_string()),
        ("PROBE_CONCURRENCY", CONCURRENCY.to_string()),
    ] {
        env.push((k.to_string(), v));
    }
    let (max_rss, wall, code, stdout) = cli_sweep(cli, &env).await;
    figures.line(format!(
        "| CLI `thumbprint-guard sweep --json` (child)       | {:>10} |          | {:>8} |",
        ms(wall),
        mib(max_rss)
    ));
    let providers = serde_json::from_slice::<Report>(&stdout).map(|r| r.summary.providers);
    figures.check(
        code == Some(0) && providers.as_ref().ok() == Some(&SWEEP_PROVIDERS),
        || format!("CLI sweep: exit {code:?}, providers {providers:?}"),
    );
    figures.line("");
    figures.line(format!(
        "The CLI row is a whole process (start-up, SDK set-up, sweep, JSON output); its peak is the child's max RSS \
         ({}). The other peaks are this process (servers and moto client included).",
        if Path::new("/usr/bin/time").exists() {
            "/usr/bin/time -v"
        } else {
            "VmHWM polled from /proc/PID/status"
        }
    ));
    figures.line("");
}

/// A report shaped like a large account's: every provider with a two-certificate chain, a tenth
/// stale, some expiring, some without the STS audience, roles trusting without `:sub`.
fn synthetic_report(providers: usize) -> Report {
    let now = thumbprint_guard::report::whole_seconds(OffsetDateTime::now_utc());
    let sha1 = |seed: usize| {
        format!(
            "{:040x}",
            (seed as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
        )
    };
    let cert = |subject: String, seed: usize, days: i64| CertificateInfo {
        subject,
        issuer: "CN=Amazon RSA 2048 M02,O=Amazon,C=US".into(),
        sha1: sha1(seed),
        not_before: Some(now - time::Duration::days(200)),
        not_after: Some(now + time::Duration::days(days)),
    };
    let mut report = Report {
        resolved: Vec::new(),
        schema_version: SCHEMA_VERSION,
        account_id: moto::ACCOUNT_ID.into(),
        generated_at: now,
        remediation_mode: RemediationMode::Add,
        providers: Vec::new(),
        clusters: Vec::new(),
        findings: Vec::new(),
        summary: Default::default(),
    };
    for i in 0..providers {
        let region = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"][i % 4];
        let host = format!("oidc.eks.{region}.amazonaws.com");
        let id = format!("{:032X}", i as u128 * 7_919);
        let url = format!("https://{host}/id/{id}");
        let arn = format!(
            "arn:aws:iam::{}:oidc-provider/{host}/id/{id}",
            moto::ACCOUNT_ID
        );
        let top = sha1(1_000_000 + i % 4);
        let stale = i % 10 == 0;
        let leaf_days = if i % 20 == 5 { 12 } else { 300 };
        let mut configured = vec![if stale {
            sha1(2_000_000 + i)
        } else {
            top.clone()
        }];
        let mut remediation = None;
        if stale {
            if i % 20 == 0 {
                configured.push(top.clone());
                remediation = Some(Remediation {
                    outcome: RemediationOutcome::Applied,
                    added: vec![top.clone()],
                    reason: format!(
                        "{host} matches REMEDIATION_ALLOWED_HOSTS (oidc.eks.*.amazonaws.com)"
                    ),
                });
                report.findings.push(
                    Finding::new(
                        FindingCode::ThumbprintAdded,
                        &arn,
                        format!("added {top} to {arn}"),
                    )
                    .with_details(json!({"thumbprint": top})),
                );
            } else {
                report.findings.push(
                    Finding::new(
                        FindingCode::ThumbprintMismatch,
                        &arn,
                        format!("{host} serves top certificate {top}, which is not among the provider's thumbprints"),
                    )
                    .with_severity(Severity::Warning)
                    .with_details(json!({"thumbprint": top, "address": "203.0.113.10:443"})),
                );
            }
        }
        if leaf_days < 30 {
            report.findings.push(
                Finding::new(
                    FindingCode::CertExpiring,
                    &arn,
                    format!(
                        "the certificate CN={host} served by {host} expires in {leaf_days} days"
                    ),
                )
                .with_details(json!({"sha1": sha1(i), "days_left": leaf_days})),
            );
        }
        let client_ids = if i % 25 == 3 {
            report.findings.push(Finding::new(
                FindingCode::AudienceMissing,
                &arn,
                format!("sts.amazonaws.com is not in the ClientIDList of {arn}"),
            ));
            vec!["other-audience".to_string()]
        } else {
            vec!["sts.amazonaws.com".to_string()]
        };
        if i % 16 == 7 {
            let role = format!("arn:aws:iam::{}:role/irsa-workload-{i}", moto::ACCOUNT_ID);
            report.findings.push(
                Finding::new(
                    FindingCode::TrustPolicyNoSub,
                    role,
                    format!("the role trusts {arn} without a :sub condition: any service account could assume it"),
                )
                .with_details(json!({"provider_arn": arn})),
            );
        }
        let chain = vec![
            cert(format!("CN={host}"), i, leaf_days),
            cert(
                "CN=Amazon RSA 2048 M02,O=Amazon,C=US".into(),
                1_000_000 + i % 4,
                2_000,
            ),
        ];
        report.providers.push(ProviderReport {
            arn: arn.clone(),
            url: url.clone(),
            client_ids,
            configured_thumbprints: configured,
            jwks_uri: Some(format!("{url}/keys")),
            endpoints: (0..2)
                .map(|a| Endpoint {
                    host: "127.0.0.1:443".into(),
                    serves: vec![thumbprint_guard::report::Fetch::Jwks],
                    address: format!("203.0.113.{}:443", 10 + a),
                    chain: chain.clone(),
                    top_thumbprint: Some(top.clone()),
                    trusted: true,
                    error: None,
                })
                .collect(),
            served_thumbprints: vec![top.clone()],
            thumbprint_enforced: false,
            remediation,
        });
        report.clusters.push(ClusterReport {
            arn: String::new(),
            name: format!("cluster-{i}"),
            region: region.into(),
            issuer: Some(url),
            provider_arn: Some(arn),
        });
    }
    thumbprint_guard::report::sort_findings(&mut report.findings);
    report.recount();
    report
}

/// Calls `f` at least 5 times and for at least `budget`; returns the median time per call.
fn time_per_call(budget: Duration, mut f: impl FnMut()) -> (Duration, usize) {
    let mut samples = Vec::new();
    let started = Instant::now();
    while samples.len() < 5 || (started.elapsed() < budget && samples.len() < 500) {
        let call = Instant::now();
        f();
        samples.push(call.elapsed());
    }
    let calls = samples.len();
    (spread(&mut samples).0, calls)
}

fn rendering(figures: &mut Figures, memory: &Memory) {
    let report = synthetic_report(RENDER_PROVIDERS);
    let json_bytes = serde_json::to_vec(&report).map_or(0, |v| v.len());
    figures.line(format!(
        "## Rendering a {RENDER_PROVIDERS}-provider report ({} findings, {} KiB of report JSON; pure, one thread)",
        report.findings.len(),
        json_bytes / 1024
    ));
    figures.line("");
    figures.line("| call                                   | median per call | calls | output                               | peak MiB |");
    figures.line("|----------------------------------------|----------------:|------:|--------------------------------------|---------:|");

    memory.start_phase();
    let messages = notify::render(&report);
    let total: usize = messages.iter().map(|m| m.publish_size()).sum();
    let largest = messages.iter().map(|m| m.publish_size()).max().unwrap_or(0);
    let (per_call, calls) = time_per_call(Duration::from_secs(2), || {
        std::hint::black_box(notify::render(std::hint::black_box(&report)));
    });
    figures.line(format!(
        "| notify::render (SNS messages)          | {:>12} ms | {calls:>5} | {:<36} | {:>8} |",
        ms(per_call),
        format!(
            "{} part(s), {} KiB, largest {} KiB",
            messages.len(),
            total / 1024,
            largest / 1024
        ),
        mib(memory.peak())
    ));
    figures.check(largest <= notify::PUBLISH_BUDGET_BYTES, || {
        format!("a rendered part is {largest} bytes")
    });

    memory.start_phase();
    let now = OffsetDateTime::now_utc();
    let table_bytes = render::table(&report, now).len();
    let (per_call, calls) = time_per_call(Duration::from_secs(1), || {
        std::hint::black_box(render::table(std::hint::black_box(&report), now));
    });
    figures.line(format!(
        "| render::table (terminal)               | {:>12} ms | {calls:>5} | {:<36} | {:>8} |",
        ms(per_call),
        format!("{} KiB of text", table_bytes / 1024),
        mib(memory.peak())
    ));
    figures.line("");
}

async fn bench(cli: &str) -> Figures {
    let mut figures = Figures::default();
    let memory = Memory::new();
    figures.line(format!(
        "# thumbprint-guard bench: {} CPU(s), {} build; peak RSS {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "optimized"
        },
        if memory.resettable {
            "reset at the start of each phase"
        } else {
            "NOT resettable here: peaks are cumulative since start"
        },
    ));
    figures.line(format!(
        "baseline RSS of this process: {} MiB",
        mib(Memory::kib("VmRSS"))
    ));
    figures.line("");
    let started = Instant::now();
    probe_throughput(&mut figures, &memory).await;
    moto_sweep(&mut figures, &memory, cli).await;
    rendering(&mut figures, &memory);
    figures.line(format!(
        "total bench time: {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    figures
}

fn main() -> ExitCode {
    support::moto::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let cli = env!("CARGO_BIN_EXE_thumbprint-guard");
    let figures = runtime.block_on(bench(cli));
    println!("\n{}", figures.text);
    if figures.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("FAILED checks (figures above are not of healthy runs):");
        for failure in &figures.failures {
            println!("- {failure}");
        }
        ExitCode::FAILURE
    }
}
