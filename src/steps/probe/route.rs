//! IPv6 addresses this machine has no route to, skipped before the TLS probe.
//!
//! A Lambda function outside a VPC (and many hosts) has no IPv6 egress. When the JWKS host
//! publishes AAAA records, probing those addresses fails every time with "network unreachable",
//! which would make the host look unreachable (a critical ISSUER_UNREACHABLE) and block
//! remediation for good, although the IPv4 addresses answer. So, before connecting, each allowed
//! IPv6 address is checked for a route without sending anything (a UDP socket's `connect` only
//! consults the routing table), and the unroutable ones are skipped while something remains to
//! probe. When nothing would remain, every address is kept: the failure is then real.

use std::io;
use std::net::{Ipv6Addr, SocketAddr, UdpSocket};

/// Splits `addresses` into (to probe, skipped): IPv6 addresses for which `has_route` says no are
/// skipped, unless that would leave nothing to probe, in which case all are kept and none skipped.
/// IPv4 addresses are always kept and never passed to `has_route`. Order is preserved.
pub(crate) fn skip_unroutable_ipv6(
    addresses: Vec<SocketAddr>,
    mut has_route: impl FnMut(SocketAddr) -> bool,
) -> (Vec<SocketAddr>, Vec<SocketAddr>) {
    let (kept, skipped): (Vec<SocketAddr>, Vec<SocketAddr>) = addresses
        .iter()
        .partition(|address| address.is_ipv4() || has_route(**address));
    if kept.is_empty() {
        (addresses, Vec::new())
    } else {
        (kept, skipped)
    }
}

/// Whether this machine has a route to `address`, asked of the kernel without sending a packet:
/// a UDP socket bound to `[::]:0` is `connect`ed to it. "Network unreachable", "address not
/// available" (no usable source address) and an unsupported address family (IPv6 disabled) mean
/// no route. Any other error counts as a route, so the probe itself reports it. IPv4 addresses
/// are not checked (true).
pub(crate) fn has_route(address: SocketAddr) -> bool {
    if address.is_ipv4() {
        return true;
    }
    let socket = match UdpSocket::bind((Ipv6Addr::UNSPECIFIED, 0)) {
        Ok(socket) => socket,
        Err(e) => return !means_no_route(&e),
    };
    match socket.connect(address) {
        Ok(()) => true,
        Err(e) => !means_no_route(&e),
    }
}

/// The errors of `bind`/`connect` that say IPv6 traffic to the address cannot leave this machine.
fn means_no_route(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::AddrNotAvailable
            | io::ErrorKind::Unsupported
    ) || e.raw_os_error().is_some_and(|code| code == EAFNOSUPPORT)
}

/// "Address family not supported by protocol" (IPv6 disabled in the kernel), which std maps to no
/// specific [`io::ErrorKind`].
#[cfg(target_os = "linux")]
const EAFNOSUPPORT: i32 = 97;
#[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
const EAFNOSUPPORT: i32 = 47;
#[cfg(not(any(
    target_os = "linux",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd"
)))]
const EAFNOSUPPORT: i32 = i32::MIN;

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn unroutable_ipv6_is_skipped_while_ipv4_remains() {
        let mut asked = Vec::new();
        let (kept, skipped) = skip_unroutable_ipv6(
            addrs(&[
                "[2600:1f18::1]:443",
                "203.0.113.10:443",
                "[2600:1f18::2]:443",
            ]),
            |a| {
                asked.push(a);
                false
            },
        );
        assert_eq!(kept, addrs(&["203.0.113.10:443"]));
        assert_eq!(
            skipped,
            addrs(&["[2600:1f18::1]:443", "[2600:1f18::2]:443"])
        );
        // Only the IPv6 addresses are checked.
        assert_eq!(asked, addrs(&["[2600:1f18::1]:443", "[2600:1f18::2]:443"]));
    }

    #[test]
    fn a_routable_ipv6_address_is_enough_to_skip_the_others() {
        let routable: SocketAddr = "[2600:1f18::2]:443".parse().unwrap();
        let (kept, skipped) =
            skip_unroutable_ipv6(addrs(&["[2600:1f18::1]:443", "[2600:1f18::2]:443"]), |a| {
                a == routable
            });
        assert_eq!(kept, vec![routable]);
        assert_eq!(skipped, addrs(&["[2600:1f18::1]:443"]));
    }

    #[test]
    fn when_nothing_is_routable_every_address_is_kept() {
        let all = addrs(&["[2600:1f18::1]:443", "[2600:1f18::2]:443"]);
        let (kept, skipped) = skip_unroutable_ipv6(all.clone(), |_| false);
        assert_eq!(kept, all);
        assert!(skipped.is_empty());
        let (kept, skipped) = skip_unroutable_ipv6(Vec::new(), |_| false);
        assert!(kept.is_empty() && skipped.is_empty());
    }

    #[test]
    fn routable_addresses_and_ipv4_are_all_kept_in_order() {
        let all = addrs(&[
            "[2600:1f18::1]:443",
            "203.0.113.10:443",
            "[::ffff:203.0.113.11]:443",
        ]);
        let (kept, skipped) = skip_unroutable_ipv6(all.clone(), |_| true);
        assert_eq!(kept, all);
        assert!(skipped.is_empty());
    }

    #[test]
    fn no_route_errors_are_recognised() {
        for kind in [
            io::ErrorKind::NetworkUnreachable,
            io::ErrorKind::AddrNotAvailable,
            io::ErrorKind::HostUnreachable,
        ] {
            assert!(means_no_route(&io::Error::from(kind)), "{kind:?}");
        }
        #[cfg(target_os = "linux")]
        assert!(means_no_route(&io::Error::from_raw_os_error(97))); // EAFNOSUPPORT
        #[cfg(target_os = "linux")]
        assert!(means_no_route(&io::Error::from_raw_os_error(101))); // ENETUNREACH
        assert!(!means_no_route(&io::Error::from(
            io::ErrorKind::PermissionDenied
        )));
    }

    #[test]
    fn ipv4_is_never_checked_and_the_real_check_does_not_send() {
        assert!(has_route("203.0.113.10:443".parse().unwrap()));
        // Whatever this machine's IPv6 setup, the check answers without blocking or panicking.
        let _ = has_route("[2001:db8::1]:443".parse().unwrap());
    }
}
