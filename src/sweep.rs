//! The sweep: inventory → probe → assess → remediate → report, under one deadline.
//!
//! One call of [`run`] is one sweep of the account the credentials point at. Only a failure to
//! identify the account or to list providers is an `Err` (exit code 3); everything else that goes
//! wrong is a finding in the returned report.

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt};
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::assess;
use crate::config::Config;
use crate::inventory::{self, AwsClients, InventoryError};
use crate::probe::{self, HostCache, IssuerProbe, ProbeContext};
use crate::remediate;
use crate::report::{self, FindingCode, RemediationOutcome, Report, Summary, SCHEMA_VERSION};

/// Probes every provider's issuer concurrently (bounded by `PROBE_CONCURRENCY`), sharing the TLS probe
/// of a JWKS host between providers. A provider whose probe had not finished by `deadline` maps to
/// `None` (PROBE_SKIPPED).
pub async fn probe_all(
    ctx: &ProbeContext,
    issuers: &[String],
    concurrency: usize,
    deadline: Option<Instant>,
) -> BTreeMap<String, Option<IssuerProbe>> {
    let cache = HostCache::default();
    let cache = &cache;
    stream::iter(issuers.iter().cloned())
        .map(|issuer| async move {
            if deadline.is_some_and(|at| Instant::now() >= at) {
                return (issuer, None); // not even a DNS lookup once the deadline has passed
            }
            let probe = probe::probe_issuer(ctx, &issuer, cache);
            let result = match deadline {
                Some(at) => tokio::time::timeout_at(at, probe).await.ok(),
                None => Some(probe.await),
            };
            (issuer, result)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// Runs one sweep. `now` stamps the report and drives expiry; `deadline` bounds the probes.
pub async fn run(
    aws: &AwsClients,
    ctx: &ProbeContext,
    config: &Config,
    now: OffsetDateTime,
    deadline: Option<Instant>,
) -> Result<Report, InventoryError> {
    let now = report::whole_seconds(now);
    let inventory = inventory::collect(aws, config).await?;
    let issuers: Vec<String> = inventory.providers.iter().map(|p| p.url.clone()).collect();
    let probes = probe_all(ctx, &issuers, config.probe_concurrency, deadline).await;

    let mut findings = inventory.problems.clone();
    let mut providers = Vec::with_capacity(inventory.providers.len());
    for provider in &inventory.providers {
        let probe = probes.get(&provider.url).and_then(Option::as_ref);
        let mut entry = assess::provider_report(provider, probe);
        let mut provider_findings = assess::provider_findings(provider, probe, config, now);
        if let Some(probe) = probe {
            let decision = remediate::decide(provider, probe, config);
            let remediation = remediate::apply(&aws.iam, provider, &decision, now).await;
            if let Some(r) = remediation
                .as_ref()
                .filter(|r| r.outcome == RemediationOutcome::Applied)
            {
                provider_findings.retain(|f| {
                    !(f.code == FindingCode::ThumbprintMismatch
                        && f.details
                            .get("thumbprint")
                            .and_then(|t| t.as_str())
                            .is_some_and(|t| r.added.iter().any(|a| a == t)))
                });
                for added in &r.added {
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
