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
//! 5. organization mode (a second `watch` with `ORGANIZATION_ROLE_NAME`): an organization of the
//!    central account and one member whose provider lacks the healthy issuer's thumbprint; the
//!    invocation returns the organization report, adds the thumbprint in the member's IAM only,
//!    logs one EMF line per account and publishes ONE SNS message with `organization_id`;
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
    let peak = watch.function_peak_rss_kib();
    drop(watch);

    // 5. Organization mode: the same function, configured with ORGANIZATION_ROLE_NAME.
    let central = moto.sdk_config(REGION).await;
    let organization_id = moto::create_organization(&central).await;
    let member_id = moto::create_account(&central, "member").await;
    let member_iam =
        aws_sdk_iam::Client::new(&moto::member_sdk_config(&moto, REGION, &member_id).await);
    let stale = "0".repeat(40);
    let member_arn = moto::create_provider(
        &member_iam,
        &scenario.healthy.issuer_url("/id/MEMBER"),
        &["sts.amazonaws.com"],
        &[&stale],
        &[],
    )
    .await;
    env.push((
        "ORGANIZATION_ROLE_NAME".to_string(),
        "thumbprint-guard-member".to_string(),
    ));
    let mut watch = Watch::start(
        cargo_lambda,
        release,
        &env,
        log_dir.path().join("watch-organization.log"),
    )?;
    watch.wait_until_listening()?;
    let before = notifications(&moto, topic_arn).await;
    let report = invoke(
        cargo_lambda,
        &watch,
        InvokeData::File("events/scheduled.json"),
        FIRST_INVOKE,
    )
    .await?
    .map_err(|e| format!("organization run failed:\n{e}\nwatch:\n{}", watch.output()))?;
    check(
        report["organization_id"] == organization_id.as_str(),
        || {
            format!(
                "organization run: organization_id {}",
                report["organization_id"]
            )
        },
    )?;
    check(report["summary"]["accounts"] == 2, || {
        format!("organization run: summary {}", report["summary"])
    })?;
    let member_report = report["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["account_id"] == member_id.as_str()))
        .cloned()
        .ok_or_else(|| format!("organization run: no report for {member_id}: {report:#}"))?;
    let added = remediation(&member_report, &member_arn)?;
    check(
        added == ("applied".into(), vec![scenario.healthy_chain.top_sha1()]),
        || format!("organization run: the member's remediation is {added:?}"),
    )?;
    let member_list = moto::thumbprints(&member_iam, &member_arn).await;
    check(
        member_list == [stale.clone(), scenario.healthy_chain.top_sha1()],
        || format!("organization run: the member's IAM holds {member_list:?}"),
    )?;
    let central_list = moto::thumbprints(&iam, healthy_arn).await;
    check(central_list == [scenario.healthy_chain.top_sha1()], || {
        format!(
            "organization run: the central account's healthy provider changed: {central_list:?}"
        )
    })?;
    let mut emf_accounts: Vec<String> = emf_lines(&watch.output())
        .iter()
        .map(|l| l["AccountId"].as_str().unwrap_or_default().to_string())
        .collect();
    emf_accounts.sort();
    let mut expected = vec![moto::ACCOUNT_ID.to_string(), member_id.clone()];
    expected.sort();
    check(emf_accounts == expected, || {
        format!("organization run: EMF lines for {emf_accounts:?}, expected {expected:?}")
    })?;
    let sent = moto.sent_notifications(topic_arn).await;
    check(sent.len() == before + 1, || {
        format!(
            "organization run: {} new SNS message(s), expected 1",
            sent.len() - before
        )
    })?;
    let last = sent.last().map(|n| n.to_string()).unwrap_or_default();
    check(
        last.contains("organization_id") && last.contains(&organization_id),
        || format!("organization run: the message lacks organization_id: {last}"),
    )?;
    println!(
        "lambda-e2e: OK organization run: {organization_id}, 2 accounts, the member's thumbprint added in its own IAM, one SNS message with organization_id, EMF per account"
    );
    if let Some(kib) = peak {
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
