//! thumbprint-guard: keeps IAM OpenID Connect providers (EKS IRSA) working by checking, every few
//! hours, that each provider's thumbprints, audience and trusting roles (and, with the in-cluster
//! checks, each cluster's service accounts, pods and Pod Identity associations) still match what
//! IAM and the issuers hold; reports on SNS, Security Hub and JSON, and adds a new thumbprint when
//! the remediation policy allows.
//!
//! # Layout
//! The folders follow the flow: `bin/` and `entry/` start a run, `run/` orchestrates it, `steps/`
//! are its steps in order, `outputs/` what it produces; `config/` and `aws/` serve them all.
//!
//! Entry points (`entry/`):
//! - [`handler`]: the Lambda's invocation: the event's configuration, one run, the report logged.
//! - [`event`]: the Lambda's input and its configuration overrides.
//! - [`inspect`]: one issuer's probe for a person (`thumbprint-guard inspect`), without AWS.
//!
//! The run (`run/`):
//! - [`run`]: one run over one account or an organization's accounts: per target sweep → in-cluster
//!   reads; then, with every target's roles, in-cluster findings → state → Security Hub; then the
//!   report to the caller's sink and one notify step.
//!
//! Steps (`steps/`), in the order data flows through them:
//! - [`organization`]: which accounts an organization run covers, and each member's credentials.
//! - [`sweep`]: one account from inventory to its report, each provider from probe to remediation as
//!   soon as its own probe is done.
//! - [`inventory`]: account id, OIDC providers, EKS clusters, roles (STS, IAM, EKS).
//! - [`probe`]: discovery document, TLS chains of every address, JWKS keys of one issuer.
//! - [`kubernetes`]: each cluster's service accounts and pods (its Kubernetes API) and Pod Identity
//!   associations (EKS).
//! - [`trust_policy`]: role trust documents: the audit of their OIDC conditions, and IAM's
//!   evaluation of one web-identity or Pod Identity request (pure).
//! - [`assess`]: findings and missing thumbprints from inventory + probes + configuration + `now`;
//!   the in-cluster findings from the reads and every swept account's roles (pure).
//! - [`remediate`]: per-provider decision (pure) and the thumbprint addition in IAM, as a typed
//!   outcome.
//! - `assemble`: the report built once from assess's and remediate's outputs (ids, mutes, order).
//! - [`state`]: each account's open findings between runs (DynamoDB): new, open, resolved.
//!
//! Outputs (`outputs/`):
//! - [`report`]: the report's JSON types (one account's, an organization's, a run's), finding
//!   codes, severities and ids (the contract), the domain facts every step shares, the cap and
//!   escape of outside text, and the cut of a report into valid parts.
//! - `fix`: each finding's manual fix, for every place a person reads it (pure).
//! - [`render`]: the terminal table (pure).
//! - [`notify`]: the SNS messages of a run per protocol (pure) and their publication.
//! - [`securityhub`]: the findings in ASFF and their import into Security Hub.
//! - `metrics`: the CloudWatch embedded-metric line of a run.
//!
//! Shared:
//! - [`config`]: every setting of DESIGN's table, read once and validated.
//! - [`aws`]: the SDK configuration and clients, partitions, a failed call as a person reads it.

#![warn(missing_docs)]

#[path = "entry/event.rs"]
pub mod event;
#[path = "entry/handler/mod.rs"]
pub mod handler;
#[path = "entry/inspect/mod.rs"]
pub mod inspect;

pub mod run;

#[path = "steps/assemble.rs"]
mod assemble;
#[path = "steps/assess/mod.rs"]
pub mod assess;
#[path = "steps/inventory/mod.rs"]
pub mod inventory;
#[path = "steps/kubernetes/mod.rs"]
pub mod kubernetes;
#[path = "steps/organization/mod.rs"]
pub mod organization;
#[path = "steps/probe/mod.rs"]
pub mod probe;
#[path = "steps/remediate/mod.rs"]
pub mod remediate;
#[path = "steps/state/mod.rs"]
pub mod state;
#[path = "steps/sweep/mod.rs"]
pub mod sweep;
#[path = "steps/trust_policy/mod.rs"]
pub mod trust_policy;

#[path = "outputs/fix/mod.rs"]
mod fix;
#[path = "outputs/metrics.rs"]
mod metrics;
#[path = "outputs/notify/mod.rs"]
pub mod notify;
#[path = "outputs/render/mod.rs"]
pub mod render;
#[path = "outputs/report/mod.rs"]
pub mod report;
#[path = "outputs/securityhub/mod.rs"]
pub mod securityhub;

pub mod aws;
pub mod config;

#[cfg(test)]
mod test_mocks;
