//! DNS names pinned to fixed addresses ([`PinnedHosts`], like curl's `--resolve`), and a host name
//! as DNS compares it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use rustls_pki_types::ServerName;

/// Why a host cannot be pinned (see `PinnedHosts::pin`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    /// Not a DNS name: an IP literal needs no resolution, and anything else cannot be looked up.
    #[error("cannot pin '{host}': {problem}")]
    NotADnsName {
        /// The host as given.
        host: String,
        /// What is wrong with it.
        problem: String,
    },
    /// An empty address list would make the name unresolvable rather than pinned.
    #[error("cannot pin '{host}': no address given")]
    NoAddress {
        /// The host as given.
        host: String,
    },
}

/// DNS names pinned to fixed addresses, looked up instead of DNS (curl's `--resolve`),
/// for any port. Pins probe specific backends of a host; tests use them to
/// stage several addresses of one name on loopback. The address policy still judges every pinned
/// address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PinnedHosts {
    /// Normalised host name (lowercase, no trailing dot) → addresses, in order, without repeats.
    hosts: HashMap<String, Vec<IpAddr>>,
}

impl PinnedHosts {
    /// Pins `host` (a DNS name) to `addresses`, replacing an earlier pin of the same name.
    pub fn pin(&mut self, host: &str, addresses: Vec<IpAddr>) -> Result<(), PinError> {
        let key = normalise(host);
        match ServerName::try_from(key.as_str()) {
            Ok(ServerName::DnsName(_)) => {}
            Ok(_) => {
                return Err(PinError::NotADnsName {
                    host: host.to_string(),
                    problem: "an IP address is connected to as it is, never resolved".to_string(),
                })
            }
            Err(e) => {
                return Err(PinError::NotADnsName {
                    host: host.to_string(),
                    problem: format!("not a valid DNS name ({e})"),
                })
            }
        }
        let mut distinct: Vec<IpAddr> = Vec::new();
        for address in addresses {
            if !distinct.contains(&address) {
                distinct.push(address);
            }
        }
        if distinct.is_empty() {
            return Err(PinError::NoAddress {
                host: host.to_string(),
            });
        }
        self.hosts.insert(key, distinct);
        Ok(())
    }

    /// The pinned addresses of `host` with `port`, or `None` when `host` is not pinned (resolve it).
    pub fn socket_addrs(&self, host: &str, port: u16) -> Option<Vec<SocketAddr>> {
        self.hosts.get(&normalise(host)).map(|addresses| {
            addresses
                .iter()
                .map(|ip| SocketAddr::new(*ip, port))
                .collect()
        })
    }
}

/// A host name as DNS compares it: lowercase, without the root's trailing dot.
pub(super) fn normalise(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn pins_are_dns_names_with_addresses() {
        let mut pins = PinnedHosts::default();
        pins.pin(
            "Issuer.Test.",
            vec![ip("127.0.0.1"), ip("127.0.0.2"), ip("127.0.0.1")],
        )
        .unwrap();
        let both: Vec<SocketAddr> = vec![
            "127.0.0.1:8443".parse().unwrap(),
            "127.0.0.2:8443".parse().unwrap(),
        ];
        assert_eq!(pins.socket_addrs("issuer.test", 8443), Some(both.clone()));
        assert_eq!(pins.socket_addrs("ISSUER.test.", 8443), Some(both));
        assert_eq!(pins.socket_addrs("other.test", 8443), None);
        pins.pin("issuer.test", vec![ip("::1")]).unwrap();
        assert_eq!(
            pins.socket_addrs("issuer.test", 1),
            Some(vec!["[::1]:1".parse().unwrap()])
        );

        assert!(matches!(
            pins.pin("empty.test", vec![]),
            Err(PinError::NoAddress { .. })
        ));
        for literal in ["127.0.0.1", "::1"] {
            let err = pins.pin(literal, vec![ip("127.0.0.1")]).unwrap_err();
            assert!(err.to_string().contains("never resolved"), "{err}");
        }
        assert!(matches!(
            pins.pin("not a name", vec![ip("127.0.0.1")]),
            Err(PinError::NotADnsName { .. })
        ));
        assert_eq!(pins.socket_addrs("empty.test", 1), None);
    }
}
