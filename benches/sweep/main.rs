//! `make bench`: the real CLI binary swept against moto server and local HTTPS issuers that add a
//! fixed latency, with every AWS call counted by a proxy, every TCP connection and TLS handshake
//! counted by the issuers, and the CLI's own peak RSS measured by the OS.
//!
//! Cases (one line each, all also in bench/results.json):
//! 1. 1, 10, 100 and 1,000 providers on as many distinct hosts (127.10.x.y, one address each);
//! 2. 300 providers on one shared host: HTTP/1.1 only with keep-alive, HTTP/1.1 answering
//!    `Connection: close` on every response, and with HTTP/2 offered;
//! 3. the AWS knowledge-center procedure by hand (openssl s_client + openssl x509 + aws iam
//!    get-open-id-connect-provider, one provider after another) on the first providers, and our
//!    speed-up over it;
//! 4. start of the process to the first AWS request;
//! 5. the Lambda binary's init against the runtime API of `cargo lambda watch`;
//! 6. organization mode: member accounts with 3 providers each, and the extrapolation to 1,000
//!    and 10,000 accounts against Lambda's 15 minutes;
//! 7. rendering a large report (notify::render, render::table), in this process;
//! 8. the in-cluster checks: one EKS cluster whose Kubernetes API (a local fake) serves N service
//!    accounts and N pods, swept with KUBERNETES_CHECKS on and off, and the time the checks add
//!    per 1,000 service accounts.
//!
//! Settings (environment): BENCH_LATENCY_MS (500: waited by the issuers before every TLS
//! handshake and every HTTP response), BENCH_RUNS (3 CLI runs per case, the median reported),
//! BENCH_PROVIDERS (1,10,100,1000), BENCH_SHARED_PROVIDERS (300), BENCH_BASELINE_PROVIDERS (10),
//! BENCH_ORG_ACCOUNTS (200, no issuer latency), BENCH_ORG_LATENCY_ACCOUNTS (20, with the issuer
//! latency), BENCH_AWS_LATENCY_MS (0: added by the proxy to every AWS call),
//! BENCH_K8S_SERVICE_ACCOUNTS (1000,5000: service accounts, and as many pods, in the cluster),
//! BENCH_ONLY (comma-separated sections:
//! providers,shared,baseline,lambda,organization,rendering,kubernetes), BENCH_RESULTS
//! (bench/results.json).
//!
//! Figures are of this machine, where the issuers, moto and the tool share the CPUs: the fixed
//! latency stands in for the network, moto's answers are faster than AWS's.

#[path = "../../tests/support/mod.rs"]
mod support;

mod baseline;
mod cases;
mod cli;
mod fleet;
mod kubernetes;
mod lambda;
mod measure;
mod organization;
mod rendering;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::cases::{measure, register, reset_moto, CaseResult};
use crate::fleet::Host;
use crate::measure::{secs, Figures};
use crate::support::aws_proxy::AwsProxy;
use crate::support::issuer::{Http, TestCa, TrustFile};
use crate::support::moto::Moto;

const REGION: &str = "us-east-1";
const STS: &str = "sts.amazonaws.com";
/// Providers in the synthetic report rendered for SNS.
const RENDER_PROVIDERS: usize = 400;
const SWEEP: [&str; 3] = ["sweep", "--output", "json"];

pub struct Settings {
    pub latency: Duration,
    pub runs: usize,
    pub providers: Vec<usize>,
    pub shared_providers: usize,
    pub baseline_providers: usize,
    pub org_accounts: usize,
    pub org_latency_accounts: usize,
    pub aws_latency: Duration,
    pub k8s_service_accounts: Vec<usize>,
    pub only: Option<Vec<String>>,
    pub results: PathBuf,
}

fn var<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a valid value")),
        _ => default,
    }
}

impl Settings {
    fn from_env() -> Settings {
        let list = |name: &str, default: &str| -> Vec<String> {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| default.to_string())
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        Settings {
            latency: Duration::from_millis(var("BENCH_LATENCY_MS", 500)),
            runs: var("BENCH_RUNS", 3usize).max(1),
            providers: list("BENCH_PROVIDERS", "1,10,100,1000")
                .iter()
                .map(|n| n.parse().expect("BENCH_PROVIDERS: numbers"))
                .collect(),
            shared_providers: var("BENCH_SHARED_PROVIDERS", 300),
            baseline_providers: var("BENCH_BASELINE_PROVIDERS", 10),
            org_accounts: var("BENCH_ORG_ACCOUNTS", 200),
            org_latency_accounts: var("BENCH_ORG_LATENCY_ACCOUNTS", 20),
            aws_latency: Duration::from_millis(var("BENCH_AWS_LATENCY_MS", 0)),
            k8s_service_accounts: list("BENCH_K8S_SERVICE_ACCOUNTS", "1000,5000")
                .iter()
                .map(|n| n.parse().expect("BENCH_K8S_SERVICE_ACCOUNTS: numbers"))
                .collect(),
            only: std::env::var("BENCH_ONLY")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(|_| list("BENCH_ONLY", "")),
            results: PathBuf::from(std::env::var("BENCH_RESULTS").unwrap_or_else(|_| {
                support::moto::root()
                    .join("bench/results.json")
                    .display()
                    .to_string()
            })),
        }
    }

    pub fn wants(&self, section: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|s| s == section))
    }
}

/// What every section shares: moto, the proxy in front of it, the test CA, the binaries.
pub struct Bench {
    pub settings: Settings,
    pub moto: Moto,
    pub proxy: AwsProxy,
    pub ca: TestCa,
    pub trust: TrustFile,
    pub iam: aws_sdk_iam::Client,
    pub sdk: aws_config::SdkConfig,
    pub cli: PathBuf,
}

impl Bench {
    /// The tool's environment: AWS through the counting proxy, moto's dummy credentials, the test
    /// CA trusted, loopback issuers allowed; everything else at its default (EKS listing in the
    /// region, trust-policy audit on, PROBE_CONCURRENCY 128, PROBE_TIMEOUT_SECS 10).
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = self.moto.env(REGION);
        for (key, value) in &mut env {
            if key == "AWS_ENDPOINT_URL" {
                *value = self.proxy.endpoint.clone();
            }
        }
        env.push((
            "EXTRA_TRUST_ANCHORS_PEM".into(),
            self.trust.path().display().to_string(),
        ));
        env.push(("ALLOW_PRIVATE_ADDRESSES".into(), "true".into()));
        env
    }
}

/// Providers on distinct hosts, then on one shared host; returns every case.
async fn provider_cases(bench: &Bench, figures: &mut Figures, fleet: &[Host]) -> Vec<CaseResult> {
    let mut results: Vec<CaseResult> = Vec::new();
    let env = bench.env();
    // Each case's ratio to the 1-provider case, measured first.
    let ratio = |results: &[CaseResult], result: &mut CaseResult| {
        let one = results
            .iter()
            .chain(std::iter::once(&*result))
            .find(|r| r.name == "distinct-hosts-1")
            .map(|r| r.wall_s);
        result.ratio_to_one_provider = one.map(|one| (result.wall_s / one * 100.0).round() / 100.0);
    };
    if bench.settings.wants("providers") {
        for &n in &bench.settings.providers {
            reset_moto(bench).await;
            let providers: Vec<(String, String)> = fleet[..n]
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    (
                        h.server.issuer_url(&format!("/id/BENCH{i:04}")),
                        h.top.clone(),
                    )
                })
                .collect();
            register(&bench.iam, &providers).await;
            let expected: HashMap<String, String> = providers.into_iter().collect();
            let hosts: Vec<&Host> = fleet[..n].iter().collect();
            let name = format!("distinct-hosts-{n}");
            let (mut result, _) =
                measure(bench, &name, &hosts, "http/1.1", &expected, &env, &SWEEP).await;
            ratio(&results, &mut result);
            figures.line(result.line());
            results.push(result);
        }
    }
    if bench.settings.wants("shared") {
        let n = bench.settings.shared_providers;
        // HTTP/1.1 with keep-alive, HTTP/1.1 answering `Connection: close` on every response (every
        // HTTP/1.0-style server, many load balancers), and HTTP/2 offered.
        for (index, http, keep_alive, label, suffix) in [
            (1u8, Http::Http1Only, true, "http/1.1", "h1"),
            (3u8, Http::Http1Only, false, "http/1.1", "h1-close"),
            (2u8, Http::H2AndHttp1, true, "h2+http/1.1", "h2"),
        ] {
            let address = std::net::IpAddr::from([127, 11, 0, index]);
            let host = fleet::host(&bench.ca, address, bench.settings.latency, http).await;
            host.server.set_keep_alive(keep_alive);
            reset_moto(bench).await;
            let providers: Vec<(String, String)> = (0..n)
                .map(|i| {
                    (
                        host.server.issuer_url(&format!("/id/SHARED{i:04}")),
                        host.top.clone(),
                    )
                })
                .collect();
            register(&bench.iam, &providers).await;
            let expected: HashMap<String, String> = providers.into_iter().collect();
            let name = format!("shared-host-{n}-{suffix}");
            let (mut result, _) =
                measure(bench, &name, &[&host], label, &expected, &env, &SWEEP).await;
            ratio(&results, &mut result);
            figures.line(result.line());
            results.push(result);
        }
    }
    results
}

/// The targets of issues 11, 13 and 19, met or not (never asserted), and issue 22's figure.
fn targets(
    cases: &[CaseResult],
    lambda: &Value,
    organization: &Value,
    kubernetes: &Value,
) -> Value {
    let case = |name: &str| cases.iter().find(|c| c.name == name);
    let mut targets = Vec::new();
    if let Some(c) = case("distinct-hosts-100") {
        let ratio = c.ratio_to_one_provider;
        targets.push(json!({
            "target": "100 providers within 1.5x the wall time of one",
            "measured": ratio.map(|r| format!("{r:.2}x ({:.3} s vs {:.3} s)", c.wall_s, c.wall_s / r)),
            "met": ratio.map(|r| r <= 1.5),
        }));
    }
    for c in cases.iter().filter(|c| c.name.starts_with("shared-host-")) {
        targets.push(json!({
            "target": format!("every provider healthy on one shared host ({})", c.name),
            "measured": format!("{}/{} healthy", c.healthy_providers, c.providers),
            "met": c.healthy_providers == c.providers,
        }));
    }
    let per_address: Vec<Value> = cases
        .iter()
        .map(|c| json!({"case": c.name, "tcp_per_host_max": c.tcp_connections_per_host.max, "tls_per_host_max": c.tls_handshakes_per_host.max}))
        .collect();
    if !cases.is_empty() {
        // A host that keeps its connections: one handshake per address, plus at most 7 more over
        // HTTP/1.1 when requests queue (8 at once per address). A host that closes after every
        // response cannot be held to it: that row is reported, not judged.
        let met = cases
            .iter()
            .filter(|c| !c.name.ends_with("-close"))
            .all(|c| c.tls_handshakes_per_host.max <= 8);
        targets.push(json!({
            "target": "connections per address: 1 per run for HTTP/2 and for a single provider, at most 8 at once over HTTP/1.1 (hosts that keep their connections)",
            "measured": per_address,
            "met": met,
        }));
    }
    for run in organization.as_array().into_iter().flatten() {
        let max = run["tls_handshakes_per_host"]["max"].as_u64();
        targets.push(json!({
            "target": format!(
                "organization mode connects each shared address at most twice per run ({} accounts, 3 shared hosts, issuer latency {} ms, AWS latency {} ms)",
                run["accounts"], run["issuer_latency_ms"], run["aws_latency_ms"]
            ),
            "measured": format!(
                "{} TCP connections / {} TLS handshakes per host at most",
                run["tcp_connections_per_host"]["max"], run["tls_handshakes_per_host"]["max"]
            ),
            "met": max.map(|m| m <= 2),
        }));
        let members = run["member_accounts"].as_u64().unwrap_or(0);
        let assumed = run["aws_calls"]["sts:AssumeRole"].as_u64().unwrap_or(0);
        targets.push(json!({
            "target": format!("one sts:AssumeRole per member per run ({members} members)"),
            "measured": format!("{assumed} sts:AssumeRole calls"),
            "met": assumed == members,
        }));
        if run["issuer_latency_ms"].as_u64().unwrap_or(0) > 0 {
            let extrapolated = run["extrapolated_1000_accounts_s"].as_f64();
            targets.push(json!({
                "target": format!(
                    "1,000 accounts within 300 s (extrapolated; issuer latency {} ms, AWS latency {} ms)",
                    run["issuer_latency_ms"], run["aws_latency_ms"]
                ),
                "measured": extrapolated.map(|s| format!("{s:.0} s ({} ms per account)", run["per_account_ms"])),
                "met": extrapolated.map(|s| s <= 300.0),
            }));
        }
    }
    let rss: Vec<(String, f64)> = cases
        .iter()
        .filter_map(|c| c.peak_rss_mib.map(|m| (c.name.clone(), m)))
        .chain(
            organization
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    r["peak_rss_mib"]
                        .as_f64()
                        .map(|m| (format!("organization-{}", r["accounts"]), m))
                }),
        )
        .collect();
    if let Some((worst, mib)) = rss.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
        targets.push(json!({
            "target": "peak RSS within 40 MiB in every case",
            "measured": format!("largest {mib:.1} MiB ({worst})"),
            "met": *mib <= 40.0,
        }));
    }
    if let Some(c) = case("distinct-hosts-1000") {
        targets.push(json!({
            "target": "1,000 providers within 40 MiB peak RSS",
            "measured": c.peak_rss_mib.map(|m| format!("{m:.1} MiB")),
            "met": c.peak_rss_mib.map(|m| m <= 40.0),
        }));
    }
    let mut firsts: Vec<(String, f64)> = cases
        .iter()
        .filter_map(|c| c.first_aws_request_ms.map(|m| (c.name.clone(), m)))
        .collect();
    if !firsts.is_empty() {
        firsts.sort_by(|a, b| a.1.total_cmp(&b.1));
        let worst = firsts.last().cloned().unwrap_or_default();
        let one = case("distinct-hosts-1").and_then(|c| c.first_aws_request_ms);
        targets.push(json!({
            "target": "50 ms or less from process start to the first AWS request",
            "measured": format!(
                "median {} ms in the 1-provider case; worst case median {:.1} ms ({})",
                one.map_or("n/a".into(), |m| format!("{m:.1}")), worst.1, worst.0
            ),
            "met": one.map(|m| m <= 50.0 && worst.1 <= 50.0),
        }));
    }
    if let Some(init) = lambda["init_ms"].as_f64() {
        targets.push(json!({
            "target": "(no target, reported) Lambda init against cargo lambda watch's runtime API",
            "measured": format!("{init:.1} ms"),
            "met": Value::Null,
        }));
    }
    for case in kubernetes.as_array().into_iter().flatten() {
        targets.push(json!({
            "target": format!(
                "(no target, reported) time KUBERNETES_CHECKS=on adds per 1,000 service accounts ({} service accounts and pods)",
                case["service_accounts"]
            ),
            "measured": format!(
                "{} s per 1,000 ({} s added: {} s on, {} s off; the CLI's CPU {} s per 1,000); {} pages; peak RSS {} MiB on, {} MiB off",
                case["added_s_per_1000_service_accounts"], case["added_s"], case["on"]["wall_s"],
                case["off"]["wall_s"], case["added_cli_cpu_s_per_1000_service_accounts"],
                case["on"]["pages_total"], case["on"]["peak_rss_mib"], case["off"]["peak_rss_mib"]
            ),
            "met": Value::Null,
        }));
    }
    Value::Array(targets)
}

async fn bench(cli: PathBuf, figures: &mut Figures) -> Value {
    let settings = Settings::from_env();
    let started = Instant::now();
    let machine = measure::machine();
    figures.line(format!(
        "# thumbprint-guard bench: {} CPU(s) ({}), {} GiB; CLI {} ({} build); issuer latency {} ms before every TLS \
         handshake and every HTTP response; AWS latency added {} ms; {} run(s) per case (median); peak RSS: {}",
        machine["nproc"],
        machine["cpu_model"].as_str().unwrap_or("?"),
        machine["memory_gib"],
        cli.display(),
        if cfg!(debug_assertions) { "debug" } else { "optimized" },
        settings.latency.as_millis(),
        settings.aws_latency.as_millis(),
        settings.runs,
        cli::rss_method(),
    ));
    let moto = Moto::start().await;
    let proxy = AwsProxy::start(&moto.endpoint, settings.aws_latency).await;
    let ca = TestCa::new("bench");
    let trust = TrustFile::new(&[&ca]);
    let sdk = moto.sdk_config(REGION).await;
    let iam = aws_sdk_iam::Client::new(&sdk);
    let bench = Bench {
        settings,
        moto,
        proxy,
        ca,
        trust,
        iam,
        sdk,
        cli,
    };
    // The distinct hosts of the sections that use them (none for BENCH_ONLY=organization etc.).
    let settings = &bench.settings;
    let needed = settings
        .providers
        .iter()
        .copied()
        .filter(|_| settings.wants("providers"))
        .chain(
            settings
                .wants("baseline")
                .then_some(settings.baseline_providers),
        )
        .chain(settings.wants("lambda").then_some(1))
        .max()
        .unwrap_or(0);
    let fleet = fleet::distinct_hosts(&bench.ca, needed, bench.settings.latency).await;
    if needed > 0 {
        figures.line(format!(
            "{needed} distinct issuer hosts up (127.10.x.y); {:.1} s of setup so far",
            started.elapsed().as_secs_f64()
        ));
    }

    let cases = provider_cases(&bench, figures, &fleet).await;
    // The bench itself must work: every run exits 0 or 1 with a report. How many providers came
    // out healthy is a result (a target below), not a check.
    for case in &cases {
        figures.check(
            case.exit_codes
                .iter()
                .all(|c| matches!(c, Some(0) | Some(1))),
            || format!("{}: exit codes {:?}", case.name, case.exit_codes),
        );
        figures.check(case.healthy_providers > 0, || {
            format!("{}: no provider healthy", case.name)
        });
    }
    let baseline = if bench.settings.wants("baseline") {
        baseline::run(&bench, figures, &fleet, &cases).await
    } else {
        Value::Null
    };
    let lambda = if bench.settings.wants("lambda") {
        lambda::run(&bench, figures, &fleet[0]).await
    } else {
        Value::Null
    };
    let organization = if bench.settings.wants("organization") {
        organization::run(&bench, figures).await
    } else {
        Value::Null
    };
    let rendering = if bench.settings.wants("rendering") {
        rendering::rendering(figures)
    } else {
        Value::Null
    };
    let kubernetes = if bench.settings.wants("kubernetes") {
        kubernetes::run(&bench, figures).await
    } else {
        Value::Null
    };
    let targets = targets(&cases, &lambda, &organization, &kubernetes);
    figures.line("");
    figures.line("Targets (reported, never asserted):");
    for target in targets.as_array().into_iter().flatten() {
        let met = match target["met"].as_bool() {
            Some(true) => "MET",
            Some(false) => "NOT MET",
            None => "-",
        };
        let measured = match &target["measured"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        figures.line(format!(
            "  [{met}] {}: {measured}",
            target["target"].as_str().unwrap_or("")
        ));
    }
    figures.line(format!(
        "total bench time: {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    json!({
        "generated_at": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "machine": machine,
        "build": {
            "profile": if cfg!(debug_assertions) { "debug" } else { "bench-fast (release without LTO, codegen-units 16)" },
            "cli": bench.cli.display().to_string(),
        },
        "settings": {
            "issuer_latency_ms": bench.settings.latency.as_millis() as u64,
            "aws_latency_ms": bench.settings.aws_latency.as_millis() as u64,
            "runs_per_case": bench.settings.runs,
            "peak_rss_method": cli::rss_method(),
            "tool_environment": "defaults except AWS_ENDPOINT_URL (the counting proxy), EXTRA_TRUST_ANCHORS_PEM, ALLOW_PRIVATE_ADDRESSES=true: EKS_REGIONS=current region, AUDIT_TRUST_POLICIES=true, PROBE_CONCURRENCY=128, PROBE_TIMEOUT_SECS=10",
        },
        "cases": cases,
        "baseline": baseline,
        "lambda_init": lambda,
        "organization": organization,
        "rendering": rendering,
        "kubernetes": kubernetes,
        "targets": targets,
        "total_bench_s": secs(started.elapsed()),
    })
}

fn main() -> ExitCode {
    support::moto::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let cli = PathBuf::from(env!("CARGO_BIN_EXE_thumbprint-guard"));
    let mut figures = Figures::default();
    let results = runtime.block_on(bench(cli, &mut figures));
    let path = Settings::from_env().results;
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let text = serde_json::to_string_pretty(&results).expect("results JSON") + "\n";
    match std::fs::write(&path, text) {
        Ok(()) => figures.line(format!("results written to {}", path.display())),
        Err(e) => figures
            .failures
            .push(format!("cannot write {}: {e}", path.display())),
    }
    println!("\n{}", figures.text);
    if figures.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("FAILED checks (the figures above are not all of healthy runs):");
        for failure in &figures.failures {
            println!("- {failure}");
        }
        ExitCode::FAILURE
    }
}
