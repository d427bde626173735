//! `thumbprint-guard inspect URL`: probe one issuer without AWS and render the result.
//!
//! The same probe and assessment as a sweep, for one issuer URL, with no IAM provider to compare
//! against: it shows what each address of the JWKS host serves and which thumbprint IAM needs.
//! Pure: [`issuer_url`] checks the argument, [`build_report`] turns a probe into a typed
//! [`InspectReport`], [`render_text`] renders it and [`exit_code`] picks the exit code; the binary
//! runs the probe and prints.
//!
//! # Exit codes (for the CLI)
//! 0 when no finding is critical, 1 otherwise; 2 for an [`InspectError`] (a bad URL or a bad
//! configuration).
//!
//! # Layout
//! - `model`: [`InspectReport`] and [`InspectError`].
//! - `url`: [`issuer_url`], the argument checked.
//! - `report`: [`build_report`] and [`exit_code`].
//! - `terminal`: [`render_text`].

mod model;
mod report;
mod terminal;
mod url;

pub use model::{InspectError, InspectReport};
pub use report::{build_report, exit_code};
pub use terminal::render_text;
pub use url::issuer_url;

#[cfg(test)]
mod tests;
