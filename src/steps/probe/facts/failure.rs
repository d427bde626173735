//! What went wrong in a probe, typed: the step, the discovery or JWKS problem, the failure kind
//! (from which the finding code follows) and the issue carrying it for people.

use std::fmt;
use std::net::SocketAddr;

use crate::report::FindingCode;

/// A step of an issuer probe, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// DNS and TLS to every address of the issuer's host.
    IssuerHost,
    /// The GET of `{issuer}/.well-known/openid-configuration`.
    Discovery,
    /// DNS and TLS to every address of the `jwks_uri` host.
    JwksHost,
    /// The GET of `jwks_uri`.
    Jwks,
}

impl Step {
    /// The step as a word for details and filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::IssuerHost => "issuer_host",
            Step::Discovery => "discovery",
            Step::JwksHost => "jwks_host",
            Step::Jwks => "jwks",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::IssuerHost => "TLS to the issuer host",
            Step::Discovery => "the discovery fetch",
            Step::JwksHost => "TLS to the JWKS host",
            Step::Jwks => "the JWKS fetch",
        })
    }
}

/// What is wrong with the discovery step (DISCOVERY_INVALID).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoveryProblem {
    /// The provider URL is not an https URL with a host and nothing else (no userinfo, query or
    /// fragment); nothing was fetched.
    BadIssuerUrl,
    /// No address of the issuer host completed a verified handshake: its chain was rejected.
    CertificateRejected,
    /// The server answered with a redirect (never followed).
    Redirected,
    /// The server answered with another non-success status.
    Status,
    /// The body exceeded [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES).
    TooLarge,
    /// The body is not JSON, or not a JSON object.
    NotJson,
    /// `issuer` is missing or differs from the provider URL.
    IssuerMismatch,
    /// `jwks_uri` is missing, not a URL, or not https with a host.
    BadJwksUri,
}

/// What is wrong with the JWKS step (JWKS_INVALID).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwksProblem {
    /// No address of the JWKS host served a trusted chain over a completed handshake.
    NoVerifiedConnection,
    /// The server answered with a redirect (never followed).
    Redirected,
    /// The server answered with another non-success status, or the connection failed mid-fetch.
    Status,
    /// The body exceeded [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES).
    TooLarge,
    /// The body is not JSON.
    NotJson,
    /// No usable signing key.
    NoUsableKey,
}

/// The typed kind of a probe issue; the finding code follows from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeFailure {
    /// DNS, TCP, TLS or a timeout, during `step` (ISSUER_UNREACHABLE).
    Unreachable {
        /// The step that failed or was still running.
        step: Step,
    },
    /// An address the policy refuses to contact (ADDRESS_REFUSED); nothing was sent to it.
    Refused {
        /// The refused address, when the host resolved.
        address: Option<SocketAddr>,
    },
    /// The discovery step failed (DISCOVERY_INVALID).
    DiscoveryInvalid {
        /// Why.
        problem: DiscoveryProblem,
    },
    /// The JWKS step failed (JWKS_INVALID).
    JwksInvalid {
        /// Why.
        problem: JwksProblem,
    },
}

impl ProbeFailure {
    /// DESIGN's finding code for this failure.
    pub fn code(&self) -> FindingCode {
        match self {
            ProbeFailure::Unreachable { .. } => FindingCode::IssuerUnreachable,
            ProbeFailure::Refused { .. } => FindingCode::AddressRefused,
            ProbeFailure::DiscoveryInvalid { .. } => FindingCode::DiscoveryInvalid,
            ProbeFailure::JwksInvalid { .. } => FindingCode::JwksInvalid,
        }
    }
}

/// A step of the probe that failed.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeIssue {
    /// What failed, typed.
    pub failure: ProbeFailure,
    /// What went wrong, naming the URL/host/address (issuer text capped).
    pub message: String,
    /// Facts for people and alarms (url, address, status...); a JSON object.
    pub details: serde_json::Value,
}

impl ProbeIssue {
    /// An issue; `message` is capped like every issuer-controlled text.
    pub fn new(
        failure: ProbeFailure,
        message: impl AsRef<str>,
        details: serde_json::Value,
    ) -> Self {
        ProbeIssue {
            failure,
            message: crate::report::cap(message.as_ref()).into_owned(),
            details,
        }
    }

    /// DESIGN's finding code for this issue.
    pub fn code(&self) -> FindingCode {
        self.failure.code()
    }
}
