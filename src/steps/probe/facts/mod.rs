//! The probe's result facts: what each address of each host served, and which step failed how.
//!
//! Facts only, never verdicts about IAM: [`crate::assess`] turns them into findings. Every
//! failure carries a typed [`ProbeFailure`] the finding code is derived from; `message` and
//! `details` are for people.
//!
//! - `endpoint`: what one address, one host, one issuer served ([`EndpointProbe`], [`HostProbe`],
//!   [`IssuerProbe`]) and an address as the report shows it.
//! - `chain`: how a served chain was judged ([`ChainVerdict`]) and where it breaks ([`ChainBreak`]).
//! - `thumbprint`: the served top thumbprints and why IAM relies on them ([`Enforcement`]).
//! - `failure`: what went wrong, typed ([`ProbeFailure`], [`ProbeIssue`]).
//! - `limits`: the bounds on what the probe reads and keeps, and the cap on issuer text.

mod chain;
mod endpoint;
mod failure;
mod limits;
mod thumbprint;

pub use chain::{BreakReason, ChainBreak, ChainVerdict};
pub use endpoint::{EndpointProbe, HostProbe, IssuerProbe};
pub use failure::{DiscoveryProblem, JwksProblem, ProbeFailure, ProbeIssue, Step};
pub(crate) use limits::capped;
pub use limits::{MAX_ADDRESSES, MAX_BODY_BYTES};
pub use thumbprint::{
    served_thumbprints, thumbprint_enforced, thumbprint_enforcement, Enforcement,
};

#[cfg(test)]
mod tests;
