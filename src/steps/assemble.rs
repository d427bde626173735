//! Assembly: the report built once from the typed outputs of assess and remediate.
//!
//! Nothing here re-reads a finding's `details` or parses a reason: the thumbprint mismatches are
//! created here from assess's [`MissingThumbprint`](crate::assess::MissingThumbprint)s minus what
//! remediation applied, and the configured list after a write is the list IAM read back.

use time::OffsetDateTime;

use crate::assess::{self, ProviderAssessment};
use crate::inventory::OidcProvider;
use crate::remediate::{self, Decision, Outcome};
use crate::report::RemediationMode;
use crate::report::{
    sort_findings, ClusterReport, Finding, ProviderReport, Report, Summary, SCHEMA_VERSION,
};

/// One provider's result: its report entry and its findings.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderResult {
    /// The report entry, remediation included.
    pub entry: ProviderReport,
    /// Every finding about the provider.
    pub findings: Vec<Finding>,
}

/// Joins a provider's assessment with remediation's decision and outcome.
pub fn provider_result(
    provider: &OidcProvider,
    assessment: ProviderAssessment,
    decision: &Decision,
    outcome: Option<&Outcome>,
) -> ProviderResult {
    let ProviderAssessment {
        mut entry,
        mut findings,
        missing,
    } = assessment;
    let applied = outcome.map(Outcome::applied).unwrap_or_default();
    findings.extend(assess::mismatch_findings(provider, &missing, applied));
    findings.extend(remediate::findings(provider, decision, outcome));
    if let Some(Outcome::Applied { thumbprints, .. }) = outcome {
        entry.configured_thumbprints = thumbprints.clone();
    }
    entry.remediation = outcome.map(Outcome::remediation);
    ProviderResult { entry, findings }
}

/// Everything a report is made of, as the sweep's steps produced it.
#[derive(Debug, Clone)]
pub struct ReportInputs {
    /// The account swept.
    pub account_id: String,
    /// When (whole seconds).
    pub generated_at: OffsetDateTime,
    /// The run-wide mode.
    pub remediation_mode: RemediationMode,
    /// Each provider's result, in any order.
    pub providers: Vec<ProviderResult>,
    /// Clusters of the scanned regions.
    pub clusters: Vec<ClusterReport>,
    /// Findings about no provider entry (inventory, clusters, roles).
    pub findings: Vec<Finding>,
}

/// Builds the report: providers in ARN order, every finding identified, muted by `is_muted`, sorted,
/// and counted.
pub fn report(inputs: ReportInputs, is_muted: impl Fn(&Finding) -> bool) -> Report {
    let ReportInputs {
        account_id,
        generated_at,
        remediation_mode,
        mut providers,
        clusters,
        mut findings,
    } = inputs;
    providers.sort_by(|a, b| a.entry.arn.cmp(&b.entry.arn));
    let mut entries = Vec::with_capacity(providers.len());
    for provider in providers {
        findings.extend(provider.findings);
        entries.push(provider.entry);
    }
    for finding in &mut findings {
        finding.identify(&account_id);
        finding.muted = is_muted(finding);
    }
    disambiguate_ids(&account_id, &mut findings);
    sort_findings(&mut findings);
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        account_id,
        generated_at,
        remediation_mode,
        providers: entries,
        clusters,
        findings,
        resolved: Vec::new(),
        summary: Summary::default(),
    };
    report.recount();
    report
}

/// Adds `findings` made after the report (the in-cluster step's) as the report's own are: each
/// identified under the account, muted by `is_muted`, in report order, and counted.
pub fn add_findings(
    report: &mut Report,
    findings: Vec<Finding>,
    is_muted: impl Fn(&Finding) -> bool,
) {
    if findings.is_empty() {
        return;
    }
    for mut finding in findings {
        finding.identify(&report.account_id);
        finding.muted = is_muted(&finding);
        report.findings.push(finding);
    }
    disambiguate_ids(&report.account_id, &mut report.findings);
    sort_findings(&mut report.findings);
    report.recount();
}

/// Two findings that share an id (a probe issue about one of several addresses has no typed
/// discriminator) get the message hashed in, so ids stay unique within a report and stable
/// between runs that report the same problems.
fn disambiguate_ids(account_id: &str, findings: &mut [Finding]) {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for f in findings.iter() {
        *seen.entry(f.id.clone()).or_default() += 1;
    }
    for f in findings.iter_mut() {
        if seen.get(&f.id).copied().unwrap_or(0) > 1 {
            let salted = crate::report::Discriminator::Address(format!(
                "{}\u{0}{}",
                f.discriminator.as_key(),
                f.message
            ));
            f.id = crate::report::finding_id(account_id, f.code, &f.resource, &salted);
        }
    }
}
