//! Notifications on SNS: the message per protocol (pure) and its publication.
//!
//! One sweep becomes one `Publish` with `MessageStructure=json`, so every subscription gets the
//! form it can use:
//! - `default`, `email`: plain text for a person (`text`): the account, a one-line verdict, and
//!   per finding what is wrong, where, since/until when, what was done, and the command to fix it.
//! - `https`: an AWS Chatbot (Amazon Q Developer in chat applications) custom notification for
//!   Slack (`chatbot`).
//! - `sqs`, `lambda`: the JSON report, exactly DESIGN's schema.
//!
//! Message attributes, for subscription filter policies: `severity` (String: `critical`,
//! `warning`, `info`, or `ok` when the run has no finding at all), `account_id` (String), and
//! `part` / `parts` (Number: which message of the run this is, and how many there are).
//!
//! A publish must stay under SNS's 256 KiB (message + attributes). A larger report is split
//! (`parts`) into numbered parts that together carry every provider, cluster and finding exactly
//! once. Each part's `sqs`/`lambda` payload is itself a valid report (same account, time and
//! mode; a subset of the lists; `summary` counted over that subset, so the parts' summaries add up
//! to the run's). The part numbering lives only outside the report: in the `part`/`parts`
//! attributes, the subject ("(part 1/3)") and the texts. Parts of one run share `account_id` and
//! `generated_at`.

mod chatbot;
mod console;
mod email;
mod message;
mod organization;
mod part;
pub(crate) mod parts;
mod run;
mod text;

use aws_sdk_sns::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sns::types::MessageAttributeValue;

use crate::config::{Config, NotifyRule};
use crate::report::{FindingCode, Report, Severity};
use crate::state::{self, Changes};

pub use chatbot::{CHATBOT_DESCRIPTION_MAX, CHATBOT_TITLE_MAX};
pub use message::{severity_label, MessageAttributes, MessageContext, SnsMessage};
pub use run::{decide_run, publish_run, render_run, will_publish, AccountNotes, RunNotes};
pub use text::SUBJECT_MAX;

/// SNS's limit for one publish: message body plus message attributes (names, types, values).
pub const SNS_MAX_PUBLISH_BYTES: usize = 262_144;

/// What one of our publishes may use of [`SNS_MAX_PUBLISH_BYTES`] (subject included): 16 KiB stay
/// free as a margin for SNS's own accounting.
pub const PUBLISH_BUDGET_BYTES: usize = 240 * 1024;

/// What [`publish_run`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyOutcome {
    /// Nothing was published, and why (no topic, `NOTIFY=never`, nothing worth telling).
    NotSent {
        /// Why, in words for the log.
        reason: String,
    },
    /// Every part was published.
    Published {
        /// SNS message ids, in part order.
        message_ids: Vec<String>,
        /// How many messages the report took (1 unless it was split).
        parts: usize,
    },
}

/// Publishing failed after the SDK's own retries (standard retry mode). Every part is tried
/// before the error is returned, so one refused part (e.g. one over SNS's size limit) does not
/// cost the others.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// SNS refused or could not be reached for exactly one part.
    #[error("publishing part {part} of {parts} to SNS topic {topic_arn} failed ({} published): {error}{}", crate::report::count(.delivered, "other part", "other parts"), carrying(.providers))]
    Publish {
        /// The topic.
        topic_arn: String,
        /// The part that failed (1-based).
        part: usize,
        /// How many parts the report took.
        parts: usize,
        /// How many of the other parts were published.
        delivered: usize,
        /// The providers the refused part carried.
        providers: Vec<String>,
        /// The AWS error code (e.g. `NotFound`, `AuthorizationError`), when SNS answered.
        code: Option<String>,
        /// The full error chain (`DisplayErrorContext`).
        error: String,
    },
    /// SNS refused or could not be reached for several parts; each failure is listed.
    #[error(
        "publishing {} of {parts} parts to SNS topic {topic_arn} failed ({} published): {}",
        .failures.len(),
        crate::report::count(.delivered, "part", "parts"),
        join_failures(.failures)
    )]
    PublishParts {
        /// The topic.
        topic_arn: String,
        /// How many parts the report took.
        parts: usize,
        /// How many parts were published.
        delivered: usize,
        /// Every failed part, in part order.
        failures: Vec<PartFailure>,
    },
    /// A message attribute could not be built (a bug, not an AWS problem).
    #[error("cannot build message attribute {name} for SNS topic {topic_arn}: {error}")]
    Attribute {
        /// The topic.
        topic_arn: String,
        /// The attribute's name.
        name: &'static str,
        /// What the SDK said.
        error: String,
    },
}

/// One part SNS did not take (see [`NotifyError::PublishParts`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("part {part}: {error}{}", carrying(.providers))]
pub struct PartFailure {
    /// The part that failed (1-based).
    pub part: usize,
    /// The providers that part carried.
    pub providers: Vec<String>,
    /// The AWS error code, when SNS answered.
    pub code: Option<String>,
    /// The full error chain (`DisplayErrorContext`).
    pub error: String,
}

/// " (carrying provider A, B)" for an error message; empty when the part carried no provider.
fn carrying(providers: &[String]) -> String {
    match providers {
        [] => String::new(),
        [one] => format!(" [that part carried provider {one}]"),
        many => format!(" [that part carried providers {}]", many.join(", ")),
    }
}

fn join_failures(failures: &[PartFailure]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// True when the run has a warning, a critical finding, or changed something in IAM: what
/// `NOTIFY=findings` publishes.
pub fn needs_attention(report: &Report) -> bool {
    let counted = || report.findings.iter().filter(|f| f.counts());
    counted().any(|f| f.severity >= Severity::Warning)
        || report.changed()
        || counted().any(|f| f.code == FindingCode::ThumbprintAdded)
}

/// Why a run publishes nothing (see [`decide`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Silence {
    /// No topic is configured.
    #[error("SNS_TOPIC_ARN is not set")]
    NoTopic,
    /// `NOTIFY=never`.
    #[error("NOTIFY=never")]
    Never,
    /// `NOTIFY=findings` and nothing is worth telling.
    #[error("NOTIFY=findings and the run has no warning, no critical finding and no change")]
    NothingToTell,
    /// `NOTIFY=changes` and nothing changed since the last run (no reminder due either).
    #[error(
        "NOTIFY=changes and nothing is new, rose, resolved or due a reminder since the last run"
    )]
    NothingChanged,
}

/// Where to publish, or why not: `Ok(topic_arn)` when `SNS_TOPIC_ARN` is set and `NOTIFY` says
/// this report is to be sent, otherwise the [`Silence`].
pub fn decide<'a>(
    config: &'a Config,
    report: &Report,
    changes: Option<&Changes>,
) -> Result<&'a str, Silence> {
    let Some(topic_arn) = config.sns_topic_arn.as_deref() else {
        return Err(Silence::NoTopic);
    };
    match config.notify {
        NotifyRule::Never => Err(Silence::Never),
        NotifyRule::Always => Ok(topic_arn),
        NotifyRule::Changes => match changes {
            Some(changes) if state::changes_warrant_notification(changes) => Ok(topic_arn),
            Some(_) => Err(Silence::NothingChanged),
            // No state this run (table unavailable): the findings rule, so nothing goes unannounced.
            None if needs_attention(report) => Ok(topic_arn),
            None => Err(Silence::NothingToTell),
        },
        NotifyRule::Findings if needs_attention(report) => Ok(topic_arn),
        NotifyRule::Findings => Err(Silence::NothingToTell),
    }
}

/// Publishes `messages` to `topic_arn` in order, one `Publish` each. A failed part does not stop
/// the others: every part is tried, and the error then names every part that failed
/// ([`NotifyError::Publish`] for one, [`NotifyError::PublishParts`] for several). Retries
/// (throttling, 5xx, timeouts) are the SDK client's retry configuration.
pub async fn publish(
    sns: &aws_sdk_sns::Client,
    topic_arn: &str,
    messages: &[SnsMessage],
) -> Result<NotifyOutcome, NotifyError> {
    let mut message_ids = Vec::with_capacity(messages.len());
    let mut failures: Vec<PartFailure> = Vec::new();
    for message in messages {
        let mut request = sns
            .publish()
            .topic_arn(topic_arn)
            .subject(&message.subject)
            .message(&message.message)
            .message_structure("json");
        for (name, data_type, value) in message.attributes.entries() {
            let attribute = MessageAttributeValue::builder()
                .data_type(data_type)
                .string_value(value)
                .build()
                .map_err(|e| NotifyError::Attribute {
                    topic_arn: topic_arn.to_string(),
                    name,
                    error: e.to_string(),
                })?;
            request = request.message_attributes(name, attribute);
        }
        let output = match request.send().await {
            Ok(output) => output,
            Err(e) => {
                let failure = PartFailure {
                    part: message.attributes.part,
                    providers: message.providers.clone(),
                    code: e.code().map(str::to_owned),
                    error: DisplayErrorContext(&e).to_string(),
                };
                tracing::warn!(
                    topic_arn,
                    part = message.attributes.part,
                    parts = message.attributes.parts,
                    bytes = message.publish_size(),
                    code = failure.code.as_deref().unwrap_or("-"),
                    error = %failure.error,
                    "publishing to SNS failed; the remaining parts are still published"
                );
                failures.push(failure);
                continue;
            }
        };
        let message_id = output.message_id().unwrap_or_default().to_string();
        tracing::info!(
            topic_arn,
            %message_id,
            part = message.attributes.part,
            parts = message.attributes.parts,
            severity = message.attributes.severity,
            bytes = message.publish_size(),
            "published to SNS"
        );
        message_ids.push(message_id);
    }
    let parts = messages.len();
    let delivered = message_ids.len();
    let topic_arn = topic_arn.to_string();
    match failures.len() {
        0 => {}
        1 => {
            let PartFailure {
                part,
                providers,
                code,
                error,
            } = failures.remove(0);
            return Err(NotifyError::Publish {
                topic_arn,
                part,
                providers,
                parts,
                delivered,
                code,
                error,
            });
        }
        _ => {
            return Err(NotifyError::PublishParts {
                topic_arn,
                parts,
                delivered,
                failures,
            })
        }
    }
    Ok(NotifyOutcome::Published { message_ids, parts })
}

/// The SNS messages of one account's report: one, or several numbered parts when one would exceed
/// `budget` bytes. Pure.
pub(crate) fn render_parts(
    report: &Report,
    budget: usize,
    context: &MessageContext,
) -> Vec<SnsMessage> {
    parts::split(report, budget, |part| compose(report, part, context))
}

/// One publish for one part of `report`.
fn compose(report: &Report, part: &part::Part, context: &MessageContext) -> SnsMessage {
    let subject = text::subject(
        report,
        part.index,
        part.count,
        context.account_alias.as_deref(),
    );
    let email = email::email(report, part, context);
    let chatbot = chatbot::notification(report, part, &subject, context);
    let payload = report_json(&part.report);
    SnsMessage {
        subject,
        message: protocol_document(email, chatbot, payload),
        attributes: MessageAttributes {
            severity: severity_label(report),
            account_id: report.account_id.clone(),
            organization_id: None,
            part: part.index,
            parts: part.count,
        },
        providers: part
            .report
            .providers
            .iter()
            .map(|p| p.arn.clone())
            .collect(),
    }
}

/// The `MessageStructure=json` document: the text for `default` and `email`, the Chatbot document
/// for `https`, the JSON payload for `sqs` and `lambda`.
pub(crate) fn protocol_document(email: String, chatbot: String, payload: String) -> String {
    let mut document = serde_json::Map::new();
    document.insert("default".into(), email.clone().into());
    document.insert("email".into(), email.into());
    document.insert("https".into(), chatbot.into());
    document.insert("sqs".into(), payload.clone().into());
    document.insert("lambda".into(), payload.into());
    serde_json::Value::Object(document).to_string()
}

/// The report as compact JSON; a report that cannot be serialized (a date outside RFC 3339) still
/// yields a JSON object naming the problem, so the other protocols are published.
fn report_json(report: &Report) -> String {
    serde_json::to_string(report).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the report cannot be serialized for SNS");
        serde_json::json!({
            "schema_version": report.schema_version,
            "account_id": report.account_id,
            "error": format!("the report could not be serialized: {e}"),
        })
        .to_string()
    })
}

#[cfg(test)]
mod tests;
