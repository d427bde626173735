//! Organization mode (issue 13.7): member accounts with 3 providers each in one moto (moto
//! serves each assumed member from its own backend), swept by the CLI with
//! ORGANIZATION_ROLE_NAME set and ACCOUNT_CONCURRENCY at its default (8); wall time, time per
//! account, and the extrapolation to 1,000 and 10,000 accounts against Lambda's 15 minutes.
//!
//! The 3 providers of an account are on 3 shared hosts (as EKS serves every cluster of a region
//! from one host), each with its own issuer path; the hosts offer HTTP/2. The large run has no
//! issuer latency, so that it measures the per-account AWS work (moto) and the local probing; a
//! small run with the issuer latency (and `BENCH_AWS_LATENCY_MS` for AWS) gives the per-account
//! time the 1,000-account extrapolation is judged on. Shared hosts are probed and connected once
//! per run, whichever accounts use them.

use std::collections::HashMap;
use std::net::IpAddr;

use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use crate::cases::reset_moto;
use crate::cli;
use crate::fleet::{self, Host, PerHost, Tally};
use crate::measure::{millis, secs, Figures};
use crate::support::issuer::Http;
use crate::support::moto;
use crate::{Bench, REGION, STS, SWEEP};

const ROLE: &str = "thumbprint-guard-member";
const LAMBDA_LIMIT_S: f64 = 900.0;
const PROVIDERS_PER_ACCOUNT: usize = 3;

/// Both runs: `BENCH_ORG_ACCOUNTS` members without issuer latency, `BENCH_ORG_LATENCY_ACCOUNTS`
/// with it.
pub async fn run(bench: &Bench, figures: &mut Figures) -> Value {
    let mut runs = Vec::new();
    for (accounts, latency, subnet) in [
        (bench.settings.org_accounts, std::time::Duration::ZERO, 12u8),
        (
            bench.settings.org_latency_accounts,
            bench.settings.latency,
            13u8,
        ),
    ] {
        if accounts > 0 {
            runs.push(run_one(bench, figures, accounts, latency, subnet).await);
        }
    }
    Value::Array(runs)
}

async fn run_one(
    bench: &Bench,
    figures: &mut Figures,
    accounts: usize,
    latency: std::time::Duration,
    subnet: u8,
) -> Value {
    let mut hosts: Vec<Host> = Vec::new();
    for i in 0..PROVIDERS_PER_ACCOUNT {
        let address = IpAddr::from([127, subnet, 0, i as u8 + 1]);
        hosts.push(fleet::host(&bench.ca, address, latency, Http::H2AndHttp1).await);
    }
    reset_moto(bench).await;
    let setup = std::time::Instant::now();
    let organization_id = moto::create_organization(&bench.sdk).await;
    let ids: Vec<String> = stream::iter(0..accounts)
        .map(|i| async move { moto::create_account(&bench.sdk, &format!("member{i:05}")).await })
        .buffered(8)
        .collect()
        .await;
    let hosts_ref = &hosts;
    let expected: Vec<Vec<(String, String)>> = stream::iter(ids.iter().enumerate())
        .map(|(a, id)| async move {
            let member = moto::member_sdk_config(&bench.moto, REGION, id).await;
            let iam = aws_sdk_iam::Client::new(&member);
            let mut mine = Vec::new();
            for (h, host) in hosts_ref.iter().enumerate() {
                let url = host.server.issuer_url(&format!("/id/ACCOUNT{a:05}-{h}"));
                moto::create_provider(&iam, &url, &[STS], &[&host.top], &[]).await;
                mine.push((url, host.top.clone()));
            }
            mine
        })
        .buffered(8)
        .collect()
        .await;
    let expected: HashMap<String, String> = expected.into_iter().flatten().collect();
    figures.line(format!(
        "organization: {organization_id} with {accounts} member accounts and {} providers set up in {:.1} s",
        expected.len(),
        setup.elapsed().as_secs_f64()
    ));

    let mut env = bench.env();
    env.push(("ORGANIZATION_ROLE_NAME".into(), ROLE.into()));
    let concurrency = 8; // ACCOUNT_CONCURRENCY's default, left unset
    bench.proxy.reset();
    let host_refs: Vec<&Host> = hosts.iter().collect();
    let before = Tally::of(&host_refs);
    let run = cli::run(&bench.cli, &SWEEP, &env).await;
    let tally = Tally::of(&host_refs).since(&before);
    let first = bench
        .proxy
        .first_request()
        .map(|at| at.saturating_duration_since(run.spawned));
    let calls = bench.proxy.calls();
    let report: Value = serde_json::from_slice(&run.stdout).unwrap_or(Value::Null);
    let swept = report["summary"]["accounts"].as_u64().unwrap_or(0) as usize;
    let unreachable = report["summary"]["accounts_unreachable"]
        .as_u64()
        .unwrap_or(0) as usize;
    let empty = Vec::new();
    let healthy: usize = report["accounts"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|account| {
            let text = serde_json::to_vec(account).unwrap_or_default();
            crate::cases::assess_output(&text, &expected).0
        })
        .sum();
    figures.check(
        run.code == Some(0) && swept == accounts + 1 && unreachable == 0,
        || {
            format!(
                "organization: exit {:?}, {swept} accounts swept ({unreachable} unreachable), expected {}:\n{}",
                run.code,
                accounts + 1,
                run.stderr
            )
        },
    );
    let wall = run.wall.as_secs_f64();
    // The management account is swept too (it holds no provider here).
    let per_account = wall / (accounts + 1) as f64;
    let extrapolate = |n: usize| per_account * n as f64;
    let calls_total: usize = calls.values().sum();
    let line = format!(
        "organization-{accounts}x{PROVIDERS_PER_ACCOUNT} (issuer latency {} ms): {} accounts, {} providers, ACCOUNT_CONCURRENCY {concurrency}: wall {wall:.2} s, \
         {:.1} ms per account; extrapolated 1,000 accounts {:.0} s, 10,000 accounts {:.0} s (Lambda limit {LAMBDA_LIMIT_S:.0} s: {} / {}); \
         peak RSS {} MiB; healthy {healthy}/{}; per host TCP {} TLS {}; AWS calls {calls_total} ({:.1} per account)",
        latency.as_millis(),
        accounts + 1,
        expected.len(),
        per_account * 1000.0,
        extrapolate(1000),
        extrapolate(10_000),
        if extrapolate(1000) <= LAMBDA_LIMIT_S { "fits" } else { "does not fit" },
        if extrapolate(10_000) <= LAMBDA_LIMIT_S { "fits" } else { "does not fit" },
        crate::measure::mib(run.peak_rss_kib),
        expected.len(),
        PerHost::of(tally.iter().map(|t| t.0)),
        PerHost::of(tally.iter().map(|t| t.1)),
        calls_total as f64 / (accounts + 1) as f64,
    );
    figures.line(&line);
    json!({
        "accounts": accounts + 1,
        "member_accounts": accounts,
        "providers": expected.len(),
        "account_concurrency": concurrency,
        "issuer_hosts": hosts.len(),
        "issuer_latency_ms": latency.as_millis() as u64,
        "aws_latency_ms": bench.settings.aws_latency.as_millis() as u64,
        "issuer_http": "h2+http/1.1",
        "wall_s": secs(run.wall),
        "per_account_ms": (per_account * 10_000.0).round() / 10.0,
        "extrapolated_1000_accounts_s": extrapolate(1000).round(),
        "extrapolated_10000_accounts_s": extrapolate(10_000).round(),
        "lambda_limit_s": LAMBDA_LIMIT_S,
        "fits_lambda_1000": extrapolate(1000) <= LAMBDA_LIMIT_S,
        "fits_lambda_10000": extrapolate(10_000) <= LAMBDA_LIMIT_S,
        "extrapolation": "linear in accounts at the measured wall time per account (moto answers in milliseconds; real STS/IAM round trips are longer, so this is a lower bound)",
        "peak_rss_mib": run.peak_rss_kib.map(|k| (k as f64 / 1024.0 * 10.0).round() / 10.0),
        "first_aws_request_ms": first.map(millis),
        "healthy_providers": healthy,
        "accounts_unreachable": unreachable,
        "tcp_connections_per_host": PerHost::of(tally.iter().map(|t| t.0)),
        "tls_handshakes_per_host": PerHost::of(tally.iter().map(|t| t.1)),
        "aws_calls": calls,
        "aws_calls_total": calls_total,
        "exit_code": run.code,
    })
}
