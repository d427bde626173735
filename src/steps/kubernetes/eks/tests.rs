//! Unit tests of the EKS reads (DescribeCluster, the Pod Identity associations) against aws-smithy-mocks.

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
