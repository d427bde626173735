//! The notify step of a run: one decision and one publication over the run's report, whatever its
//! scope. A single-account run is decided and rendered as one account; an organization run by the
//! same per-account rule over every member, plus its organization-level findings.

use crate::config::{Config, NotifyRule};
use crate::report::{Report, RunReport, Severity};
use crate::state::{self, Changes};

use super::compose::render_parts;
use super::message::{RunNotes, SnsMessage, PUBLISH_BUDGET_BYTES};
use super::organization;
use super::publish::{publish, NotifyError, NotifyOutcome};
use super::rule::{decide, Silence};

/// Whether this run publishes, as the state step needs to know before notify runs (for the `last
/// notified` times it keeps): given the changes the state table finds for `report`.
pub fn will_publish(config: &Config, report: &Report) -> impl Fn(&Changes) -> bool {
    let by_findings = decide(config, report, None).is_ok();
    let topic_set = config.sns_topic_arn.is_some();
    let rule = config.notify;
    move |changes: &Changes| match rule {
        NotifyRule::Changes => topic_set && state::changes_warrant_notification(changes),
        _ => by_findings,
    }
}

/// Where the run publishes, or why not: any account whose own report would be published (see
/// [`decide`]), or an organization-level finding (an unreachable account, never remembered, so
/// announced on every run) of warning or worse.
pub fn decide_run<'a>(
    config: &'a Config,
    report: &RunReport,
    notes: &RunNotes,
) -> Result<&'a str, Silence> {
    let topic_arn = config.sns_topic_arn.as_deref().ok_or(Silence::NoTopic)?;
    let mut silences = report
        .accounts()
        .iter()
        .enumerate()
        .map(|(i, account)| decide(config, account, notes.account(i).changes));
    if let RunReport::Account(_) = report {
        return silences.next().unwrap_or(Err(Silence::NothingToTell));
    }
    match config.notify {
        NotifyRule::Never => return Err(Silence::Never),
        NotifyRule::Always => return Ok(topic_arn),
        NotifyRule::Findings | NotifyRule::Changes => {}
    }
    let unreachable = report
        .organization_findings()
        .iter()
        .any(|f| f.counts() && f.severity >= Severity::Warning);
    if unreachable || silences.any(|decision| decision.is_ok()) {
        Ok(topic_arn)
    } else if config.notify == NotifyRule::Changes {
        Err(Silence::NothingChanged)
    } else {
        Err(Silence::NothingToTell)
    }
}

/// The SNS messages of a run, each at most `budget` bytes. Pure.
pub fn render_run(report: &RunReport, notes: &RunNotes, budget: usize) -> Vec<SnsMessage> {
    match report {
        RunReport::Account(account) => render_parts(account, budget, notes.account(0).context),
        RunReport::Organization(organization) => {
            organization::render_organization(organization, notes, budget)
        }
    }
}

/// The notify step: decides (see [`decide_run`]) and publishes every part of the run's message.
/// The caller has logged or printed the full report first, so a failure here loses nothing.
pub async fn publish_run(
    sns: &aws_sdk_sns::Client,
    config: &Config,
    report: &RunReport,
    notes: &RunNotes<'_>,
) -> Result<NotifyOutcome, NotifyError> {
    match decide_run(config, report, notes) {
        Err(silence) => {
            tracing::info!(reason = %silence, "not publishing to SNS");
            Ok(NotifyOutcome::NotSent {
                reason: silence.to_string(),
            })
        }
        Ok(topic_arn) => {
            publish(
                sns,
                topic_arn,
                &render_run(report, notes, PUBLISH_BUDGET_BYTES),
            )
            .await
        }
    }
}
