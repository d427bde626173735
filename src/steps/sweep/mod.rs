//! The sweep: inventory → probe → assess → remediate → assembly, under one deadline.
//!
//! One call of [`run`] is one sweep of the account the credentials point at. Each provider goes
//! from probe to remediation as soon as its own probe is done (a stream, not a barrier), so a slow
//! or hanging issuer never delays another provider's fix; the report is assembled once at the end.
//! Only a failure to identify the account or to list providers is an `Err` (exit code 3);
//! everything else that goes wrong is a finding in the returned report.

use futures::stream::{self, StreamExt};
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::assemble::{self, ProviderResult, ReportInputs};
use crate::assess;
use crate::aws::AwsClients;
use crate::config::Config;
use crate::inventory::{self, Inventory, InventoryError, OidcProvider};
use crate::probe::ProbeContext;
use crate::remediate;
use crate::report::{self, Report};

mod probes;

pub use probes::{SharedProbes, PROVIDERS_IN_FLIGHT};

/// What a sweep tells its caller as it goes, so a terminal can show how far the probes are (the
/// sweep itself does no display).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Inventory has read one more provider.
    Read,
    /// One more provider is done (probed, assessed, remediated).
    Done,
}

/// Where a sweep sends its [`Tick`]s.
pub type Progress<'a> = &'a (dyn Fn(Tick) + Sync);

/// One provider from probe to its result: probe, assess, decide, apply, assemble.
async fn sweep_provider(
    aws: &AwsClients,
    ctx: &ProbeContext,
    config: &Config,
    provider: &OidcProvider,
    probes: &SharedProbes,
    now: OffsetDateTime,
    deadline: Option<Instant>,
) -> ProviderResult {
    let probe = probes.probe(ctx, &provider.url, deadline).await;
    let assessment = assess::assess_provider(provider, probe.as_ref(), config, now);
    let Some(probe) = probe else {
        return assemble::provider_result(
            provider,
            assessment,
            &remediate::Decision::Nothing,
            None,
        );
    };
    let decision = remediate::decide(provider, &probe, &assessment.missing, config);
    let outcome = remediate::apply(&aws.iam, provider, &decision, now).await;
    assemble::provider_result(provider, assessment, &decision, outcome.as_ref())
}

/// One account's sweep: its report, and the inventory it was made from (the in-cluster step reads
/// the clusters and roles of it).
#[derive(Debug)]
pub struct AccountSweep {
    /// The account's report.
    pub report: Report,
    /// What was read from AWS.
    pub inventory: Inventory,
}

/// Sweeps the account `aws` points at. `now` stamps the report and drives expiry; `deadline`
/// bounds the probes; `probes` may be shared beyond this account (organization mode probes an
/// issuer and its hosts once per run, whichever accounts use them); `progress` is told of each
/// provider read and done.
pub async fn run(
    aws: &AwsClients,
    ctx: &ProbeContext,
    config: &Config,
    probes: &SharedProbes,
    now: OffsetDateTime,
    deadline: Option<Instant>,
    progress: Progress<'_>,
) -> Result<AccountSweep, InventoryError> {
    let now = report::whole_seconds(now);
    // Each provider goes to its probe as soon as inventory has read it; clusters and roles are
    // listed meanwhile.
    let (read, mut to_probe) = tokio::sync::mpsc::unbounded_channel::<OidcProvider>();
    let collecting = async {
        let read = read;
        let on_read = |provider: &OidcProvider| {
            progress(Tick::Read);
            // The receiver lives as long as this sweep: a send cannot fail while it matters.
            let _ = read.send(provider.clone());
        };
        inventory::collect_telling(aws, config, &on_read).await
    };
    let read_providers = stream::poll_fn(|cx| to_probe.poll_recv(cx));
    let sweeping = read_providers
        .map(|provider| async move {
            let result = sweep_provider(aws, ctx, config, &provider, probes, now, deadline).await;
            progress(Tick::Done);
            result
        })
        .buffer_unordered(PROVIDERS_IN_FLIGHT)
        .collect::<Vec<ProviderResult>>();
    let (inventory, providers) = tokio::join!(collecting, sweeping);
    let inventory = inventory?;

    let mut findings = inventory.problems.clone();
    let (clusters, cluster_findings) = assess::eks::cluster_findings(&inventory);
    findings.extend(cluster_findings);
    findings.extend(assess::eks::trust_findings(&inventory));
    let report = assemble::report(
        ReportInputs {
            account_id: inventory.account_id.clone(),
            generated_at: now,
            remediation_mode: config.remediation_mode,
            providers,
            clusters,
            findings,
        },
        |f| config.is_muted(f.code, &f.resource),
    );
    Ok(AccountSweep { report, inventory })
}
