//! A full sweep against moto, by phase, then the CLI binary as a child.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::measure::{mib, ms, status_kib, Figures, Memory};
use crate::probe::{probe_all, probe_settings};
use crate::support::issuer::{ChainSpec, IssuerServer, TestCa, TrustFile};
use crate::support::moto::{self, Moto};
use crate::{CONCURRENCY, REGION, SWEEP_HOSTS, SWEEP_PROVIDERS};
use thumbprint_guard::config::{Config, HostGlobs, RemediationMode};
use thumbprint_guard::inventory::{self, AwsClients};
use thumbprint_guard::probe::ProbeContext;
use thumbprint_guard::report::Report;
use thumbprint_guard::sweep;
use time::OffsetDateTime;

/// Max RSS (KiB) and wall time of the CLI's `sweep --json`, and its exit code.
pub async fn cli_sweep(
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

pub async fn moto_sweep(figures: &mut Figures, memory: &Memory, cli: &str) {
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
