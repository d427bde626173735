//! The per-target steps of a run: sweep → state → Security Hub, once per account, for the one
//! account of a single-account run or for each member of an organization run.

use futures::stream::{self, StreamExt};
use time::OffsetDateTime;
use tokio::time::Instant;

use super::outcome::SweptAccount;
use super::progress::RunProgress;
use crate::aws::AwsClients;
use crate::config::Config;
use crate::inventory::{self, InventoryError};
use crate::notify::{self, MessageContext};
use crate::organization::{
    member_clients, AccountList, OrganizationClients, OrganizationError, OrganizationSettings,
    Unreachable, UnreachableReason,
};
use crate::probe::ProbeContext;
use crate::report::{self, OrganizationReport, Report};
use crate::securityhub;
use crate::state;
use crate::sweep::{self, SharedProbes};

/// What every target's steps of one run share.
pub(super) struct Steps<'a> {
    /// The central account's clients: the state table lives there, one item per account.
    pub central: &'a AwsClients,
    pub ctx: &'a ProbeContext,
    pub config: &'a Config,
    /// The run's issuer probes and connections.
    pub probes: &'a SharedProbes,
    pub now: OffsetDateTime,
    pub deadline: Option<Instant>,
    pub progress: &'a RunProgress<'a>,
}

/// An organization's swept accounts.
pub(super) struct Organization {
    pub report: OrganizationReport,
    pub accounts: Vec<SweptAccount>,
    pub central_account: String,
}

impl Steps<'_> {
    /// One account, with `aws`: sweep, then the state step (in the central account's table), then
    /// the import into the account's own Security Hub, then what its messages need.
    pub async fn account(
        &self,
        aws: &AwsClients,
    ) -> Result<(Report, SweptAccount), InventoryError> {
        let config = self.config;
        let tick = |t| self.progress.tick(t);
        // Boxed: the sweep's future is deep, and the Lambda's runtime nests it further.
        let mut report = Box::pin(sweep::run(
            aws,
            self.ctx,
            config,
            self.probes,
            self.now,
            self.deadline,
            &tick,
        ))
        .await?;
        let will_publish = notify::will_publish(config, &report);
        let state = state::record(
            &self.central.dynamodb,
            config.state_table.as_deref(),
            &mut report,
            self.now,
            u64::from(config.remind_hours),
            will_publish,
        )
        .await;
        let security_hub = match config.security_hub {
            true => Some(securityhub::import_report(aws, &report, self.now).await),
            false => None,
        };
        // The alias is read only when a topic is set: nothing else shows it.
        let account_alias = match config.sns_topic_arn {
            Some(_) => inventory::account_alias(&aws.iam).await,
            None => None,
        };
        let swept = SweptAccount {
            account_id: report.account_id.clone(),
            context: MessageContext {
                account_alias,
                state_unavailable: state.unavailable_reason(),
            },
            state,
            security_hub,
        };
        Ok((report, swept))
    }

    /// Every account of the organization, at most `account_concurrency` at once; an account that
    /// cannot be reached or swept (or is not started before the deadline) is ACCOUNT_UNREACHABLE.
    pub async fn organization(
        &self,
        clients: &OrganizationClients,
        settings: &OrganizationSettings,
    ) -> Result<Organization, OrganizationError> {
        let list = AccountList::read(clients, settings).await?;
        let outcomes: Vec<Result<(Report, SweptAccount), Unreachable>> =
            stream::iter(&list.account_ids)
                .map(|account_id| self.member(clients, settings, &list, account_id))
                .buffer_unordered(settings.account_concurrency.max(1))
                .collect()
                .await;
        let mut report = OrganizationReport::empty(list.organization_id.clone(), self.now);
        let mut accounts = Vec::new();
        for outcome in outcomes {
            match outcome {
                Ok((account, swept)) => {
                    report.accounts.push(account);
                    accounts.push(swept);
                }
                Err(unreachable) => report.findings.push(unreachable.finding()),
            }
        }
        report
            .accounts
            .sort_by(|a, b| a.account_id.cmp(&b.account_id));
        accounts.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        report::sort_findings(&mut report.findings);
        report.recount(list.account_ids.len());
        Ok(Organization {
            report,
            accounts,
            central_account: list.caller_account,
        })
    }

    /// One member account: the caller's own with the central clients, every other through its
    /// member role.
    async fn member(
        &self,
        clients: &OrganizationClients,
        settings: &OrganizationSettings,
        list: &AccountList,
        account_id: &String,
    ) -> Result<(Report, SweptAccount), Unreachable> {
        let role_arn = list.role_arn(account_id, &settings.role_name);
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
        let aws = if *account_id == list.caller_account {
            &clients.central
        } else {
            member = member_clients(clients, list, settings, self.config, account_id).await?;
            &member
        };
        self.account(aws)
            .await
            .map_err(|e| unreachable(UnreachableReason::SweepFailed, Some(e.to_string())))
    }
}
