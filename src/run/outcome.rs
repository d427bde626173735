//! What a run produces, and where its report goes before the notify step.

use crate::inventory::InventoryError;
use crate::notify::{MessageContext, NotifyError, NotifyOutcome};
use crate::organization::OrganizationError;
use crate::report::RunReport;
use crate::securityhub::{ImportOutcome, SecurityHubError};
use crate::state::StateOutcome;

/// What one run did for one swept account beyond its report.
#[derive(Debug)]
pub struct SweptAccount {
    /// The account id.
    pub account_id: String,
    /// The state table's answer for this account.
    pub state: StateOutcome,
    /// The Security Hub import (`None` with `SECURITY_HUB=off`).
    pub security_hub: Option<Result<ImportOutcome, SecurityHubError>>,
    /// The account alias and the state note, for the messages.
    pub context: MessageContext,
}

/// Everything one run produced.
#[derive(Debug)]
pub struct RunOutcome {
    /// The run's report (DESIGN's account or organization shape).
    pub report: RunReport,
    /// One entry per account report, in the report's order.
    pub accounts: Vec<SweptAccount>,
    /// The account the run's credentials belong to.
    pub central_account: String,
    /// The notify step's result.
    pub notified: Result<NotifyOutcome, NotifyError>,
}

/// Why a run could not run at all (exit code 3); everything else is a finding.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A single-account run could not identify the account or list its providers.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// An organization run could not read its account list.
    #[error(transparent)]
    Organization(#[from] OrganizationError),
}

/// The run's report and what each account's steps did, as the report sink sees it.
#[derive(Debug, Clone, Copy)]
pub struct Swept<'a> {
    /// The run's report.
    pub report: &'a RunReport,
    /// One entry per account report, in the report's order.
    pub accounts: &'a [SweptAccount],
    /// The account the run's credentials belong to.
    pub central_account: &'a str,
}

/// Where a run's report goes before the notify step, and who watches its progress.
pub struct Sinks<'a> {
    /// Told `(providers done, providers read)` over every target as the sweep goes.
    pub progress: Option<&'a (dyn Fn(usize, usize) + Sync)>,
    /// Given the report (and what each account's steps did) once the per-target steps are done and
    /// before notify runs: the Lambda logs it, the CLI prints it. A failed publish then loses
    /// nothing.
    pub report: &'a (dyn Fn(Swept<'_>) + Sync),
}
