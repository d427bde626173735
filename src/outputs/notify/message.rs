//! One SNS publish as data: subject, the per-protocol document, and the message attributes.

use crate::report::{Report, Severity};
use crate::state::Changes;

/// One SNS publish: subject, the `MessageStructure=json` document, and the message attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsMessage {
    /// At most `SUBJECT_MAX` printable ASCII characters, no line break.
    pub subject: String,
    /// JSON object with the keys `default`, `email`, `https`, `sqs` and `lambda` (string values).
    pub message: String,
    /// The attributes subscriptions filter on.
    pub attributes: MessageAttributes,
    /// The ARNs of the providers this message carries (to name them when SNS refuses it).
    pub providers: Vec<String>,
}

/// What a message says beyond the report itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageContext {
    /// The account's IAM alias (`iam:ListAccountAliases`), shown beside its id.
    pub account_alias: Option<String>,
    /// Why the state table could not be used this run, when it could not.
    pub state_unavailable: Option<String>,
}

/// The message attributes of one publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageAttributes {
    /// The run's highest severity, or `ok` for a run without findings (see [`severity_label`]).
    pub severity: &'static str,
    /// The 12-digit account id (in organization mode: the central account's).
    pub account_id: String,
    /// Organization mode: the `o-…` id of the organization swept (none without Organizations).
    pub organization_id: Option<String>,
    /// Which part of the run this message is (1-based).
    pub part: usize,
    /// How many parts the run took.
    pub parts: usize,
}

impl MessageAttributes {
    /// `(name, SNS data type, value)` of every attribute, as published.
    pub fn entries(&self) -> Vec<(&'static str, &'static str, String)> {
        let mut entries = vec![
            ("severity", "String", self.severity.to_string()),
            ("account_id", "String", self.account_id.clone()),
            ("part", "Number", self.part.to_string()),
            ("parts", "Number", self.parts.to_string()),
        ];
        if let Some(organization_id) = &self.organization_id {
            entries.push(("organization_id", "String", organization_id.clone()));
        }
        entries
    }
}

impl SnsMessage {
    /// Bytes SNS counts against its 256 KiB limit (message and attributes), plus the subject.
    pub fn publish_size(&self) -> usize {
        let attributes: usize = self
            .attributes
            .entries()
            .iter()
            .map(|(name, data_type, value)| name.len() + data_type.len() + value.len())
            .sum();
        self.message.len() + attributes + self.subject.len()
    }

    /// The body one protocol receives (`default`, `email`, `https`, `sqs`, `lambda`).
    pub fn body(&self, protocol: &str) -> Option<String> {
        let document: serde_json::Value = serde_json::from_str(&self.message).ok()?;
        document.get(protocol)?.as_str().map(str::to_owned)
    }
}

/// The `severity` attribute: the highest severity among the findings, or `ok` when there are none.
/// `ok` (rather than `info`) keeps a heartbeat of a clean run apart from a run that only reports
/// events such as an added thumbprint.
pub fn severity_label(report: &Report) -> &'static str {
    report
        .highest_severity()
        .map(Severity::as_str)
        .unwrap_or("ok")
}

/// SNS's limit for one publish: message body plus message attributes (names, types, values).
pub const SNS_MAX_PUBLISH_BYTES: usize = 262_144;

/// What one of our publishes may use of [`SNS_MAX_PUBLISH_BYTES`] (subject included): 16 KiB stay
/// free as a margin for SNS's own accounting.
pub const PUBLISH_BUDGET_BYTES: usize = 240 * 1024;

/// What the messages need about one swept account beyond its report.
#[derive(Debug, Clone, Copy)]
pub struct AccountNotes<'a> {
    /// The changes since the previous run, when the state table was read.
    pub changes: Option<&'a Changes>,
    /// The account alias and the state note.
    pub context: &'a MessageContext,
}

/// What the messages need about a run beyond its report.
#[derive(Debug, Clone, Default)]
pub struct RunNotes<'a> {
    /// The account the run's credentials belong to (the `account_id` attribute of an
    /// organization's messages).
    pub central_account: &'a str,
    /// One entry per account report, in the report's order.
    pub accounts: Vec<AccountNotes<'a>>,
}

impl RunNotes<'_> {
    /// The notes of the `index`th account report (defaults when there are none).
    pub(super) fn account(&self, index: usize) -> AccountNotes<'_> {
        static NONE: MessageContext = MessageContext {
            account_alias: None,
            state_unavailable: None,
        };
        self.accounts.get(index).copied().unwrap_or(AccountNotes {
            changes: None,
            context: &NONE,
        })
    }
}
