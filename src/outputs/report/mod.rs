//! The report: DESIGN's JSON document (schema version 1) and the types it is made of.
//!
//! Every field here is part of the public contract (alarms, filters and acceptance checks read it),
//! so names and shapes follow `DESIGN.md` exactly; the human rendering lives in [`crate::render`].

mod account;
pub mod cut;
mod facts;
mod finding;
#[cfg(test)]
pub(crate) mod fixtures;
mod mode;
mod organization;
mod run;
mod text;

pub use account::{
    CertificateInfo, ClusterReport, Endpoint, Fetch, KubernetesReads, ProviderReport, Remediation,
    RemediationOutcome, Report, ResolvedFinding, Summary, SCHEMA_VERSION,
};
pub use facts::{days_left, nearest_expiry, rfc3339, whole_seconds, MAX_THUMBPRINTS, STS_AUDIENCE};
pub use finding::{
    finding_id, sort_findings, AccessProblem, ClusterApi, Discriminator, Finding, FindingCode,
    FindingStatus, Remedy, Severity, Workload,
};
pub use mode::{RemediationMode, REMEDIATION_TAG};
pub use organization::{OrganizationReport, OrganizationSummary};
pub use run::RunReport;
pub use text::{cap, count, escape, ISSUER_TEXT_MAX};
