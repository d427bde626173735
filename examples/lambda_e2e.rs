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

#[path = "../tests/support/mod.rs"]
mod support;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::moto::{self, Moto};
use support::scenario::HealthyAndRotated;

const REGION: &str = "us-east-1";
/// The binary `template.yaml` deploys (`BuildProperties: Binary`).
const FUNCTION: &str = "thumbprint-guard-lambda";
/// How long the first invocation may wait for `cargo lambda watch` to build and start the function.
const FIRST_INVOKE: Duration = Duration::from_secs(600);

/// A check that failed, with what was seen.
type Mismatch = String;

/// `cargo lambda watch` in its own process group, with its output (the function's logs included)
/// in a file; the whole group is stopped when dropped.
struct Watch {
    child: Child,
    log: PathBuf,
    address: SocketAddr,
}

impl Watch {
    fn start(
        cargo_lambda: &Path,
        release: bool,
        env: &[(String, String)],
        log: PathBuf,
    ) -> Result<Watch, Mismatch> {
        let address = free_loopback_address()?;
        let out = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut command = Command::new(cargo_lambda);
        command
            .args(["lambda", "watch", "--ignore-changes", "--bin", FUNCTION])
            .args(release.then_some("--release"))
            .args(["--invoke-address", &address.ip().to_string()])
            .args(["--invoke-port", &address.port().to_string()])
            .current_dir(moto::root())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        for (key, value) in env {
            command
                .env(key, value)
                .arg("--env-var")
                .arg(format!("{key}={value}"));
        }
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", cargo_lambda.display()))?;
        Ok(Watch {
            child,
            log,
            address,
        })
    }

    /// Waits until the invoke port accepts connections.
    fn wait_until_listening(&mut self) -> Result<(), Mismatch> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "cargo lambda watch exited ({status}) before serving:\n{}",
                    self.output()
                ));
            }
            if TcpStream::connect_timeout(&self.address, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!(
            "cargo lambda watch did not listen on {} within 120 s:\n{}",
            self.address,
            self.output()
        ))
    }

    /// Peak resident memory (VmHWM, KiB) of the function process watch started, if it runs.
    fn function_peak_rss_kib(&self) -> Option<u64> {
        descendants(self.child.id()).into_iter().find_map(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let name = status.lines().find_map(|l| l.strip_prefix("Name:"))?.trim();
            if !FUNCTION.starts_with(name) {
                return None;
            }
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()
        })
    }

    /// Everything watch and the function printed so far.
    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // Watch's group holds watch and the cargo build it may run; the function process runs in
        // a session of its own, so it is stopped by its id.
        let mut targets = vec![format!("-{}", self.child.id())];
        targets.extend(descendants(self.child.id()).iter().map(u32::to_string));
        let kill = |signal: &str| {
            for target in &targets {
                let _ = Command::new("kill")
                    .args([signal, "--", target])
                    .stderr(Stdio::null())
                    .status();
            }
        };
        kill("-TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        kill("-KILL");
        let _ = self.child.wait();
    }
}

/// Every process below `pid` (children, their children, ...), from `/proc/*/stat`.
fn descendants(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .map(|dir| {
            dir.flatten()
                .filter_map(|entry| {
                    let child: u32 = entry.file_name().to_str()?.parse().ok()?;
                    let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
                    // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
                    let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?;
                    Some((child, ppid.parse().ok()?))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut found = vec![pid];
    let mut index = 0;
    while index < found.len() {
        let parent = found[index];
        found.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        index += 1;
    }
    found.remove(0);
    found
}

fn free_loopback_address() -> Result<SocketAddr, Mismatch> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// One `cargo lambda invoke`: `Ok(response)` or `Err(what it printed)` when the function failed.
async fn invoke(
    cargo_lambda: &Path,
    watch: &Watch,
    data: InvokeData<'_>,
    timeout: Duration,
) -> Result<Result<Value, String>, Mismatch> {
    let mut command = tokio::process::Command::new(cargo_lambda);
    command
        .args(["lambda", "invoke", FUNCTION, "--output-format", "json"])
        .args(["--invoke-address", &watch.address.ip().to_string()])
        .args(["--invoke-port", &watch.address.port().to_string()])
        .current_dir(moto::root())
        .kill_on_drop(true);
    match data {
        InvokeData::File(path) => command.arg("--data-file").arg(path),
        InvokeData::Ascii(text) => command.args(["--data-ascii", text]),
    };
    let out = tokio::time::timeout(timeout, command.output())
        .await
        .map_err(|_| {
            format!(
                "cargo lambda invoke gave no answer within {timeout:?}; watch printed:\n{}",
                watch.output()
            )
        })?
        .map_err(|e| format!("cannot run cargo lambda invoke: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Ok(Err(format!("{stdout}{stderr}")));
    }
    serde_json::from_str(&stdout)
        .map(Ok)
        .map_err(|e| format!("the response is not JSON ({e}):\n{stdout}\n{stderr}"))
}

/// The payload of one invocation.
enum InvokeData<'a> {
    /// `--data-file`, relative to the repository.
    File(&'a str),
    /// `--data-ascii`.
    Ascii(&'a str),
}

/// The remediation of provider `arn` in a report: `(outcome, added)`.
fn remediation(report: &Value, arn: &str) -> Result<(String, Vec<String>), Mismatch> {
    let provider = report["providers"]
        .as_array()
        .and_then(|providers| providers.iter().find(|p| p["arn"] == arn))
        .ok_or_else(|| format!("provider {arn} is not in the report:\n{report:#}"))?;
    let outcome = provider["remediation"]["outcome"]
        .as_str()
        .unwrap_or("null")
        .to_string();
    let added = provider["remediation"]["added"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Ok((outcome, added))
}

/// The EMF documents (namespace ThumbprintGuard) among the output's lines, in order.
fn emf_lines(output: &str) -> Vec<Value> {
    output
        .lines()
        .filter_map(|line| line.find('{').map(|start| &line[start..]))
        .filter_map(|json| serde_json::from_str::<Value>(json).ok())
        .filter(|doc| doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ThumbprintGuard")
        .collect()
}

/// How many notifications moto holds for `topic_arn`.
async fn notifications(moto: &Moto, topic_arn: &str) -> usize {
    let data = moto.data_json().await;
    data["sns"]["Topic"]
        .as_array()
        .and_then(|topics| topics.iter().find(|t| t["arn"] == topic_arn))
        .and_then(|t| t["sent_notifications"].as_array().map(Vec::len))
        .unwrap_or(0)
}

fn check(condition: bool, what: impl FnOnce() -> String) -> Result<(), Mismatch> {
    if condition {
        Ok(())
    } else {
        Err(what())
    }
}

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
