//! The address rules of a run (`ALLOW_PRIVATE_ADDRESSES`): link-local and instance-metadata
//! addresses are never contacted, private ones only when allowed; an IPv6 address embedding an
//! IPv4 one is judged as that IPv4 address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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
}
