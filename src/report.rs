//! The report: DESIGN's JSON document (schema version 1) and the types it is made of.
//!
//! Every field here is part of the public contract (alarms, filters and acceptance checks read it),
//! so names and shapes follow `DESIGN.md` exactly; the human rendering lives in [`crate::render`].

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::config::RemediationMode;

/// Version of the report's JSON shape; bumped only on an incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// One sweep's full result: what was found, what was done, and the counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The 12-digit account the credentials belong to.
    pub account_id: String,
    /// When the sweep ran (RFC 3339 UTC, whole seconds).
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// The run-wide remediation mode (a provider's tag may override it; see `providers[].remediation`).
    pub remediation_mode: RemediationMode,
    /// Every IAM OIDC provider that could be read, in ARN order.
    pub providers: Vec<ProviderReport>,
    /// Every EKS cluster of the scanned regions.
    pub clusters: Vec<ClusterReport>,
    /// Findings, most severe first, then by resource.
    pub findings: Vec<Finding>,
    /// Counts over the lists above.
    pub summary: Summary,
}

/// One IAM OIDC provider: its configuration and what its issuer actually serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderReport {
    /// `arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`.
    pub arn: String,
    /// The issuer URL: `https://` + the URL IAM returns.
    pub url: String,
    /// The provider's ClientIDList (audiences).
    pub client_ids: Vec<String>,
    /// The provider's ThumbprintList, lowercased, in IAM's order.
    pub configured_thumbprints: Vec<String>,
    /// `jwks_uri` from the discovery document; null when discovery failed.
    pub jwks_uri: Option<String>,
    /// One entry per probed address of the JWKS host.
    pub endpoints: Vec<Endpoint>,
    /// Distinct top thumbprints served, in first-seen order.
    pub served_thumbprints: Vec<String>,
    /// True when the served chain does not anchor in Mozilla's roots, so IAM relies on the thumbprint.
    pub thumbprint_enforced: bool,
    /// What remediation did or would do; null when nothing was needed.
    pub remediation: Option<Remediation>,
}

/// One address of the JWKS host and the chain it served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    /// `IP:PORT` as connected to (IPv6 in brackets).
    pub address: String,
    /// The certificates exactly as served, leaf first.
    pub chain: Vec<CertificateInfo>,
    /// SHA-1 of the last served certificate: the thumbprint IAM needs. Null when no chain was served.
    pub top_thumbprint: Option<String>,
    /// Whether the chain validated for the host name against the trust store, unexpired.
    pub trusted: bool,
    /// Why the endpoint failed or was not trusted; null when all is well.
    pub error: Option<String>,
}

/// One served certificate, as a person needs to see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertificateInfo {
    /// Subject distinguished name (RFC 4514 style).
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Lowercase hex SHA-1 of the DER.
    pub sha1: String,
    /// Start of validity (RFC 3339 UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity (RFC 3339 UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

/// What happened to a provider's thumbprint list this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remediation {
    /// applied, planned (dry-run), skipped or failed.
    pub outcome: RemediationOutcome,
    /// Thumbprints added (applied) or that would be added (planned).
    pub added: Vec<String>,
    /// Why, in words a person understands (the AWS error for `failed`).
    pub reason: String,
}

/// The outcome of remediation for one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RemediationOutcome {
    /// The thumbprints were written and read back.
    Applied,
    /// Dry-run: they would have been written.
    Planned,
    /// The policy did not allow the change.
    Skipped,
    /// The write (or its confirmation) failed.
    Failed,
}

/// One EKS cluster and the IAM provider that serves its issuer, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterReport {
    /// Cluster name.
    pub name: String,
    /// Region it runs in.
    pub region: String,
    /// `identity.oidc.issuer`; null for a cluster without one.
    pub issuer: Option<String>,
    /// ARN of the matching IAM OIDC provider, or null.
    pub provider_arn: Option<String>,
}

/// One problem or event, with a stable code for alarms and filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable code (see DESIGN's table).
    pub code: FindingCode,
    /// critical, warning or info.
    pub severity: Severity,
    /// ARN of the provider, cluster or role (the issuer URL for `inspect`).
    pub resource: String,
    /// One or two sentences a person can act on.
    pub message: String,
    /// Machine-readable facts (thumbprints, addresses, dates); always a JSON object.
    pub details: serde_json::Value,
}

impl Finding {
    /// A finding with the code's default severity and empty details.
    pub fn new(code: FindingCode, resource: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            code,
            severity: code.default_severity(),
            resource: resource.into(),
            message: message.into(),
            details: serde_json::Value::Object(serde_json::Map::new()),
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
    ProbeSkipped,
    InventoryIncomplete,
}

impl FindingCode {
    /// Every code, in DESIGN's order.
    pub const ALL: [FindingCode; 18] = [
        FindingCode::ThumbprintMismatch,
        FindingCode::ThumbprintAdded,
        FindingCode::ThumbprintListFull,
        FindingCode::ChainUntrusted,
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
            FindingCode::ProbeSkipped => "PROBE_SKIPPED",
            FindingCode::InventoryIncomplete => "INVENTORY_INCOMPLETE",
        }
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
            | ProbeSkipped => Severity::Warning,
            ThumbprintMismatch
            | ChainUntrusted
            | CertExpired
            | IssuerUnreachable
            | DiscoveryInvalid
            | JwksInvalid
            | AddressRefused
            | RoleTrustsMissingProvider
            | TrustPolicyNoSub
            | InventoryIncomplete => Severity::Critical,
        }
    }
}

impl std::fmt::Display for FindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counts over the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Providers in `providers`.
    pub providers: usize,
    /// Clusters in `clusters`.
    pub clusters: usize,
    /// Findings of severity critical.
    pub critical: usize,
    /// Findings of severity warning.
    pub warning: usize,
    /// Findings of severity info.
    pub info: usize,
    /// Thumbprints written to IAM this run.
    pub thumbprints_added: usize,
}

/// Sorts findings most severe first, then by resource, code and message (a stable, total order).
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.resource.cmp(&b.resource))
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.message.cmp(&b.message))
    });
}

impl Report {
    /// The highest severity among the findings, if any.
    pub fn highest_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// Recomputes `summary` from the lists.
    pub fn recount(&mut self) {
        self.summary = self.summarize();
    }

    /// The counts over the lists as they are now (what `summary` should say).
    pub fn summarize(&self) -> Summary {
        let count = |s: Severity| self.findings.iter().filter(|f| f.severity == s).count();
        Summary {
            providers: self.providers.len(),
            clusters: self.clusters.len(),
            critical: count(Severity::Critical),
            warning: count(Severity::Warning),
            info: count(Severity::Info),
            thumbprints_added: self
                .providers
                .iter()
                .filter_map(|p| p.remediation.as_ref())
                .filter(|r| r.outcome == RemediationOutcome::Applied)
                .map(|r| r.added.len())
                .sum(),
        }
    }

    /// True when anything changed in IAM this run.
    pub fn changed(&self) -> bool {
        self.summary.thumbprints_added > 0
    }
}

/// `now` truncated to whole seconds, as reports print it.
pub fn whole_seconds(now: OffsetDateTime) -> OffsetDateTime {
    now.replace_nanosecond(0).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_design_names() {
        for code in FindingCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, serde_json::Value::String(code.as_str().to_string()));
        }
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
    fn times_render_as_rfc3339_utc() {
        let cert = CertificateInfo {
            subject: "CN=a".into(),
            issuer: "CN=b".into(),
            sha1: "00".repeat(20),
            not_before: time::macros::datetime!(2026-11-22 10:00:00 UTC),
            not_after: time::macros::datetime!(2027-01-01 00:00:00 UTC),
        };
        let json = serde_json::to_value(&cert).unwrap();
        assert_eq!(json["not_before"], "2026-11-22T10:00:00Z");
        assert_eq!(json["not_after"], "2027-01-01T00:00:00Z");
    }
}
