//! Probe an issuer: discovery document, JWKS host's served TLS chains (every address), JWKS keys.
//!
//! The probe records facts, never verdicts about IAM: what each address served, whether rustls'
//! WebPKI verifier accepted it, and which step failed how. [`crate::assess`] turns these facts into
//! findings (it alone knows `now`, the configured thumbprints and the expiry window).
//!
//! I/O lives here; everything is bounded by `PROBE_TIMEOUT_SECS` per network step.

use std::net::SocketAddr;

use crate::report::{CertificateInfo, FindingCode};

/// Addresses probed per host at most (DESIGN: "probe every address ... (capped)").
pub const MAX_ADDRESSES: usize = 8;
/// Largest discovery document or JWKS read, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A step of the probe that failed, already classified with DESIGN's code.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeIssue {
    /// ISSUER_UNREACHABLE, DISCOVERY_INVALID, JWKS_INVALID or ADDRESS_REFUSED.
    pub code: FindingCode,
    /// What went wrong, naming the URL/host/address.
    pub message: String,
    /// Machine-readable facts (url, address, status...); a JSON object.
    pub details: serde_json::Value,
}

/// How the verifier judged one served chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainVerdict {
    /// Validated for the host name against the trust store, nothing expired.
    Trusted,
    /// A certificate of the chain is expired (or not yet valid); the text says which.
    Expired(String),
    /// Does not validate: unknown issuer, bad signature, wrong name, ... (the text says which).
    Untrusted(String),
    /// No chain was received (connection or handshake failed before the certificate).
    NotReceived,
}

/// One address of the JWKS host and what it served.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointProbe {
    /// The address connected to.
    pub address: SocketAddr,
    /// The chain exactly as served, leaf first.
    pub chain: Vec<CertificateInfo>,
    /// The verifier's verdict.
    pub verdict: ChainVerdict,
    /// True when the chain also validates against Mozilla's roots alone (webpki-roots), i.e. IAM
    /// would trust it without the thumbprint.
    pub publicly_anchored: bool,
    /// A connection/handshake failure (timeout, refused, TLS alert); `None` if the chain arrived.
    pub error: Option<String>,
}

impl EndpointProbe {
    /// SHA-1 of the last served certificate: the thumbprint IAM needs.
    pub fn top_thumbprint(&self) -> Option<&str> {
        self.chain.last().map(|c| c.sha1.as_str())
    }
}

/// What the JWKS host served on every probed address (shared by providers on the same host).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostProbe {
    /// `host:port` probed.
    pub authority: String,
    /// One entry per address connected to (at most [`MAX_ADDRESSES`]).
    pub endpoints: Vec<EndpointProbe>,
    /// Resolution failures, refused addresses.
    pub issues: Vec<ProbeIssue>,
}

/// Everything learned about one issuer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IssuerProbe {
    /// The issuer URL probed (`https://...`).
    pub issuer: String,
    /// `jwks_uri` from the discovery document, when discovery succeeded.
    pub jwks_uri: Option<String>,
    /// The TLS probe of the JWKS host (or of the issuer host when discovery failed on its chain).
    pub host: HostProbe,
    /// Number of usable signing keys in the JWKS, when it was fetched.
    pub jwks_keys: Option<usize>,
    /// Discovery / JWKS problems.
    pub issues: Vec<ProbeIssue>,
}
