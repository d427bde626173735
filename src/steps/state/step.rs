//! The state step of a run: each swept account's report marked against the previous run (`new`,
//! `open`, `resolved`) and the new state written. It never fails the run: an unavailable table
//! leaves every `status` null and `NOTIFY=changes` falls back to the `findings` rule.

use time::OffsetDateTime;

use super::model::Changes;
use super::store::{remember, StateError};
use crate::report::{whole_seconds, Report};

/// What the state table said about one account this run.
#[derive(Debug)]
pub enum StateOutcome {
    /// No `STATE_TABLE`: nothing is kept.
    Off,
    /// The table was read and written.
    Recorded(Changes),
    /// The table could not be used this run (the report's statuses stay null).
    Unavailable(StateError),
}

impl StateOutcome {
    /// Why the table could not be used, when it could not (for the messages).
    pub fn unavailable_reason(&self) -> Option<String> {
        match self {
            StateOutcome::Unavailable(error) => Some(error.to_string()),
            _ => None,
        }
    }

    /// The changes since the previous run, when the table was read.
    pub fn changes(&self) -> Option<&Changes> {
        match self {
            StateOutcome::Recorded(changes) => Some(changes),
            _ => None,
        }
    }
}

/// Reads the account's previous state from `table` (none: [`StateOutcome::Off`]), marks each
/// finding of `report` `new`/`open` with its `first_seen`, fills `resolved`, and writes the new
/// state (conditional on its version, retried on a conflict). `will_notify` says whether this run
/// notifies given the changes, for the `last notified` times the state keeps.
pub async fn record(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: Option<&str>,
    report: &mut Report,
    now: OffsetDateTime,
    remind_hours: u64,
    will_notify: impl Fn(&Changes) -> bool,
) -> StateOutcome {
    let Some(table) = table else {
        return StateOutcome::Off;
    };
    let now = whole_seconds(now);
    let account_id = report.account_id.clone();
    match remember(
        dynamodb,
        table,
        &account_id,
        &mut report.findings,
        now,
        remind_hours,
        will_notify,
    )
    .await
    {
        Ok(changes) => {
            report.resolved = changes.resolved.clone();
            StateOutcome::Recorded(changes)
        }
        Err(error) => {
            tracing::warn!(table, account_id = %account_id, error = %error, "the state table is unavailable: statuses are null this run and NOTIFY=changes falls back to the findings rule");
            for finding in &mut report.findings {
                finding.status = None;
                finding.first_seen = None;
            }
            StateOutcome::Unavailable(error)
        }
    }
}
