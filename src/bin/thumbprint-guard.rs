//! `thumbprint-guard`: the sweep from a laptop or cron, and `inspect` for one issuer.
//!
//! Exit codes (DESIGN): 0 no critical finding · 1 at least one · 2 usage or configuration error ·
//! 3 the sweep could not run (credentials, IAM listing, SNS publishing).

use std::process::ExitCode;

use clap::Parser;

#[path = "thumbprint-guard/aws.rs"]
mod aws;
#[path = "thumbprint-guard/cli.rs"]
mod cli;
#[path = "thumbprint-guard/inspect.rs"]
mod inspect;
#[path = "thumbprint-guard/output.rs"]
mod output;
#[path = "thumbprint-guard/sweep.rs"]
mod sweep;
#[path = "thumbprint-guard/terminal.rs"]
mod terminal;

use cli::{load_config, overrides, Cli, Command, Output};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(terminal::stderr_ansi())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("thumbprint-guard: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Sweep {
                output,
                json,
                aws,
                sweep,
                probe,
            } => match load_config(overrides(Some(&sweep), &probe)) {
                Ok(config) => {
                    let output = if json { Output::Json } else { output };
                    sweep::run(config, output, &aws).await
                }
                Err(code) => code,
            },
            Command::Inspect { url, json, probe } => match load_config(overrides(None, &probe)) {
                Ok(config) => inspect::run(&config, &url, json).await,
                Err(code) => code,
            },
        }
    })
}
