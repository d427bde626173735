//! Probe an issuer: every address of its host and of its `jwks_uri` host over TLS (chains and
//! verdicts recorded), the discovery document and the JWKS over those same verified connections.
//!
//! The probe records facts, never verdicts about IAM; [`crate::assess`] turns them into findings.
//! Every network step is bounded by `PROBE_TIMEOUT_SECS` and a provider's own exchanges by three
//! times that (waiting for a shared host's turn is bounded by the run's deadline);
//! every failure is a typed [`ProbeIssue`] or an [`EndpointProbe`] field, never an `Err` or a panic.
//!
//! # Layout
//! - `facts/`: the result types ([`IssuerProbe`], [`HostProbe`], [`EndpointProbe`] in `endpoint`;
//!   [`ChainVerdict`], [`ChainBreak`] in `chain`; [`Enforcement`] and the served thumbprints in
//!   `thumbprint`; [`ProbeFailure`], [`ProbeIssue`] in `failure`; the bounds in `limits`).
//! - `context`: [`ProbeContext`], built once per process (TLS templates, verifiers, trust store,
//!   policy, pins, the `PROBE_CONCURRENCY` permits).
//! - `permits`: `PROBE_CONCURRENCY`, one permit per open connection; idle hosts closed when one is
//!   wanted.
//! - `address/` (`policy`, `pins`, `resolve`), `route`: which addresses may be contacted, name
//!   resolution and pins, unroutable IPv6.
//! - `host`: one handshake per address of a host; [`HostCache`], the run's hosts, each probed once
//!   and kept with its connections for every provider that uses it.
//! - `pool/`: the run's connections to one address (`link`: hyper-util's pooled client over
//!   `dialer`, a connector of ours that dials the probed address; `seen`: every chain served;
//!   `io`: one open connection with its permits).
//! - `issuer`: [`probe_issuer`], the steps of one issuer under its own bound.
//! - `fetch`: the HTTP GET over an address's connections and the provider's time budget;
//!   `documents`: the checks on what it returns.
//! - `tls`: one address's connection; `verifier`: the recording verifier; `certificate`: one
//!   served certificate and the chain's contiguity.
//! - `sync`: the lock helper of the shared state.

mod address;
mod certificate;
mod context;
mod documents;
mod facts;
mod fetch;
mod host;
mod issuer;
mod permits;
mod pool;
mod route;
mod sync;
mod tls;
mod verifier;

pub use address::{AddressPolicy, PinError, Refusal};
pub use certificate::{certificate_info, sha1_hex};
pub use context::ProbeContext;
pub use documents::{
    check_discovery, check_issuer_url, usable_signing_keys, IssuerUrlError, JwksKeysError,
};
pub use facts::{
    served_thumbprints, thumbprint_enforced, thumbprint_enforcement, BreakReason, ChainBreak,
    ChainVerdict, DiscoveryProblem, EndpointProbe, Enforcement, HostProbe, IssuerProbe,
    JwksProblem, ProbeFailure, ProbeIssue, Step, MAX_ADDRESSES, MAX_BODY_BYTES,
};
pub use host::HostCache;
pub use issuer::probe_issuer;

#[cfg(test)]
mod tests;
