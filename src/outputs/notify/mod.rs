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
mod compose;
mod console;
mod email;
mod finding;
mod message;
mod organization;
mod part;
mod parts;
mod publish;
mod rule;
mod run;
mod text;

pub use chatbot::{CHATBOT_DESCRIPTION_MAX, CHATBOT_TITLE_MAX};
pub use message::{
    severity_label, AccountNotes, MessageAttributes, MessageContext, RunNotes, SnsMessage,
    PUBLISH_BUDGET_BYTES, SNS_MAX_PUBLISH_BYTES,
};
pub use publish::{publish, NotifyError, NotifyOutcome, PartFailure};
pub use rule::{decide, needs_attention, Silence};
pub use run::{decide_run, publish_run, render_run, will_publish};
pub use text::SUBJECT_MAX;

#[cfg(test)]
mod tests;
