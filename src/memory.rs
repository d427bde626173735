//! The steps after the sweep that remember it: the state table (new / open / resolved, and whether
//! `NOTIFY=changes` has something to say) and the Security Hub import.
//!
//! Neither can fail the run: an unavailable table leaves every `status` null and `NOTIFY=changes`
//! falls back to the `findings` rule; a Security Hub failure is logged. The report is complete
//! before either runs.

use time::OffsetDateTime;

use crate::aws::{partition_of, AwsClients};
use crate::config::{Config, NotifyRule};
use crate::notify;
use crate::report::Report;
use crate::securityhub::{self, AsffFinding};
use crate::state::{self, Changes, StateError};

/// What the state table said about this run.
#[derive(Debug)]
pub enum Memory {
    /// No `STATE_TABLE`: nothing is remembered.
    None,
    /// The table was read and written.
    Remembered(Changes),
    /// The table could not be used this run (the report's statuses stay null).
    Unavailable(StateError),
}

impl Memory {
    /// Why the table could not be used, when it could not (for the messages).
    pub fn unavailable_reason(&self) -> Option<String> {
        match self {
            Memory::Unavailable(error) => Some(error.to_string()),
            _ => None,
        }
    }

    /// The changes, when the table was read.
    pub fn changes(&self) -> Option<&Changes> {
        match self {
            Memory::Remembered(changes) => Some(changes),
            _ => None,
        }
    }
}

/// Reads the account's previous state, marks each finding `new`/`open` with its `first_seen`, fills
/// `resolved`, and writes the new state (conditional on its version, retried on a conflict).
pub async fn remember(
    aws: &AwsClients,
    config: &Config,
    report: &mut Report,
    now: OffsetDateTime,
) -> Memory {
    let Some(table) = config.state_table.as_deref() else {
        return Memory::None;
    };
    let now = crate::report::whole_seconds(now);
    let topic_set = config.sns_topic_arn.is_some();
    // Whether this run notifies, for the `last notified` times the state keeps.
    let by_findings = notify::decide(config, report, None).is_ok();
    let rule = config.notify;
    let will_notify = move |changes: &Changes| match rule {
        NotifyRule::Changes => topic_set && state::changes_warrant_notification(changes),
        _ => by_findings,
    };
    let account_id = report.account_id.clone();
    match state::remember(
        &aws.dynamodb,
        table,
        &account_id,
        &mut report.findings,
        now,
        u64::from(config.remind_hours),
        will_notify,
    )
    .await
    {
        Ok(changes) => {
            report.resolved = changes.resolved.clone();
            Memory::Remembered(changes)
        }
        Err(error) => {
            tracing::warn!(table, error = %error, "the state table is unavailable: statuses are null this run and NOTIFY=changes falls back to the findings rule");
            for finding in &mut report.findings {
                finding.status = None;
                finding.first_seen = None;
            }
            Memory::Unavailable(error)
        }
    }
}

/// What the messages say beyond the report: the account alias (read only when a topic is set:
/// nothing else uses it) and why the state table could not be used, if it could not.
pub async fn message_context(
    aws: &AwsClients,
    config: &Config,
    memory: &Memory,
) -> notify::MessageContext {
    notify::MessageContext {
        account_alias: match config.sns_topic_arn {
            Some(_) => crate::inventory::account_alias(&aws.iam).await,
            None => None,
        },
        state_unavailable: memory.unavailable_reason(),
    }
}

/// The report's findings in ASFF, for the account's default product in `region`.
pub fn asff(report: &Report, region: &str, now: OffsetDateTime) -> Vec<AsffFinding> {
    let now = crate::report::whole_seconds(now);
    securityhub::to_asff(report, partition_of(region), region, now, |finding| {
        crate::fix::for_report(finding, report)
    })
}

/// `sweep --output asff`: the findings as one BatchImportFindings input document.
pub fn asff_document(report: &Report, region: &str, now: OffsetDateTime) -> serde_json::Value {
    securityhub::asff_document(&asff(report, region, now))
}

/// With `SECURITY_HUB=on`, imports the findings and archives the ones that went away; a failure is
/// logged and returned, never fatal.
pub async fn import_to_security_hub(
    aws: &AwsClients,
    config: &Config,
    report: &Report,
    now: OffsetDateTime,
) -> Option<Result<securityhub::ImportOutcome, securityhub::SecurityHubError>> {
    if !config.security_hub {
        return None;
    }
    let now = crate::report::whole_seconds(now);
    let findings = asff(report, &aws.region, now);
    let product =
        securityhub::product_arn(partition_of(&aws.region), &aws.region, &report.account_id);
    let outcome = securityhub::import(
        &aws.securityhub,
        &findings,
        &report.account_id,
        &product,
        now,
    )
    .await;
    match &outcome {
        Ok(done) => tracing::info!(
            imported = done.imported,
            archived = done.archived,
            failed = done.failed.len(),
            "Security Hub import"
        ),
        Err(error) => {
            tracing::warn!(error = %error, "Security Hub import failed; the report and the notification are unaffected")
        }
    }
    Some(outcome)
}
