//! `make test-lambda`: the real Lambda binary, served by `cargo lambda watch` (the Lambda runtime
//! API on this machine) and invoked with `cargo lambda invoke --data-file events/*.json`.
//!
//! Starts moto (AWS emulator) and two HTTPS issuers with chains generated now (one healthy, one
//! rotated away from its configured thumbprint), registers both as IAM OIDC providers, creates the
//! SNS topic, then runs the function with the template's environment (`REMEDIATION_MODE=add`)
//! pointed at them and checks, invocation by invocation:
//! 1. `events/dry-run.json`: the rotated provider's remediation is `planned`, IAM is unchanged;
//! 2. `events/scheduled.json`: `applied`, IAM holds the old and the new thumbprint;
//! 3. `events/scheduled.json` again: nothing to do, nothing published (NOTIFY=findings);
//! 4. a bad override: the invocation fails with the `InvalidEvent` error type;
//!
//! and, for 1 and 2, the SNS notification in moto and the EMF metrics line (namespace
//! ThumbprintGuard) in the function's output. Stops everything it started, also on failure; exits
//! non-zero with the first mismatch.
//! Usage: `cargo run --example lambda_e2e -- PATH/TO/cargo-lambda [--release]` (`--release`: watch
//! serves the release build; the function's peak RSS is printed either way).

#[path = "../../tests/support/mod.rs"]
mod support;

mod invoke;
mod watch;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::invoke::{check, emf_lines, invoke, notifications, remediation, InvokeData};
use crate::support::moto::{self, Moto};
use crate::support::scenario::HealthyAndRotated;
use crate::watch::Watch;

const REGION: &str = "us-east-1";
/// The binary `template.yaml` deploys (`BuildProperties: Binary`).
const FUNCTION: &str = "thumbprint-guard-lambda";
/// How long the first invocation may wait for `cargo lambda watch` to build and start the function.
const FIRST_INVOKE: Duration = Duration::from_secs(600);

/// A check that failed, with what was seen.
pub type Mismatch = String;

async fn run(cargo_lambda: &Path, release: bool) -> Result<(), Mismatch> {
    println!("lambda-e2e: starting moto server (AWS emulator) and two local issuers ...");
    let moto = Moto::start().await;
    let scenario = HealthyAndRotated::start(&moto, REGION).await?;
    let HealthyAndRotated {
        trust,
        healthy_arn,
        rotated_arn,
        topic_arn,
        old_chain: old,
        new_chain: new,
        ..
    } = &scenario;
    let iam = aws_sdk_iam::Client::new(&moto.sdk_config(REGION).await);
    println!("lambda-e2e: {rotated_arn} rotated to {}", new.top_sha1());

    // The template's environment, pointed at moto and the local issuers.
    let mut env = moto.env(REGION);
    for (key, value) in [
        ("REMEDIATION_MODE", "add"),
        ("REMEDIATION_ALLOWED_HOSTS", "127.0.0.1"),
        ("EXPIRY_WARNING_DAYS", "30"),
        ("EKS_REGIONS", REGION),
        ("SNS_TOPIC_ARN", topic_arn.as_str()),
        ("NOTIFY", "findings"),
        ("EXTRA_TRUST_ANCHORS_PEM", &trust.path().to_string_lossy()),
        ("ALLOW_PRIVATE_ADDRESSES", "true"),
        ("PROBE_TIMEOUT_SECS", "5"),
        ("RUST_LOG", "info"),
    ] {
        env.push((key.to_string(), value.to_string()));
    }
    let log_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut watch = Watch::start(
        cargo_lambda,
        release,
        &env,
        log_dir.path().join("watch.log"),
    )?;
    watch.wait_until_listening()?;
    println!(
        "lambda-e2e: cargo lambda watch serves the runtime API on {}",
        watch.address
    );

    // 1. dry-run.json overrides REMEDIATION_MODE=add: planned, nothing written.
    let report = invoke(
        cargo_lambda,
        &watch,
        InvokeData::File("events/dry-run.json"),
        FIRST_INVOKE,
    )
    .await?
    .map_err(|e| {
        format!(
            "events/dry-run.json failed:\n{e}\nwatch:\n{}",
            watch.output()
        )
    })?;
    check(report["remediation_mode"] == "dry-run", || {
        format!("dry-run: remediation_mode {}", report["remediation_mode"])
    })?;
    let planned = remediation(&report, rotated_arn)?;
    check(planned == ("planned".into(), vec![new.top_sha1()]), || {
        format!(
            "dry-run: remediation {planned:?}, expected planned {}; the report:\n{report:#}\nwatch:\n{}",
            new.top_sha1(),
            watch.output()
        )
    })?;
    let (healthy_outcome, _) = remediation(&report, healthy_arn)?;
    check(healthy_outcome == "null", || {
        format!("dry-run: the healthy provider's remediation is {healthy_outcome}")
    })?;
    let configured = moto::thumbprints(&iam, rotated_arn).await;
    check(configured == [old.top_sha1()], || {
        format!("dry-run wrote to IAM: {configured:?}")
    })?;
    let sent = notifications(&moto, topic_arn).await;
    check(sent == 1, || {
        format!("dry-run: {sent} SNS notification(s), expected 1")
    })?;
    let emf = emf_lines(&watch.output());
    check(
        emf.len() == 1 && emf[0]["Critical"].as_u64() >= Some(1),
        || format!("dry-run: expected one EMF line with Critical >= 1, got {emf:#?}"),
    )?;
    println!(
        "lambda-e2e: OK events/dry-run.json: planned {}, 1 SNS notification, EMF line",
        new.top_sha1()
    );

    // 2. scheduled.json keeps the environment's mode (add): applied.
    let report = invoke(
        cargo_lambda,
        &watch,
        InvokeData::File("events/scheduled.json"),
        Duration::from_secs(120),
    )
    .await?
    .map_err(|e| {
        format!(
            "events/scheduled.json failed:\n{e}\nwatch:\n{}",
            watch.output()
        )
    })?;
    let applied = remediation(&report, rotated_arn)?;
    check(applied == ("applied".into(), vec![new.top_sha1()]), || {
        format!(
            "scheduled: remediation {applied:?}, expected applied {}",
            new.top_sha1()
        )
    })?;
    check(report["summary"]["thumbprints_added"] == 1, || {
        format!("scheduled: summary {}", report["summary"])
    })?;
    let configured = moto::thumbprints(&iam, rotated_arn).await;
    check(configured == [old.top_sha1(), new.top_sha1()], || {
        format!("scheduled: IAM holds {configured:?}")
    })?;
    let sent = notifications(&moto, topic_arn).await;
    check(sent == 2, || {
        format!("scheduled: {sent} SNS notification(s), expected 2")
    })?;
    let emf = emf_lines(&watch.output());
    check(emf.len() == 2 && emf[1]["ThumbprintsAdded"] == 1, || {
        format!("scheduled: expected a second EMF line with ThumbprintsAdded 1, got {emf:#?}")
    })?;
    println!(
        "lambda-e2e: OK events/scheduled.json: applied, IAM updated, SNS notification, EMF line"
    );

    // 3. Again: nothing left to do, nothing published.
    let report = invoke(
        cargo_lambda,
        &watch,
        InvokeData::File("events/scheduled.json"),
        Duration::from_secs(120),
    )
    .await?
    .map_err(|e| format!("second scheduled run failed:\n{e}"))?;
    let again = remediation(&report, rotated_arn)?;
    let sent = notifications(&moto, topic_arn).await;
    check(
        again.0 == "null" && report["findings"].as_array().is_some_and(Vec::is_empty) && sent == 2,
        || {
            format!(
                "second run: remediation {again:?}, findings {}, {sent} notification(s)",
                report["findings"]
            )
        },
    )?;
    println!("lambda-e2e: OK second scheduled run: no finding, nothing written, nothing published");

    // 4. A bad override fails the invocation with a stable error type.
    let failed = invoke(
        cargo_lambda,
        &watch,
        InvokeData::Ascii(r#"{"remediation_mode": "yes"}"#),
        Duration::from_secs(120),
    )
    .await?;
    match failed {
        Err(printed) if printed.contains("InvalidEvent") => {}
        other => {
            return Err(format!(
                "a bad override: expected an InvalidEvent error, got {other:?}"
            ))
        }
    }
    println!("lambda-e2e: OK a bad override fails with InvalidEvent");
    if let Some(kib) = watch.function_peak_rss_kib() {
        println!(
            "lambda-e2e: the function process ({} build) peaked at {:.1} MiB resident",
            if release { "release" } else { "debug" },
            kib as f64 / 1024.0
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let release = args.iter().any(|a| a == "--release");
    let Some(cargo_lambda) = args.iter().find(|a| *a != "--release").map(PathBuf::from) else {
        eprintln!("usage: lambda_e2e PATH/TO/cargo-lambda [--release]");
        return ExitCode::from(2);
    };
    match run(&cargo_lambda, release).await {
        Ok(()) => {
            println!("lambda-e2e: all checks passed; stopping watch, moto and the issuers");
            ExitCode::SUCCESS
        }
        Err(mismatch) => {
            eprintln!("lambda-e2e: FAILED: {mismatch}");
            ExitCode::FAILURE
        }
    }
}
