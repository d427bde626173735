//! Name resolution: the SNI name and the addresses of `host:port` (pinned, or from DNS within the
//! step bound), deduplicated and capped; and `host:port` as the cache key and report show it.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rustls_pki_types::ServerName;

use super::pins::{normalise, PinnedHosts};

/// Removes repeated addresses (keeping the first) and keeps at most `cap`.
pub(crate) fn dedupe_and_cap(
    addresses: impl IntoIterator<Item = SocketAddr>,
    cap: usize,
) -> Vec<SocketAddr> {
    let mut kept: Vec<SocketAddr> = Vec::new();
    for address in addresses {
        if kept.len() == cap {
            break;
        }
        if !kept.contains(&address) {
            kept.push(address);
        }
    }
    kept
}

/// `host:port` as the cache key and report field (lowercase, IPv6 in brackets).
pub(crate) fn authority(host: &str, port: u16) -> String {
    let bare = bare_host(host);
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]:{port}"),
        Ok(ip) => format!("{ip}:{port}"),
        Err(_) => format!("{}:{port}", normalise(bare)),
    }
}

/// `host` without the brackets of an IPv6 literal.
pub(crate) fn bare_host(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// Why a host gave no address to connect to.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum ResolveError {
    /// Not a name TLS can be asked for.
    #[error("'{host}' is not a valid host name: {problem}")]
    BadName {
        /// The host as given.
        host: String,
        /// Why.
        problem: String,
    },
    /// The lookup failed.
    #[error("cannot resolve {host}: {problem}")]
    Failed {
        /// The host looked up.
        host: String,
        /// The resolver's error.
        problem: String,
    },
    /// The lookup took longer than the step bound.
    #[error("resolving {host} timed out after {seconds}s")]
    TimedOut {
        /// The host looked up.
        host: String,
        /// The bound.
        seconds: f32,
    },
    /// The lookup answered with nothing.
    #[error("{host} resolves to no address")]
    Empty {
        /// The host looked up.
        host: String,
    },
}

/// The name to send as SNI and the addresses of `host:port` (pinned, or from DNS, within
/// `timeout`), deduplicated and capped at `cap`. An IP literal is its own only address.
pub(crate) async fn resolve(
    pins: &PinnedHosts,
    host: &str,
    port: u16,
    timeout: Duration,
    cap: usize,
) -> Result<(ServerName<'static>, Vec<SocketAddr>), ResolveError> {
    let bare = bare_host(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok((
            ServerName::IpAddress(ip.into()),
            vec![SocketAddr::new(ip, port)],
        ));
    }
    let server_name =
        ServerName::try_from(bare.to_string()).map_err(|e| ResolveError::BadName {
            host: bare.to_string(),
            problem: e.to_string(),
        })?;
    let lookup = async {
        match pins.socket_addrs(bare, port) {
            Some(pinned) => Ok(pinned),
            None => tokio::net::lookup_host((bare, port))
                .await
                .map(Iterator::collect::<Vec<_>>),
        }
    };
    let resolved = match tokio::time::timeout(timeout, lookup).await {
        Ok(Ok(resolved)) => resolved,
        Ok(Err(e)) => {
            return Err(ResolveError::Failed {
                host: bare.to_string(),
                problem: e.to_string(),
            })
        }
        Err(_) => {
            return Err(ResolveError::TimedOut {
                host: bare.to_string(),
                seconds: timeout.as_secs_f32(),
            })
        }
    };
    let addresses = dedupe_and_cap(resolved, cap);
    if addresses.is_empty() {
        return Err(ResolveError::Empty {
            host: bare.to_string(),
        });
    }
    Ok((server_name, addresses))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedupe_keeps_order_and_caps() {
        let a: SocketAddr = "192.0.2.1:443".parse().unwrap();
        let b: SocketAddr = "192.0.2.2:443".parse().unwrap();
        let c: SocketAddr = "192.0.2.3:443".parse().unwrap();
        assert_eq!(dedupe_and_cap([a, b, a, c], 8), vec![a, b, c]);
        assert_eq!(dedupe_and_cap([a, a, b, c], 2), vec![a, b]);
    }

    #[test]
    fn authority_normalises_hosts() {
        assert_eq!(authority("OIDC.Example.com.", 443), "oidc.example.com:443");
        assert_eq!(authority("[::1]", 8443), "[::1]:8443");
        assert_eq!(authority("::1", 8443), "[::1]:8443");
        assert_eq!(authority("127.0.0.1", 1), "127.0.0.1:1");
    }
}
