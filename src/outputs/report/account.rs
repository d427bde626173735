//! One account's report: DESIGN's JSON document (schema version 1) and the types it is made of.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::finding::{Finding, FindingCode, Severity};
use super::mode::RemediationMode;

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
    /// Findings open at the previous run and gone now (empty without a state table).
    pub resolved: Vec<ResolvedFinding>,
    /// Counts over the lists above.
    pub summary: Summary,
}

/// A finding that was open at the previous run and is not reported any more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedFinding {
    /// The id it had while open.
    pub id: String,
    /// Its code.
    pub code: FindingCode,
    /// What it was about.
    pub resource: String,
    /// When it was first reported.
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_seen: Option<OffsetDateTime>,
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
    /// True when IAM relies on the thumbprint: a served chain does not anchor in Mozilla's roots,
    /// an address accepts only TLS 1.3, or no address served a chain.
    pub thumbprint_enforced: bool,
    /// What remediation did or would do; null when nothing was needed.
    pub remediation: Option<Remediation>,
}

/// Which of IAM's two fetches a probed host carries for a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fetch {
    /// `{issuer}/.well-known/openid-configuration`.
    Discovery,
    /// The discovery document's `jwks_uri`.
    Jwks,
}

/// One address of the discovery host or the JWKS host and the chain it served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    /// `host:port` connected to.
    pub host: String,
    /// Which fetches this host carries for the provider.
    pub serves: Vec<Fetch>,
    /// `IP:PORT` as connected to (IPv6 in brackets).
    pub address: String,
    /// The certificates exactly as served, leaf first.
    pub chain: Vec<CertificateInfo>,
    /// SHA-1 of the last served certificate: the thumbprint IAM needs. Null when no chain was served.
    pub top_thumbprint: Option<String>,
    /// Whether the chain validated for the host name against the trust store, unexpired.
    pub trusted: bool,
    /// The address refused a TLS 1.2 handshake and served its chain over TLS 1.3 only (IAM then
    /// relies on the thumbprint).
    pub tls13_only: bool,
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
    /// Start of validity (RFC 3339 UTC); null when the certificate cannot be parsed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub not_before: Option<OffsetDateTime>,
    /// End of validity (RFC 3339 UTC); null when the certificate cannot be parsed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub not_after: Option<OffsetDateTime>,
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
    /// The cluster's ARN (the resource of its findings; not part of the report's JSON).
    #[serde(skip)]
    pub arn: String,
    /// Cluster name.
    pub name: String,
    /// Region it runs in.
    pub region: String,
    /// `identity.oidc.issuer`; null for a cluster without one.
    pub issuer: Option<String>,
    /// ARN of the matching IAM OIDC provider, or null.
    pub provider_arn: Option<String>,
    /// What the in-cluster checks read; null when they are off.
    pub kubernetes: Option<KubernetesReads>,
}

/// What the in-cluster checks read of one cluster (DESIGN "In-cluster checks").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KubernetesReads {
    /// Service accounts read from the Kubernetes API.
    pub service_accounts: usize,
    /// Pods read from the Kubernetes API.
    pub pods: usize,
    /// Pod Identity associations read from the EKS API.
    pub pod_identity_associations: usize,
    /// Why the Kubernetes API or the associations could not be read, if they could not.
    pub error: Option<String>,
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
    /// Muted findings (not in the severity counts).
    pub muted: usize,
}

impl Report {
    /// The highest severity among the unmuted findings, if any.
    pub fn highest_severity(&self) -> Option<Severity> {
        self.findings
            .iter()
            .filter(|f| f.counts())
            .map(|f| f.severity)
            .max()
    }

    /// The provider entry of `arn`, if the report has one.
    pub fn provider(&self, arn: &str) -> Option<&ProviderReport> {
        self.providers.iter().find(|p| p.arn == arn)
    }

    /// The findings about `resource`, in report order.
    pub fn findings_about<'a>(&'a self, resource: &'a str) -> impl Iterator<Item = &'a Finding> {
        self.findings.iter().filter(move |f| f.resource == resource)
    }

    /// Recomputes `summary` from the lists.
    pub fn recount(&mut self) {
        self.summary = self.summarize();
    }

    /// The counts over the lists as they are now (what `summary` should say).
    pub fn summarize(&self) -> Summary {
        let count = |s: Severity| {
            self.findings
                .iter()
                .filter(|f| f.counts() && f.severity == s)
                .count()
        };
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
            muted: self.findings.iter().filter(|f| !f.counts()).count(),
        }
    }

    /// True when anything changed in IAM this run.
    pub fn changed(&self) -> bool {
        self.summary.thumbprints_added > 0
    }
}

/// The highest unmuted severity over `accounts` and the organization-level `findings`: the one
/// rule behind the exit code and the `severity` message attribute.
pub(super) fn highest_severity(accounts: &[Report], findings: &[Finding]) -> Option<Severity> {
    let organization_level = findings.iter().filter(|f| f.counts()).map(|f| f.severity);
    accounts
        .iter()
        .filter_map(Report::highest_severity)
        .chain(organization_level)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_render_as_rfc3339_utc() {
        let cert = CertificateInfo {
            subject: "CN=a".into(),
            issuer: "CN=b".into(),
            sha1: "00".repeat(20),
            not_before: Some(time::macros::datetime!(2026-11-22 10:00:00 UTC)),
            not_after: Some(time::macros::datetime!(2027-01-01 00:00:00 UTC)),
        };
        let json = serde_json::to_value(&cert).unwrap();
        assert_eq!(json["not_before"], "2026-11-22T10:00:00Z");
        assert_eq!(json["not_after"], "2027-01-01T00:00:00Z");
        let unparsed = CertificateInfo {
            not_before: None,
            not_after: None,
            ..cert
        };
        let json = serde_json::to_value(&unparsed).unwrap();
        assert!(json["not_before"].is_null() && json["not_after"].is_null());
        assert_eq!(
            serde_json::from_value::<CertificateInfo>(json).unwrap(),
            unparsed
        );
    }

    #[test]
    fn an_endpoint_serializes_in_designs_order_with_tls13_only_before_error() {
        let endpoint = super::super::fixtures::endpoint(&"ab".repeat(20), true);
        let json = serde_json::to_string(&endpoint).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"host":"127.0.0.1:443","serves":["jwks"],"address":"203.0.113.10:443","chain":[],"top_thumbprint":"{}","trusted":true,"tls13_only":false,"error":null}}"#,
                "ab".repeat(20)
            )
        );
    }
}
