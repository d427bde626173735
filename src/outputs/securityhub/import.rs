//! BatchImportFindings in batches, one retry of the failed entries, and the archiving of
//! thumbprint-guard findings that are ACTIVE in Security Hub but absent from this run.

use std::collections::BTreeSet;

use aws_sdk_securityhub::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, Partition, Recommendation, RecordState,
    Remediation, Resource, Severity, SeverityLabel, StringFilter, StringFilterComparison, Workflow,
    WorkflowStatus,
};
use aws_sdk_securityhub::Client;
use time::OffsetDateTime;

use super::asff::{AsffFinding, GENERATOR_PREFIX};
use crate::report::rfc3339;

/// Security Hub takes at most this many findings per BatchImportFindings call.
pub const MAX_BATCH: usize = 100;

/// A Security Hub call failed as a whole (the report and the SNS message are unaffected).
#[derive(Debug, thiserror::Error)]
pub enum SecurityHubError {
    /// `securityhub:BatchImportFindings` failed (not enabled, access denied, unreachable).
    #[error(
        "importing findings into Security Hub (securityhub:BatchImportFindings) failed: {error}"
    )]
    Import {
        /// The AWS error code, when Security Hub answered.
        code: Option<String>,
        /// What went wrong.
        error: String,
    },
    /// `securityhub:GetFindings` failed while looking for findings to archive.
    #[error(
        "reading earlier findings from Security Hub (securityhub:GetFindings) failed: {error}"
    )]
    GetFindings {
        /// The AWS error code, when Security Hub answered.
        code: Option<String>,
        /// What went wrong.
        error: String,
    },
}

/// One finding Security Hub refused twice (first try and the retry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedImport {
    /// The finding's id.
    pub id: String,
    /// Security Hub's error code for it.
    pub error_code: String,
    /// Security Hub's message for it.
    pub error_message: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// Findings of this run Security Hub accepted (ACTIVE).
    pub imported: usize,
    /// Earlier findings re-imported as ARCHIVED because this run no longer has them.
    pub archived: usize,
    /// Entries refused on the first try and on the retry (this run's and archived ones).
    pub failed: Vec<FailedImport>,
    /// BatchImportFindings calls made for this run's findings (first tries only).
    pub batches: usize,
}

/// Imports `findings` (this run, ACTIVE) into `product_arn` of `account_id`, then archives the
/// thumbprint-guard findings ACTIVE there whose id is not among them. Failed entries are retried
/// once and then reported in [`ImportOutcome::failed`]; a failed call is an error.
pub async fn import(
    client: &Client,
    findings: &[AsffFinding],
    account_id: &str,
    product_arn: &str,
    now: OffsetDateTime,
) -> Result<ImportOutcome, SecurityHubError> {
    let active: Vec<AwsSecurityFinding> = findings.iter().map(to_sdk).collect();
    let mut outcome = ImportOutcome {
        batches: active.len().div_ceil(MAX_BATCH),
        ..ImportOutcome::default()
    };
    let (imported, failed) = import_with_retry(client, active).await?;
    outcome.imported = imported;
    outcome.failed = failed;

    let current: BTreeSet<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    let updated_at = rfc3339(now);
    let gone: Vec<AwsSecurityFinding> = active_findings(client, account_id, product_arn)
        .await?
        .into_iter()
        .filter(|f| f.id.as_deref().is_some_and(|id| !current.contains(id)))
        .map(|mut f| {
            f.record_state = Some(RecordState::Archived);
            f.updated_at = Some(updated_at.clone());
            f
        })
        .collect();
    let (archived, failed) = import_with_retry(client, gone).await?;
    outcome.archived = archived;
    outcome.failed.extend(failed);
    Ok(outcome)
}

/// Imports in batches, then retries the refused entries once; returns the count accepted and the
/// entries refused twice.
async fn import_with_retry(
    client: &Client,
    findings: Vec<AwsSecurityFinding>,
) -> Result<(usize, Vec<FailedImport>), SecurityHubError> {
    let (accepted, refused) = import_batches(client, &findings).await?;
    if refused.is_empty() {
        return Ok((accepted, Vec::new()));
    }
    let refused_ids: BTreeSet<&str> = refused.iter().map(|f| f.id.as_str()).collect();
    let retry: Vec<AwsSecurityFinding> = findings
        .iter()
        .filter(|f| f.id.as_deref().is_some_and(|id| refused_ids.contains(id)))
        .cloned()
        .collect();
    let (accepted_again, refused_again) = import_batches(client, &retry).await?;
    Ok((accepted + accepted_again, refused_again))
}

async fn import_batches(
    client: &Client,
    findings: &[AwsSecurityFinding],
) -> Result<(usize, Vec<FailedImport>), SecurityHubError> {
    let mut accepted = 0;
    let mut refused = Vec::new();
    for batch in findings.chunks(MAX_BATCH) {
        let output = client
            .batch_import_findings()
            .set_findings(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| {
                let (code, error) = describe(e);
                SecurityHubError::Import { code, error }
            })?;
        let failed: Vec<FailedImport> = output
            .failed_findings()
            .iter()
            .map(|f| FailedImport {
                id: f.id().unwrap_or_default().to_string(),
                error_code: f.error_code().unwrap_or_default().to_string(),
                error_message: f.error_message().unwrap_or_default().to_string(),
            })
            .collect();
        accepted += output
            .success_count()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(batch.len().saturating_sub(failed.len()));
        refused.extend(failed);
    }
    Ok((accepted, refused))
}

/// The ACTIVE findings of this product whose generator is thumbprint-guard's, every page.
async fn active_findings(
    client: &Client,
    account_id: &str,
    product_arn: &str,
) -> Result<Vec<AwsSecurityFinding>, SecurityHubError> {
    let filter = |value: &str, comparison: StringFilterComparison| {
        StringFilter::builder()
            .value(value)
            .comparison(comparison)
            .build()
    };
    let filters = AwsSecurityFindingFilters::builder()
        .product_arn(filter(product_arn, StringFilterComparison::Equals))
        .aws_account_id(filter(account_id, StringFilterComparison::Equals))
        .generator_id(filter(GENERATOR_PREFIX, StringFilterComparison::Prefix))
        .record_state(filter("ACTIVE", StringFilterComparison::Equals))
        .build();
    let mut found = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let output = client
            .get_findings()
            .filters(filters.clone())
            .max_results(100)
            .set_next_token(next_token.take())
            .send()
            .await
            .map_err(|e| {
                let (code, error) = describe(e);
                SecurityHubError::GetFindings { code, error }
            })?;
        // Filters are applied again here: an emulator or an older API may ignore some of them.
        found.extend(
            output
                .findings()
                .iter()
                .filter(|f| {
                    f.product_arn.as_deref() == Some(product_arn)
                        && f.generator_id
                            .as_deref()
                            .is_some_and(|g| g.starts_with(GENERATOR_PREFIX))
                        && f.record_state
                            .as_ref()
                            .is_none_or(|s| *s == RecordState::Active)
                })
                .cloned(),
        );
        match output.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
            _ => break,
        }
    }
    Ok(found)
}

fn describe<E, R>(error: SdkError<E, R>) -> (Option<String>, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = error.code().map(str::to_string);
    (code, DisplayErrorContext(&error).to_string())
}

/// The SDK's form of one ASFF finding (the same fields as its JSON).
fn to_sdk(finding: &AsffFinding) -> AwsSecurityFinding {
    let mut builder = AwsSecurityFinding::builder()
        .schema_version(&finding.schema_version)
        .id(&finding.id)
        .product_arn(&finding.product_arn)
        .generator_id(&finding.generator_id)
        .aws_account_id(&finding.aws_account_id)
        .set_types(Some(finding.types.clone()))
        .created_at(&finding.created_at)
        .updated_at(&finding.updated_at)
        .first_observed_at(&finding.first_observed_at)
        .last_observed_at(&finding.last_observed_at)
        .severity(
            Severity::builder()
                .label(SeverityLabel::from(finding.severity.label.as_str()))
                .build(),
        )
        .title(&finding.title)
        .description(&finding.description)
        .set_product_fields(Some(finding.product_fields.clone().into_iter().collect()))
        .record_state(RecordState::from(finding.record_state.as_str()))
        .workflow(
            Workflow::builder()
                .status(WorkflowStatus::from(finding.workflow.status.as_str()))
                .build(),
        );
    if let Some(remediation) = &finding.remediation {
        builder = builder.remediation(
            Remediation::builder()
                .recommendation(
                    Recommendation::builder()
                        .text(&remediation.recommendation.text)
                        .build(),
                )
                .build(),
        );
    }
    for resource in &finding.resources {
        builder = builder.resources(
            Resource::builder()
                .r#type(&resource.resource_type)
                .id(&resource.id)
                .partition(Partition::from(resource.partition.as_str()))
                .region(&resource.region)
                .build(),
        );
    }
    builder.build()
}
