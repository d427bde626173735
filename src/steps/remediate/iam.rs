//! The IAM side of remediation: re-read, write the union, read back, tag.
//!
//! Every AWS error ends as a [`Outcome::Failed`] carrying the SDK's full error text; nothing
//! here panics or returns `Err`, so one provider's failure never stops the sweep.

use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_iam::operation::RequestId;
use aws_sdk_iam::types::Tag;
use time::OffsetDateTime;

use super::merge::{merge_thumbprints, Merge, MergeError};
use super::model::{Decision, Outcome};
use super::reason::SkipReason;
use crate::inventory::OidcProvider;
use crate::report::{rfc3339, whole_seconds, MAX_THUMBPRINTS};

/// The tag set on a provider after a successful addition: `<thumbprint>... <RFC 3339 time>`.
pub const LAST_ADDED_TAG: &str = "thumbprint-guard/last-added";

/// Carries `decision` out for `provider`: only `Add` calls IAM; `Plan` → `planned`, `Skip` →
/// `skipped`, `Nothing` → `None`.
///
/// An `Add` re-reads the provider right before writing and writes the union of that fresh list and
/// the new thumbprints (never dropping an entry, at most five), reads the list back to confirm, then
/// tags the provider [`LAST_ADDED_TAG`]. Outcomes of an `Add`:
/// - `applied`: written and confirmed (a failed tag is mentioned in the reason, nothing more);
/// - `skipped`: the fresh list already holds every thumbprint (someone added them since the
///   sweep's read: nothing written), or it has no room for them;
/// - `failed`: an AWS call failed, a thumbprint was malformed, or the read-back lacks an entry.
pub async fn apply(
    iam: &aws_sdk_iam::Client,
    provider: &OidcProvider,
    decision: &Decision,
    now: OffsetDateTime,
) -> Option<Outcome> {
    match decision {
        Decision::Add {
            thumbprints,
            reason,
        } => Some(add(iam, provider, thumbprints, reason, now).await),
        other => other.without_writing(),
    }
}

/// An AWS error as a person reads it: `Code: message (request id ...)` when IAM answered with a
/// parseable error, otherwise the SDK's full error chain ([`DisplayErrorContext`]: timeouts,
/// connection failures, unparseable answers).
fn aws_error_text<E>(error: &SdkError<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error
        .as_service_error()
        .and_then(|e| Some((e.code()?, e.message())))
    {
        Some((code, message)) => {
            let mut text = format!("{code}: {}", message.unwrap_or("(no message)"));
            if let Some(request_id) = error.request_id() {
                text.push_str(&format!(" (request id {request_id})"));
            }
            text
        }
        None => DisplayErrorContext(error).to_string(),
    }
}

fn failed(arn: &str, reason: String) -> Outcome {
    tracing::warn!(provider = arn, reason = %reason, "thumbprint remediation failed");
    Outcome::Failed { reason }
}

/// A failed IAM call, as a remediation reason quotes it (`Operation: Code: message`).
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {text}")]
struct IamCallError {
    operation: &'static str,
    text: String,
}

/// The provider's thumbprint list as IAM holds it now.
async fn read_thumbprints(
    iam: &aws_sdk_iam::Client,
    arn: &str,
) -> Result<Vec<String>, IamCallError> {
    iam.get_open_id_connect_provider()
        .open_id_connect_provider_arn(arn)
        .send()
        .await
        .map(|provider| provider.thumbprint_list().to_vec())
        .map_err(|e| IamCallError {
            operation: "GetOpenIDConnectProvider",
            text: aws_error_text(&e),
        })
}

async fn add(
    iam: &aws_sdk_iam::Client,
    provider: &OidcProvider,
    wanted: &[String],
    why: &str,
    now: OffsetDateTime,
) -> Outcome {
    let arn = provider.arn.as_str();
    let merge = match fresh_merge(iam, arn, wanted).await {
        Ok(merge) => merge,
        Err(outcome) => return outcome,
    };
    let after = match write_and_confirm(iam, arn, &merge).await {
        Ok(after) => after,
        Err(outcome) => return outcome,
    };
    tracing::info!(provider = arn, added = ?merge.added, "thumbprints added");

    let mut reason = format!(
        "added {} (list now {} of {}): {why}",
        merge.added.join(", "),
        merge.thumbprints.len(),
        MAX_THUMBPRINTS
    );
    if let Err(problem) = tag_last_added(iam, arn, &merge.added, now).await {
        tracing::warn!(provider = arn, problem = %problem, "could not tag the provider");
        reason.push_str(&format!(
            " (the {LAST_ADDED_TAG} tag could not be set: {problem})"
        ));
    }
    Outcome::Applied {
        added: merge.added,
        thumbprints: after.iter().map(|t| t.to_ascii_lowercase()).collect(),
        reason,
    }
}

/// The provider's list re-read right before writing, merged with `wanted`; or how the addition
/// ends without a write (the re-read failed, no room, a malformed value, nothing left to add).
async fn fresh_merge(
    iam: &aws_sdk_iam::Client,
    arn: &str,
    wanted: &[String],
) -> Result<Merge, Outcome> {
    let fresh = match read_thumbprints(iam, arn).await {
        Ok(fresh) => fresh,
        Err(e) => {
            return Err(failed(
                arn,
                format!(
                    "could not re-read the provider before writing, so nothing was written: {e}"
                ),
            ))
        }
    };
    let merge = match merge_thumbprints(&fresh, wanted) {
        Ok(merge) => merge,
        Err(MergeError::Full { configured, adding }) => {
            tracing::warn!(provider = arn, "thumbprint list has no room");
            return Err(Outcome::Skipped(SkipReason::ListFull {
                configured,
                adding,
            }));
        }
        Err(malformed @ MergeError::Malformed(_)) => {
            return Err(failed(arn, format!("{malformed}; nothing was written")))
        }
    };
    if merge.added.is_empty() {
        return Err(Outcome::Skipped(SkipReason::AlreadyPresent {
            thumbprints: wanted.to_vec(),
        }));
    }
    Ok(merge)
}

/// Writes the merged list and reads it back: the list IAM holds now, or the failure (the write
/// failed, the read-back failed, or it lacks an entry written).
async fn write_and_confirm(
    iam: &aws_sdk_iam::Client,
    arn: &str,
    merge: &Merge,
) -> Result<Vec<String>, Outcome> {
    if let Err(e) = iam
        .update_open_id_connect_provider_thumbprint()
        .open_id_connect_provider_arn(arn)
        .set_thumbprint_list(Some(merge.thumbprints.clone()))
        .send()
        .await
    {
        return Err(failed(
            arn,
            format!(
                "UpdateOpenIDConnectProviderThumbprint failed, nothing was added: {}",
                aws_error_text(&e)
            ),
        ));
    }

    let after = match read_thumbprints(iam, arn).await {
        Ok(after) => after,
        Err(e) => {
            return Err(failed(
                arn,
                format!(
                    "wrote {} but could not read the list back to confirm it: {e}",
                    merge.thumbprints.join(" ")
                ),
            ))
        }
    };
    let missing: Vec<&String> = merge
        .thumbprints
        .iter()
        .filter(|t| !after.iter().any(|a| a.eq_ignore_ascii_case(t)))
        .collect();
    if !missing.is_empty() {
        return Err(failed(
            arn,
            format!(
                "wrote {} but the list read back ({}) lacks {}",
                merge.thumbprints.join(" "),
                after.join(" "),
                missing
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(after)
}

/// The [`LAST_ADDED_TAG`] value: the added thumbprints, then the time (IAM tag values may not hold
/// commas, so spaces separate).
fn last_added_value(added: &[String], now: OffsetDateTime) -> String {
    format!("{} {}", added.join(" "), rfc3339(whole_seconds(now)))
}

async fn tag_last_added(
    iam: &aws_sdk_iam::Client,
    arn: &str,
    added: &[String],
    now: OffsetDateTime,
) -> Result<(), IamCallError> {
    let tag = Tag::builder()
        .key(LAST_ADDED_TAG)
        .value(last_added_value(added, now))
        .build()
        .map_err(|e| IamCallError {
            operation: "TagOpenIDConnectProvider",
            text: e.to_string(),
        })?;
    iam.tag_open_id_connect_provider()
        .open_id_connect_provider_arn(arn)
        .tags(tag)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| IamCallError {
            operation: "TagOpenIDConnectProvider",
            text: aws_error_text(&e),
        })
}
