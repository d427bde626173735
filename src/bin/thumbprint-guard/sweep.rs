//! `sweep`: one run over the account the credentials point at, or over the organization; the
//! report printed in the form asked for before the notify step.

use std::process::ExitCode;
use std::sync::Mutex;

use thumbprint_guard::aws::{AwsClients, AwsTarget};
use thumbprint_guard::config::Config;
use thumbprint_guard::notify::NotifyOutcome;
use thumbprint_guard::organization::{OrganizationClients, OrganizationSettings};
use thumbprint_guard::probe::ProbeContext;
use thumbprint_guard::render::{self, count};
use thumbprint_guard::run::{self, RunError, Scope, Sinks, Swept};
use thumbprint_guard::securityhub;

use crate::aws::{explain_inventory, load_sdk};
use crate::cli::{AwsSettings, Output};
use crate::output::write_stdout;
use crate::terminal::{self, SweepProgress};

/// Runs `sweep`: exit 0 or 1 by the report (DESIGN), 2 for a bad configuration, 3 when the run
/// could not run or SNS did not take the report.
pub async fn run(config: Config, output: Output, aws_settings: &AwsSettings) -> ExitCode {
    let (sdk, target) = match load_sdk(aws_settings).await {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let ctx = match ProbeContext::new(&config) {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("thumbprint-guard: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    // `--output asff` prints what would be imported and imports nothing, whatever SECURITY_HUB says.
    let config = Config {
        security_hub: config.security_hub && output != Output::Asff,
        ..config
    };
    let settings = OrganizationSettings::from_config(&config);
    let organization = settings
        .as_ref()
        .map(|_| OrganizationClients::new(&sdk, &config));
    let aws;
    let scope = match (&organization, &settings) {
        (Some(clients), Some(settings)) => Scope::Organization(clients, settings),
        _ => {
            aws = AwsClients::new(&sdk, &config);
            Scope::Account(&aws)
        }
    };
    let now = time::OffsetDateTime::now_utc();
    let progress = SweepProgress::start();
    let hook = progress.hook();
    let printed = Mutex::new(Ok(()));
    let print = |swept: Swept<'_>| {
        progress.clear();
        let result = print_report(swept, output, scope, now, &target);
        *printed.lock().unwrap_or_else(|e| e.into_inner()) = result;
    };
    let sinks = Sinks {
        progress: Some(&hook),
        report: &print,
    };
    let outcome = run::execute(scope, &ctx, &config, now, None, &sinks).await;
    progress.clear();
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!(
                "thumbprint-guard: the sweep could not run: {}",
                explain(&e, &target)
            );
            return ExitCode::from(3);
        }
    };
    if let Err(code) = printed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return code;
    }
    match outcome.notified {
        Ok(NotifyOutcome::Published { parts, .. }) => eprintln!(
            "thumbprint-guard: published to SNS ({})",
            count(parts, "message", "messages")
        ),
        Ok(NotifyOutcome::NotSent { .. }) => {}
        Err(e) => {
            eprintln!("thumbprint-guard: {e} ({target})");
            return ExitCode::from(3);
        }
    }
    ExitCode::from(outcome.report.exit_code())
}

/// Why the run could not run, on one line with where the failed call went.
fn explain(error: &RunError, target: &AwsTarget) -> String {
    match error {
        RunError::Inventory(e) => explain_inventory(e, target),
        RunError::Organization(e) => format!("{e} ({target})"),
    }
}

/// Prints the report in the form asked for, then what the state table and Security Hub steps
/// could not do (the report above stays complete).
fn print_report(
    swept: Swept<'_>,
    output: Output,
    scope: Scope<'_>,
    now: time::OffsetDateTime,
    target: &AwsTarget,
) -> Result<(), ExitCode> {
    let Swept {
        report, accounts, ..
    } = swept;
    let text = match output {
        Output::Asff => serde_json::to_string_pretty(&securityhub::run_document(
            report,
            swept.central_account,
            &scope.central().region,
            now,
        ))
        .map(|text| text + "\n"),
        Output::Json => serde_json::to_string_pretty(report).map(|text| text + "\n"),
        Output::Table => Ok(render::table(report, now, terminal::stdout_terminal())),
    };
    match text {
        Ok(text) => write_stdout(&text),
        Err(e) => {
            eprintln!("thumbprint-guard: cannot serialize the report: {e}");
            return Err(ExitCode::from(3));
        }
    }
    for account in accounts {
        if let Some(why) = account.state.unavailable_reason() {
            eprintln!(
                "thumbprint-guard: account {}: the state table could not be used: {why}; findings are not marked new or open this run, and NOTIFY=changes follows the findings rule",
                account.account_id
            );
        }
        if let Some(Err(e)) = &account.security_hub {
            eprintln!(
                "thumbprint-guard: account {}: Security Hub import failed (the report above is complete): {e} ({target})",
                account.account_id
            );
        }
    }
    Ok(())
}
