//! How one served chain was judged: the verifier's [`ChainVerdict`], and where and why the chain
//! stops being contiguous ([`ChainBreak`], with the sentence people read).

use std::fmt;

/// How the verifier judged one served chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainVerdict {
    /// Validated for the host name against the trust store, nothing expired.
    Trusted,
    /// A certificate of the chain is expired (or not yet valid); the text says which.
    Expired(String),
    /// Does not validate: unknown issuer, bad signature, wrong name, unparseable (the text says
    /// which).
    Untrusted(String),
    /// No chain was received (connection or handshake failed before the certificate).
    NotReceived,
}

impl ChainVerdict {
    /// Why the chain was rejected (expired or untrusted); `None` when it was trusted or never
    /// received.
    pub fn rejection(&self) -> Option<&str> {
        match self {
            ChainVerdict::Expired(why) | ChainVerdict::Untrusted(why) => Some(why),
            ChainVerdict::Trusted | ChainVerdict::NotReceived => None,
        }
    }
}

/// Why a served chain is not contiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakReason {
    /// Its subject is not the previous certificate's issuer name.
    NameMismatch,
    /// Its key does not verify the previous certificate's signature.
    BadSignature,
    /// It (or the previous one) cannot be parsed.
    Unparseable,
    /// The same certificate (same DER) was already served at position `first` (0-based).
    Repeated {
        /// Where it was served first.
        first: usize,
    },
    /// The previous certificate's issuer is served, but later, at position `issuer` (0-based).
    OutOfOrder {
        /// Where the previous certificate's issuer is served.
        issuer: usize,
    },
    /// It is not on the path from the host's certificate: it follows a self-signed root, which
    /// ends the path, or it is named as the issuer of no certificate served before it.
    Extra,
}

/// Where a served chain stops being contiguous: certificate `index` (0 = leaf) does not issue
/// certificate `index - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainBreak {
    /// The served position (0-based) of the certificate that does not issue the one before it.
    pub index: usize,
    /// Why.
    pub reason: BreakReason,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.index + 1;
        match self.reason {
            BreakReason::NameMismatch => write!(
                f,
                "served certificate #{n} is not named as the issuer of certificate #{}",
                n - 1
            ),
            BreakReason::BadSignature => write!(
                f,
                "served certificate #{n} did not sign certificate #{}",
                n - 1
            ),
            BreakReason::Unparseable => {
                write!(f, "served certificate #{n} or #{} cannot be parsed", n - 1)
            }
            BreakReason::Repeated { first } => write!(
                f,
                "served certificate #{n} repeats certificate #{} (the same certificate served twice)",
                first + 1
            ),
            BreakReason::OutOfOrder { issuer } => write!(
                f,
                "served certificate #{n} did not issue certificate #{}: its issuer is served later, as #{} (out of order)",
                n - 1,
                issuer + 1
            ),
            BreakReason::Extra => write!(
                f,
                "served certificate #{n} is not on the path from the host's certificate (an extra certificate after #{})",
                n - 1
            ),
        }
    }
}
