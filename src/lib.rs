//! thumbprint-guard: keeps IAM OpenID Connect providers (EKS IRSA) working by checking, every few
//! hours, that each provider's thumbprints, audience and trusting roles still match what its issuer
//! serves; reports on SNS and adds a new thumbprint when the remediation policy allows.
//!
//! # Layout
//! In the order data flows through a sweep:
//! - [`config`]: every setting of DESIGN's table, read once and validated.
//! - [`inventory`]: account id, OIDC providers, EKS clusters, roles (STS, IAM, EKS).
//! - [`probe`]: discovery document, JWKS host chains (every address), JWKS keys of one issuer.
//! - [`report`]: the report's JSON types, finding codes and severities (the contract).

pub mod config;
pub mod inventory;
pub mod probe;
pub mod report;
