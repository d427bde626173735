//! Findings: DESIGN's stable codes, their severities, and each finding's stable identity.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// One problem or event, with a stable code for alarms and filters.
///
/// Equality compares what the report's JSON carries (the discriminator is already in the id).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    /// Stable identity: `tg-` + 16 hex of SHA-256 over account id, code, resource and the
    /// discriminator (see [`finding_id`]). Empty until [`Finding::identify`] runs.
    pub id: String,
    /// Stable code (see DESIGN's table).
    pub code: FindingCode,
    /// critical, warning or info.
    pub severity: Severity,
    /// ARN of the provider, cluster or role (the issuer URL for `inspect`).
    pub resource: String,
    /// One or two sentences a person can act on.
    pub message: String,
    /// Facts for people, alarms and filters (thumbprints, addresses, dates); always a JSON object.
    /// No code decides anything from it: typed facts travel in [`Finding::discriminator`] and in
    /// the step outputs.
    pub details: serde_json::Value,
    /// `new` or `open` when a state table remembers earlier runs; null otherwise.
    pub status: Option<FindingStatus>,
    /// The first run that reported this finding, when a state table remembers it; null otherwise.
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_seen: Option<OffsetDateTime>,
    /// True when `MUTE_FINDINGS` covers it: reported, not counted for exit code or notification.
    pub muted: bool,
    /// What tells this finding apart from others of the same code on the same resource (part of
    /// the id; not serialized).
    #[serde(skip)]
    pub discriminator: Discriminator,
}

impl PartialEq for Finding {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.code == other.code
            && self.severity == other.severity
            && self.resource == other.resource
            && self.message == other.message
            && self.details == other.details
            && self.status == other.status
            && self.first_seen == other.first_seen
            && self.muted == other.muted
    }
}

/// What distinguishes two findings of one code on one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Discriminator {
    /// One finding of its code per resource.
    #[default]
    None,
    /// A thumbprint (mismatch, addition, the top of a chain served out of order) or a
    /// certificate's SHA-1 (expiry).
    Thumbprint(String),
    /// A probed address (`IP:PORT`) or host.
    Address(String),
    /// The index of a trust-policy statement.
    Statement(usize),
}

impl Discriminator {
    /// The text hashed into the id (empty for [`Discriminator::None`]).
    pub fn as_key(&self) -> String {
        match self {
            Discriminator::None => String::new(),
            Discriminator::Thumbprint(t) => t.to_ascii_lowercase(),
            Discriminator::Address(a) => a.clone(),
            Discriminator::Statement(i) => i.to_string(),
        }
    }

    /// The thumbprint, when this discriminator is one.
    pub fn thumbprint(&self) -> Option<&str> {
        match self {
            Discriminator::Thumbprint(t) => Some(t),
            _ => None,
        }
    }
}

/// Whether a finding was already open at the previous run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    /// Not open at the previous run.
    New,
    /// Open at the previous run too.
    Open,
}

/// DESIGN's stable id: `tg-` + the first 16 hex digits of SHA-256 over account id, code, resource
/// and discriminator, each followed by a NUL byte so no two tuples hash the same input.
pub fn finding_id(
    account_id: &str,
    code: FindingCode,
    resource: &str,
    discriminator: &Discriminator,
) -> String {
    let mut hasher = Sha256::new();
    for part in [
        account_id,
        code.as_str(),
        resource,
        discriminator.as_key().as_str(),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("tg-{hex}")
}

impl Finding {
    /// A finding with the code's default severity, empty details and no identity yet.
    pub fn new(code: FindingCode, resource: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            id: String::new(),
            code,
            severity: code.default_severity(),
            resource: resource.into(),
            message: message.into(),
            details: serde_json::Value::Object(serde_json::Map::new()),
            status: None,
            first_seen: None,
            muted: false,
            discriminator: Discriminator::None,
        }
    }

    /// The same finding with `details` replaced (must be a JSON object).
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    /// The same finding with another severity.
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// The same finding told apart from its siblings by `discriminator`.
    pub fn with_discriminator(mut self, discriminator: Discriminator) -> Self {
        self.discriminator = discriminator;
        self
    }

    /// Sets the stable id for a finding of `account_id`.
    pub fn identify(&mut self, account_id: &str) {
        self.id = finding_id(account_id, self.code, &self.resource, &self.discriminator);
    }

    /// True when it counts for the exit code, notification and metrics (not muted).
    pub fn counts(&self) -> bool {
        !self.muted
    }
}

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
    ProbeSkipped,
    InventoryIncomplete,
}

impl FindingCode {
    /// Every code, in DESIGN's order.
    pub const ALL: [FindingCode; 22] = [
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
            ThumbprintAdded | OrphanProvider => Severity::Info,
            ThumbprintListFull
            | CertExpiring
            | AudienceMissing
            | ClusterWithoutProvider
            | TrustPolicyNoAud
            | TrustPolicyForeignCondition
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
            | InventoryIncomplete => Severity::Critical,
        }
    }
}

impl std::fmt::Display for FindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sorts findings most severe first, then by resource, code, discriminator and message (a stable,
/// total order).
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.resource.cmp(&b.resource))
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.discriminator.cmp(&b.discriminator))
            .then_with(|| a.message.cmp(&b.message))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_design_names() {
        for code in FindingCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, serde_json::Value::String(code.as_str().to_string()));
            assert_eq!(FindingCode::from_name(code.as_str()), Some(code));
        }
        assert_eq!(FindingCode::from_name("thumbprint_mismatch"), None);
        assert_eq!(
            FindingCode::from_name("CHAIN_ORDER"),
            Some(FindingCode::ChainOrder)
        );
        assert_eq!(
            FindingCode::ChainOrder.default_severity(),
            Severity::Critical
        );
    }

    #[test]
    fn findings_sort_by_severity_then_resource() {
        let mut findings = vec![
            Finding::new(FindingCode::AudienceMissing, "b", "x"),
            Finding::new(FindingCode::ThumbprintAdded, "a", "x"),
            Finding::new(FindingCode::ChainUntrusted, "z", "x"),
            Finding::new(FindingCode::CertExpired, "a", "x"),
        ];
        sort_findings(&mut findings);
        let order: Vec<_> = findings
            .iter()
            .map(|f| (f.severity, f.resource.as_str()))
            .collect();
        assert_eq!(
            order,
            vec![
                (Severity::Critical, "a"),
                (Severity::Critical, "z"),
                (Severity::Warning, "b"),
                (Severity::Info, "a")
            ]
        );
    }

    #[test]
    fn ids_are_stable_and_tell_problems_apart() {
        let arn = "arn:aws:iam::123456789012:oidc-provider/example.com";
        let t1 = Discriminator::Thumbprint("ab".repeat(20));
        let id = finding_id("123456789012", FindingCode::ThumbprintMismatch, arn, &t1);
        // Computed independently: printf '123456789012\0THUMBPRINT_MISMATCH\0ARN\0abab…\0' | sha256sum
        let mut input = Vec::new();
        for part in [
            "123456789012",
            "THUMBPRINT_MISMATCH",
            arn,
            "abababababababababababababababababababab",
        ] {
            input.extend_from_slice(part.as_bytes());
            input.push(0);
        }
        let digest = Sha256::digest(&input);
        let expected: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(id, format!("tg-{expected}"));
        assert_eq!(id.len(), 19);
        assert_eq!(
            id,
            finding_id("123456789012", FindingCode::ThumbprintMismatch, arn, &t1)
        );
        let others = [
            finding_id(
                "123456789012",
                FindingCode::ThumbprintMismatch,
                arn,
                &Discriminator::Thumbprint("cd".repeat(20)),
            ),
            finding_id("210987654321", FindingCode::ThumbprintMismatch, arn, &t1),
            finding_id("123456789012", FindingCode::ThumbprintAdded, arn, &t1),
            finding_id("123456789012", FindingCode::ThumbprintMismatch, "x", &t1),
            finding_id(
                "123456789012",
                FindingCode::TrustPolicyNoSub,
                arn,
                &Discriminator::Statement(1),
            ),
        ];
        for other in others {
            assert_ne!(other, id);
        }
        // Upper- and lowercase spellings of one thumbprint are one problem.
        assert_eq!(
            id,
            finding_id(
                "123456789012",
                FindingCode::ThumbprintMismatch,
                arn,
                &Discriminator::Thumbprint("AB".repeat(20))
            )
        );
    }
}
