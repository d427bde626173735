//! The Lambda's handler: one sweep per invocation, the report logged before anything can fail,
//! the EMF metrics line, then the notification.
//!
//! Everything built at start-up lives in [`Runtime`], created once by the Lambda's `main` and shared
//! by every invocation (the SDK clients, the TLS trust store and the probe's HTTP client).

use std::collections::HashMap;

use serde_json::Value;
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::config::{self, Config, ConfigError};
use crate::event::{self, EventError};
use crate::inventory::{AwsClients, InventoryError};
use crate::notify::{self, NotifyError};
use crate::probe::ProbeContext;
use crate::report::Report;
use crate::{metrics, sweep};

/// What the handler builds once and reuses for every invocation.
pub struct Runtime {
    /// SDK clients.
    pub aws: AwsClients,
    /// Trust store, verifiers and HTTP client of the probe.
    pub probe: ProbeContext,
    /// The configuration variables as the environment held them at start-up.
    pub env: HashMap<String, String>,
}

impl Runtime {
    /// Snapshot of the configuration variables of the process environment.
    pub fn env_snapshot() -> HashMap<String, String> {
        config::VARIABLES
            .iter()
            .filter_map(|var| std::env::var(var).ok().map(|v| (var.to_string(), v)))
            .collect()
    }

    /// The base configuration (environment only).
    pub fn base_config(env: &HashMap<String, String>) -> Result<Config, ConfigError> {
        Config::from_lookup(|var| env.get(var).cloned())
    }
}

/// Why an invocation failed; `error_type` is stable for alarms and log filters.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event (or an override in it) is unusable.
    #[error(transparent)]
    Event(#[from] EventError),
    /// The sweep could not run (account or provider list unreadable).
    #[error(transparent)]
    Sweep(#[from] InventoryError),
    /// The report was produced and logged, but SNS did not take it.
    #[error(transparent)]
    Notify(#[from] NotifyError),
}

impl HandlerError {
    /// Stable error type reported to Lambda.
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Event(_) => "InvalidEvent",
            HandlerError::Sweep(_) => "SweepFailed",
            HandlerError::Notify(_) => "NotifyFailed",
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

/// Turns the Lambda context's deadline (ms since the epoch) into an `Instant`, keeping `reserve_ms`
/// for logging the report and publishing it.
pub fn probe_deadline(deadline_ms: u64, reserve_ms: u64) -> Option<Instant> {
    let now_ms =
        u64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).ok()?;
    let left = deadline_ms.checked_sub(now_ms)?.saturating_sub(reserve_ms);
    Some(Instant::now() + std::time::Duration::from_millis(left))
}

/// Handles one event: sweep, then `emit` the report line and the EMF line, then notify. Returns the
/// report; an SNS failure is an error only after the report was emitted in full.
pub async fn handle(
    runtime: &Runtime,
    event: &Value,
    now: OffsetDateTime,
    deadline: Option<Instant>,
    emit: &(dyn Fn(&str) + Sync),
) -> Result<Report, HandlerError> {
    let config = event::config_for_event(event, |var| runtime.env.get(var).cloned())?;
    let report = sweep::run(&runtime.aws, &runtime.probe, &config, now, deadline).await?;
    emit(&serde_json::json!({"message": "thumbprint-guard report", "report": report}).to_string());
    emit(&metrics::emf(&report, now).to_string());
    match notify::publish_if_needed(&runtime.aws.sns, &config, &report).await? {
        notify::NotifyOutcome::Published { parts, .. } => {
            tracing::info!(parts, "report published to SNS")
        }
        notify::NotifyOutcome::NotSent { reason } => tracing::info!(%reason, "no notification"),
    }
    Ok(report)
}
