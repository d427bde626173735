//! The notify rule of one account's report (`NOTIFY`, `SNS_TOPIC_ARN`): whether it is published,
//! or why not.

use crate::config::{Config, NotifyRule};
use crate::report::{FindingCode, Report, Severity};
use crate::state::{self, Changes};

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
