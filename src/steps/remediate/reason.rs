//! Why remediation left a provider alone: one variant per blocking condition of DESIGN's policy.
//!
//! The variants are the facts downstream code branches on (THUMBPRINT_LIST_FULL comes from
//! [`SkipReason::ListFull`], never from the text); `Display` is the sentence the report shows.

use std::fmt;

use crate::config::REMEDIATION_TAG;
use crate::report::MAX_THUMBPRINTS;

/// The first condition that kept a needed thumbprint from being added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The provider's remediation tag holds an unknown value.
    BadTag {
        /// What is wrong with the tag (names it and the allowed values).
        problem: crate::config::ConfigError,
    },
    /// The effective mode is `off`.
    ModeOff {
        /// Where the mode came from (`REMEDIATION_MODE=off` or the tag).
        source: String,
        /// The thumbprints that must be added by hand.
        thumbprints: Vec<String>,
    },
    /// A host could not be probed on every address (DNS, a refused address).
    HostNotProbed {
        /// `host:port`.
        authority: String,
        /// What went wrong.
        problem: String,
    },
    /// An address served a chain that does not validate.
    Untrusted {
        /// `IP:PORT`.
        address: String,
        /// The verifier's reason.
        why: String,
    },
    /// An address served an expired (or not yet valid) certificate.
    Expired {
        /// `IP:PORT`.
        address: String,
        /// Which certificate and when.
        why: String,
    },
    /// An address served no chain.
    NoChain {
        /// `IP:PORT`.
        address: String,
        /// The connection error.
        failure: String,
        /// `host:port` of the address.
        authority: String,
    },
    /// An address presented a trusted chain but the handshake did not complete.
    HandshakeIncomplete {
        /// `IP:PORT`.
        address: String,
        /// The handshake error.
        failure: String,
    },
    /// A served chain is not contiguous (reported as CHAIN_ORDER): out of order, a certificate
    /// repeated, or one not on the path from the host's certificate.
    NotContiguous {
        /// `IP:PORT`.
        address: String,
        /// Which served certificate breaks the chain and why.
        chain_break: crate::probe::ChainBreak,
        /// The chain's top thumbprint: the one that is not added.
        top: String,
    },
    /// The discovery document is invalid, so its `jwks_uri` cannot be relied on.
    DiscoveryInvalid {
        /// The discovery problem.
        problem: String,
    },
    /// Discovery yielded no JWKS host.
    JwksHostUnknown,
    /// A host is outside `REMEDIATION_ALLOWED_HOSTS` and the provider does not opt in.
    HostNotAllowed {
        /// The host name.
        host: String,
        /// Which of IAM's fetches it carries (`JWKS`, `issuer`).
        role: &'static str,
        /// The configured globs.
        patterns: Vec<String>,
    },
    /// A served value is not a thumbprint (40 lowercase hex).
    Malformed {
        /// The value.
        value: String,
    },
    /// The list has no room: IAM keeps at most [`MAX_THUMBPRINTS`].
    ListFull {
        /// Distinct entries configured.
        configured: usize,
        /// The entries that would have to be added.
        adding: Vec<String>,
    },
    /// The fresh list read right before writing already holds every thumbprint.
    AlreadyPresent {
        /// The thumbprints someone else added since the sweep read the provider.
        thumbprints: Vec<String>,
    },
}

impl SkipReason {
    /// True when the list has no room (reported as THUMBPRINT_LIST_FULL).
    pub fn is_list_full(&self) -> bool {
        matches!(self, SkipReason::ListFull { .. })
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::BadTag { problem } => write!(
                f,
                "{problem}; nothing is added for this provider until the tag is fixed or removed"
            ),
            SkipReason::ModeOff {
                source,
                thumbprints,
            } => write!(
                f,
                "remediation is off ({source}); {} must be added by hand",
                thumbprints.join(", ")
            ),
            SkipReason::HostNotProbed { authority, problem } => write!(
                f,
                "not every address of {authority} could be probed ({problem}); a thumbprint is added only when every address serves a trusted chain"
            ),
            SkipReason::Untrusted { address, why } => write!(
                f,
                "chain from {address} is not trusted: {why} — adding its thumbprint could trust a man in the middle"
            ),
            SkipReason::Expired { address, why } => write!(
                f,
                "chain from {address} has an expired certificate: {why} — a thumbprint is added only for a valid, unexpired chain"
            ),
            SkipReason::NoChain {
                address,
                failure,
                authority,
            } => write!(
                f,
                "no chain from {address}: {failure}; a thumbprint is added only when every address of {authority} serves a trusted chain"
            ),
            SkipReason::HandshakeIncomplete { address, failure } => write!(
                f,
                "{address} presented a trusted chain but did not complete the TLS handshake ({failure}); a server without the certificate's key could be a man in the middle"
            ),
            SkipReason::NotContiguous {
                address,
                chain_break,
                top,
            } => write!(
                f,
                "CHAIN_ORDER: the chain served at {address} is not contiguous ({chain_break}); STS rejects a chain served out of order or with duplicate or extra certificates whatever the thumbprint list holds, and only the last certificate of a contiguous, validated chain is vouched for, so nothing is added (its top {top} least of all): the issuer must serve its chain in order"
            ),
            SkipReason::DiscoveryInvalid { problem } => write!(
                f,
                "the discovery document is invalid ({problem}), so its jwks_uri cannot be relied on"
            ),
            SkipReason::JwksHostUnknown => f.write_str(
                "the JWKS host is unknown (discovery did not yield a jwks_uri), so no thumbprint can be vouched for",
            ),
            SkipReason::HostNotAllowed {
                host,
                role,
                patterns,
            } => write!(
                f,
                "{role} host {host} is not in REMEDIATION_ALLOWED_HOSTS ({}); tag the provider {REMEDIATION_TAG}=add to allow it",
                patterns.join(",")
            ),
            SkipReason::Malformed { value } => write!(
                f,
                "'{value}' is not a thumbprint (40 lowercase hex characters); nothing is written"
            ),
            SkipReason::ListFull {
                configured,
                adding,
            } => list_full(f, *configured, adding),
            SkipReason::AlreadyPresent { thumbprints } => write!(
                f,
                "already present: {} was added since this sweep read the provider; nothing written",
                thumbprints.join(", ")
            ),
        }
    }
}

/// [`SkipReason::ListFull`]'s sentence: how full the list is, what is needed, what to do.
fn list_full(f: &mut fmt::Formatter<'_>, configured: usize, adding: &[String]) -> fmt::Result {
    let one = adding.len() == 1;
    write!(
        f,
        "no room: the thumbprint list holds {configured} of IAM's maximum {MAX_THUMBPRINTS} entries and {} more {} needed ({}); remove a stale thumbprint by hand and the next run adds {}",
        adding.len(),
        if one { "is" } else { "are" },
        adding.join(", "),
        if one { "it" } else { "them" },
    )
}
