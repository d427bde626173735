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
use crate::memory::{self, Memory};
use crate::notify;
use crate::probe::ProbeContext;
use crate::report::{self, Report};
use crate::sweep::{self, SharedProbes};

/// One organization run: the report, and per swept account what the messages need beyond it.
#[derive(Debug)]
pub struct OrganizationRun {
    /// The organization report (DESIGN's shape).
    pub report: OrganizationReport,
    /// The account the central credentials belong to.
    pub caller_account: String,
    /// Per swept account, in account id order: the state table's answer and the message context.
    pub accounts: Vec<AccountMemory>,
}

/// What one swept account's state and messages need beyond its report.
#[derive(Debug)]
pub struct AccountMemory {
    /// The account id.
    pub account_id: String,
    /// The state table's answer for this account (`Memory::None` without `STATE_TABLE`).
    pub memory: Memory,
    /// The account alias and the state note, for the messages.
    pub context: notify::MessageContext,
}

impl OrganizationRun {
    /// The memory of `account_id`, if it was swept.
    pub fn memory(&self, account_id: &str) -> Option<&AccountMemory> {
        self.accounts.iter().find(|a| a.account_id == account_id)
    }
}

/// Runs one organization sweep. `now` stamps every report; `deadline` bounds the probes, and an
/// account not started by then is ACCOUNT_UNREACHABLE. Each swept account is remembered in the
/// central account's state table (one item per member) and imported into its own Security Hub,
/// exactly as a single-account run. Only an unreadable account list is an `Err`.
pub async fn run(
    clients: &OrganizationClients,
    settings: &OrganizationSettings,
    ctx: &ProbeContext,
    config: &Config,
    now: OffsetDateTime,
    deadline: Option<Instant>,
) -> Result<OrganizationRun, OrganizationError> {
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
    let outcomes: Vec<Result<(Report, AccountMemory), Unreachable>> =
        stream::iter(&accounts.account_ids)
            .map(|account_id| run.sweep(account_id))
            .buffer_unordered(settings.account_concurrency.max(1))
            .collect()
            .await;

    let mut report = OrganizationReport::empty(accounts.organization_id.clone(), now);
    let mut memories = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok((account, memory)) => {
                report.accounts.push(account);
                memories.push(memory);
            }
            Err(unreachable) => report.findings.push(unreachable.finding()),
        }
    }
    report
        .accounts
        .sort_by(|a, b| a.account_id.cmp(&b.account_id));
    memories.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    report::sort_findings(&mut report.findings);
    report.recount(accounts.account_ids.len());
    Ok(OrganizationRun {
        report,
        caller_account: accounts.caller_account.clone(),
        accounts: memories,
    })
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
    async fn sweep(&self, account_id: &String) -> Result<(Report, AccountMemory), Unreachable> {
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
        let mut report = sweep::run_with_probes(
            aws,
            self.ctx,
            self.config,
            self.probes,
            self.now,
            self.deadline,
        )
        .await
        .map_err(|e| unreachable(UnreachableReason::SweepFailed, Some(e.to_string())))?;
        // The state table lives in the central account (one item per member); the findings go to
        // the member's own Security Hub.
        let memory =
            memory::remember(&self.clients.central, self.config, &mut report, self.now).await;
        if let Some(Err(error)) =
            memory::import_to_security_hub(aws, self.config, &report, self.now).await
        {
            tracing::warn!(account_id = %account_id, %error, "Security Hub import failed for this account; its report is complete");
        }
        let context = memory::message_context(aws, self.config, &memory).await;
        Ok((
            report,
            AccountMemory {
                account_id: account_id.clone(),
                memory,
                context,
            },
        ))
    }
}
