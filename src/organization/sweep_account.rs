//! One account's sweep inside an organization run: the steps of [`crate::sweep::run`], with the
//! issuer probes taken from the run's [`SharedProbes`] instead of a per-account cache.

use time::OffsetDateTime;
use tokio::time::Instant;

use super::SharedProbes;
use crate::assess;
use crate::config::Config;
use crate::inventory::{self, AwsClients, InventoryError};
use crate::probe::ProbeContext;
use crate::remediate;
use crate::report::{self, FindingCode, RemediationOutcome, Report, Summary, SCHEMA_VERSION};

/// Sweeps the account `aws` points at exactly as a single-account run would (remediation policy
/// and tags included), probing issuers through `probes`; findings are identified under the
/// account's id.
pub async fn sweep_account(
    aws: &AwsClients,
    ctx: &ProbeContext,
    config: &Config,
    now: OffsetDateTime,
    deadline: Option<Instant>,
    probes: &SharedProbes,
) -> Result<Report, InventoryError> {
    let now = report::whole_seconds(now);
    let inventory = inventory::collect(aws, config).await?;
    let issuers: Vec<String> = inventory.providers.iter().map(|p| p.url.clone()).collect();
    let probed = probes.probe_all(ctx, &issuers, deadline).await;

    let mut findings = inventory.problems.clone();
    let mut providers = Vec::with_capacity(inventory.providers.len());
    for provider in &inventory.providers {
        let probe = probed.get(&provider.url).and_then(Option::as_ref);
        let mut entry = assess::provider_report(provider, probe);
        let mut provider_findings = assess::provider_findings(provider, probe, config, now);
        if let Some(probe) = probe {
            let decision = remediate::decide(provider, probe, config);
            let remediation = remediate::apply(&aws.iam, provider, &decision, now).await;
            if let Some(applied) = remediation
                .as_ref()
                .filter(|r| r.outcome == RemediationOutcome::Applied)
            {
                provider_findings.retain(|f| {
                    !(f.code == FindingCode::ThumbprintMismatch
                        && f.discriminator
                            .thumbprint()
                            .or_else(|| f.details.get("thumbprint").and_then(|t| t.as_str()))
                            .is_some_and(|t| applied.added.iter().any(|a| a == t)))
                });
                for added in &applied.added {
                    if !entry.configured_thumbprints.contains(added) {
                        entry.configured_thumbprints.push(added.clone());
                    }
                }
            }
            provider_findings.extend(remediate::findings(
                provider,
                &decision,
                remediation.as_ref(),
            ));
            entry.remediation = remediation;
        }
        findings.extend(provider_findings);
        providers.push(entry);
    }
    let (clusters, cluster_findings) = assess::eks::cluster_findings(&inventory);
    findings.extend(cluster_findings);
    findings.extend(assess::eks::trust_findings(&inventory));
    for finding in &mut findings {
        finding.identify(&inventory.account_id);
    }
    report::sort_findings(&mut findings);

    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        account_id: inventory.account_id.clone(),
        generated_at: now,
        remediation_mode: config.remediation_mode,
        providers,
        clusters,
        findings,
        resolved: Vec::new(),
        summary: Summary::default(),
    };
    report.recount();
    Ok(report)
}
