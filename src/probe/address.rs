//! Which addresses the probe may contact (`ALLOW_PRIVATE_ADDRESSES`), and name resolution.
//!
//! The probe connects to hosts named by IAM and by discovery documents, i.e. chosen by someone
//! else. Without a policy it could be steered at the instance-metadata service or at internal
//! services (SSRF). The policy is checked on every resolved address, and again right before each
//! connect; the HTTP requests travel over those same connections, so a name cannot re-resolve to
//! an internal address between the check and the fetch (DNS rebinding).
//!
//! [`PinnedHosts`] replaces DNS for chosen names (like curl's `--resolve`), for every connection; pinned addresses go through the same policy as resolved ones.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use rustls_pki_types::ServerName;

/// The address rules of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressPolicy {
    /// `ALLOW_PRIVATE_ADDRESSES`: loopback, private ranges, CGNAT, unspecified, broadcast and
    /// multicast become allowed. Link-local and instance-metadata addresses stay refused.
    pub allow_private: bool,
}

/// Why the probe refuses to contact an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Link-local or instance-metadata: never probed, whatever the configuration.
    #[error("{ip}{via} is {kind}, which is never probed")]
    Always {
        /// The address as judged (an embedded IPv4 address is judged as itself).
        ip: IpAddr,
        /// " (embedded in …)" when it came inside an IPv6 address.
        via: String,
        /// What kind of address it is.
        kind: &'static str,
    },
    /// Loopback, private ranges and the like, refused unless `ALLOW_PRIVATE_ADDRESSES=true`.
    #[error("{ip}{via} is {kind}; set ALLOW_PRIVATE_ADDRESSES=true to probe it")]
    Private {
        /// The address as judged.
        ip: IpAddr,
        /// " (embedded in …)" when it came inside an IPv6 address.
        via: String,
        /// What kind of address it is.
        kind: &'static str,
    },
}

impl AddressPolicy {
    /// `Ok` when the probe may connect to `ip`, else why not (for the ADDRESS_REFUSED message).
    pub fn check(&self, ip: IpAddr) -> Result<(), Refusal> {
        let (ip, via) = match ip {
            IpAddr::V6(v6) => match embedded_ipv4(v6) {
                Some(v4) => (IpAddr::V4(v4), format!(" (embedded in {v6})")),
                None => (ip, String::new()),
            },
            IpAddr::V4(_) => (ip, String::new()),
        };
        if let Some(kind) = always_refused(ip) {
            return Err(Refusal::Always { ip, via, kind });
        }
        if let Some(kind) = private(ip) {
            if !self.allow_private {
                return Err(Refusal::Private { ip, via, kind });
            }
        }
        Ok(())
    }
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`)
/// IPv6 address: both reach that IPv4 address, so both are judged as it.
fn embedded_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = v6.segments();
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return Some(Ipv4Addr::new(a, b, c, d));
    }
    None
}

/// Link-local and instance-metadata addresses: refused whatever the configuration says.
fn always_refused(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) if v4 == Ipv4Addr::new(169, 254, 169, 254) => {
            Some("the instance-metadata address")
        }
        IpAddr::V4(v4) if v4.is_link_local() => Some("link-local (169.254.0.0/16)"),
        IpAddr::V6(v6) if v6.segments()[..2] == [0xfd00, 0x0ec2] => {
            Some("in AWS's instance-services range fd00:ec2::/32 (instance metadata fd00:ec2::254)")
        }
        IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80 => Some("link-local (fe80::/10)"),
        _ => None,
    }
}

/// Addresses refused unless `ALLOW_PRIVATE_ADDRESSES` is set.
fn private(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("in a private range (10/8, 172.16/12, 192.168/16)")
            } else if v4.is_unspecified() || a == 0 {
                Some("unspecified (0.0.0.0/8)")
            } else if a == 100 && (b & 0xc0) == 64 {
                Some("carrier-grade NAT (100.64.0.0/10)")
            } else if v4.is_broadcast() || v4.is_multicast() || a >= 240 {
                Some("broadcast, multicast or reserved")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified (::)")
            } else if first & 0xfe00 == 0xfc00 {
                Some("a unique local address (fc00::/7)")
            } else if first & 0xffc0 == 0xfec0 {
                Some("site-local (fec0::/10)")
            } else if v6.is_multicast() {
                Some("multicast (ff00::/8)")
            } else {
                None
            }
        }
    }
}

/// Removes repeated addresses (keeping the first) and keeps at most `cap`.
pub fn dedupe_and_cap(
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

/// Why a host cannot be pinned (see [`PinnedHosts::pin`]).
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
pub struct PinnedHosts {
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
fn normalise(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// `host:port` as the cache key and report field (lowercase, IPv6 in brackets).
pub fn authority(host: &str, port: u16) -> String {
    let bare = bare_host(host);
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]:{port}"),
        Ok(ip) => format!("{ip}:{port}"),
        Err(_) => format!("{}:{port}", normalise(bare)),
    }
}

/// `host` without the brackets of an IPv6 literal.
pub fn bare_host(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// Why a host gave no address to connect to.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResolveError {
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
pub async fn resolve(
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

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    const STRICT: AddressPolicy = AddressPolicy {
        allow_private: false,
    };
    const LENIENT: AddressPolicy = AddressPolicy {
        allow_private: true,
    };

    #[test]
    fn public_addresses_pass() {
        for a in [
            "203.0.113.10",
            "8.8.8.8",
            "2600:1f18::1",
            "100.128.0.1",
            "172.32.0.1",
        ] {
            assert_eq!(STRICT.check(ip(a)), Ok(()), "{a}");
        }
    }

    #[test]
    fn private_addresses_need_the_flag() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd12::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            let err = STRICT.check(ip(a)).unwrap_err().to_string();
            assert!(err.contains("ALLOW_PRIVATE_ADDRESSES"), "{a}: {err}");
            assert_eq!(LENIENT.check(ip(a)), Ok(()), "{a}");
        }
    }

    #[test]
    fn link_local_and_metadata_are_always_refused() {
        for a in [
            "169.254.169.254",
            "169.254.170.2",
            "169.254.0.1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(STRICT.check(ip(a)).is_err(), "{a}");
            let err = LENIENT.check(ip(a)).unwrap_err().to_string();
            assert!(err.contains("never probed"), "{a}: {err}");
        }
        assert!(LENIENT
            .check(ip("169.254.169.254"))
            .unwrap_err()
            .to_string()
            .contains("instance-metadata"));
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
