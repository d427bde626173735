//! The in-cluster step of a run (`KUBERNETES_CHECKS=on`, DESIGN "In-cluster checks"): each
//! target's clusters read with the target's own credentials (their Kubernetes API and their Pod
//! Identity associations), then, once every target's roles are known, assessed against them, so
//! an annotation naming a role of another swept account is checked there.

use futures::stream::{self, StreamExt};
use tokio::time::Instant;

use crate::assess::kubernetes::in_cluster_findings;
use crate::aws::AwsClients;
use crate::config::Config;
use crate::inventory::{Cluster, Inventory};
use crate::kubernetes::{
    read_cluster, ApiFailure, ClusterRead, ClusterTarget, ReadLimits, TokenSigner,
};
use crate::report::{Finding, KubernetesReads, Report};
use crate::trust_policy::RoleDirectory;

/// Clusters of one target read at once (each read is a few paged GETs and two EKS calls).
pub const CLUSTERS_IN_FLIGHT: usize = 8;

/// The cluster as the reads name it: the issuer as IAM's provider path (`host/path`).
fn target(cluster: &Cluster) -> ClusterTarget {
    ClusterTarget {
        name: cluster.name.clone(),
        region: cluster.region.clone(),
        arn: cluster.arn.clone(),
        issuer_path: cluster.issuer.as_deref().map(|issuer| {
            issuer
                .trim_start_matches("https://")
                .trim_end_matches('/')
                .to_string()
        }),
    }
}

/// Reads every cluster of `inventory` with `aws`' credentials, at most [`CLUSTERS_IN_FLIGHT`] at
/// once, each bounded by `PROBE_TIMEOUT_SECS` per page and by `deadline`; in cluster ARN order.
/// Nothing when the checks are off.
pub async fn read(
    aws: &AwsClients,
    inventory: &Inventory,
    config: &Config,
    deadline: Instant,
) -> Vec<ClusterRead> {
    if !config.kubernetes_checks || inventory.clusters.is_empty() {
        return Vec::new();
    }
    let signer = TokenSigner::from_sdk(&aws.sdk);
    let limits = ReadLimits::new(config.probe_timeout);
    let mut reads: Vec<ClusterRead> = stream::iter(&inventory.clusters)
        .map(|cluster| {
            let signer = signer.as_ref();
            let limits = &limits;
            async move {
                let target = target(cluster);
                let eks = aws
                    .eks
                    .iter()
                    .find(|(region, _)| *region == cluster.region)
                    .map(|(_, client)| client);
                match (eks, signer) {
                    (Some(eks), Some(signer)) => {
                        read_cluster(eks, signer, target, limits, deadline).await
                    }
                    (_, None) => unread(
                        target,
                        ApiFailure::Token("the SDK has no credentials provider".into()),
                    ),
                    (None, _) => unread(
                        target,
                        ApiFailure::Describe(format!(
                            "no EKS client for region {}",
                            cluster.region
                        )),
                    ),
                }
            }
        })
        .buffer_unordered(CLUSTERS_IN_FLIGHT)
        .collect()
        .await;
    reads.sort_by(|a, b| a.cluster.arn.cmp(&b.cluster.arn));
    reads
}

/// A cluster none of whose sides could be read, for `why`.
fn unread(cluster: ClusterTarget, why: ApiFailure) -> ClusterRead {
    let associations = Err(crate::aws::AwsError {
        service: "eks",
        operation: "ListPodIdentityAssociations",
        failure: crate::aws::AwsFailure::Other,
        code: None,
        message: why.to_string(),
    });
    ClusterRead {
        cluster,
        api: Err(why),
        associations,
    }
}

/// The in-cluster findings of one target's reads against every swept account's roles.
pub fn assess(
    reads: &[ClusterRead],
    directory: &RoleDirectory,
    caller_arn: Option<&str>,
) -> Vec<Finding> {
    reads
        .iter()
        .flat_map(|read| in_cluster_findings(read, directory, caller_arn))
        .collect()
}

/// Each read cluster's entry in `report` says what was read (DESIGN's `kubernetes` field).
pub fn record_reads(report: &mut Report, reads: &[ClusterRead]) {
    for read in reads {
        let Some(entry) = report
            .clusters
            .iter_mut()
            .find(|c| c.arn == read.cluster.arn)
        else {
            continue;
        };
        let mut summary = KubernetesReads::default();
        let mut errors = Vec::new();
        match &read.api {
            Ok(objects) => {
                summary.service_accounts = objects.service_accounts.len();
                summary.pods = objects.pods.len();
            }
            Err(failure) => errors.push(failure.to_string()),
        }
        match &read.associations {
            Ok(associations) => summary.pod_identity_associations = associations.len(),
            Err(error) => errors.push(format!("Pod Identity associations: {error}")),
        }
        if !errors.is_empty() {
            summary.error = Some(crate::report::cap(&errors.join("; ")).into_owned());
        }
        entry.kubernetes = Some(summary);
    }
}
