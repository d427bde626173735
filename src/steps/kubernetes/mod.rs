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
//!
//! # Why not kube-rs
//! The reads use hyper, hyper-util and rustls, already in the binary, instead of kube-rs with
//! k8s-openapi, because of the arm64 Lambda bootstrap's 12 MiB budget (12,582,912 bytes).
//! Measured with `cargo lambda build --release --arm64` (the `make lambda` build, LTO) of the
//! Lambda binary calling the reads behind an environment variable, so LTO keeps them:
//!
//! | build | bootstrap bytes | vs. without |
//! | --- | --- | --- |
//! | without the reads | 11,638,872 | |
//! | kube 5.0 + k8s-openapi 0.29 (`client`, `rustls-tls`, `aws-lc-rs`): the two list calls only | 13,869,504 | +2,230,632 |
//! | this module: [`read_cluster`] whole (token, EKS reads, both lists) | 11,928,512 | +289,640 |
//!
//! kube-rs would also raise the minimum Rust version to 1.89.

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
