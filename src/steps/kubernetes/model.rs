//! What the in-cluster checks read (DESIGN "In-cluster checks"): per cluster, its service accounts
//! and pods from the Kubernetes API and its EKS Pod Identity associations from the EKS API. Only the
//! fields the checks use are kept; every string is capped ([`crate::report::cap`]) when read,
//! since the cluster's API is outside the tool's control.

use crate::aws::AwsError;

/// The annotation IRSA reads on a service account.
pub const ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

/// One EKS cluster whose API is read: what `DescribeCluster` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterTarget {
    /// Cluster name (the `x-k8s-aws-id` of its token).
    pub name: String,
    /// Region.
    pub region: String,
    /// Cluster ARN (the resource of its findings).
    pub arn: String,
    /// The issuer's IAM provider path (`oidc.eks.REGION.amazonaws.com/id/X`), when the cluster has
    /// an issuer.
    pub issuer_path: Option<String>,
}

/// A service account, with only what IRSA uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// The value of [`ROLE_ARN_ANNOTATION`], if the annotation is present (raw, capped).
    pub role_arn: Option<String>,
}

/// The IRSA-relevant environment of one container (or init container) of a pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerEnv {
    /// Container name.
    pub name: String,
    /// The literal value of `AWS_ROLE_ARN`, if set.
    pub role_arn: Option<String>,
    /// Whether `AWS_WEB_IDENTITY_TOKEN_FILE` is set.
    pub web_identity_token_file: bool,
    /// Whether `AWS_REGION` or `AWS_DEFAULT_REGION` is set.
    pub region: bool,
}

/// A pod, with only what the checks use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pod {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.serviceAccountName` (`default` when absent, as Kubernetes does).
    pub service_account: String,
    /// `status.phase == "Running"`.
    pub running: bool,
    /// `spec.containers` then `spec.initContainers`.
    pub containers: Vec<ContainerEnv>,
}

/// An EKS Pod Identity association (`eks:DescribePodIdentityAssociation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodIdentityAssociation {
    /// `associationId`.
    pub association_id: String,
    /// Namespace of the service account it names.
    pub namespace: String,
    /// Name of the service account it names.
    pub service_account: String,
    /// `roleArn`.
    pub role_arn: String,
}

/// What the Kubernetes API of one cluster served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiObjects {
    /// Every service account of every namespace.
    pub service_accounts: Vec<ServiceAccount>,
    /// Every pod of every namespace.
    pub pods: Vec<Pod>,
}

/// Why a cluster's Kubernetes API could not be read; each says what a person does about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiFailure {
    /// `eks:DescribeCluster` failed or gave no endpoint or CA.
    #[error("the cluster's endpoint could not be read: {0}")]
    Describe(String),
    /// The endpoint resolves to an address the tool never contacts (link-local, metadata).
    #[error("the endpoint resolves to {0}, an address the tool never contacts")]
    AddressRefused(String),
    /// No connection (DNS, TCP): usually a private endpoint out of the function's network.
    #[error("the endpoint could not be reached: {0}")]
    Unreachable(String),
    /// The API server's chain did not verify against the cluster's CA.
    #[error("the API server's certificate did not verify against the cluster's CA: {0}")]
    Tls(String),
    /// A page or the connection took longer than `PROBE_TIMEOUT_SECS`, or the run's deadline came.
    #[error("the API did not answer in time ({0})")]
    Timeout(String),
    /// 401: the token was not accepted (no access entry for the caller's role).
    #[error(
        "the API refused the token (HTTP 401): the caller has no access entry on this cluster"
    )]
    Unauthorized,
    /// 403: authenticated but not allowed to list (no view access policy).
    #[error("the API denied the read (HTTP 403): {0}")]
    Forbidden(String),
    /// Another HTTP status.
    #[error("the API answered HTTP {0}")]
    Status(u16),
    /// A page over the size cap.
    #[error("an API answer exceeded {0} bytes")]
    TooLarge(usize),
    /// A page that is not the expected JSON.
    #[error("an API answer could not be read: {0}")]
    Invalid(String),
    /// The token could not be made (no credentials to sign with).
    #[error("no token could be made: {0}")]
    Token(String),
}

/// Everything read for one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterRead {
    /// The cluster.
    pub cluster: ClusterTarget,
    /// Service accounts and pods, or why they could not be read.
    pub api: Result<ApiObjects, ApiFailure>,
    /// Pod Identity associations, or why they could not be listed.
    pub associations: Result<Vec<PodIdentityAssociation>, AwsError>,
}
