//! What an in-cluster finding is about (DESIGN "In-cluster checks"): the Kubernetes object that
//! tells it apart, and the typed facts its manual fix needs.

/// The service account or pod an in-cluster finding is about. Its namespace and name are the
/// id's discriminator (DESIGN); `cluster` joins them when the finding's resource is a role rather
/// than the cluster (TRUST_POLICY_UNKNOWN_SERVICE_ACCOUNT), so one role trusting the same name on
/// two clusters gives two findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Workload {
    /// Namespace of the service account or pod.
    pub namespace: String,
    /// Name of the service account or pod.
    pub name: String,
    /// The cluster's ARN, when the finding's resource is not the cluster.
    pub cluster: Option<String>,
}

impl Workload {
    /// The text hashed into the id: `namespace/name` (neither may hold a `/` in Kubernetes), then
    /// ` @ cluster` when set.
    pub fn key(&self) -> String {
        match &self.cluster {
            None => format!("{}/{}", self.namespace, self.name),
            Some(cluster) => format!("{}/{} @ {cluster}", self.namespace, self.name),
        }
    }
}

/// Which of a cluster's two reads could not be made (CLUSTER_API_UNREACHABLE's discriminator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClusterApi {
    /// The Kubernetes API (service accounts and pods).
    Kubernetes,
    /// The EKS API's Pod Identity associations.
    PodIdentity,
}

impl ClusterApi {
    /// The text hashed into the id.
    pub fn key(self) -> &'static str {
        match self {
            ClusterApi::Kubernetes => "kubernetes-api",
            ClusterApi::PodIdentity => "pod-identity-associations",
        }
    }
}

/// Why the Kubernetes API refused or failed the read, as far as the fix differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessProblem {
    /// HTTP 401: the caller has no access entry.
    NoAccessEntry,
    /// HTTP 403: an access entry without a view policy at cluster scope.
    NoViewPolicy,
    /// No connection: usually a private endpoint out of the caller's network.
    Unreachable,
    /// The API did not answer in time.
    Timeout,
    /// Anything else (a certificate, a size cap, an unexpected answer, no credentials).
    Other,
}

/// The facts the manual fix of an in-cluster finding needs besides its code, its resource, its
/// [`Workload`] and the report's cluster entry; built by the assessment, read by the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// Give the caller read access to the cluster's Kubernetes API.
    GrantApiAccess {
        /// What went wrong.
        problem: AccessProblem,
        /// The caller's IAM role ARN, when known.
        caller_role_arn: Option<String>,
    },
    /// Let the caller call `eks:ListPodIdentityAssociations`/`eks:DescribePodIdentityAssociation`.
    AllowAssociationRead {
        /// The caller's IAM role ARN, when known.
        caller_role_arn: Option<String>,
    },
    /// Point the service account's IRSA annotation at a role (one that already trusts it, when one
    /// was found).
    Annotate {
        /// The role to name, if one trusts the service account.
        role_arn: Option<String>,
    },
    /// Add `statement` to the role's trust policy, or annotate `alternative` (a role of the same
    /// account that already trusts the workload) instead.
    Trust {
        /// The role to change.
        role_arn: String,
        /// The statement to add (IAM policy JSON).
        statement: serde_json::Value,
        /// A role that already admits the workload.
        alternative: Option<String>,
    },
    /// Create the missing role with `statement` as its trust policy, or point the annotation at
    /// `alternative` (IRSA) or the association at an existing role (Pod Identity).
    CreateRole {
        /// The ARN the annotation or association names.
        role_arn: String,
        /// The trust statement the role needs (IAM policy JSON).
        statement: serde_json::Value,
        /// A role that already admits the workload.
        alternative: Option<String>,
        /// The Pod Identity association naming the role, for a Pod Identity finding.
        association_id: Option<String>,
    },
    /// Recreate the pod so the IRSA webhook injects the current role.
    RestartPod,
    /// Set `AWS_REGION` in the pod's containers.
    SetRegion {
        /// The cluster's region.
        region: String,
    },
    /// A role trusts a service account the cluster does not have.
    UnknownServiceAccount {
        /// The cluster's name.
        cluster_name: String,
    },
    /// A Pod Identity association to delete, or whose service account to create or clear of its
    /// IRSA annotation.
    Association {
        /// `associationId`.
        association_id: String,
    },
}
