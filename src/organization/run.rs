//! The organization run: list the accounts, sweep at most `account_concurrency` at once, and
//! gather one report.

use futures::stream::{self, StreamExt};
use time::OffsetDateTime;
use tokio::time::Instant;

use super::member::member_clients;
use super::{
    AccountList, OrganizationClients, OrganizationError, OrganizationReport, OrganizationSettings,
    Unreachable, UnreachableReason,
};
use crate::config::Config;
use crate::probe::ProbeContext;
use crate::report::{self, Report};
use crate::sweep::{self, SharedProbes};

/// Runs one organization sweep. `now` stamps every report; `deadline` bounds the probes, and an
/// account not started by then is ACCOUNT_UNREACHABLE. Only an unreadable account list is an `Err`.
pub async fn run(
    clients: &OrganizationClients,
    settings: &OrganizationSettings,
    ctx: &ProbeContext,
    config: &Config,
    now: OffsetDateTime,
    deadline: Option<Instant>,
) -> Result<OrganizationReport, OrganizationError> {
    let now = report::whole_seconds(now);
    let accounts = AccountList::read(clients, settings).await?;
    let probes = SharedProbes::new(sweep::PROVIDERS_IN_FLIGHT);
    let run = AccountRun {
        clients,
        accounts: &accounts,
        settings,
        ctx,
        config,
        now,
        deadline,
        probes: &probes,
    };
    let run = &run;
    let outcomes: Vec<Result<Report, Unreachable>> = stream::iter(&accounts.account_ids)
        .map(|account_id| run.sweep(account_id))
        .buffer_unordered(settings.account_concurrency.max(1))
        .collect()
        .await;

    let mut report = OrganizationReport::empty(accounts.organization_id.clone(), now);
    for outcome in outcomes {
        match outcome {
            Ok(account) => report.accounts.push(account),
            Err(unreachable) => report.findings.push(unreachable.finding()),
        }
    }
    report
        .accounts
        .sort_by(|a, b| a.account_id.cmp(&b.account_id));
    report::sort_findings(&mut report.findings);
    report.recount(accounts.account_ids.len());
    Ok(report)
}

/// What every account's sweep of one run shares.
struct AccountRun<'a> {
    clients: &'a OrganizationClients,
    accounts: &'a AccountList,
    settings: &'a OrganizationSettings,
    ctx: &'a ProbeContext,
    config: &'a Config,
    now: OffsetDateTime,
    deadline: Option<Instant>,
    probes: &'a SharedProbes,
}

impl AccountRun<'_> {
    /// Sweeps one account: with the central clients for the caller's own account, through the
    /// member role for every other.
    async fn sweep(&self, account_id: &String) -> Result<Report, Unreachable> {
        let role_arn = self.accounts.role_arn(account_id, &self.settings.role_name);
        let unreachable = |reason, error: Option<String>| Unreachable {
            account_id: account_id.clone(),
            role_arn: role_arn.clone(),
            reason,
            error,
        };
        if self.deadline.is_some_and(|at| Instant::now() >= at) {
            return Err(unreachable(UnreachableReason::DeadlinePassed, None));
        }
        let member;
        let aws = if *account_id == self.accounts.caller_account {
            &self.clients.central
        } else {
            member = member_clients(
                self.clients,
                self.accounts,
                self.settings,
                self.config,
                account_id,
            )
            .await?;
            &member
        };
        sweep::run_with_probes(
            aws,
            self.ctx,
            self.config,
            self.probes,
            self.now,
            self.deadline,
        )
        .await
        .map_err(|e| unreachable(UnreachableReason::SweepFailed, Some(e.to_string())))
    }
}
