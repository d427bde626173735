//! The in-cluster checks (issue 22): what `KUBERNETES_CHECKS=on` adds to a sweep per 1,000
//! service accounts. One EKS cluster in moto, behind the EKS shim (its endpoint, CA and issuer),
//! whose Kubernetes API is the fake of `tests/support/kube_api.rs` serving N service accounts and
//! N pods (`BENCH_K8S_SERVICE_ACCOUNTS`, 1,000 and 5,000); the same sweep with the checks on and
//! off, `BENCH_RUNS` times each (the two interleaved, so that the load of the shared cores falls
//! on both alike), median wall time of each.
//!
//! The fixture, like `MisconfiguredCluster` of `tests/support/scenario.rs` but N objects: service
//! account `sa00042` in namespace `team000` (50 per namespace), one pod each (`sa00042-0`,
//! running); every tenth service account annotated with its own role, which exists in moto and
//! trusts exactly `system:serviceaccount:NS:NAME` of the cluster's IAM OIDC provider, and its pod
//! has what the IRSA webhook injects, except every hundredth, which started before the annotation
//! (one POD_NEEDS_RESTART each: N/100 findings, so that a page the checks skipped would show).
//! The cluster's issuer is a local issuer without latency (the sweep's own work is the same in
//! both runs; the in-cluster step comes after it, so the difference is that step).
//!
//! Pages are the list requests the fake API answered (it counts them; `limit` is the tool's, 250);
//! each is authenticated as EKS does, the token's presigned `sts:GetCallerIdentity` sent to moto.
//! The fake API and moto answer on loopback: a real API server's round trip adds to every page.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use crate::cases::reset_moto;
use crate::cli::{self, CliRun};
use crate::fleet::{self, Host};
use crate::measure::{mib, secs, spread, Figures};
use crate::support::eks_shim::EksShim;
use crate::support::issuer::Http;
use crate::support::kube_api::{self, FakeKubeApi, KubeApiFixture};
use crate::support::moto;
use crate::{Bench, STS, SWEEP};

const CLUSTER: &str = "bench";
/// Service accounts per namespace.
const PER_NAMESPACE: usize = 50;
/// One service account in this many is annotated with a role.
const ANNOTATED_EVERY: usize = 10;
/// One in this many (all annotated) has a pod that needs a restart.
const RESTART_EVERY: usize = 100;
const TOKEN_FILE: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";
const SERVICE_ACCOUNTS_PATH: &str = "/api/v1/serviceaccounts";
const PODS_PATH: &str = "/api/v1/pods";

/// One case per `BENCH_K8S_SERVICE_ACCOUNTS` value.
pub async fn run(bench: &Bench, figures: &mut Figures) -> Value {
    // The cluster's issuer: one local host, no latency (both runs probe it alike).
    let issuer = fleet::host(
        &bench.ca,
        IpAddr::from([127, 14, 0, 1]),
        Duration::ZERO,
        Http::Http1Only,
    )
    .await;
    let mut cases = Vec::new();
    for &n in &bench.settings.k8s_service_accounts {
        cases.push(case(bench, figures, &issuer, n).await);
    }
    Value::Array(cases)
}

fn namespace(i: usize) -> String {
    format!("team{:03}", i / PER_NAMESPACE)
}

fn name(i: usize) -> String {
    format!("sa{i:05}")
}

/// The cluster in moto with its provider and the annotated service accounts' roles, the shim and
/// the fake API serving `n` service accounts and `n` pods.
struct Fixture {
    shim: EksShim,
    api: FakeKubeApi,
    annotated: usize,
    restarts: usize,
}

async fn fixture(bench: &Bench, issuer: &Host, n: usize) -> Fixture {
    reset_moto(bench).await;
    let role = format!("arn:aws:iam::{}:role/eks-cluster", moto::ACCOUNT_ID);
    moto::create_eks_cluster(&aws_sdk_eks::Client::new(&bench.sdk), CLUSTER, &role)
        .await
        .expect("CreateCluster in moto");
    let issuer_url = issuer.server.issuer_url("/id/BENCHK8S");
    let provider_arn =
        moto::create_provider(&bench.iam, &issuer_url, &[STS], &[&issuer.top], &[]).await;
    let path = issuer_url.trim_start_matches("https://").to_string();
    let annotated: Vec<usize> = (0..n).filter(|i| i % ANNOTATED_EVERY == 0).collect();
    // The roles, 16 at a time, straight to moto: role `bench-NAME` trusts NS/NAME.
    let role_arns: BTreeMap<usize, String> = stream::iter(annotated.iter().copied())
        .map(|i| {
            let (provider_arn, path) = (&provider_arn, &path);
            async move {
                let trust = json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Principal": {"Federated": provider_arn},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {"StringEquals": {
                            format!("{path}:sub"): format!("system:serviceaccount:{}:{}", namespace(i), name(i)),
                            format!("{path}:aud"): STS,
                        }},
                    }],
                });
                let role = format!("bench-{}", name(i));
                let created = bench
                    .iam
                    .create_role()
                    .role_name(&role)
                    .assume_role_policy_document(trust.to_string())
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("CreateRole {role} in moto: {e}"));
                (i, created.role.map(|r| r.arn).unwrap_or_default())
            }
        })
        .buffered(16)
        .collect()
        .await;
    let mut service_accounts = Vec::with_capacity(n);
    let mut pods = Vec::with_capacity(n);
    let mut restarts = 0;
    for i in 0..n {
        let (ns, sa) = (namespace(i), name(i));
        let role = role_arns.get(&i).map(String::as_str);
        service_accounts.push(kube_api::service_account(&ns, &sa, role));
        let env: Vec<(&str, &str)> = match role {
            Some(_) if i % RESTART_EVERY == 0 => {
                restarts += 1;
                Vec::new()
            }
            Some(arn) => vec![
                ("AWS_ROLE_ARN", arn),
                ("AWS_WEB_IDENTITY_TOKEN_FILE", TOKEN_FILE),
            ],
            None => Vec::new(),
        };
        pods.push(kube_api::pod(
            &ns,
            &format!("{sa}-0"),
            Some(&sa),
            &env,
            "Running",
        ));
    }
    // AWS through the shim, the shim through the counting proxy.
    let shim = EksShim::start(&bench.proxy.endpoint).await;
    let api = FakeKubeApi::start(KubeApiFixture {
        service_accounts,
        pods,
        ..KubeApiFixture::new(CLUSTER, &shim.endpoint, &bench.moto.endpoint)
    })
    .await;
    shim.set_cluster(CLUSTER, &api.endpoint(), &api.ca_data());
    shim.set_issuer(CLUSTER, &issuer_url);
    Fixture {
        shim,
        api,
        annotated: role_arns.len(),
        restarts,
    }
}

/// What one run of one mode gave.
struct Run {
    cli: CliRun,
    /// List requests answered 200, by path.
    pages: BTreeMap<String, usize>,
    /// Requests the fake API answered with another status.
    refused: usize,
    aws_calls: BTreeMap<String, usize>,
    findings: BTreeMap<String, usize>,
    /// The cluster entry's `kubernetes` field.
    reads: Value,
}

async fn sweep(bench: &Bench, fixture: &Fixture, env: &[(String, String)]) -> Run {
    bench.proxy.reset();
    let served_before = fixture.api.served().len();
    let shim_before = fixture.shim.calls();
    let cli = cli::run(&bench.cli, &SWEEP, env).await;
    let served = fixture.api.served();
    let mut pages = BTreeMap::new();
    let mut refused = 0;
    for s in &served[served_before..] {
        if s.status == 200 {
            *pages.entry(s.path.clone()).or_default() += 1;
        } else {
            refused += 1;
        }
    }
    // The proxy counts what reaches moto (DescribeCluster included); the shim answers the Pod
    // Identity calls itself.
    let mut aws_calls = bench.proxy.calls();
    for (operation, count) in fixture.shim.calls() {
        let added = count - shim_before.get(&operation).copied().unwrap_or(0);
        if operation.contains("PodIdentity") && added > 0 {
            aws_calls.insert(operation, added);
        }
    }
    let report: Value = serde_json::from_slice(&cli.stdout).unwrap_or(Value::Null);
    let mut findings = BTreeMap::new();
    for finding in report["findings"].as_array().into_iter().flatten() {
        let code = finding["code"].as_str().unwrap_or("?").to_string();
        *findings.entry(code).or_default() += 1;
    }
    let reads = report["clusters"]
        .as_array()
        .and_then(|clusters| clusters.first())
        .map_or(Value::Null, |c| c["kubernetes"].clone());
    Run {
        cli,
        pages,
        refused,
        aws_calls,
        findings,
        reads,
    }
}

/// The medians of one mode's runs.
struct Medians {
    wall: Duration,
    wall_min: Duration,
    wall_max: Duration,
    rss_kib: Option<u64>,
    /// The CLI's user + system CPU time (GNU time only).
    cpu: Option<Duration>,
}

fn medians(runs: &[Run]) -> Medians {
    let mut walls: Vec<Duration> = runs.iter().map(|r| r.cli.wall).collect();
    let (wall, wall_min, wall_max) = spread(&mut walls);
    let mut rss: Vec<u64> = runs.iter().filter_map(|r| r.cli.peak_rss_kib).collect();
    rss.sort();
    let mut cpu: Vec<Duration> = runs.iter().filter_map(|r| r.cli.cpu).collect();
    cpu.sort();
    Medians {
        wall,
        wall_min,
        wall_max,
        rss_kib: rss.get(rss.len() / 2).copied(),
        cpu: cpu.get(cpu.len() / 2).copied(),
    }
}

fn rss_mib(kib: Option<u64>) -> Option<f64> {
    kib.map(|k| (k as f64 / 1024.0 * 10.0).round() / 10.0)
}

async fn case(bench: &Bench, figures: &mut Figures, issuer: &Host, n: usize) -> Value {
    let setup = Instant::now();
    let fixture = fixture(bench, issuer, n).await;
    figures.line(format!(
        "kubernetes: cluster `{CLUSTER}` with {n} service accounts ({} annotated, {} roles in moto) and {n} pods \
         ({} needing a restart) set up in {:.1} s",
        fixture.annotated,
        fixture.annotated,
        fixture.restarts,
        setup.elapsed().as_secs_f64()
    ));
    let mut base = bench.env();
    for (key, value) in &mut base {
        if key == "AWS_ENDPOINT_URL" {
            *value = fixture.shim.endpoint.clone();
        }
    }
    let with = |checks: &str| {
        let mut env = base.clone();
        env.push(("KUBERNETES_CHECKS".into(), checks.into()));
        env
    };
    let (env_on, env_off) = (with("on"), with("off"));
    let mut on = Vec::new();
    let mut off = Vec::new();
    for _ in 0..bench.settings.runs {
        off.push(sweep(bench, &fixture, &env_off).await);
        on.push(sweep(bench, &fixture, &env_on).await);
    }
    let name = format!("kubernetes-{n}");
    // The bench itself must work: every run exits 0 or 1 with a report; with the checks on, every
    // object read and the seeded findings found, on the same pages every run; off, no page read.
    for (mode, runs) in [("on", &on), ("off", &off)] {
        for run in runs.iter() {
            figures.check(matches!(run.cli.code, Some(0) | Some(1)), || {
                format!(
                    "{name} ({mode}): exit code {:?}:\n{}",
                    run.cli.code, run.cli.stderr
                )
            });
        }
    }
    for run in &on {
        figures.check(
            run.reads["service_accounts"] == n
                && run.reads["pods"] == n
                && run.reads["error"].is_null(),
            || format!("{name}: the cluster's reads are {}, expected {n} service accounts and {n} pods", run.reads),
        );
        figures.check(
            run.findings.get("POD_NEEDS_RESTART").copied().unwrap_or(0) == fixture.restarts,
            || {
                format!(
                    "{name}: findings {:?}, expected {} POD_NEEDS_RESTART",
                    run.findings, fixture.restarts
                )
            },
        );
        figures.check(run.refused == 0, || {
            format!("{name}: the fake API refused {} requests", run.refused)
        });
    }
    figures.check(on.windows(2).all(|w| w[0].pages == w[1].pages), || {
        format!("{name}: pages differ between runs")
    });
    figures.check(off.iter().all(|r| r.pages.is_empty()), || {
        format!("{name}: the fake API was read with the checks off")
    });

    let (m_on, m_off) = (medians(&on), medians(&off));
    let thousands = n as f64 / 1000.0;
    let added = m_on.wall.as_secs_f64() - m_off.wall.as_secs_f64();
    let per_1000 = added / thousands;
    let cpu_added = match (m_on.cpu, m_off.cpu) {
        (Some(on), Some(off)) => Some(on.as_secs_f64() - off.as_secs_f64()),
        _ => None,
    };
    let cpu_text =
        |cpu: Option<Duration>| cpu.map_or("n/a".into(), |c| format!("{:.2}", c.as_secs_f64()));
    let round3 = |v: f64| (v * 1000.0).round() / 1000.0;
    let last_on = on.last().expect("at least one run");
    let last_off = off.last().expect("at least one run");
    let pages_total: usize = last_on.pages.values().sum();
    let sa_pages = last_on
        .pages
        .get(SERVICE_ACCOUNTS_PATH)
        .copied()
        .unwrap_or(0);
    let pod_pages = last_on.pages.get(PODS_PATH).copied().unwrap_or(0);
    let findings_on: usize = last_on.findings.values().sum();
    let findings_off: usize = last_off.findings.values().sum();
    let codes: Vec<String> = last_on
        .findings
        .iter()
        .map(|(code, count)| format!("{code} {count}"))
        .collect();
    let calls = |run: &Run| run.aws_calls.values().sum::<usize>();
    figures.line(format!(
        "{name:<24} {n:>5} service accounts + {n} pods: checks on {:.3} s, off {:.3} s (median of {}): {:+.3} s, \
         {:.3} s per 1,000 service accounts; CLI CPU on {} / off {} s ({} s per 1,000); pages {pages_total} \
         ({sa_pages} service accounts + {pod_pages} pods); peak RSS on {} / off {} MiB; findings on {findings_on} / \
         off {findings_off} ({}); AWS calls on {} / off {}",
        m_on.wall.as_secs_f64(),
        m_off.wall.as_secs_f64(),
        on.len(),
        added,
        per_1000,
        cpu_text(m_on.cpu),
        cpu_text(m_off.cpu),
        cpu_added.map_or("n/a".into(), |c| format!("{:+.3}", c / thousands)),
        mib(m_on.rss_kib),
        mib(m_off.rss_kib),
        codes.join(", "),
        calls(last_on),
        calls(last_off),
    ));
    json!({
        "name": name,
        "service_accounts": n,
        "pods": n,
        "annotated_service_accounts": fixture.annotated,
        "roles_in_moto": fixture.annotated,
        "pods_needing_restart": fixture.restarts,
        "runs": on.len(),
        "on": {
            "wall_s": secs(m_on.wall),
            "wall_s_min": secs(m_on.wall_min),
            "wall_s_max": secs(m_on.wall_max),
            "wall_s_by_run": on.iter().map(|r| secs(r.cli.wall)).collect::<Vec<_>>(),
            "cli_cpu_s": m_on.cpu.map(secs),
            "cli_cpu_s_by_run": on.iter().map(|r| r.cli.cpu.map(secs)).collect::<Vec<_>>(),
            "peak_rss_mib": rss_mib(m_on.rss_kib),
            "peak_rss_mib_by_run": on.iter().map(|r| rss_mib(r.cli.peak_rss_kib)).collect::<Vec<_>>(),
            "pages": last_on.pages,
            "pages_total": pages_total,
            "cluster_reads": last_on.reads,
            "findings": last_on.findings,
            "findings_total": findings_on,
            "aws_calls": last_on.aws_calls,
            "exit_codes": on.iter().map(|r| r.cli.code).collect::<Vec<_>>(),
        },
        "off": {
            "wall_s": secs(m_off.wall),
            "wall_s_min": secs(m_off.wall_min),
            "wall_s_max": secs(m_off.wall_max),
            "wall_s_by_run": off.iter().map(|r| secs(r.cli.wall)).collect::<Vec<_>>(),
            "cli_cpu_s": m_off.cpu.map(secs),
            "cli_cpu_s_by_run": off.iter().map(|r| r.cli.cpu.map(secs)).collect::<Vec<_>>(),
            "peak_rss_mib": rss_mib(m_off.rss_kib),
            "peak_rss_mib_by_run": off.iter().map(|r| rss_mib(r.cli.peak_rss_kib)).collect::<Vec<_>>(),
            "findings": last_off.findings,
            "findings_total": findings_off,
            "aws_calls": last_off.aws_calls,
            "exit_codes": off.iter().map(|r| r.cli.code).collect::<Vec<_>>(),
        },
        "added_s": round3(added),
        "added_s_per_1000_service_accounts": round3(per_1000),
        "added_cli_cpu_s_per_1000_service_accounts": cpu_added.map(|c| round3(c / thousands)),
        "method": "median wall time with KUBERNETES_CHECKS=on minus the median with it off (runs interleaved), divided by service accounts / 1,000; one pod per service account. The wall time includes the fake API's work (building each page, checking each page's token with moto's STS) on the same cores; the CLI's CPU time (GNU time %U + %S, 10 ms resolution) is the tool's own",
    })
}
