//! The types inspect hands the binary: [`InspectReport`] (what `inspect --json` prints, and what
//! the text is rendered from) and [`InspectError`] (a problem with what the person asked for).

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::probe::{ChainBreak, Enforcement};
use crate::report::{Endpoint, Finding};

/// A problem with what the person asked for (exit code 2), as opposed to a problem of the issuer
/// (a finding, exit code 1).
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The URL argument is unusable.
    #[error("{0}")]
    Usage(String),
    /// The configuration (environment) is unusable, e.g. `EXTRA_TRUST_ANCHORS_PEM`.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl InspectError {
    /// Exit code for usage and configuration errors (DESIGN: 2).
    pub const EXIT_CODE: i32 = 2;
}

/// What `inspect --json` prints: a provider entry of DESIGN's report without the IAM-only fields
/// (arn, client_ids, configured_thumbprints, remediation), plus the issuer's findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectReport {
    /// The issuer URL probed.
    pub url: String,
    /// `jwks_uri` from the discovery document; null when discovery failed.
    pub jwks_uri: Option<String>,
    /// One entry per probed address of the JWKS host (of the issuer host when discovery failed on
    /// its certificate).
    pub endpoints: Vec<Endpoint>,
    /// Distinct top thumbprints served, in first-seen order.
    pub served_thumbprints: Vec<String>,
    /// True when IAM relies on the thumbprint: a served chain does not anchor in Mozilla's roots,
    /// an address accepts only TLS 1.3, or no address served a chain.
    pub thumbprint_enforced: bool,
    /// Findings about the issuer, most severe first.
    pub findings: Vec<Finding>,
    /// Why the thumbprint is enforced, for the text (the JSON carries `thumbprint_enforced`, each
    /// endpoint's `tls13_only` and the findings).
    #[serde(skip)]
    pub enforcement: Enforcement,
    /// Each endpoint's chain order, in `endpoints` order, for the text (the JSON carries the
    /// CHAIN_ORDER findings).
    #[serde(skip)]
    pub chain_order: Vec<Option<ChainBreak>>,
}
