//! DESIGN's stable finding codes and their severities.

use serde::{Deserialize, Serialize};

/// How bad a finding is. Ordered: `Info < Warning < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something happened (e.g. a thumbprint was added); nothing to do.
    Info,
    /// Needs attention before it becomes an outage.
    Warning,
    /// Breaks or will break IRSA (or lets the wrong workload in).
    Critical,
}

impl Severity {
    /// Lowercase name as used in JSON and SNS attributes.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stable finding codes of DESIGN's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)]
pub enum FindingCode {
    ThumbprintMismatch,
    ThumbprintAdded,
    ThumbprintListFull,
    ChainUntrusted,
    ChainOrder,
    CertExpired,
    CertExpiring,
    IssuerUnreachable,
    DiscoveryInvalid,
    JwksInvalid,
    AddressRefused,
    AudienceMissing,
    ClusterWithoutProvider,
    OrphanProvider,
    RoleTrustsMissingProvider,
    TrustPolicyNoSub,
    TrustPolicyNoAud,
    TrustPolicyBroadSub,
    TrustPolicyForeignCondition,
    AccountUnreachable,
    ClusterApiUnreachable,
    ServiceAccountAnnotationInvalid,
    ServiceAccountRoleMissing,
    ServiceAccountRoleUntrusted,
    PodNeedsRestart,
    PodRegionMissing,
    TrustPolicyUnknownServiceAccount,
    PodIdentityRoleMissing,
    PodIdentityRoleUntrusted,
    PodIdentityServiceAccountMissing,
    ServiceAccountDualIdentity,
    ProbeSkipped,
    InventoryIncomplete,
}

impl FindingCode {
    /// Every code, in DESIGN's order.
    pub const ALL: [FindingCode; 33] = [
        FindingCode::ThumbprintMismatch,
        FindingCode::ThumbprintAdded,
        FindingCode::ThumbprintListFull,
        FindingCode::ChainUntrusted,
        FindingCode::ChainOrder,
        FindingCode::CertExpired,
        FindingCode::CertExpiring,
        FindingCode::IssuerUnreachable,
        FindingCode::DiscoveryInvalid,
        FindingCode::JwksInvalid,
        FindingCode::AddressRefused,
        FindingCode::AudienceMissing,
        FindingCode::ClusterWithoutProvider,
        FindingCode::OrphanProvider,
        FindingCode::RoleTrustsMissingProvider,
        FindingCode::TrustPolicyNoSub,
        FindingCode::TrustPolicyNoAud,
        FindingCode::TrustPolicyBroadSub,
        FindingCode::TrustPolicyForeignCondition,
        FindingCode::AccountUnreachable,
        FindingCode::ClusterApiUnreachable,
        FindingCode::ServiceAccountAnnotationInvalid,
        FindingCode::ServiceAccountRoleMissing,
        FindingCode::ServiceAccountRoleUntrusted,
        FindingCode::PodNeedsRestart,
        FindingCode::PodRegionMissing,
        FindingCode::TrustPolicyUnknownServiceAccount,
        FindingCode::PodIdentityRoleMissing,
        FindingCode::PodIdentityRoleUntrusted,
        FindingCode::PodIdentityServiceAccountMissing,
        FindingCode::ServiceAccountDualIdentity,
        FindingCode::ProbeSkipped,
        FindingCode::InventoryIncomplete,
    ];

    /// The code as it appears in JSON, e.g. `THUMBPRINT_MISMATCH`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::ThumbprintMismatch => "THUMBPRINT_MISMATCH",
            FindingCode::ThumbprintAdded => "THUMBPRINT_ADDED",
            FindingCode::ThumbprintListFull => "THUMBPRINT_LIST_FULL",
            FindingCode::ChainUntrusted => "CHAIN_UNTRUSTED",
            FindingCode::ChainOrder => "CHAIN_ORDER",
            FindingCode::CertExpired => "CERT_EXPIRED",
            FindingCode::CertExpiring => "CERT_EXPIRING",
            FindingCode::IssuerUnreachable => "ISSUER_UNREACHABLE",
            FindingCode::DiscoveryInvalid => "DISCOVERY_INVALID",
            FindingCode::JwksInvalid => "JWKS_INVALID",
            FindingCode::AddressRefused => "ADDRESS_REFUSED",
            FindingCode::AudienceMissing => "AUDIENCE_MISSING",
            FindingCode::ClusterWithoutProvider => "CLUSTER_WITHOUT_PROVIDER",
            FindingCode::OrphanProvider => "ORPHAN_PROVIDER",
            FindingCode::RoleTrustsMissingProvider => "ROLE_TRUSTS_MISSING_PROVIDER",
            FindingCode::TrustPolicyNoSub => "TRUST_POLICY_NO_SUB",
            FindingCode::TrustPolicyNoAud => "TRUST_POLICY_NO_AUD",
            FindingCode::TrustPolicyBroadSub => "TRUST_POLICY_BROAD_SUB",
            FindingCode::TrustPolicyForeignCondition => "TRUST_POLICY_FOREIGN_CONDITION",
            FindingCode::AccountUnreachable => "ACCOUNT_UNREACHABLE",
            FindingCode::ClusterApiUnreachable => "CLUSTER_API_UNREACHABLE",
            FindingCode::ServiceAccountAnnotationInvalid => "SERVICE_ACCOUNT_ANNOTATION_INVALID",
            FindingCode::ServiceAccountRoleMissing => "SERVICE_ACCOUNT_ROLE_MISSING",
            FindingCode::ServiceAccountRoleUntrusted => "SERVICE_ACCOUNT_ROLE_UNTRUSTED",
            FindingCode::PodNeedsRestart => "POD_NEEDS_RESTART",
            FindingCode::PodRegionMissing => "POD_REGION_MISSING",
            FindingCode::TrustPolicyUnknownServiceAccount => "TRUST_POLICY_UNKNOWN_SERVICE_ACCOUNT",
            FindingCode::PodIdentityRoleMissing => "POD_IDENTITY_ROLE_MISSING",
            FindingCode::PodIdentityRoleUntrusted => "POD_IDENTITY_ROLE_UNTRUSTED",
            FindingCode::PodIdentityServiceAccountMissing => "POD_IDENTITY_SERVICE_ACCOUNT_MISSING",
            FindingCode::ServiceAccountDualIdentity => "SERVICE_ACCOUNT_DUAL_IDENTITY",
            FindingCode::ProbeSkipped => "PROBE_SKIPPED",
            FindingCode::InventoryIncomplete => "INVENTORY_INCOMPLETE",
        }
    }

    /// The code named `name` exactly as DESIGN spells it (`THUMBPRINT_MISMATCH`), if any.
    pub fn from_name(name: &str) -> Option<FindingCode> {
        FindingCode::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Severity from DESIGN's table. THUMBPRINT_MISMATCH is critical only when the thumbprint is
    /// enforced; callers downgrade it with [`Finding::with_severity`].
    pub fn default_severity(self) -> Severity {
        use FindingCode::*;
        match self {
            ThumbprintAdded | OrphanProvider | TrustPolicyUnknownServiceAccount => Severity::Info,
            ThumbprintListFull
            | CertExpiring
            | AudienceMissing
            | ClusterWithoutProvider
            | TrustPolicyNoAud
            | TrustPolicyForeignCondition
            | ClusterApiUnreachable
            | PodNeedsRestart
            | PodRegionMissing
            | PodIdentityServiceAccountMissing
            | ServiceAccountDualIdentity
            | ProbeSkipped => Severity::Warning,
            ThumbprintMismatch
            | ChainUntrusted
            | ChainOrder
            | CertExpired
            | IssuerUnreachable
            | DiscoveryInvalid
            | JwksInvalid
            | AddressRefused
            | RoleTrustsMissingProvider
            | TrustPolicyNoSub
            | TrustPolicyBroadSub
            | AccountUnreachable
            | ServiceAccountAnnotationInvalid
            | ServiceAccountRoleMissing
            | ServiceAccountRoleUntrusted
            | PodIdentityRoleMissing
            | PodIdentityRoleUntrusted
            | InventoryIncomplete => Severity::Critical,
        }
    }
}

impl std::fmt::Display for FindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
