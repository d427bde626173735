//! Peak-RSS bookkeeping, duration formatting and the collected output of the bench.

use std::path::Path;
use std::time::Duration;

/// Peak-RSS bookkeeping of this process, from /proc/self/status.
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

    /// A `/proc/self/status` field in KiB (`VmHWM`, `VmRSS`).
    pub fn kib(field: &str) -> Option<u64> {
        status_kib(Path::new("/proc/self/status"), field)
    }

    /// Starts a phase: resets the high-water mark to the current RSS when possible.
    pub fn start_phase(&self) -> Option<u64> {
        if self.resettable {
            let _ = std::fs::write("/proc/self/clear_refs", "5");
        }
        Self::kib("VmRSS")
    }

    /// Peak RSS since [`Memory::start_phase`] (since process start when not resettable).
    pub fn peak(&self) -> Option<u64> {
        Self::kib("VmHWM")
    }
}

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

/// Median, min and max of `samples` (not empty).
pub fn spread(samples: &mut [Duration]) -> (Duration, Duration, Duration) {
    samples.sort();
    (
        samples[samples.len() / 2],
        samples[0],
        samples[samples.len() - 1],
    )
}

/// The output, collected as the phases run and printed together at the end.
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
