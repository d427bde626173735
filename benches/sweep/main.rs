//! `make bench`: sweep throughput, phase times and memory against local issuers and moto server.
//!
//! Everything runs on this machine: HTTPS issuers from tests/support/issuer.rs (rcgen chains made
//! now) on the same tokio runtime as the probe, and moto server as the AWS emulator. Figures are
//! therefore a lower bound on work, not on network latency: the servers share the CPU with the
//! code measured, and there is no round trip to speak of.
//!
//! 1. probe throughput: [`sweep::probe_all`] at `PROBE_CONCURRENCY` 32 over 200 issuers on one
//!    shared JWKS host (EKS-like: 1 TLS host probe, 200 discovery + 200 JWKS fetches) and over 50
//!    issuers on 50 distinct hosts; a fresh [`ProbeContext`] per run, as a sweep builds one.
//! 2. a full [`sweep::run`] against moto with 50 providers on 5 hosts (5 with a stale thumbprint,
//!    `REMEDIATION_MODE=add`), timed by phase; then the CLI binary's `sweep --json` as a child.
//! 3. memory: this process's peak RSS per phase (VmHWM from /proc/self/status, reset between
//!    phases through /proc/self/clear_refs), and the CLI child's max RSS (`/usr/bin/time -v`, or
//!    polling /proc/PID/status when `time` is missing).
//! 4. rendering: [`notify::render`] and [`render::table`] of a synthetic 400-provider report.

#[path = "../../tests/support/mod.rs"]
mod support;

mod full_sweep;
mod measure;
mod probe;
mod rendering;

use std::process::ExitCode;
use std::time::Instant;

use crate::full_sweep::moto_sweep;
use crate::measure::{mib, Figures, Memory};
use crate::probe::probe_throughput;
use crate::rendering::rendering;

const REGION: &str = "us-east-1";
const CONCURRENCY: usize = 32;
/// Measured runs per probe scenario (after one warm-up run).
const RUNS: usize = 5;
/// Providers in the moto sweep, and the local hosts they are spread over.
const SWEEP_PROVIDERS: usize = 50;
const SWEEP_HOSTS: usize = 5;
/// Providers in the synthetic report rendered for SNS.
const RENDER_PROVIDERS: usize = 400;

async fn bench(cli: &str) -> Figures {
    let mut figures = Figures::default();
    let memory = Memory::new();
    figures.line(format!(
        "# thumbprint-guard bench: {} CPU(s), {} build; peak RSS {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "optimized"
        },
        if memory.resettable {
            "reset at the start of each phase"
        } else {
            "NOT resettable here: peaks are cumulative since start"
        },
    ));
    figures.line(format!(
        "baseline RSS of this process: {} MiB",
        mib(Memory::kib("VmRSS"))
    ));
    figures.line("");
    let started = Instant::now();
    probe_throughput(&mut figures, &memory).await;
    moto_sweep(&mut figures, &memory, cli).await;
    rendering(&mut figures, &memory);
    figures.line(format!(
        "total bench time: {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    figures
}

fn main() -> ExitCode {
    support::moto::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let cli = env!("CARGO_BIN_EXE_thumbprint-guard");
    let figures = runtime.block_on(bench(cli));
    println!("\n{}", figures.text);
    if figures.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("FAILED checks (figures above are not of healthy runs):");
        for failure in &figures.failures {
            println!("- {failure}");
        }
        ExitCode::FAILURE
    }
}
