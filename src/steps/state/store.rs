//! The state item in DynamoDB: read, conditional write on `version`, and the retrying update.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::model::{reconcile, Changes, OpenFinding, State};
use crate::report::{rfc3339, Finding, FindingCode, Severity};

/// Attempts of [`remember`] before it gives up on concurrent writers.
pub const MAX_ATTEMPTS: usize = 5;

const KEY: &str = "account_id";
const VERSION: &str = "version";
const FINDINGS: &str = "findings";

/// The state table could not be used; the caller reports `status` null for this run.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The table is missing, unreadable, unwritable, or its item cannot be understood.
    #[error("state table {table} is unavailable: {reason}")]
    Unavailable {
        /// The table name.
        table: String,
        /// The AWS error code, when DynamoDB answered.
        code: Option<String>,
        /// Why.
        reason: String,
    },
    /// Another run wrote the item since it was read (the conditional write on `version` failed).
    #[error("state table {table}: account {account_id}'s item changed since it was read (version {expected:?})")]
    Conflict {
        /// The table name.
        table: String,
        /// The account.
        account_id: String,
        /// The version this write expected (None: expected no item).
        expected: Option<u64>,
    },
    /// Every one of [`MAX_ATTEMPTS`] writes met a newer item.
    #[error(
        "state table {table}: gave up after {attempts} conflicting writes for account {account_id}"
    )]
    Contended {
        /// The table name.
        table: String,
        /// The account.
        account_id: String,
        /// How many writes were tried.
        attempts: usize,
    },
}

/// The account's state item, `None` when it has none yet (a strongly consistent read).
pub async fn load(
    client: &Client,
    table: &str,
    account_id: &str,
) -> Result<Option<State>, StateError> {
    let output = client
        .get_item()
        .table_name(table)
        .key(KEY, AttributeValue::S(account_id.to_string()))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| unavailable(table, e))?;
    match output.item() {
        None => Ok(None),
        Some(item) => decode(item)
            .map(Some)
            .map_err(|error| StateError::Unavailable {
                table: table.to_string(),
                code: None,
                reason: error.to_string(),
            }),
    }
}

/// Writes `state` as the account's item if the stored `version` is still `expected_version`
/// (`None`: only if there is no item yet).
pub async fn save(
    client: &Client,
    table: &str,
    account_id: &str,
    state: &State,
    expected_version: Option<u64>,
) -> Result<(), StateError> {
    let mut request = client
        .put_item()
        .table_name(table)
        .set_item(Some(encode(account_id, state)));
    request = match expected_version {
        None => request.condition_expression("attribute_not_exists(#key)"),
        Some(version) => request
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", VERSION)
            .expression_attribute_values(":expected", AttributeValue::N(version.to_string())),
    };
    if expected_version.is_none() {
        request = request.expression_attribute_names("#key", KEY);
    }
    match request.send().await {
        Ok(_) => Ok(()),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
        {
            Err(StateError::Conflict {
                table: table.to_string(),
                account_id: account_id.to_string(),
                expected: expected_version,
            })
        }
        Err(error) => Err(unavailable(table, error)),
    }
}

/// Loads the account's state, reconciles `findings` with it (status, first_seen), and writes the
/// next state; on a conflicting write it starts again from the fresh item, at most
/// [`MAX_ATTEMPTS`] times, so overlapping runs never lose an update. `will_notify` says, from the
/// changes, whether this run publishes (recorded as the findings' last notification).
pub async fn remember(
    client: &Client,
    table: &str,
    account_id: &str,
    findings: &mut [Finding],
    now: OffsetDateTime,
    remind_hours: u64,
    will_notify: impl Fn(&Changes) -> bool,
) -> Result<Changes, StateError> {
    for _attempt in 0..MAX_ATTEMPTS {
        let previous = load(client, table, account_id).await?;
        let expected = previous.as_ref().map(|s| s.version);
        let previous = previous.unwrap_or_default();
        let changes = reconcile(&previous, findings, now, remind_hours);
        let next = previous.next(findings, now, will_notify(&changes));
        match save(client, table, account_id, &next, expected).await {
            Ok(()) => return Ok(changes),
            Err(StateError::Conflict { .. }) => continue,
            Err(other) => return Err(other),
        }
    }
    Err(StateError::Contended {
        table: table.to_string(),
        account_id: account_id.to_string(),
        attempts: MAX_ATTEMPTS,
    })
}

fn unavailable<E, R>(table: &str, error: SdkError<E, R>) -> StateError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StateError::Unavailable {
        table: table.to_string(),
        code: error.code().map(str::to_string),
        reason: DisplayErrorContext(&error).to_string(),
    }
}

fn encode(account_id: &str, state: &State) -> HashMap<String, AttributeValue> {
    let findings = state
        .findings
        .iter()
        .map(|(id, open)| {
            let mut entry = HashMap::from([
                (
                    "code".to_string(),
                    AttributeValue::S(open.code.as_str().to_string()),
                ),
                (
                    "resource".to_string(),
                    AttributeValue::S(open.resource.clone()),
                ),
                (
                    "severity".to_string(),
                    AttributeValue::S(open.severity.as_str().to_string()),
                ),
                (
                    "first_seen".to_string(),
                    AttributeValue::S(rfc3339(open.first_seen)),
                ),
                ("muted".to_string(), AttributeValue::Bool(open.muted)),
            ]);
            if let Some(at) = open.last_notified {
                entry.insert("last_notified".to_string(), AttributeValue::S(rfc3339(at)));
            }
            (id.clone(), AttributeValue::M(entry))
        })
        .collect();
    HashMap::from([
        (KEY.to_string(), AttributeValue::S(account_id.to_string())),
        (
            VERSION.to_string(),
            AttributeValue::N(state.version.to_string()),
        ),
        (FINDINGS.to_string(), AttributeValue::M(findings)),
    ])
}

/// Why a stored item cannot be read back as a [`State`] (someone edited it, or another tool owns
/// the table).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stored item is not thumbprint-guard state: {0}")]
pub struct DecodeError(String);

fn decode(item: &HashMap<String, AttributeValue>) -> Result<State, DecodeError> {
    decode_item(item).map_err(DecodeError)
}

fn decode_item(item: &HashMap<String, AttributeValue>) -> Result<State, String> {
    let version = match item.get(VERSION) {
        Some(AttributeValue::N(n)) => n
            .parse::<u64>()
            .map_err(|e| format!("version {n:?} is not a count: {e}"))?,
        _ => return Err("the item has no numeric version".to_string()),
    };
    let mut state = State {
        version,
        ..State::default()
    };
    let Some(AttributeValue::M(findings)) = item.get(FINDINGS) else {
        return Err("the item has no findings map".to_string());
    };
    for (id, entry) in findings {
        let AttributeValue::M(entry) = entry else {
            return Err(format!("finding {id} is not a map"));
        };
        let text = |name: &str| match entry.get(name) {
            Some(AttributeValue::S(s)) => Ok(s.as_str()),
            _ => Err(format!("finding {id} has no {name}")),
        };
        let time = |name: &str| {
            text(name).and_then(|s| {
                OffsetDateTime::parse(s, &Rfc3339)
                    .map_err(|e| format!("finding {id}: {name} {s:?} is not RFC 3339: {e}"))
            })
        };
        let code: FindingCode = serde_json::from_value(serde_json::json!(text("code")?))
            .map_err(|e| format!("finding {id}: unknown code: {e}"))?;
        let severity: Severity = serde_json::from_value(serde_json::json!(text("severity")?))
            .map_err(|e| format!("finding {id}: unknown severity: {e}"))?;
        let open = OpenFinding {
            code,
            resource: text("resource")?.to_string(),
            severity,
            first_seen: time("first_seen")?,
            last_notified: match entry.get("last_notified") {
                None => None,
                Some(_) => Some(time("last_notified")?),
            },
            muted: matches!(entry.get("muted"), Some(AttributeValue::Bool(true))),
        };
        state.findings.insert(id.clone(), open);
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_decode_is_the_same_state() {
        let at = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let mut state = State {
            version: 7,
            ..State::default()
        };
        state.findings.insert(
            "tg-0123456789abcdef".into(),
            OpenFinding {
                code: FindingCode::ThumbprintMismatch,
                resource: "arn:aws:iam::1:oidc-provider/x".into(),
                severity: Severity::Critical,
                first_seen: at,
                last_notified: Some(at + time::Duration::hours(3)),
                muted: true,
            },
        );
        state.findings.insert(
            "tg-fedcba9876543210".into(),
            OpenFinding {
                code: FindingCode::CertExpiring,
                resource: "arn:b".into(),
                severity: Severity::Warning,
                first_seen: at,
                last_notified: None,
                muted: false,
            },
        );
        let item = encode("123456789012", &state);
        assert_eq!(item[KEY], AttributeValue::S("123456789012".into()));
        assert_eq!(decode(&item), Ok(state));
    }

    #[test]
    fn an_item_without_version_is_refused() {
        let item = HashMap::from([(KEY.to_string(), AttributeValue::S("1".into()))]);
        assert!(decode(&item).is_err());
    }
}
