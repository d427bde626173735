//! One cluster's reads, start to end: its endpoint from EKS, its service accounts and pods from
//! its API, and its Pod Identity associations from EKS, the two sides at once and both within the
//! run's deadline.

use tokio::time::Instant;

use super::api::{read_api, ReadLimits};
use super::eks::{describe_endpoint, list_associations};
use super::model::{ApiFailure, ClusterRead, ClusterTarget};
use super::token::TokenSigner;
use crate::aws::{AwsError, AwsFailure};

/// Reads `cluster`: `eks` must be a client of the cluster's region; `signer` signs the tokens
/// (with the credentials that have an access entry on the cluster). Never fails as a whole: each
/// side says why it could not be read, and nothing outlives `deadline`.
pub async fn read_cluster(
    eks: &aws_sdk_eks::Client,
    signer: &TokenSigner,
    cluster: ClusterTarget,
    limits: &ReadLimits,
    deadline: Instant,
) -> ClusterRead {
    let api = async {
        let endpoint =
            match tokio::time::timeout_at(deadline, describe_endpoint(eks, &cluster.name)).await {
                Ok(endpoint) => endpoint?,
                Err(_) => {
                    return Err(ApiFailure::Timeout(
                        "the run's deadline came during eks:DescribeCluster".to_string(),
                    ))
                }
            };
        read_api(&endpoint, signer, &cluster, limits, deadline).await
    };
    let associations = async {
        tokio::time::timeout_at(deadline, list_associations(eks, &cluster.name))
            .await
            .unwrap_or_else(|_| {
                Err(AwsError {
                    service: "eks",
                    operation: "ListPodIdentityAssociations",
                    failure: AwsFailure::Timeout,
                    code: None,
                    message: "the run's deadline came before the associations were read"
                        .to_string(),
                })
            })
    };
    let (api, associations) = tokio::join!(api, associations);
    match &api {
        Ok(objects) => tracing::info!(
            cluster = %cluster.name,
            region = %cluster.region,
            service_accounts = objects.service_accounts.len(),
            pods = objects.pods.len(),
            "cluster API read"
        ),
        Err(failure) => tracing::warn!(
            cluster = %cluster.name,
            region = %cluster.region,
            error = %failure,
            "cluster API could not be read"
        ),
    }
    if let Err(error) = &associations {
        tracing::warn!(cluster = %cluster.name, error = %error, "Pod Identity associations could not be read");
    }
    ClusterRead {
        cluster,
        api,
        associations,
    }
}
