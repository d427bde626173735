//! AWS plumbing every step shares: the SDK configuration and clients, the partition of a region,
//! a failed call as a person reads it, and the profile check of the CLI.
//!
//! Steps import the data they need from their own modules; only what talks to AWS imports this.

mod clients;
mod error;
mod partition;
mod profile;

pub use clients::{
    load_sdk_config, sdk_config_loader, AwsClients, AWS_ATTEMPT_TIMEOUT, AWS_OPERATION_TIMEOUT,
};
pub use error::{AwsError, AwsFailure, AwsTarget};
pub use partition::partition_of;
pub use profile::{check_profile, MissingProfile};
