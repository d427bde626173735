//! The Lambda's handler: one sweep per invocation, the report logged before anything can fail,
//! the EMF metrics line, then the notification.
//!
//! Everything built at start-up lives in [`Runtime`], created once by the Lambda's `main` and shared
//! by every invocation (the SDK clients, the TLS trust store and the probe's HTTP client).

use std::collections::HashMap;

use serde_json::Value;
use time::OffsetDateTime;
use tokio::time::Instant;

use serde::Serialize;

use crate::aws::AwsClients;
use crate::config::{self, Config, ConfigError};
use crate::event::{self, EventError};
use crate::inventory::InventoryError;
use crate::notify::{self, NotifyError};
use crate::organization::{
    self, OrganizationClients, OrganizationError, OrganizationReport, OrganizationRun,
    OrganizationSettings,
};
use crate::probe::ProbeContext;
use crate::report::{Report, Summary};
use crate::{memory, metrics, sweep};

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
    /// The sweep could not run (account or provider list unreadable).
    #[error(transparent)]
    Sweep(#[from] InventoryError),
    /// Organization mode: the account list could not be read.
    #[error(transparent)]
    Organization(#[from] OrganizationError),
    /// The report was produced and logged, but SNS did not take it.
    #[error("the sweep finished ({summary}) and its report is in the logs, but publishing it failed: {error}")]
    Notify {
        /// What SNS said.
        error: NotifyError,
        /// The counts of the report that was not published, in words.
        summary: String,
    },
}

fn summary_phrase(summary: &Summary) -> String {
    format!(
        "{} providers, {} clusters: {} critical, {} warning, {} info, {} thumbprints added, {} muted",
        summary.providers,
        summary.clusters,
        summary.critical,
        summary.warning,
        summary.info,
        summary.thumbprints_added,
        summary.muted
    )
}

impl HandlerError {
    /// Stable error type reported to Lambda.
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Event(_) => "InvalidEvent",
            HandlerError::Sweep(_) | HandlerError::Organization(_) => "SweepFailed",
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

/// Turns the Lambda context's deadline (ms since the epoch) into an `Instant` for the probes, keeping
/// up to `reserve_ms` (at most a fifth of the time left) for logging the report and publishing it.
pub fn probe_deadline(deadline_ms: u64, reserve_ms: u64) -> Option<Instant> {
    let now_ms =
        u64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).ok()?;
    let Some(probing) = probe_budget_ms(deadline_ms, now_ms, reserve_ms) else {
        tracing::warn!(
            deadline_ms,
            now_ms,
            "the invocation's deadline is not a time since the epoch (a local emulator?); probing without a deadline"
        );
        return None;
    };
    Some(Instant::now() + std::time::Duration::from_millis(probing))
}

/// Milliseconds the probes may take: the time left minus the reserve, the reserve being at most a
/// fifth of the time left (a short timeout still leaves most of it to the probes). A deadline
/// already passed gives 0 ("probe nothing"). `None` when `deadline_ms` is not a time since the
/// epoch at all (more than a day in the past: some local emulators send a relative value).
pub fn probe_budget_ms(deadline_ms: u64, now_ms: u64, reserve_ms: u64) -> Option<u64> {
    const DAY_MS: u64 = 86_400_000;
    if deadline_ms < now_ms.saturating_sub(DAY_MS) {
        return None;
    }
    let left = deadline_ms.saturating_sub(now_ms);
    Some(left.saturating_sub(reserve_ms.min(left / 5)))
}

/// Largest report log line: CloudWatch Logs caps one event (Lambda splits longer lines), so a
/// larger report is logged as numbered parts, each a valid report of the same schema.
pub const MAX_LOG_LINE_BYTES: usize = 200 * 1024;

/// The report as log lines: one line when it fits in `max_bytes`, else one line per part, each a
/// valid report holding whole providers with their findings and clusters, every finding in exactly
/// one part (the same cut as the SNS parts, `notify::parts::split_with`).
pub fn report_log_lines(report: &Report, max_bytes: usize) -> Vec<String> {
    notify::parts::split_with(
        report,
        max_bytes,
        0,
        notify::parts::Weight::Json,
        |part| {
            let mut doc =
                serde_json::json!({"message": "thumbprint-guard report", "report": part.report});
            if part.count > 1 {
                doc["part"] = serde_json::json!(part.index);
                doc["parts"] = serde_json::json!(part.count);
            }
            doc.to_string()
        },
        String::len,
    )
}

/// What one invocation returns: an account's report, or the organization's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Handled {
    /// A single-account run.
    Account(Report),
    /// An organization run.
    Organization(OrganizationReport),
}

impl Handled {
    /// The account report of a single-account run.
    pub fn into_account(self) -> Option<Report> {
        match self {
            Handled::Account(report) => Some(report),
            Handled::Organization(_) => None,
        }
    }

    /// The organization report of an organization run.
    pub fn into_organization(self) -> Option<OrganizationReport> {
        match self {
            Handled::Organization(report) => Some(report),
            Handled::Account(_) => None,
        }
    }
}

/// Handles one event in the mode the function is configured for: organization mode when
/// `ORGANIZATION_ROLE_NAME` was set at start-up, a single-account run otherwise.
pub async fn handle_event(
    runtime: &Runtime,
    event: &Value,
    now: OffsetDateTime,
    deadline: Option<Instant>,
    emit: &(dyn Fn(&str) + Sync),
) -> Result<Handled, HandlerError> {
    let config = event::config_for_event(event, |var| runtime.env.get(var).cloned())?;
    match (
        &runtime.organization,
        OrganizationSettings::from_config(&config),
    ) {
        (Some(clients), Some(settings)) => {
            handle_organization(runtime, clients, &settings, &config, now, deadline, emit)
                .await
                .map(Handled::Organization)
        }
        _ => handle(runtime, event, now, deadline, emit)
            .await
            .map(Handled::Account),
    }
}

/// The organization report as log lines: one line when it fits in `max_bytes`; else one line for
/// the organization (its counts and organization-level findings, `accounts` left empty) and each
/// account's report as [`report_log_lines`] cuts it, each line naming the organization.
pub fn organization_log_lines(report: &OrganizationReport, max_bytes: usize) -> Vec<String> {
    let whole =
        serde_json::json!({"message": "thumbprint-guard organization report", "report": report})
            .to_string();
    if whole.len() <= max_bytes {
        return vec![whole];
    }
    let mut envelope = report.clone();
    envelope.accounts.clear();
    let mut lines = vec![serde_json::json!({
        "message": "thumbprint-guard organization report",
        "report": envelope,
        "accounts_logged_separately": report.accounts.len(),
    })
    .to_string()];
    for account in &report.accounts {
        for line in report_log_lines(account, max_bytes.saturating_sub(128)) {
            let mut doc: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
            if let Some(object) = doc.as_object_mut() {
                object.insert(
                    "organization_id".into(),
                    serde_json::json!(report.organization_id),
                );
                lines.push(doc.to_string());
            }
        }
    }
    lines
}

/// One organization invocation: every account swept (and remembered, and imported into its own
/// Security Hub), the report logged, one EMF line per account, then one notification.
async fn handle_organization(
    runtime: &Runtime,
    clients: &OrganizationClients,
    settings: &OrganizationSettings,
    config: &Config,
    now: OffsetDateTime,
    deadline: Option<Instant>,
    emit: &(dyn Fn(&str) + Sync),
) -> Result<OrganizationReport, HandlerError> {
    let run: OrganizationRun =
        organization::run(clients, settings, &runtime.probe, config, now, deadline).await?;
    for line in organization_log_lines(&run.report, MAX_LOG_LINE_BYTES) {
        emit(&line);
    }
    for account in &run.report.accounts {
        emit(&metrics::emf(account, now).to_string());
    }
    let published = notify::publish_organization_if_needed(&runtime.aws.sns, config, &run)
        .await
        .map_err(|error| HandlerError::Notify {
            error,
            summary: organization_summary_phrase(&run.report),
        })?;
    match published {
        notify::NotifyOutcome::Published { parts, .. } => {
            tracing::info!(parts, "organization report published to SNS")
        }
        notify::NotifyOutcome::NotSent { reason } => tracing::info!(%reason, "no notification"),
    }
    Ok(run.report)
}

fn organization_summary_phrase(report: &OrganizationReport) -> String {
    let s = &report.summary;
    format!(
        "{} accounts ({} unreachable), {} providers, {} clusters: {} critical, {} warning, {} info, {} thumbprints added",
        s.accounts, s.accounts_unreachable, s.providers, s.clusters, s.critical, s.warning, s.info, s.thumbprints_added
    )
}

/// Handles one event as a single-account run: sweep, then `emit` the report line and the EMF
/// line, then notify. Returns the report; an SNS failure is an error only after the report was
/// emitted in full.
pub async fn handle(
    runtime: &Runtime,
    event: &Value,
    now: OffsetDateTime,
    deadline: Option<Instant>,
    emit: &(dyn Fn(&str) + Sync),
) -> Result<Report, HandlerError> {
    let config = event::config_for_event(event, |var| runtime.env.get(var).cloned())?;
    let mut report = sweep::run(&runtime.aws, &runtime.probe, &config, now, deadline).await?;
    let memory = memory::remember(&runtime.aws, &config, &mut report, now).await;
    for line in report_log_lines(&report, MAX_LOG_LINE_BYTES) {
        emit(&line);
    }
    emit(&metrics::emf(&report, now).to_string());
    // A Security Hub failure is logged and never loses the report or the notification.
    let _ = memory::import_to_security_hub(&runtime.aws, &config, &report, now).await;
    let context = memory::message_context(&runtime.aws, &config, &memory).await;
    let published = notify::publish_with(
        &runtime.aws.sns,
        &config,
        &report,
        memory.changes(),
        &context,
    )
    .await
    .map_err(|error| HandlerError::Notify {
        error,
        summary: summary_phrase(&report.summary),
    })?;
    match published {
        notify::NotifyOutcome::Published { parts, .. } => {
            tracing::info!(parts, "report published to SNS")
        }
        notify::NotifyOutcome::NotSent { reason } => tracing::info!(%reason, "no notification"),
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::RemediationMode;
    use crate::report::{Finding, FindingCode, ProviderReport, Summary, SCHEMA_VERSION};

    fn report(providers: usize) -> Report {
        let arn =
            |i: usize| format!("arn:aws:iam::123456789012:oidc-provider/issuer{i}.example/id/X");
        let mut r = Report {
            resolved: Vec::new(),
            schema_version: SCHEMA_VERSION,
            account_id: "123456789012".into(),
            generated_at: time::macros::datetime!(2026-11-22 10:00:00 UTC),
            remediation_mode: RemediationMode::Off,
            providers: (0..providers)
                .map(|i| ProviderReport {
                    arn: arn(i),
                    url: format!("https://issuer{i}.example/id/X"),
                    client_ids: vec!["sts.amazonaws.com".into()],
                    configured_thumbprints: vec!["a".repeat(40); 5],
                    jwks_uri: None,
                    endpoints: vec![],
                    served_thumbprints: vec![],
                    thumbprint_enforced: true,
                    remediation: None,
                })
                .collect(),
            clusters: vec![],
            findings: (0..providers)
                .map(|i| Finding::new(FindingCode::IssuerUnreachable, arn(i), "x".repeat(300)))
                .chain([Finding::new(
                    FindingCode::TrustPolicyNoSub,
                    "arn:aws:iam::123456789012:role/r",
                    "m",
                )])
                .collect(),
            summary: Summary::default(),
        };
        r.recount();
        r
    }

    #[test]
    fn the_probe_budget_keeps_a_reserve_but_never_disappears() {
        let now = 1_795_000_000_000; // 2026, in ms since the epoch
                                     // 300 s left: the full 15 s reserve.
        assert_eq!(probe_budget_ms(now + 300_000, now, 15_000), Some(285_000));
        // 3 s left (Lambda's default timeout): a fifth is kept, 2.4 s are probed.
        assert_eq!(probe_budget_ms(now + 3_000, now, 15_000), Some(2_400));
        // Already passed: probe nothing.
        assert_eq!(probe_budget_ms(now - 5_000, now, 15_000), Some(0));
        // Not a time since the epoch (cargo lambda watch sends 600000): no deadline.
        assert_eq!(probe_budget_ms(600_000, now, 15_000), None);
    }

    #[test]
    fn a_small_report_is_one_line() {
        let lines = report_log_lines(&report(3), MAX_LOG_LINE_BYTES);
        assert_eq!(lines.len(), 1);
        let doc: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(doc["report"]["summary"]["providers"], 3);
        assert!(doc.get("part").is_none());
    }

    #[test]
    fn a_large_report_is_split_into_parts_that_carry_everything_once() {
        let full = report(400);
        let lines = report_log_lines(&full, 20 * 1024);
        assert!(lines.len() > 2, "{}", lines.len());
        let mut providers = 0;
        let mut findings = 0;
        for (i, line) in lines.iter().enumerate() {
            assert!(line.len() <= 20 * 1024, "part {i} has {} bytes", line.len());
            let doc: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(doc["part"], i + 1);
            assert_eq!(doc["parts"], lines.len());
            let part: Report = serde_json::from_value(doc["report"].clone()).unwrap();
            assert_eq!(part.summary, part.summarize());
            providers += part.providers.len();
            findings += part.findings.len();
        }
        assert_eq!(providers, full.providers.len());
        assert_eq!(findings, full.findings.len());
    }

    #[test]
    fn a_large_organization_report_is_logged_as_an_envelope_and_each_accounts_parts() {
        let mut org = OrganizationReport::empty(
            Some("o-abc123def4".into()),
            time::macros::datetime!(2026-11-22 10:00:00 UTC),
        );
        for id in ["111111111111", "222222222222"] {
            let mut account = report(200);
            account.account_id = id.into();
            org.accounts.push(account);
        }
        org.recount(2);
        let mut small = org.clone();
        for account in &mut small.accounts {
            *account = report(3);
        }
        assert_eq!(organization_log_lines(&small, MAX_LOG_LINE_BYTES).len(), 1);

        let lines = organization_log_lines(&org, 20 * 1024);
        assert!(lines.len() > 3, "{}", lines.len());
        let envelope: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(envelope["report"]["organization_id"], "o-abc123def4");
        assert_eq!(envelope["report"]["accounts"], serde_json::json!([]));
        assert_eq!(envelope["report"]["summary"]["accounts"], 2);
        assert_eq!(envelope["accounts_logged_separately"], 2);
        let mut findings = 0;
        for line in &lines[1..] {
            assert!(line.len() <= 20 * 1024, "{} bytes", line.len());
            let doc: Value = serde_json::from_str(line).unwrap();
            assert_eq!(doc["organization_id"], "o-abc123def4");
            findings += doc["report"]["findings"].as_array().unwrap().len();
        }
        assert_eq!(findings, 2 * 201, "every account's findings, once");
    }
}
