//! Findings: DESIGN's stable codes, their severities, and each finding's stable identity.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

mod code;
mod workload;

pub use code::{FindingCode, Severity};
pub use workload::{AccessProblem, ClusterApi, Remedy, Workload};

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
    /// What the manual fix of an in-cluster finding needs (not serialized; `None` for the others,
    /// whose fixes read the report's provider and cluster entries).
    #[serde(skip)]
    pub remedy: Option<Remedy>,
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
    /// A service account or pod of a cluster (the in-cluster findings).
    Workload(Workload),
    /// Which of a cluster's reads failed (CLUSTER_API_UNREACHABLE).
    ClusterRead(ClusterApi),
}

impl Discriminator {
    /// The text hashed into the id (empty for [`Discriminator::None`]).
    pub fn as_key(&self) -> String {
        match self {
            Discriminator::None => String::new(),
            Discriminator::Thumbprint(t) => t.to_ascii_lowercase(),
            Discriminator::Address(a) => a.clone(),
            Discriminator::Statement(i) => i.to_string(),
            Discriminator::Workload(workload) => workload.key(),
            Discriminator::ClusterRead(api) => api.key().to_string(),
        }
    }

    /// The thumbprint, when this discriminator is one.
    pub fn thumbprint(&self) -> Option<&str> {
        match self {
            Discriminator::Thumbprint(t) => Some(t),
            _ => None,
        }
    }

    /// The service account or pod, when this discriminator is one.
    pub fn workload(&self) -> Option<&Workload> {
        match self {
            Discriminator::Workload(workload) => Some(workload),
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
            remedy: None,
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

    /// The same finding with the facts its manual fix needs.
    pub fn with_remedy(mut self, remedy: Remedy) -> Self {
        self.remedy = Some(remedy);
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
