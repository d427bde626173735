//! What the in-cluster checks read from the EKS API: the cluster's endpoint and CA
//! (`DescribeCluster`), and its Pod Identity associations (`ListPodIdentityAssociations`, then
//! `DescribePodIdentityAssociation` for each, since only the description names the role).

use std::sync::Arc;

use base64::Engine as _;
use futures::stream::{self, StreamExt, TryStreamExt};
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::CertificateDer;
use url::Url;

use super::model::{ApiFailure, PodIdentityAssociation};
use crate::aws::AwsError;
use crate::report::cap;

/// `DescribePodIdentityAssociation` calls in flight per cluster.
pub const DESCRIBE_CONCURRENCY: usize = 8;

/// Where a cluster's Kubernetes API is and what signs its certificate.
#[derive(Debug, Clone)]
pub struct ClusterEndpoint {
    /// `cluster.endpoint`: `https://HOST[:PORT]`.
    pub url: Url,
    /// The only trust anchors of its API server: `cluster.certificateAuthority.data`.
    pub roots: Arc<RootCertStore>,
}

impl ClusterEndpoint {
    /// `url`, trusting only the certificates of `ca_pem` (EKS's `certificateAuthority.data`,
    /// base64-decoded: PEM).
    pub fn new(url: Url, ca_pem: &[u8]) -> Result<Self, ApiFailure> {
        let mut roots = RootCertStore::empty();
        for certificate in CertificateDer::pem_slice_iter(ca_pem) {
            let certificate = certificate.map_err(|e| {
                ApiFailure::Describe(format!("certificateAuthority.data is not PEM ({e})"))
            })?;
            roots.add(certificate).map_err(|e| {
                ApiFailure::Describe(format!(
                    "certificateAuthority.data holds a certificate that cannot be a trust anchor ({e})"
                ))
            })?;
        }
        if roots.is_empty() {
            return Err(ApiFailure::Describe(
                "certificateAuthority.data holds no certificate".to_string(),
            ));
        }
        Ok(ClusterEndpoint {
            url,
            roots: Arc::new(roots),
        })
    }
}

/// The endpoint and CA of cluster `name` (`eks:DescribeCluster`). A cluster still being created
/// has neither yet.
pub async fn describe_endpoint(
    eks: &aws_sdk_eks::Client,
    name: &str,
) -> Result<ClusterEndpoint, ApiFailure> {
    let output = eks
        .describe_cluster()
        .name(name)
        .send()
        .await
        .map_err(|e| {
            ApiFailure::Describe(AwsError::from_sdk("eks", "DescribeCluster", &e).to_string())
        })?;
    let cluster = output
        .cluster()
        .ok_or_else(|| ApiFailure::Describe("DescribeCluster returned no cluster".to_string()))?;
    let status = cluster
        .status()
        .map(|s| format!(" (status {})", s.as_str()))
        .unwrap_or_default();
    let endpoint = cluster
        .endpoint()
        .filter(|e| !e.is_empty())
        .ok_or_else(|| ApiFailure::Describe(format!("the cluster has no endpoint yet{status}")))?;
    let url = Url::parse(endpoint).map_err(|e| {
        ApiFailure::Describe(format!(
            "the endpoint '{}' is not a URL: {e}",
            cap(endpoint)
        ))
    })?;
    if url.scheme() != "https" || url.host_str().is_none() {
        return Err(ApiFailure::Describe(format!(
            "the endpoint '{}' is not an https URL",
            cap(endpoint)
        )));
    }
    let data = cluster
        .certificate_authority()
        .and_then(|ca| ca.data())
        .filter(|d| !d.is_empty())
        .ok_or_else(|| {
            ApiFailure::Describe(format!(
                "the cluster has no certificate authority yet{status}"
            ))
        })?;
    let ca_pem = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| {
            ApiFailure::Describe(format!("certificateAuthority.data is not base64 ({e})"))
        })?;
    ClusterEndpoint::new(url, &ca_pem)
}

/// Every Pod Identity association of cluster `name`, sorted by namespace, service account and id.
/// An association deleted between the listing and its description is left out; any other failure
/// fails the whole list (a partial list would hide a service account's second identity).
pub async fn list_associations(
    eks: &aws_sdk_eks::Client,
    name: &str,
) -> Result<Vec<PodIdentityAssociation>, AwsError> {
    let ids: Vec<String> = eks
        .list_pod_identity_associations()
        .cluster_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("eks", "ListPodIdentityAssociations", &e))?
        .into_iter()
        .filter_map(|summary| summary.association_id)
        .collect();
    let described: Vec<Option<PodIdentityAssociation>> = stream::iter(ids)
        .map(|id| describe_association(eks, name, id))
        .buffer_unordered(DESCRIBE_CONCURRENCY)
        .try_collect()
        .await?;
    let mut associations: Vec<PodIdentityAssociation> = described.into_iter().flatten().collect();
    associations.sort_by(|a, b| {
        (&a.namespace, &a.service_account, &a.association_id).cmp(&(
            &b.namespace,
            &b.service_account,
            &b.association_id,
        ))
    });
    Ok(associations)
}

/// One association; `None` when it no longer exists.
async fn describe_association(
    eks: &aws_sdk_eks::Client,
    cluster: &str,
    id: String,
) -> Result<Option<PodIdentityAssociation>, AwsError> {
    let output = match eks
        .describe_pod_identity_association()
        .cluster_name(cluster)
        .association_id(&id)
        .send()
        .await
    {
        Ok(output) => output,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            tracing::info!(cluster, association = %id, "association deleted while listing");
            return Ok(None);
        }
        Err(e) => {
            return Err(AwsError::from_sdk(
                "eks",
                "DescribePodIdentityAssociation",
                &e,
            ))
        }
    };
    let Some(association) = output.association() else {
        return Ok(None);
    };
    let text = |value: Option<&str>| cap(value.unwrap_or_default()).into_owned();
    Ok(Some(PodIdentityAssociation {
        association_id: cap(association.association_id().unwrap_or(&id)).into_owned(),
        namespace: text(association.namespace()),
        service_account: text(association.service_account()),
        role_arn: text(association.role_arn()),
    }))
}

#[cfg(test)]
mod tests;
