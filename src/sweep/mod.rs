//! The sweep: inventory → probe → assess → remediate → assembly, under one deadline.
//!
//! One call of [`run`] is one sweep of the account the credentials point at. Each provider goes
//! from probe to remediation as soon as its own probe is done (a stream, not a barrier), so a slow
//! or hanging issuer never delays another provider's fix; the report is assembled once at the end.
//! Only a failure to identify the account or to list providers is an `Err` (exit code 3);
//! everything else that goes wrong is a finding in the returned report.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::stream::{self, StreamExt};
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::assemble::{self, Parts, ProviderPart};
use crate::assess;
use crate::aws::AwsClients;
use crate::config::Config;
use crate::inventory::{self, InventoryError, OidcProvider};
use crate::probe::ProbeContext;
use crate::remediate;
use crate::report::{self, Report};

mod probes;

pub use probes::SharedProbes;

/// Providers (and issuer probes) in flight at once. TLS connections are bounded inside the probe
/// (`PROBE_CONCURRENCY`); this only keeps a huge account from holding every provider's state at
/// once.
pub const PROVIDERS_IN_FLIGHT: usize = 1024;

/// Told `(providers done, providers in all)` once the inventory is read and after each provider,
/// so a terminal can show how far the probes are (the sweep itself does no display).
pub type Progress = Arc<dyn Fn(usize, usize) + Send + Sync>;

/// One provider from probe to its part of the report: probe, assess, decide, apply, assemble.
async fn sweep_provider(
    aws: &AwsClients,
    ctx: &ProbeContext,
    config: &Config,
    provider: &OidcProvider,
    probes: &SharedProbes,
    now: OffsetDateTime,
    deadline: Option<Instant>,
) -> ProviderPart {
    let probe = probes.probe(ctx, &provider.url, deadline).await;
    let assessment = assess::assess_provider(provider, probe.as_ref(), config, now);
    let Some(probe) = probe else {
        return assemble::provider_part(provider, assessment, &remediate::Decision::Nothing, None);
    };
    let decision = remediate::decide(provider, &probe, &assessment.missing, config);
    let outcome = remediate::apply(&aws.iam, provider, &decision, now).await;
    assemble::provider_part(provider, assessment, &decision, outcome.as_ref())
}

/// Runs one sweep. `now` stamps the report and drives expiry; `deadline` bounds the probes.
pub async fn run(
    aws: &AwsClients,
    ctx: &ProbeContext,
    config: &Config,
    now: OffsetDateTime,
    deadline: Option<Instant>,
) -> Result<Report, InventoryError> {
    let probes = SharedProbes::new(PROVIDERS_IN_FLIGHT);
    sweep(aws, ctx, config, &probes, now, deadline, None).await
}

/// [`run`], telling `progress` how many providers are done.
pub async fn run_with_progress(
    aws: &AwsClients,
    ctx: &ProbeContext,
    config: &Config,
    now: OffsetDateTime,
    deadline: Option<Instant>,
    progress: Progress,
) -> Result<Report, InventoryError> {
    let probes = SharedProbes::new(PROVIDERS_IN_FLIGHT);
    sweep(aws, ctx, config, &probes, now, deadline, Some(progress)).await
}

/// [`run`] with probes shared beyond this account (organization mode probes an issuer and its
/// hosts once per run, whichever accounts use them). Findings are identified under the account's
/// id.
pub async fn run_with_probes(
    aws: &AwsClients,
    ctx: &ProbeContext,
    config: &Config,
    probes: &SharedProbes,
    now: OffsetDateTime,
    deadline: Option<Instant>,
) -> Result<Report, InventoryError> {
    sweep(aws, ctx, config, probes, now, deadline, None).await
}

/// One sweep with `probes`, telling `progress` (when given) how many providers are done.
async fn sweep(
    aws: &AwsClients,
    ctx: &ProbeContext,
    config: &Config,
    probes: &SharedProbes,
    now: OffsetDateTime,
    deadline: Option<Instant>,
    progress: Option<Progress>,
) -> Result<Report, InventoryError> {
    let now = report::whole_seconds(now);
    // Each provider goes to its probe as soon as inventory has read it; clusters and roles are
    // listed meanwhile.
    let (read, mut to_probe) = tokio::sync::mpsc::unbounded_channel::<OidcProvider>();
    let read_total = AtomicUsize::new(0);
    let collecting = async {
        let read = read;
        let on_read = |provider: &OidcProvider| {
            read_total.fetch_add(1, Ordering::Relaxed);
            // The receiver lives as long as this sweep: a send cannot fail while it matters.
            let _ = read.send(provider.clone());
        };
        inventory::collect_telling(aws, config, &on_read).await
    };
    let done = AtomicUsize::new(0);
    let tell = |done: usize| {
        if let Some(progress) = &progress {
            progress(done, read_total.load(Ordering::Relaxed).max(done));
        }
    };
    tell(0);
    let read_providers = stream::poll_fn(|cx| to_probe.poll_recv(cx));
    let sweeping = read_providers
        .map(|provider| {
            let tell = &tell;
            let done = &done;
            async move {
                let part = sweep_provider(aws, ctx, config, &provider, probes, now, deadline).await;
                tell(done.fetch_add(1, Ordering::Relaxed) + 1);
                part
            }
        })
        .buffer_unordered(PROVIDERS_IN_FLIGHT)
        .collect::<Vec<ProviderPart>>();
    let (inventory, providers) = tokio::join!(collecting, sweeping);
    let inventory = inventory?;

    let mut findings = inventory.problems.clone();
    let (clusters, cluster_findings) = assess::eks::cluster_findings(&inventory);
    findings.extend(cluster_findings);
    findings.extend(assess::eks::trust_findings(&inventory));
    Ok(assemble::report(
        Parts {
            account_id: inventory.account_id.clone(),
            generated_at: now,
            remediation_mode: config.remediation_mode,
            providers,
            clusters,
            findings,
        },
        |f| config.is_muted(f.code, &f.resource),
    ))
}
