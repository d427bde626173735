//! In-cluster checks' reads (DESIGN "In-cluster checks"): each EKS cluster's service accounts and
//! pods through its Kubernetes API, and its Pod Identity associations through the EKS API.

pub mod model;

pub use model::{
    ApiFailure, ApiObjects, ClusterRead, ClusterTarget, ContainerEnv, Pod, PodIdentityAssociation,
    ServiceAccount, ROLE_ARN_ANNOTATION,
};
