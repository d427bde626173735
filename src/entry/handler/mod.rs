//! The Lambda's invocation: one run per event, its report logged (with one EMF metrics line per
//! account) before the notify step, so a failed publish loses nothing.
//!
//! Everything built at start-up lives in [`Runtime`], created once by the Lambda's `main` and shared
//! by every invocation (the SDK clients, the TLS trust store and the probe's HTTP client).

use std::collections::HashMap;

use serde_json::Value;
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::aws::AwsClients;
use crate::config::{self, Config, ConfigError};
use crate::event::{self, EventError};
use crate::metrics;
use crate::notify::NotifyError;
use crate::organization::{OrganizationClients, OrganizationSettings};
use crate::probe::ProbeContext;
use crate::report::RunReport;
use crate::run::{self, RunError, Scope, Sinks};

mod deadline;
mod log;

pub use deadline::{probe_budget_ms, probe_deadline};
pub use log::{log_lines, MAX_LOG_LINE_BYTES};

/// What the handler builds once and reuses for every invocation.
pub struct Runtime {
    /// SDK clients.
    pub aws: AwsClients,
    /// Trust store, verifiers and HTTP client of the probe.
    pub probe: ProbeContext,
    /// The configuration variables as the environment held them at start-up.
    pub env: HashMap<String, String>,
    /// Organization mode (`ORGANIZATION_ROLE_NAME` set at start-up): the central clients,
    /// Organizations and STS for the member roles.
    pub organization: Option<OrganizationClients>,
}

impl Runtime {
    /// Snapshot of the configuration variables of the process environment (every variable of
    /// [`config::VARIABLES`]; a value that is not UTF-8 is kept lossily, so it fails validation).
    pub fn env_snapshot() -> HashMap<String, String> {
        config::VARIABLES
            .iter()
            .filter_map(|var| config::env_lookup(var).map(|v| (var.to_string(), v)))
            .collect()
    }

    /// The base configuration (environment only), layered with no override: what a scheduled
    /// event runs with.
    pub fn base_config(env: &HashMap<String, String>) -> Result<Config, ConfigError> {
        config::layer(
            |var| env.get(var).cloned(),
            &config::Overrides::new(config::OverrideSource::LambdaEvent),
        )
    }
}

/// Why an invocation failed; `error_type` is stable for alarms and log filters.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event (or an override in it) is unusable.
    #[error(transparent)]
    Event(#[from] EventError),
    /// The run could not run (account, provider list or account list unreadable).
    #[error(transparent)]
    Run(#[from] RunError),
    /// The report was produced and logged, but SNS did not take it.
    #[error("the sweep finished ({summary}) and its report is in the logs, but publishing it failed: {error}")]
    Notify {
        /// What SNS said.
        error: NotifyError,
        /// The counts of the report that was not published, in words.
        summary: String,
    },
}

impl HandlerError {
    /// Stable error type reported to Lambda.
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Event(_) => "InvalidEvent",
            HandlerError::Run(_) => "SweepFailed",
            HandlerError::Notify { .. } => "NotifyFailed",
        }
    }
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(error: HandlerError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: error.error_type().to_string(),
            error_message: error.to_string(),
        }
    }
}

/// Handles one event: organization mode when `ORGANIZATION_ROLE_NAME` was set at start-up (and the
/// event's configuration keeps it), a single-account run otherwise. `emit` gets the report's log
/// lines and the EMF lines before the notify step; an SNS failure is an error only after that.
pub async fn handle_event(
    runtime: &Runtime,
    event: &Value,
    now: OffsetDateTime,
    deadline: Option<Instant>,
    emit: &(dyn Fn(&str) + Sync),
) -> Result<RunReport, HandlerError> {
    let config = event::config_for_event(event, |var| runtime.env.get(var).cloned())?;
    let settings = OrganizationSettings::from_config(&config);
    let scope = match (&runtime.organization, &settings) {
        (Some(clients), Some(settings)) => Scope::Organization(clients, settings),
        _ => Scope::Account(&runtime.aws),
    };
    let log = |swept: run::Swept<'_>| {
        for line in log_lines(swept.report, MAX_LOG_LINE_BYTES) {
            emit(&line);
        }
        for account in swept.report.accounts() {
            emit(&metrics::emf(account, now).to_string());
        }
    };
    let sinks = Sinks {
        progress: None,
        report: &log,
    };
    let outcome = run::execute(scope, &runtime.probe, &config, now, deadline, &sinks).await?;
    match outcome.notified {
        Ok(_) => Ok(outcome.report),
        Err(error) => Err(HandlerError::Notify {
            error,
            summary: outcome.report.summary_phrase(),
        }),
    }
}
