//! Human rendering of a report: the terminal table and the manual fix for each finding.
//!
//! Pure functions of the report, `now` (for "days left") and the [`Terminal`] it goes to. Layout
//! is comfy-table's: without a width (a pipe, a file) columns are as wide as their content; at a
//! width, a URL that does not fit goes on two lines (host, then path), other cells wrap at spaces,
//! and no column is cut inside a word. Rows go by severity, then name. A finding's resource ARN
//! and its fix command are never wrapped: a person copies them as one line.

use time::OffsetDateTime;

pub use crate::report::count;
use crate::report::RunReport;

mod account;
mod cells;
mod organization;

pub use cells::Terminal;

/// The run's report as a person reads it in `terminal` (`Terminal::default()`: as wide as its
/// content, without colour, for files, pipes and e-mail). An account: one row per provider (most
/// severe first), then the clusters, then each finding with its manual fix, then the counts. An
/// organization: one line per account, the accounts that could not be swept with their fix, then
/// each account as above, then the counts.
pub fn table(report: &RunReport, now: OffsetDateTime, terminal: Terminal) -> String {
    match report {
        RunReport::Account(account) => account::table(account, now, terminal),
        RunReport::Organization(organization) => organization::table(organization, now, terminal),
    }
}
