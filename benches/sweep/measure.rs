//! Peak-RSS bookkeeping, the machine's description, duration formatting and the collected output.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

/// Peak-RSS bookkeeping of this process, from /proc/self/status (the rendering section only: the
/// tool's own figures come from its process, see [`crate::cli`]).
pub struct Memory {
    /// Whether writing `5` to /proc/self/clear_refs resets VmHWM here (Linux 4.0+).
    pub resettable: bool,
}

impl Memory {
    pub fn new() -> Memory {
        Memory {
            resettable: std::fs::write("/proc/self/clear_refs", "5").is_ok(),
        }
    }

    /// Starts a phase: resets the high-water mark to the current RSS when possible.
    pub fn start_phase(&self) {
        if self.resettable {
            let _ = std::fs::write("/proc/self/clear_refs", "5");
        }
    }

    /// Peak RSS since [`Memory::start_phase`] (since process start when not resettable).
    pub fn peak(&self) -> Option<u64> {
        status_kib(Path::new("/proc/self/status"), "VmHWM")
    }
}

/// A `/proc/PID/status` field in KiB (`VmHWM`, `VmRSS`).
pub fn status_kib(path: &Path, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(path).ok()?;
    let line = status
        .lines()
        .find(|l| l.split(':').next() == Some(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "n/a".to_string(),
        |k| format!("{:.1}", k as f64 / 1024.0),
    )
}

pub fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// Seconds with 3 decimals, for the JSON.
pub fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// Milliseconds with 1 decimal, for the JSON.
pub fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// Median, min and max of `samples` (not empty).
pub fn spread(samples: &mut [Duration]) -> (Duration, Duration, Duration) {
    samples.sort();
    (
        samples[samples.len() / 2],
        samples[0],
        samples[samples.len() - 1],
    )
}

/// The machine the figures come from: CPUs, CPU model, memory, kernel, load when the bench began.
pub fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok());
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .ok()
            .map(|s| s.trim().to_string())
    };
    json!({
        "nproc": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "cpu_model": model,
        "memory_gib": mem_kib.map(|k| (k as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0),
        "kernel": read("/proc/sys/kernel/osrelease"),
        "load_average_at_start": read("/proc/loadavg"),
    })
}

/// The output, printed as it comes (stderr, `bench:` prefix) and again at the end (stdout).
#[derive(Default)]
pub struct Figures {
    pub text: String,
    pub failures: Vec<String>,
}

impl Figures {
    pub fn line(&mut self, line: impl AsRef<str>) {
        self.text.push_str(line.as_ref());
        self.text.push('\n');
        eprintln!("bench: {}", line.as_ref());
    }

    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            let what = what();
            eprintln!("bench: CHECK FAILED: {what}");
            self.failures.push(what);
        }
    }
}
