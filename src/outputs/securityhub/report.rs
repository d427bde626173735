//! A run's findings for Security Hub: each account report in ASFF, `sweep --output asff`'s
//! document, and the import step of a run (`SECURITY_HUB=on`).

use time::OffsetDateTime;

use super::asff::{asff_document, product_arn, to_asff, AsffFinding};
use super::import::{import, ImportOutcome, SecurityHubError};
use crate::aws::{partition_of, AwsClients};
use crate::report::{whole_seconds, Report, RunReport, SCHEMA_VERSION};

/// One account report's findings in ASFF, for the account's default product in `region`.
pub fn report_findings(report: &Report, region: &str, now: OffsetDateTime) -> Vec<AsffFinding> {
    let now = whole_seconds(now);
    to_asff(report, partition_of(region), region, now, |finding| {
        crate::fix::for_report(finding, report)
    })
}

/// `sweep --output asff`: every account's findings under its own `AwsAccountId` (each would be
/// imported into that account's Security Hub), and the organization-level ones (an unreachable
/// member) under `central_account`, where the run is; one BatchImportFindings input document.
pub fn run_document(
    run: &RunReport,
    central_account: &str,
    region: &str,
    now: OffsetDateTime,
) -> serde_json::Value {
    let mut findings: Vec<AsffFinding> = run
        .accounts()
        .iter()
        .flat_map(|report| report_findings(report, region, now))
        .collect();
    if let RunReport::Organization(organization) = run {
        let organization_level = Report {
            schema_version: SCHEMA_VERSION,
            account_id: central_account.to_string(),
            generated_at: organization.generated_at,
            remediation_mode: organization
                .accounts
                .first()
                .map(|a| a.remediation_mode)
                .unwrap_or_default(),
            providers: Vec::new(),
            clusters: Vec::new(),
            findings: organization.findings.clone(),
            resolved: Vec::new(),
            summary: crate::report::Summary::default(),
        };
        findings.extend(report_findings(&organization_level, region, now));
    }
    asff_document(&findings)
}

/// The import step of a run: imports `report`'s findings into the account's own product and
/// archives the ones that went away. A failure is logged and returned, never fatal: the report and
/// the notification do not depend on it.
pub async fn import_report(
    aws: &AwsClients,
    report: &Report,
    now: OffsetDateTime,
) -> Result<ImportOutcome, SecurityHubError> {
    let now = whole_seconds(now);
    let findings = report_findings(report, &aws.region, now);
    let product = product_arn(partition_of(&aws.region), &aws.region, &report.account_id);
    let outcome = import(
        &aws.securityhub,
        &findings,
        &report.account_id,
        &product,
        now,
    )
    .await;
    match &outcome {
        Ok(done) => tracing::info!(
            account_id = %report.account_id,
            imported = done.imported,
            archived = done.archived,
            failed = done.failed.len(),
            "Security Hub import"
        ),
        Err(error) => {
            tracing::warn!(account_id = %report.account_id, error = %error, "Security Hub import failed; the report and the notification are unaffected")
        }
    }
    outcome
}
