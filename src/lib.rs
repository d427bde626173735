//! thumbprint-guard: keeps IAM OpenID Connect providers (EKS IRSA) working by checking, every few
//! hours, that each provider's thumbprints, audience and trusting roles still match what its issuer
//! serves; reports on SNS and adds a new thumbprint when the remediation policy allows.
//!
//! # Layout
//! In the order data flows through a sweep:
//! - [`config`]: every setting of DESIGN's table, read once and validated.
//! - [`inventory`]: account id, OIDC providers, EKS clusters, roles (STS, IAM, EKS).
//! - [`probe`]: discovery document, JWKS host chains (every address), JWKS keys of one issuer.
//! - [`trust_policy`]: parses role trust documents and audits their OIDC conditions (pure).
//! - [`assess`]: findings from inventory + probes + configuration + `now` (pure).
//! - [`remediate`]: per-provider decision (pure) and the thumbprint addition in IAM.
//! - [`report`]: the report's JSON types, finding codes and severities (the contract).
//! - [`render`]: the terminal table and each finding's manual fix (pure).
//! - [`notify`]: the SNS message per protocol (pure) and its publication.
//! - [`state`]: each account's open findings between runs (DynamoDB): new, open, resolved.
//! - [`securityhub`]: the findings in ASFF and their import into Security Hub.
//! - [`sweep`]: runs the steps above once, under one deadline.
//! - [`metrics`]: the CloudWatch embedded-metric line of a run.
//! - [`event`]: the Lambda's input and its configuration overrides.
//! - [`handler`]: the Lambda's invocation: sweep, log, metrics, notify.
//! - [`inspect`]: the probe of one issuer for a person, without AWS.

pub mod assess;
pub mod config;
pub mod event;
pub mod handler;
pub mod inspect;
pub mod inventory;
pub mod metrics;
pub mod notify;
pub mod probe;
pub mod remediate;
pub mod render;
pub mod report;
pub mod securityhub;
pub mod state;
pub mod sweep;
pub mod trust_policy;
