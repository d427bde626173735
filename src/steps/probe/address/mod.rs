//! Which addresses the probe may contact (`ALLOW_PRIVATE_ADDRESSES`), and name resolution.
//!
//! The probe connects to hosts named by IAM and by discovery documents, i.e. chosen by someone
//! else. Without a policy it could be steered at the instance-metadata service or at internal
//! services (SSRF). The policy is checked on every resolved address, and again right before each
//! connect; the HTTP requests travel over those same connections, so a name cannot re-resolve to
//! an internal address between the check and the fetch (DNS rebinding).
//!
//! [`PinnedHosts`] replaces DNS for chosen names (like curl's `--resolve`), for every connection; pinned addresses go through the same policy as resolved ones.
//!
//! - `policy`: [`AddressPolicy`], which addresses may be contacted, and why not ([`Refusal`]).
//! - `pins`: [`PinnedHosts`], names pinned to fixed addresses.
//! - `resolve`: the addresses of `host:port` (pinned or from DNS), and the `host:port` key.

mod pins;
mod policy;
mod resolve;

pub use pins::PinError;
pub(crate) use pins::PinnedHosts;
pub use policy::{AddressPolicy, Refusal};
pub(crate) use resolve::{authority, resolve};
