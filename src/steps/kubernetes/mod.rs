//! In-cluster checks' reads (DESIGN "In-cluster checks"): each EKS cluster's service accounts and
//! pods through its Kubernetes API, and its Pod Identity associations through the EKS API.
//!
//! # Use
//! ```ignore
//! let signer = TokenSigner::from_sdk(&sdk).expect("credentials");   // once per set of credentials
//! let limits = ReadLimits::new(config.probe_timeout);                // PROBE_TIMEOUT_SECS per page
//! let read: ClusterRead = read_cluster(&eks_of_the_region, &signer, target, &limits, deadline).await;
//! ```
//! [`read_cluster`] never fails as a whole: `read.api` is the objects or the [`ApiFailure`] that
//! becomes `CLUSTER_API_UNREACHABLE`, `read.associations` the associations or the EKS error. The
//! EKS client must be of the cluster's region; the signer's credentials are the ones the cluster's
//! access entry names (a member account's in organization mode).
//!
//! # Layout
//! - [`model`]: what is read (the types the assessment consumes).
//! - `read`: [`read_cluster`], the two sides of one cluster within the run's deadline.
//! - `eks`: `DescribeCluster` (endpoint and CA) and the Pod Identity associations.
//! - `token`: the EKS bearer token (a presigned `sts:GetCallerIdentity`), never printed.
//! - `api`: the paged list reads, each page bounded in time and size, and their failures.
//! - `connect`: the endpoint's addresses under the address policy, TLS against the cluster's CA
//!   only, the pooled connections.
//! - `wire`: the JSON fields kept from a list page.

mod api;
mod connect;
mod eks;
pub mod model;
mod read;
mod token;
mod wire;

pub use api::{read_api, ReadLimits, PAGE_BYTES, PAGE_LIMIT};
pub use eks::{describe_endpoint, list_associations, ClusterEndpoint, DESCRIBE_CONCURRENCY};
pub use model::{
    ApiFailure, ApiObjects, ClusterRead, ClusterTarget, ContainerEnv, Pod, PodIdentityAssociation,
    ServiceAccount, ROLE_ARN_ANNOTATION,
};
pub use read::read_cluster;
pub use token::{
    presign, sts_endpoint, BearerToken, TokenError, TokenSigner, CLUSTER_ID_HEADER, TOKEN_LIFETIME,
    TOKEN_PREFIX,
};
