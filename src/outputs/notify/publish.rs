//! The publication: every part of a run's message to the topic, one `Publish` each, and what came
//! of it.

use aws_sdk_sns::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sns::types::MessageAttributeValue;

use super::message::SnsMessage;

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
        match publish_part(sns, topic_arn, message).await? {
            Ok(message_id) => message_ids.push(message_id),
            Err(failure) => failures.push(failure),
        }
    }
    let parts = messages.len();
    match failed(topic_arn, parts, message_ids.len(), failures) {
        Some(error) => Err(error),
        None => Ok(NotifyOutcome::Published { message_ids, parts }),
    }
}

/// Publishes one part: its message id, or the failure SNS answered (logged; the remaining parts
/// are still published). Only an attribute that cannot be built is an error of its own.
async fn publish_part(
    sns: &aws_sdk_sns::Client,
    topic_arn: &str,
    message: &SnsMessage,
) -> Result<Result<String, PartFailure>, NotifyError> {
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
            return Ok(Err(failure));
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
    Ok(Ok(message_id))
}

/// The error for the parts that failed: [`NotifyError::Publish`] for one,
/// [`NotifyError::PublishParts`] for several, none when every part was published.
fn failed(
    topic_arn: &str,
    parts: usize,
    delivered: usize,
    mut failures: Vec<PartFailure>,
) -> Option<NotifyError> {
    let topic_arn = topic_arn.to_string();
    match failures.len() {
        0 => None,
        1 => {
            let PartFailure {
                part,
                providers,
                code,
                error,
            } = failures.remove(0);
            Some(NotifyError::Publish {
                topic_arn,
                part,
                providers,
                parts,
                delivered,
                code,
                error,
            })
        }
        _ => Some(NotifyError::PublishParts {
            topic_arn,
            parts,
            delivered,
            failures,
        }),
    }
}
