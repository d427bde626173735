//! Remediation: the pure per-provider decision and the IAM write that applies it.
//!
//! [`decide`] turns (provider, probe, assess's missing thumbprints, configuration) into a
//! [`Decision`] without any I/O, following DESIGN's remediation policy: a served top thumbprint is
//! added only when the effective mode is `add`, the hosts are allowed (or the provider's tag opts
//! it in), every probed address served a trusted, unexpired, contiguous chain, and the list has
//! room. [`apply`] carries the decision out and returns a typed [`Outcome`]: only an `Add`
//! decision touches IAM, re-reading the list right before writing the union and reading it back
//! afterwards. [`findings()`] reports THUMBPRINT_ADDED and THUMBPRINT_LIST_FULL from those values.

mod findings;
mod iam;
mod merge;
mod model;
mod policy;
mod reason;

pub use findings::findings;
pub use iam::{apply, LAST_ADDED_TAG};
pub use merge::{is_thumbprint, merge_thumbprints, Merge, MergeError};
pub use model::{Decision, Outcome};
pub use policy::{decide, jwks_host, remediation_tag};
pub use reason::SkipReason;

#[cfg(test)]
mod tests;
