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
mod tests {
    use super::*;
    use crate::aws::AwsFailure;
    use crate::test_mocks::mock_client;
    use aws_sdk_eks::operation::describe_cluster::DescribeClusterOutput;
    use aws_sdk_eks::operation::describe_pod_identity_association::{
        DescribePodIdentityAssociationError, DescribePodIdentityAssociationOutput,
    };
    use aws_sdk_eks::operation::list_pod_identity_associations::ListPodIdentityAssociationsOutput;
    use aws_sdk_eks::types::error::ResourceNotFoundException;
    use aws_sdk_eks::types::{
        Certificate, Cluster, ClusterStatus, PodIdentityAssociation as Described,
        PodIdentityAssociationSummary,
    };
    use aws_smithy_mocks::{mock, MockResponse};
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    fn error(status: u16, kind: &str, message: &str) -> HttpResponse {
        let mut response = HttpResponse::new(
            StatusCode::try_from(status).unwrap(),
            SdkBody::from(format!(r#"{{"message":"{message}"}}"#)),
        );
        response
            .headers_mut()
            .insert("x-amzn-errortype", kind.to_string());
        response
            .headers_mut()
            .insert("content-type", "application/json");
        response
    }

    fn cluster(endpoint: Option<&str>, ca: Option<&str>) -> DescribeClusterOutput {
        let mut cluster = Cluster::builder()
            .name("prod")
            .status(ClusterStatus::Active);
        if let Some(endpoint) = endpoint {
            cluster = cluster.endpoint(endpoint);
        }
        if let Some(ca) = ca {
            cluster = cluster.certificate_authority(Certificate::builder().data(ca).build());
        }
        DescribeClusterOutput::builder()
            .cluster(cluster.build())
            .build()
    }

    /// A self-signed CA certificate as PEM, generated now.
    fn ca_pem() -> String {
        rcgen::generate_simple_self_signed(vec!["kubernetes".to_string()])
            .unwrap()
            .cert
            .pem()
    }

    #[tokio::test]
    async fn the_endpoint_and_the_decoded_ca_are_read() {
        let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem());
        let describe = mock!(aws_sdk_eks::Client::describe_cluster)
            .match_requests(|r| r.name() == Some("prod"))
            .then_output(move || {
                cluster(
                    Some("https://ABC.gr7.us-east-1.eks.amazonaws.com"),
                    Some(&ca),
                )
            });
        let eks = mock_client!(aws_sdk_eks, [&describe], 1);
        let endpoint = describe_endpoint(&eks, "prod").await.unwrap();
        assert_eq!(
            endpoint.url.as_str(),
            "https://abc.gr7.us-east-1.eks.amazonaws.com/"
        );
        assert_eq!(endpoint.roots.len(), 1);
    }

    #[test]
    fn a_ca_that_is_not_a_pem_certificate_is_a_describe_failure() {
        let url = Url::parse("https://x.example").unwrap();
        for (pem, expected) in [
            ("not a certificate".to_string(), "holds no certificate"),
            (
                "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".to_string(),
                "not PEM",
            ),
            (
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_string(),
                "cannot be a trust anchor",
            ),
        ] {
            match ClusterEndpoint::new(url.clone(), pem.as_bytes()) {
                Err(ApiFailure::Describe(message)) => {
                    assert!(message.contains(expected), "{expected}: {message}")
                }
                other => panic!("{expected}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_cluster_without_endpoint_or_ca_or_with_bad_values_is_a_describe_failure() {
        let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem());
        let cases: Vec<(DescribeClusterOutput, &str)> = vec![
            (cluster(None, Some(&ca)), "no endpoint yet (status ACTIVE)"),
            (
                cluster(Some("https://x.example"), None),
                "no certificate authority yet",
            ),
            (
                cluster(Some("http://x.example"), Some(&ca)),
                "not an https URL",
            ),
            (
                cluster(Some("https://x.example"), Some("%%%")),
                "not base64",
            ),
        ];
        for (output, expected) in cases {
            let describe =
                mock!(aws_sdk_eks::Client::describe_cluster).then_output(move || output.clone());
            let eks = mock_client!(aws_sdk_eks, [&describe], 1);
            match describe_endpoint(&eks, "prod").await {
                Err(ApiFailure::Describe(message)) => {
                    assert!(message.contains(expected), "{message}")
                }
                other => panic!("{expected}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn describe_cluster_denied_says_which_permission() {
        let describe = mock!(aws_sdk_eks::Client::describe_cluster).then_http_response(|| {
            error(
                403,
                "AccessDeniedException",
                "User is not authorized to perform: eks:DescribeCluster",
            )
        });
        let eks = mock_client!(aws_sdk_eks, [&describe], 1);
        match describe_endpoint(&eks, "prod").await {
            Err(ApiFailure::Describe(message)) => {
                assert!(
                    message.starts_with("eks:DescribeCluster: AccessDeniedException"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    fn summary(id: &str) -> PodIdentityAssociationSummary {
        PodIdentityAssociationSummary::builder()
            .association_id(id)
            .cluster_name("prod")
            .build()
    }

    fn described(id: &str) -> DescribePodIdentityAssociationOutput {
        let (namespace, account) = match id {
            "a-1" => ("payments", "api"),
            "a-2" => ("billing", "worker"),
            _ => ("payments", "cron"),
        };
        DescribePodIdentityAssociationOutput::builder()
            .association(
                Described::builder()
                    .association_id(id)
                    .namespace(namespace)
                    .service_account(account)
                    .role_arn(format!("arn:aws:iam::123456789012:role/{account}"))
                    .build(),
            )
            .build()
    }

    #[tokio::test]
    async fn associations_are_listed_over_pages_and_described() {
        let first = mock!(aws_sdk_eks::Client::list_pod_identity_associations)
            .match_requests(|r| r.next_token().is_none() && r.cluster_name() == Some("prod"))
            .then_output(|| {
                ListPodIdentityAssociationsOutput::builder()
                    .associations(summary("a-1"))
                    .associations(summary("gone"))
                    .next_token("page-2")
                    .build()
            });
        let second = mock!(aws_sdk_eks::Client::list_pod_identity_associations)
            .match_requests(|r| r.next_token() == Some("page-2"))
            .then_output(|| {
                ListPodIdentityAssociationsOutput::builder()
                    .associations(summary("a-2"))
                    .associations(summary("a-3"))
                    .build()
            });
        let describe = mock!(aws_sdk_eks::Client::describe_pod_identity_association)
            .then_compute_response(|r| match r.association_id() {
                Some("gone") => MockResponse::Error(
                    DescribePodIdentityAssociationError::ResourceNotFoundException(
                        ResourceNotFoundException::builder()
                            .message("not found")
                            .build(),
                    ),
                ),
                id => MockResponse::Output(described(id.unwrap_or_default())),
            });
        let eks = mock_client!(aws_sdk_eks, [&first, &second, &describe], 1);
        let associations = list_associations(&eks, "prod").await.unwrap();
        let seen: Vec<(&str, &str, &str, &str)> = associations
            .iter()
            .map(|a| {
                (
                    a.namespace.as_str(),
                    a.service_account.as_str(),
                    a.association_id.as_str(),
                    a.role_arn.as_str(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "billing",
                    "worker",
                    "a-2",
                    "arn:aws:iam::123456789012:role/worker"
                ),
                (
                    "payments",
                    "api",
                    "a-1",
                    "arn:aws:iam::123456789012:role/api"
                ),
                (
                    "payments",
                    "cron",
                    "a-3",
                    "arn:aws:iam::123456789012:role/cron"
                ),
            ]
        );
        assert_eq!(describe.num_calls(), 4);
    }

    #[tokio::test]
    async fn throttling_is_retried_and_then_reported() {
        let throttled = mock!(aws_sdk_eks::Client::list_pod_identity_associations)
            .then_http_response(|| error(429, "ThrottlingException", "Rate exceeded"));
        let eks = mock_client!(aws_sdk_eks, [&throttled], 3);
        let failure = list_associations(&eks, "prod").await.unwrap_err();
        assert_eq!(throttled.num_calls(), 3, "the SDK's retries ran");
        assert_eq!(failure.failure, AwsFailure::Service);
        assert_eq!(failure.code.as_deref(), Some("ThrottlingException"));
        assert_eq!(failure.operation, "ListPodIdentityAssociations");
    }

    #[tokio::test]
    async fn one_denied_description_fails_the_list() {
        let list = mock!(aws_sdk_eks::Client::list_pod_identity_associations).then_output(|| {
            ListPodIdentityAssociationsOutput::builder()
                .associations(summary("a-1"))
                .associations(summary("a-2"))
                .build()
        });
        let describe = mock!(aws_sdk_eks::Client::describe_pod_identity_association)
            .then_compute_response(|r| match r.association_id() {
                Some("a-2") => MockResponse::Http(error(
                    403,
                    "AccessDeniedException",
                    "User is not authorized to perform: eks:DescribePodIdentityAssociation",
                )),
                id => MockResponse::Output(described(id.unwrap_or_default())),
            });
        let eks = mock_client!(aws_sdk_eks, [&list, &describe], 1);
        let failure = list_associations(&eks, "prod").await.unwrap_err();
        assert!(failure.is_access_denied(), "{failure:?}");
        assert_eq!(failure.operation, "DescribePodIdentityAssociation");
    }
}
