//! CLUSTER_API_UNREACHABLE: the cluster's Kubernetes API, or its Pod Identity associations, could
//! not be read; the message says which failure and how to grant the access.

use serde_json::json;

use super::cluster::{shown, Cluster};
use crate::aws::AwsError;
use crate::kubernetes::ApiFailure;
use crate::report::{AccessProblem, ClusterApi, Discriminator, Finding, FindingCode, Remedy};

/// The Kubernetes API of the cluster could not be read.
pub(super) fn api_unreachable(
    cluster: &Cluster<'_>,
    failure: &ApiFailure,
    caller: Option<&str>,
) -> Finding {
    let (problem, how) = what_to_do(failure, caller);
    let message = format!(
        "The Kubernetes API of {} could not be read, so its service accounts and pods were not checked: {}. {how}",
        cluster.label(),
        shown(&failure.to_string())
    );
    Finding::new(
        FindingCode::ClusterApiUnreachable,
        &cluster.target.arn,
        message,
    )
    .with_discriminator(Discriminator::ClusterRead(ClusterApi::Kubernetes))
    .with_details(cluster.details(json!({
        "api": "kubernetes",
        "error": shown(&failure.to_string()),
    })))
    .with_remedy(Remedy::GrantApiAccess {
        problem,
        caller_role_arn: caller.map(str::to_string),
    })
}

/// The kind of fix and the sentence that says it.
fn what_to_do(failure: &ApiFailure, caller: Option<&str>) -> (AccessProblem, String) {
    let role = caller.map_or_else(
        || "the role thumbprint-guard runs as".to_string(),
        |arn| format!("the role thumbprint-guard runs as ({arn})"),
    );
    match failure {
        ApiFailure::Unauthorized => (
            AccessProblem::NoAccessEntry,
            format!(
                "Give {role} an EKS access entry with the AmazonEKSViewPolicy access policy at cluster scope \
                 (aws eks create-access-entry, then aws eks associate-access-policy)."
            ),
        ),
        ApiFailure::Forbidden(_) => (
            AccessProblem::NoViewPolicy,
            format!(
                "Associate the AmazonEKSViewPolicy access policy at cluster scope with the access entry of {role} \
                 (aws eks associate-access-policy)."
            ),
        ),
        ApiFailure::Unreachable(_) | ApiFailure::AddressRefused(_) => (
            AccessProblem::Unreachable,
            "The endpoint is probably private: run thumbprint-guard in the cluster's VPC, or enable the public \
             endpoint for the addresses it runs from."
                .to_string(),
        ),
        ApiFailure::Timeout(_) => (
            AccessProblem::Timeout,
            "The API server or the network path to it is slow: raise PROBE_TIMEOUT_SECS, or the function's \
             timeout if the run's deadline came first."
                .to_string(),
        ),
        ApiFailure::Tls(_) => (
            AccessProblem::Other,
            "The API server's certificate does not chain to the CA that DescribeCluster returned: check \
             that nothing between here and the endpoint intercepts TLS."
                .to_string(),
        ),
        ApiFailure::Describe(_) | ApiFailure::Token(_) => (
            AccessProblem::Other,
            format!("Check that {role} may call eks:DescribeCluster and has credentials to sign with."),
        ),
        ApiFailure::Status(_) | ApiFailure::TooLarge(_) | ApiFailure::Invalid(_) => (
            AccessProblem::Other,
            "Run the sweep again; if it persists, check the API server's health.".to_string(),
        ),
    }
}

/// The cluster's Pod Identity associations could not be listed (the service accounts and pods
/// may still have been read: this finding has its own discriminator).
pub(super) fn associations_unreadable(
    cluster: &Cluster<'_>,
    error: &AwsError,
    caller: Option<&str>,
) -> Finding {
    let (how, remedy) = if error.is_access_denied() {
        (
            "Allow eks:ListPodIdentityAssociations and eks:DescribePodIdentityAssociation to the role \
             thumbprint-guard runs as."
                .to_string(),
            Remedy::AllowAssociationRead {
                caller_role_arn: caller.map(str::to_string),
            },
        )
    } else {
        (
            "Run the sweep again; if it persists, check the EKS API's reachability from where the sweep runs."
                .to_string(),
            Remedy::GrantApiAccess {
                problem: AccessProblem::Other,
                caller_role_arn: caller.map(str::to_string),
            },
        )
    };
    let message = format!(
        "The EKS Pod Identity associations of {} could not be listed, so they were not checked: {}. {how}",
        cluster.label(),
        shown(&error.to_string())
    );
    Finding::new(
        FindingCode::ClusterApiUnreachable,
        &cluster.target.arn,
        message,
    )
    .with_discriminator(Discriminator::ClusterRead(ClusterApi::PodIdentity))
    .with_details(cluster.details(json!({
        "api": "pod-identity-associations",
        "operation": format!("{}:{}", error.service, error.operation),
        "error": shown(&error.to_string()),
    })))
    .with_remedy(remedy)
}
