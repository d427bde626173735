//! Which accounts a run covers: the caller's identity, then ListAccounts (every page, ACTIVE
//! only) or exactly the configured ids.

use aws_sdk_organizations::types::{Account, AccountState, AccountStatus};
use aws_sdk_sts::error::DisplayErrorContext;

use super::settings::{OrganizationClients, OrganizationError, OrganizationSettings};
use crate::aws::partition_of;

/// The `RoleSessionName` of every member session (CloudTrail in the member shows it).
pub const MEMBER_SESSION_NAME: &str = "thumbprint-guard";

/// The accounts of one organization run and what is needed to reach them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountList {
    /// `o-…` when Organizations answered; `None` for `ORGANIZATION_ACCOUNTS` without it.
    pub organization_id: Option<String>,
    /// The account the central credentials belong to (swept with them, no role assumed).
    pub caller_account: String,
    /// The caller's partition (`aws`, `aws-cn`, `aws-us-gov`), for member role ARNs.
    pub partition: String,
    /// The accounts to sweep, sorted, without duplicates.
    pub account_ids: Vec<String>,
}

impl AccountList {
    /// `arn:PARTITION:iam::ACCOUNT:role/ROLE_NAME`: the member role assumed in `account_id`.
    pub fn role_arn(&self, account_id: &str, role_name: &str) -> String {
        format!("arn:{}:iam::{account_id}:role/{role_name}", self.partition)
    }

    /// Reads the caller's identity and the accounts to sweep.
    pub async fn read(
        clients: &OrganizationClients,
        settings: &OrganizationSettings,
    ) -> Result<AccountList, OrganizationError> {
        let identity = clients
            .central
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| OrganizationError::Identity(DisplayErrorContext(e).to_string()))?;
        let caller_account = identity
            .account()
            .ok_or_else(|| OrganizationError::Identity("the response has no account id".into()))?
            .to_string();
        let partition = identity
            .arn()
            .and_then(|arn| arn.split(':').nth(1))
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| partition_of(&clients.central.region).to_string());

        let (organization_id, mut account_ids) = match &settings.accounts {
            Some(ids) => (
                organization_id_if_any(&clients.organizations).await,
                ids.clone(),
            ),
            None => {
                let accounts = list_all(&clients.organizations).await?;
                let organization_id = accounts.iter().find_map(organization_id_of);
                let active = accounts
                    .iter()
                    .filter(|a| is_active(a))
                    .filter_map(|a| a.id().map(str::to_string))
                    .collect();
                (organization_id, active)
            }
        };
        account_ids.sort();
        account_ids.dedup();
        Ok(AccountList {
            organization_id,
            caller_account,
            partition,
            account_ids,
        })
    }
}

/// Every account of every ListAccounts page.
async fn list_all(
    organizations: &aws_sdk_organizations::Client,
) -> Result<Vec<Account>, OrganizationError> {
    let mut accounts = Vec::new();
    let mut pages = organizations.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| OrganizationError::ListAccounts(DisplayErrorContext(e).to_string()))?;
        accounts.extend(page.accounts.unwrap_or_default());
    }
    Ok(accounts)
}

/// The organization id when Organizations answers at all (one page is enough); `None` otherwise.
async fn organization_id_if_any(organizations: &aws_sdk_organizations::Client) -> Option<String> {
    let page = organizations.list_accounts().send().await.ok()?;
    page.accounts().iter().find_map(organization_id_of)
}

/// `o-…` from an account ARN `arn:PARTITION:organizations::MANAGEMENT:account/o-…/ACCOUNT`.
fn organization_id_of(account: &Account) -> Option<String> {
    let resource = account.arn()?.split(':').nth(5)?;
    let id = resource.split('/').nth(1)?;
    id.starts_with("o-").then(|| id.to_string())
}

/// ACTIVE by `State` when the response has it, else by the older `Status`.
fn is_active(account: &Account) -> bool {
    match (account.state(), account.status()) {
        (Some(state), _) => *state == AccountState::Active,
        (None, Some(status)) => *status == AccountStatus::Active,
        (None, None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(arn: &str, state: Option<AccountState>, status: Option<AccountStatus>) -> Account {
        let mut builder = Account::builder().id("222222222222").arn(arn);
        if let Some(state) = state {
            builder = builder.state(state);
        }
        if let Some(status) = status {
            builder = builder.status(status);
        }
        builder.build()
    }

    #[test]
    fn organization_id_comes_from_the_account_arn() {
        let arn = "arn:aws:organizations::111111111111:account/o-abc123/222222222222";
        assert_eq!(
            organization_id_of(&account(arn, None, None)).as_deref(),
            Some("o-abc123")
        );
        assert_eq!(
            organization_id_of(&account("arn:aws:iam::1:root", None, None)),
            None
        );
    }

    #[test]
    fn state_wins_over_status_and_only_active_counts() {
        let arn = "arn:aws:organizations::1:account/o-a/2";
        assert!(is_active(&account(
            arn,
            Some(AccountState::Active),
            Some(AccountStatus::Suspended)
        )));
        assert!(!is_active(&account(
            arn,
            Some(AccountState::Closed),
            Some(AccountStatus::Active)
        )));
        assert!(!is_active(&account(
            arn,
            None,
            Some(AccountStatus::PendingClosure)
        )));
        assert!(is_active(&account(arn, None, Some(AccountStatus::Active))));
        assert!(!is_active(&account(arn, None, None)));
    }

    #[test]
    fn role_arn_uses_the_partition() {
        let list = AccountList {
            organization_id: None,
            caller_account: "111111111111".into(),
            partition: "aws-cn".into(),
            account_ids: vec![],
        };
        assert_eq!(
            list.role_arn("222222222222", "tg-read"),
            "arn:aws-cn:iam::222222222222:role/tg-read"
        );
    }
}
