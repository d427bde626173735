//! The run's connections to one address of a host: hyper-util's pooled client does the pooling,
//! the reconnection and HTTP/2 multiplexing; this module decides which address it dials (the one
//! probed, policy-checked again), how (rustls with the recording verifier, through the proxy when
//! one applies), and records every chain a new connection is served.
//!
//! - `link`: [`Link`], one address's pooled client. Its first connection is the one the host probe
//!   handshook (handed to the pool on its first request, so a host that keeps its connections costs
//!   one handshake per address and run); a connection the server closes, or that an aborted
//!   exchange left unusable, is replaced by the pool through the dialer. HTTP/1.1: at most
//!   `HTTP1_CONNECTIONS_PER_ADDRESS` connections at once (requests beyond take turns); HTTP/2: one
//!   connection, requests multiplexed.
//! - `dialer`: the pool's connector, which hands over the first connection and dials replacements,
//!   each judged like the first.
//! - `seen`: [`Seen`], every chain the host's connections were served.
//! - `io`: one open connection as the pool holds it, with its permits.
//!
//! The permits themselves (`PROBE_CONCURRENCY`, idle hosts closed when one is wanted) are
//! [`super::permits`].

mod dialer;
mod io;
mod link;
mod seen;

pub(crate) use link::Link;
pub(crate) use seen::Seen;
