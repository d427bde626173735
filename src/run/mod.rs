//! One run, whatever its scope: the same steps for one account and for every account of an
//! organization.
//!
//! ```text
//! scope ─► targets ─► per target: sweep ─► in-cluster reads          (at most ACCOUNT_CONCURRENCY)
//!                      every target's roles ─► per target: in-cluster findings ─► state ─► Security Hub
//!                                                                                            │
//!                          the run's report ◄────────────────────────────────────────────────┘
//!                          ├─► sink (the Lambda's log lines, the CLI's table / JSON / ASFF)
//!                          └─► notify (one decision, one publication)
//! ```
//! A single-account run is a run over one target: the account the credentials belong to. An
//! organization run lists its targets first (`crate::organization`) and reaches every member
//! through its role; one that cannot be reached or swept is an ACCOUNT_UNREACHABLE finding. Issuer
//! probes and their connections are the run's, shared by every target. The Lambda's handler and
//! the CLI keep only what is theirs: the runtime, the deadline, the output form and the exit code.

use time::OffsetDateTime;
use tokio::time::Instant;

use crate::aws::AwsClients;
use crate::config::Config;
use crate::notify::{self, AccountNotes, NotifyOutcome, RunNotes};
use crate::organization::{OrganizationClients, OrganizationSettings};
use crate::probe::ProbeContext;
use crate::report::{self, RunReport};

mod clusters;
mod outcome;
mod progress;
mod targets;

pub use outcome::{RunError, RunOutcome, Sinks, Swept, SweptAccount};
pub use progress::RunProgress;

/// Which accounts a run covers.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// The account the credentials belong to.
    Account(&'a AwsClients),
    /// Every account of the organization (or of `ORGANIZATION_ACCOUNTS`), through member roles.
    Organization(&'a OrganizationClients, &'a OrganizationSettings),
}

impl<'a> Scope<'a> {
    /// The clients of the account the run's credentials belong to (its own sweep, the state
    /// table, SNS).
    pub fn central(&self) -> &'a AwsClients {
        match self {
            Scope::Account(aws) => aws,
            Scope::Organization(clients, _) => &clients.central,
        }
    }
}

/// Runs once over `scope`: every target swept, its state recorded and its findings imported into
/// its own Security Hub, exactly once; then the report to `sinks.report`, then one notify step.
/// `now` stamps every report; `deadline` bounds the probes (a target not started by then is
/// ACCOUNT_UNREACHABLE).
pub async fn execute(
    scope: Scope<'_>,
    ctx: &ProbeContext,
    config: &Config,
    now: OffsetDateTime,
    deadline: Option<Instant>,
    sinks: &Sinks<'_>,
) -> Result<RunOutcome, RunError> {
    let now = report::whole_seconds(now);
    let progress = RunProgress::new(sinks.progress);
    let steps = targets::Steps {
        central: scope.central(),
        ctx,
        config,
        probes: &crate::sweep::SharedProbes::default(),
        now,
        deadline,
        progress: &progress,
    };
    let (report, accounts, central_account) = match scope {
        Scope::Account(_) => {
            let (report, swept) = Box::pin(steps.account()).await?;
            let central_account = report.account_id.clone();
            (RunReport::Account(report), vec![swept], central_account)
        }
        Scope::Organization(clients, settings) => {
            let swept = Box::pin(steps.organization(clients, settings)).await?;
            (
                RunReport::Organization(swept.report),
                swept.accounts,
                swept.central_account,
            )
        }
    };
    (sinks.report)(Swept {
        report: &report,
        accounts: &accounts,
        central_account: &central_account,
    });
    let notes = RunNotes {
        central_account: &central_account,
        accounts: accounts
            .iter()
            .map(|account| AccountNotes {
                changes: account.state.changes(),
                context: &account.context,
            })
            .collect(),
    };
    let notified = notify::publish_run(&scope.central().sns, config, &report, &notes).await;
    match &notified {
        Ok(NotifyOutcome::Published { parts, .. }) => {
            tracing::info!(parts, "report published to SNS")
        }
        Ok(NotifyOutcome::NotSent { reason }) => tracing::info!(%reason, "no notification"),
        Err(error) => tracing::warn!(%error, "publishing the report failed"),
    }
    Ok(RunOutcome {
        report,
        accounts,
        central_account,
        notified,
    })
}
