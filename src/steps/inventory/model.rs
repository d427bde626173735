//! What the inventory reads: the account's providers, clusters and roles, and the failures that
//! stop a sweep.

use std::collections::BTreeMap;

use crate::aws::AwsError;
use crate::report::Finding;

/// A failure that stops the sweep: nothing can be assessed without the account or the provider list.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// `sts:GetCallerIdentity` failed (usually credentials).
    #[error("cannot identify the account: {0}")]
    Identity(AwsError),
    /// `sts:GetCallerIdentity` answered without an account id.
    #[error("cannot identify the account: sts:GetCallerIdentity returned no account id")]
    NoAccountId,
    /// `iam:ListOpenIDConnectProviders` failed.
    #[error("cannot list IAM OIDC providers: {0}")]
    ListProviders(AwsError),
}

/// Why one provider could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadProviderError {
    /// The call failed.
    #[error(transparent)]
    Aws(AwsError),
    /// IAM answered without the provider's URL.
    #[error("iam:GetOpenIDConnectProvider returned no Url")]
    NoUrl,
}

/// One IAM OpenID Connect provider as IAM holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProvider {
    /// `arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`.
    pub arn: String,
    /// Issuer URL: `https://` + the URL IAM returns.
    pub url: String,
    /// ClientIDList.
    pub client_ids: Vec<String>,
    /// ThumbprintList, lowercased, in IAM's order.
    pub thumbprints: Vec<String>,
    /// Tags (key → value).
    pub tags: BTreeMap<String, String>,
}

impl OidcProvider {
    /// The provider path IAM uses in condition keys: the URL without `https://`.
    pub fn path(&self) -> &str {
        self.url.trim_start_matches("https://")
    }
}

/// One EKS cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Cluster name.
    pub name: String,
    /// Region.
    pub region: String,
    /// Cluster ARN (the resource of its findings).
    pub arn: String,
    /// `identity.oidc.issuer`, if any.
    pub issuer: Option<String>,
}

pub use crate::trust_policy::Role;

/// Everything the sweep needs from AWS.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Inventory {
    /// The 12-digit account id.
    pub account_id: String,
    /// The SDK's region.
    pub region: String,
    /// Providers that could be read, in ARN order.
    pub providers: Vec<OidcProvider>,
    /// ARNs of providers that were listed but could not be read (they exist: a role trusting one
    /// does not trust a missing provider).
    pub unreadable_providers: Vec<String>,
    /// EKS clusters of the scanned regions.
    pub clusters: Vec<Cluster>,
    /// Regions whose clusters were listed successfully (for ORPHAN_PROVIDER).
    pub scanned_regions: Vec<String>,
    /// Roles, when trust policies are audited.
    pub roles: Vec<Role>,
    /// Whether roles were listed (AUDIT_TRUST_POLICIES on and ListRoles succeeded).
    pub roles_audited: bool,
    /// Every role of the account, with `KUBERNETES_CHECKS=on` when ListRoles succeeded.
    pub all_roles: Option<Vec<Role>>,
    /// The caller's ARN (`sts:GetCallerIdentity`), for the access-entry commands of a fix.
    pub caller_arn: Option<String>,
    /// INVENTORY_INCOMPLETE findings for what could not be read.
    pub problems: Vec<Finding>,
}
