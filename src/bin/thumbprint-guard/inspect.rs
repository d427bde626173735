//! `inspect URL`: one issuer's probe for a person, without AWS.

use std::process::ExitCode;

use thumbprint_guard::config::Config;
use thumbprint_guard::inspect;
use thumbprint_guard::probe::{self, HostCache, ProbeContext};

use crate::output::write_stdout;

/// `inspect URL`: probe one issuer, print the result, exit 0/1 (2 for a bad URL or configuration).
pub async fn run(config: &Config, url: &str, json: bool) -> ExitCode {
    let usage = |e: inspect::InspectError| {
        eprintln!("thumbprint-guard inspect: {e}");
        ExitCode::from(inspect::InspectError::EXIT_CODE as u8)
    };
    let issuer = match inspect::issuer_url(url) {
        Ok(issuer) => issuer,
        Err(e) => return usage(e),
    };
    let ctx = match ProbeContext::new(config) {
        Ok(ctx) => ctx,
        Err(e) => return usage(e.into()),
    };
    let probe = probe::probe_issuer(&ctx, &issuer, &HostCache::new()).await;
    let now = time::OffsetDateTime::now_utc();
    let report = inspect::build_report(&issuer, &probe, config.expiry_warning_days, now);
    let output = if json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => text + "\n",
            Err(e) => {
                eprintln!("thumbprint-guard inspect: the result cannot be serialized: {e}");
                return ExitCode::from(3);
            }
        }
    } else {
        inspect::render_text(&report, now)
    };
    write_stdout(&output);
    ExitCode::from(u8::try_from(inspect::exit_code(&report)).unwrap_or(1))
}
