//! What organization mode is configured with, the clients it is built on, and the one failure that
//! stops it.

use aws_config::SdkConfig;

use crate::aws::AwsClients;
use crate::config::Config;

/// What organization mode needs from the configuration (mapped from `ORGANIZATION_*` and
/// `ACCOUNT_CONCURRENCY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationSettings {
    /// `ORGANIZATION_ROLE_NAME`: the role assumed in every member account.
    pub role_name: String,
    /// `ORGANIZATION_ACCOUNTS`: sweep exactly these account ids; `None`: every ACTIVE account.
    pub accounts: Option<Vec<String>>,
    /// `ORGANIZATION_EXTERNAL_ID`: the `sts:ExternalId` sent when assuming the member role.
    pub external_id: Option<String>,
    /// `ACCOUNT_CONCURRENCY`: accounts swept at once (at least 1).
    pub account_concurrency: usize,
}

impl OrganizationSettings {
    /// The settings of `config`, or `None` when it is not in organization mode
    /// (`ORGANIZATION_ROLE_NAME` unset).
    pub fn from_config(config: &Config) -> Option<Self> {
        let organization = config.organization.as_ref()?;
        Some(OrganizationSettings {
            role_name: organization.role_name.clone(),
            accounts: organization.accounts.clone(),
            external_id: organization.external_id.clone(),
            account_concurrency: config.account_concurrency.max(1),
        })
    }
}

/// A failure that stops an organization run: without the account list there is nothing to sweep.
#[derive(Debug, thiserror::Error)]
pub enum OrganizationError {
    /// `sts:GetCallerIdentity` failed for the central credentials.
    #[error("cannot identify the central account (sts:GetCallerIdentity): {0}; check the AWS credentials and region")]
    Identity(String),
    /// `organizations:ListAccounts` failed.
    #[error("cannot list the organization's accounts (organizations:ListAccounts): {0}; run from the management account or a delegated administrator, or set ORGANIZATION_ACCOUNTS")]
    ListAccounts(String),
}

impl OrganizationError {
    /// The CLI exit code of this error (DESIGN: 3, the sweep could not run).
    pub fn exit_code(&self) -> u8 {
        3
    }
}

/// The clients of an organization run, built once: the central account's clients, the SDK
/// configuration member clients derive from, Organizations, and STS for `AssumeRole`.
#[derive(Debug, Clone)]
pub struct OrganizationClients {
    /// The central account's clients (its own sweep, GetCallerIdentity).
    pub central: AwsClients,
    /// The SDK configuration of the central credentials; member configurations copy it.
    pub sdk: SdkConfig,
    /// Organizations, for ListAccounts.
    pub organizations: aws_sdk_organizations::Client,
    /// STS for `AssumeRole` into the members.
    pub assume_sts: aws_sdk_sts::Client,
}

impl OrganizationClients {
    /// Builds every client from `sdk` (the central credentials) and `config`.
    pub fn new(sdk: &SdkConfig, config: &Config) -> Self {
        OrganizationClients {
            central: AwsClients::new(sdk, config),
            sdk: sdk.clone(),
            organizations: aws_sdk_organizations::Client::new(sdk),
            assume_sts: aws_sdk_sts::Client::new(sdk),
        }
    }

    /// The same clients with another Organizations client (tests inject listings with it).
    pub fn with_organizations(mut self, organizations: aws_sdk_organizations::Client) -> Self {
        self.organizations = organizations;
        self
    }

    /// The same clients with another STS client for `AssumeRole` (tests inject denials with it).
    pub fn with_assume_sts(mut self, sts: aws_sdk_sts::Client) -> Self {
        self.assume_sts = sts;
        self
    }
}
