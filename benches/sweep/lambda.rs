//! The Lambda binary's init against `cargo lambda watch`'s runtime API (the emulator `make
//! test-lambda` uses), started with `--only-lambda-apis` so that this bench starts the function
//! process itself: the bench-fast binary cargo built for the bench, not a second build by watch.
//!
//! Init is what Lambda reports as Init Duration: from the function process's start to its first
//! request for an event. Start: this bench spawning the process. End: the arrival, on the
//! function's stdout pipe, of lambda_runtime's trace line "Waiting for next event", which it logs
//! just before requesting `/next` (RUST_LOG includes lambda_runtime=trace; stdout is
//! line-buffered). The function is started `runs` times; the first start is reported on its own
//! (the binary may not be in the page cache yet: it has taken seconds here, the later ones
//! milliseconds) and the median of the others as the init. The first instance is invoked once
//! through `cargo lambda invoke` (events/scheduled.json, one provider).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::cases::{register, reset_moto};
use crate::fleet::Host;
use crate::measure::{millis, Figures};
use crate::support::moto;
use crate::Bench;

const READY_LINE: &str = "Waiting for next event";

pub async fn run(bench: &Bench, figures: &mut Figures, host: &Host) -> Value {
    let cargo_lambda = moto::root().join(".venv/bin/cargo-lambda");
    if !cargo_lambda.exists() {
        figures.line("lambda init: skipped: .venv/bin/cargo-lambda is missing (make venv)");
        return json!({"skipped": "no cargo-lambda"});
    }
    reset_moto(bench).await;
    let url = host.server.issuer_url("/id/LAMBDA");
    register(&bench.iam, &[(url, host.top.clone())]).await;
    let function = PathBuf::from(env!("CARGO_BIN_EXE_thumbprint-guard-lambda"));
    match measure(bench, &cargo_lambda, &function).await {
        Ok(result) => {
            figures.line(format!(
                "lambda init (bench-fast binary, runtime API of cargo lambda watch --only-lambda-apis): median {} ms from the \
                 function process's spawn to its first /next request (starts: {} ms; the first, {} ms, not in the median); peak RSS \
                 after init {} MiB; first invocation (1 provider) {} s round trip through cargo lambda invoke, ok: {}",
                result["init_ms"], result["init_ms_by_run"], result["first_start_ms"], result["rss_after_init_mib"],
                result["first_invoke_s"],
                result["invoke_ok"]
            ));
            result
        }
        Err(e) => {
            figures.line(format!("lambda init: not measured: {e}"));
            figures.failures.push(format!("lambda init: {e}"));
            json!({"error": e})
        }
    }
}

/// `cargo lambda watch --only-lambda-apis` in its own process group, stopped when dropped.
struct Watch {
    child: std::process::Child,
    log: tempfile::NamedTempFile,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        for signal in ["-TERM", "-KILL"] {
            let _ = std::process::Command::new("kill")
                .args([signal, "--", &group])
                .stderr(Stdio::null())
                .status();
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = self.child.wait();
    }
}

impl Watch {
    fn output(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

fn start_watch(cargo_lambda: &Path, port: u16) -> Result<Watch, String> {
    use std::os::unix::process::CommandExt;
    let log = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let out = log.reopen().map_err(|e| e.to_string())?;
    let err = log.reopen().map_err(|e| e.to_string())?;
    let child = std::process::Command::new(cargo_lambda)
        .args([
            "lambda",
            "watch",
            "--only-lambda-apis",
            "--invoke-address",
            "127.0.0.1",
        ])
        .args(["--invoke-port", &port.to_string()])
        .current_dir(moto::root())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start cargo lambda watch: {e}"))?;
    Ok(Watch { child, log })
}

/// One function instance: spawned, until its first /next request.
struct Instance {
    child: tokio::process::Child,
    init: Duration,
    rss_after_init_kib: Option<u64>,
}

async fn start_function(function: &Path, env: &[(String, String)]) -> Result<Instance, String> {
    let mut command = tokio::process::Command::new(function);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let spawned = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", function.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(Duration::from_secs(30), async {
        let mut seen = String::new();
        loop {
            match lines.next_line().await {
                Ok(Some(line)) if line.contains(READY_LINE) => return Ok(Instant::now()),
                Ok(Some(line)) => {
                    seen.push_str(&line);
                    seen.push('\n');
                }
                _ => {
                    return Err(format!(
                        "the function ended before polling for an event:\n{seen}"
                    ))
                }
            }
        }
    })
    .await
    .map_err(|_| "the function did not poll for an event within 30 s".to_string())??;
    let rss_after_init_kib = child.id().and_then(|pid| {
        crate::measure::status_kib(Path::new(&format!("/proc/{pid}/status")), "VmHWM")
    });
    // Keep draining stdout (the invocation's logs and EMF line) so the function never blocks.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Instance {
        child,
        init: ready.saturating_duration_since(spawned),
        rss_after_init_kib,
    })
}

async fn measure(bench: &Bench, cargo_lambda: &Path, function: &Path) -> Result<Value, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let watch = start_watch(cargo_lambda, port)?;
    let listening = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
        || !watch.output().contains("starting Runtime server")
    {
        if listening.elapsed() > Duration::from_secs(60) {
            return Err(format!(
                "cargo lambda watch did not listen within 60 s:\n{}",
                watch.output()
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Let watch's own start-up work finish before timing anything (2 shared cores).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut env = bench.env();
    for (key, value) in [
        ("AWS_LAMBDA_FUNCTION_NAME", "_".to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "1".to_string()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512".to_string()),
        (
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt"),
        ),
        ("RUST_LOG", "info,lambda_runtime=trace".to_string()),
    ] {
        env.push((key.to_string(), value));
    }
    let runs = bench.settings.runs.max(5);
    let mut inits = Vec::new();
    let mut rss = None;
    let mut invoke_wall = None;
    let mut invoke_ok = false;
    for run in 0..runs {
        let mut instance = start_function(function, &env).await?;
        inits.push(instance.init);
        if run == 0 {
            rss = instance.rss_after_init_kib;
            let started = Instant::now();
            let invoke = tokio::time::timeout(
                Duration::from_secs(120),
                tokio::process::Command::new(cargo_lambda)
                    .args(["lambda", "invoke", "--output-format", "json"])
                    .args(["--data-file", "events/scheduled.json"])
                    .args([
                        "--invoke-address",
                        "127.0.0.1",
                        "--invoke-port",
                        &port.to_string(),
                    ])
                    .current_dir(moto::root())
                    .kill_on_drop(true)
                    .output(),
            )
            .await;
            invoke_wall = Some(started.elapsed());
            match invoke {
                Ok(Ok(out)) => {
                    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
                    invoke_ok = out.status.success() && report["summary"]["providers"] == 1;
                    if !invoke_ok {
                        eprintln!(
                            "bench: lambda invoke: {}{}\nwatch:\n{}",
                            String::from_utf8_lossy(&out.stdout),
                            String::from_utf8_lossy(&out.stderr),
                            watch.output()
                        );
                    }
                }
                Ok(Err(e)) => eprintln!("bench: lambda invoke: {e}"),
                Err(_) => eprintln!("bench: lambda invoke: no answer within 120 s"),
            }
        }
        let _ = instance.child.kill().await;
    }
    let mut sorted = inits[1..].to_vec();
    sorted.sort();
    Ok(json!({
        "method": "the bench spawns the bench-fast Lambda binary against cargo lambda watch --only-lambda-apis (its runtime API) and times spawn to the arrival of lambda_runtime's \"Waiting for next event\" trace line on the function's stdout, logged just before its first /next request",
        "init_ms": millis(sorted[sorted.len() / 2]),
        "init_ms_median_of": "the starts after the first",
        "first_start_ms": millis(inits[0]),
        "init_ms_by_run": inits.iter().map(|d| millis(*d)).collect::<Vec<_>>(),
        "rss_after_init_mib": rss.map(|k| (k as f64 / 102.4).round() / 10.0),
        "first_invoke_s": invoke_wall.map(|d| (d.as_secs_f64() * 1000.0).round() / 1000.0),
        "invoke_ok": invoke_ok,
    }))
}
