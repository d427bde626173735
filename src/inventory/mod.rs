//! Inventory: what the account holds, read from AWS (STS, IAM, EKS).
//!
//! Reads are concurrent and fault-isolated: a provider, region or role list that cannot be read
//! becomes an INVENTORY_INCOMPLETE finding, and the sweep goes on with the rest. Only the account
//! id and the provider listing are fatal (exit code 3): without them there is nothing to sweep.

use std::collections::BTreeMap;

use crate::report::Finding;

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

/// One IAM role and its trust policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Role ARN.
    pub arn: String,
    /// The trust policy as IAM returned it (percent-encoded from real IAM, raw JSON from moto).
    pub trust_policy: String,
}

/// Everything the sweep needs from AWS.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Inventory {
    /// The 12-digit account id.
    pub account_id: String,
    /// The SDK's region.
    pub region: String,
    /// Providers that could be read, in ARN order.
    pub providers: Vec<OidcProvider>,
    /// EKS clusters of the scanned regions.
    pub clusters: Vec<Cluster>,
    /// Regions whose clusters were listed successfully (for ORPHAN_PROVIDER).
    pub scanned_regions: Vec<String>,
    /// Roles, when trust policies are audited.
    pub roles: Vec<Role>,
    /// Whether roles were listed (AUDIT_TRUST_POLICIES on and ListRoles succeeded).
    pub roles_audited: bool,
    /// INVENTORY_INCOMPLETE findings for what could not be read.
    pub problems: Vec<Finding>,
}

pub mod eks;
pub mod roles;
