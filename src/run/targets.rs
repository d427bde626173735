//! The per-target steps of a run, in two phases. First, for each target at once: sweep, then the
//! in-cluster reads (`KUBERNETES_CHECKS=on`) with the target's own credentials. Then, when every
//! target's roles are known: the in-cluster assessment, the state step (in the central account's
//! table), the import into the target's own Security Hub, and what its messages need. A
//! single-account run is the same over one target.

use futures::stream::{self, StreamExt};
use time::OffsetDateTime;
use tokio::time::Instant;

use super::clusters;
use super::outcome::SweptAccount;
use super::progress::RunProgress;
use crate::assemble;
use crate::aws::AwsClients;
use crate::config::Config;
use crate::inventory::{self, Inventory, InventoryError};
use crate::kubernetes::ClusterRead;
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
use crate::trust_policy::RoleDirectory;

/// How long the in-cluster reads may take when the run has no deadline (the CLI).
const READS_WITHOUT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(600);

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

/// One target after the first phase.
pub(super) struct Target {
    /// The target's clients (the central ones, or the member role's).
    aws: AwsClients,
    report: Report,
    inventory: Inventory,
    reads: Vec<ClusterRead>,
}

/// An organization's swept accounts.
pub(super) struct Organization {
    pub report: OrganizationReport,
    pub accounts: Vec<SweptAccount>,
    pub central_account: String,
}

/// Every listed role of the targets, by account: what annotations and associations are checked
/// against (an account whose roles could not be listed is not in it, and its roles not checked).
fn directory(targets: &[Target]) -> RoleDirectory {
    let mut directory = RoleDirectory::new();
    for target in targets {
        if let Some(roles) = &target.inventory.all_roles {
            directory.insert_account(&target.inventory.account_id, roles.iter().cloned());
        }
    }
    directory
}

impl Steps<'_> {
    /// The first phase of one target, with `aws`: sweep, then the cluster reads.
    async fn sweep(&self, aws: AwsClients) -> Result<Target, InventoryError> {
        let tick = |t| self.progress.tick(t);
        // Boxed: the sweep's future is deep, and the Lambda's runtime nests it further.
        let swept = Box::pin(sweep::run(
            &aws,
            self.ctx,
            self.config,
            self.probes,
            self.now,
            self.deadline,
            &tick,
        ))
        .await?;
        let until = self
            .deadline
            .unwrap_or_else(|| Instant::now() + READS_WITHOUT_DEADLINE);
        let reads = clusters::read(&aws, &swept.inventory, self.config, until).await;
        Ok(Target {
            aws,
            report: swept.report,
            inventory: swept.inventory,
            reads,
        })
    }

    /// The second phase of one target: the in-cluster findings against `directory`, the state
    /// step, the Security Hub import, then what its messages need.
    async fn finish(&self, target: Target, directory: &RoleDirectory) -> (Report, SweptAccount) {
        let config = self.config;
        let Target {
            aws,
            mut report,
            inventory,
            reads,
        } = target;
        let in_cluster = clusters::assess(&reads, directory, inventory.caller_arn.as_deref());
        clusters::record_reads(&mut report, &reads);
        assemble::add_findings(&mut report, in_cluster, |f| {
            config.is_muted(f.code, &f.resource)
        });
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
            true => Some(securityhub::import_report(&aws, &report, self.now).await),
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
        (report, swept)
    }

    /// The account the credentials belong to: both phases over this one target.
    pub async fn account(&self) -> Result<(Report, SweptAccount), InventoryError> {
        let target = self.sweep(self.central.clone()).await?;
        let directory = directory(std::slice::from_ref(&target));
        Ok(self.finish(target, &directory).await)
    }

    /// Every account of the organization, at most `account_concurrency` at once; an account that
    /// cannot be reached or swept (or is not started before the deadline) is ACCOUNT_UNREACHABLE.
    pub async fn organization(
        &self,
        clients: &OrganizationClients,
        settings: &OrganizationSettings,
    ) -> Result<Organization, OrganizationError> {
        let list = AccountList::read(clients, settings).await?;
        let concurrency = settings.account_concurrency.max(1);
        let swept: Vec<Result<Target, Unreachable>> = stream::iter(&list.account_ids)
            .map(|account_id| self.member(clients, settings, &list, account_id))
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let mut report = OrganizationReport::empty(list.organization_id.clone(), self.now);
        let mut targets = Vec::new();
        for outcome in swept {
            match outcome {
                Ok(target) => targets.push(target),
                Err(unreachable) => report.findings.push(unreachable.finding()),
            }
        }
        let directory = directory(&targets);
        let directory = &directory;
        let mut finished: Vec<(Report, SweptAccount)> = stream::iter(targets)
            .map(|target| self.finish(target, directory))
            .buffer_unordered(concurrency)
            .collect()
            .await;
        finished.sort_by(|a, b| a.0.account_id.cmp(&b.0.account_id));
        let (accounts, swept): (Vec<Report>, Vec<SweptAccount>) = finished.into_iter().unzip();
        report.accounts = accounts;
        report::sort_findings(&mut report.findings);
        report.recount(list.account_ids.len());
        Ok(Organization {
            report,
            accounts: swept,
            central_account: list.caller_account,
        })
    }

    /// The first phase of one member account: the caller's own with the central clients, every
    /// other through its member role.
    async fn member(
        &self,
        clients: &OrganizationClients,
        settings: &OrganizationSettings,
        list: &AccountList,
        account_id: &String,
    ) -> Result<Target, Unreachable> {
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
        let aws = if *account_id == list.caller_account {
            clients.central.clone()
        } else {
            member_clients(clients, list, settings, self.config, account_id).await?
        };
        self.sweep(aws)
            .await
            .map_err(|e| unreachable(UnreachableReason::SweepFailed, Some(e.to_string())))
    }
}
