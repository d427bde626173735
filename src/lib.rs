//! thumbprint-guard: keeps IAM OpenID Connect providers (EKS IRSA) working by checking, every few
//! hours, that each provider's thumbprints, audience and trusting roles still match what its issuer
//! serves; reports on SNS and adds a new thumbprint when the remediation policy allows.
//!
//! # Layout
//! In the order data flows through a sweep:
//! - [`config`]: every setting of DESIGN's table, read once and validated.
//! - [`inventory`]: account id, OIDC providers, EKS clusters, roles (STS, IAM, EKS).
//! - [`probe`]: discovery document, TLS chains of every address, JWKS keys of one issuer.
//! - [`trust_policy`]: parses role trust documents and audits their OIDC conditions (pure).
//! - [`assess`]: findings and missing thumbprints from inventory + probes + configuration + `now`
//!   (pure).
//! - [`remediate`]: per-provider decision (pure) and the thumbprint addition in IAM, as a typed
//!   outcome.
//! - `assemble`: the report built once from assess's and remediate's outputs (ids, mutes, order).
//! - [`report`]: the report's JSON types, finding codes, severities and ids (the contract), the
//!   domain facts every step shares, and the cap and escape of issuer-controlled text.
//! - `fix`: each finding's manual fix, for every place a person reads it (pure).
//! - [`state`]: each account's open findings between runs (DynamoDB): new, open, resolved.
//! - [`memory`]: the steps after a sweep that remember it (state table, Security Hub import).
//! - [`render`]: the terminal table (pure).
//! - [`notify`]: the SNS message per protocol (pure) and its publication.
//! - [`securityhub`]: the findings in ASFF and their import into Security Hub.
//! - [`sweep`]: runs the steps above once, each provider from probe to remediation as soon as its
//!   own probe is done.
//! - [`organization`]: the sweep of every account of an AWS Organization, through member roles.
//! - `metrics`: the CloudWatch embedded-metric line of a run.
//! - [`event`]: the Lambda's input and its configuration overrides.
//! - [`handler`]: the Lambda's invocation: sweep, log, metrics, notify.
//! - [`inspect`]: one issuer's probe as a typed result for a person, without AWS.

#![warn(missing_docs)]

mod assemble;
pub mod assess;
pub mod aws;
pub mod config;
pub mod event;
mod fix;
pub mod handler;
pub mod inspect;
pub mod inventory;
pub mod kubernetes;
mod metrics;
pub mod notify;
pub mod organization;
pub mod probe;
pub mod remediate;
pub mod render;
pub mod report;
pub mod run;
pub mod securityhub;
pub mod state;
pub mod sweep;
#[cfg(test)]
mod test_mocks;
pub mod trust_policy;
