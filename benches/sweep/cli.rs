//! One run of the real CLI binary as a child: wall time, its own peak RSS as the OS measured it,
//! exit code and output.
//!
//! Peak RSS comes from GNU time (`/usr/bin/time -f %M`): time forks itself (a few hundred KiB)
//! and execs the CLI, so `%M` is the CLI's own high-water mark. It is not taken from a `wait4`
//! of a child this bench spawned directly: Rust spawns through vfork/posix_spawn, and Linux
//! carries the parent's high-water mark into the exec'd child's `ru_maxrss`. Without GNU time,
//! VmHWM is polled from /proc/PID/status every 2 ms (the last few milliseconds may be missed).
//! GNU time also gives the CLI's CPU time (`%U` + `%S`), which the load of other processes on the
//! cores does not inflate as it does wall time; without GNU time there is none.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::measure::status_kib;

const GNU_TIME: &str = "/usr/bin/time";

pub struct CliRun {
    /// Spawn to exit.
    pub wall: Duration,
    /// When the child was spawned (for start-to-first-AWS-request).
    pub spawned: Instant,
    pub peak_rss_kib: Option<u64>,
    /// User + system CPU time of the CLI (GNU time only).
    pub cpu: Option<Duration>,
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

/// How peak RSS is measured on this machine.
pub fn rss_method() -> &'static str {
    if Path::new(GNU_TIME).exists() {
        "GNU time -f %M (the CLI process's own maximum resident set size)"
    } else {
        "VmHWM polled from /proc/PID/status every 2 ms"
    }
}

/// Runs `binary args` with exactly `env` (plus PATH).
pub async fn run(binary: &Path, args: &[&str], env: &[(String, String)]) -> CliRun {
    let gnu_time = Path::new(GNU_TIME).exists();
    let rss_file = tempfile::NamedTempFile::new().expect("temp file for GNU time");
    let rss_path: PathBuf = rss_file.path().to_path_buf();
    let mut command = if gnu_time {
        let mut c = tokio::process::Command::new(GNU_TIME);
        c.arg("-f")
            .arg("%M %U %S")
            .arg("-o")
            .arg(&rss_path)
            .arg(binary);
        c
    } else {
        tokio::process::Command::new(binary)
    };
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let spawned = Instant::now();
    let child = command.spawn().expect("run the CLI");
    let pid = child.id();
    let poll = (!gnu_time).then(|| {
        tokio::spawn(async move {
            let status = format!("/proc/{}/status", pid.unwrap_or_default());
            let mut peak = None;
            while let Some(kib) = status_kib(Path::new(&status), "VmHWM") {
                peak = Some(kib);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            peak
        })
    });
    let out = child.wait_with_output().await.expect("CLI output");
    let wall = spawned.elapsed();
    // GNU time's last line (a line `Command exited with non-zero status N` may come first).
    let measured: Vec<String> = std::fs::read_to_string(&rss_path)
        .ok()
        .and_then(|s| s.lines().last().map(str::to_string))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let seconds = |i: usize| measured.get(i).and_then(|v| v.parse::<f64>().ok());
    let peak_rss_kib = match poll {
        Some(task) => task.await.ok().flatten(),
        None => measured.first().and_then(|v| v.parse().ok()),
    };
    let cpu = match (seconds(1), seconds(2)) {
        (Some(user), Some(system)) => Some(Duration::from_secs_f64(user + system)),
        _ => None,
    };
    CliRun {
        wall,
        spawned,
        peak_rss_kib,
        cpu,
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
