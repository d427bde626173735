//! The probe's bounds on what it reads and keeps: addresses per host, body size, and the cap on
//! issuer-controlled text.

use crate::report;

/// Addresses probed per host at most (DESIGN: "probe every address ... (capped)").
pub const MAX_ADDRESSES: usize = 8;
/// Largest discovery document or JWKS read, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// `text` capped at [`report::ISSUER_TEXT_MAX`] characters: applied to every issuer-controlled
/// string where it enters the probe result.
pub(crate) fn capped(text: &str) -> String {
    report::cap(text).into_owned()
}
