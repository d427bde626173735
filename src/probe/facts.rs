//! The probe's result facts: what each address of each host served, and which step failed how.
//!
//! Facts only, never verdicts about IAM: [`crate::assess`] turns them into findings. Every
//! failure carries a typed [`ProbeFailure`] the finding code is derived from; `message` and
//! `details` are for people.

use std::fmt;
use std::net::SocketAddr;

use crate::report::{self, CertificateInfo, Fetch};

/// Addresses probed per host at most (DESIGN: "probe every address ... (capped)").
pub const MAX_ADDRESSES: usize = 8;
/// Largest discovery document or JWKS read, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub use super::failure::{DiscoveryProblem, JwksProblem, ProbeFailure, ProbeIssue, Step};

/// `text` capped at [`report::ISSUER_TEXT_MAX`] characters: applied to every issuer-controlled
/// string where it enters the probe result.
pub fn capped(text: &str) -> String {
    report::cap(text).into_owned()
}

/// How the verifier judged one served chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainVerdict {
    /// Validated for the host name against the trust store, nothing expired.
    Trusted,
    /// A certificate of the chain is expired (or not yet valid); the text says which.
    Expired(String),
    /// Does not validate: unknown issuer, bad signature, wrong name, unparseable (the text says
    /// which).
    Untrusted(String),
    /// No chain was received (connection or handshake failed before the certificate).
    NotReceived,
}

impl ChainVerdict {
    /// Why the chain was rejected (expired or untrusted); `None` when it was trusted or never
    /// received.
    pub fn rejection(&self) -> Option<&str> {
        match self {
            ChainVerdict::Expired(why) | ChainVerdict::Untrusted(why) => Some(why),
            ChainVerdict::Trusted | ChainVerdict::NotReceived => None,
        }
    }
}

/// Why a served chain is not contiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakReason {
    /// Its subject is not the previous certificate's issuer name.
    NameMismatch,
    /// Its key does not verify the previous certificate's signature.
    BadSignature,
    /// It (or the previous one) cannot be parsed.
    Unparseable,
    /// The same certificate (same DER) was already served at position `first` (0-based).
    Repeated {
        /// Where it was served first.
        first: usize,
    },
    /// The previous certificate's issuer is served, but later, at position `issuer` (0-based).
    OutOfOrder {
        /// Where the previous certificate's issuer is served.
        issuer: usize,
    },
    /// It is not on the path from the host's certificate: it follows a self-signed root, which
    /// ends the path, or it is named as the issuer of no certificate served before it.
    Extra,
}

/// Where a served chain stops being contiguous: certificate `index` (0 = leaf) does not issue
/// certificate `index - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainBreak {
    /// The served position (0-based) of the certificate that does not issue the one before it.
    pub index: usize,
    /// Why.
    pub reason: BreakReason,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.index + 1;
        match self.reason {
            BreakReason::NameMismatch => write!(
                f,
                "served certificate #{n} is not named as the issuer of certificate #{}",
                n - 1
            ),
            BreakReason::BadSignature => write!(
                f,
                "served certificate #{n} did not sign certificate #{}",
                n - 1
            ),
            BreakReason::Unparseable => {
                write!(f, "served certificate #{n} or #{} cannot be parsed", n - 1)
            }
            BreakReason::Repeated { first } => write!(
                f,
                "served certificate #{n} repeats certificate #{} (the same certificate served twice)",
                first + 1
            ),
            BreakReason::OutOfOrder { issuer } => write!(
                f,
                "served certificate #{n} did not issue certificate #{}: its issuer is served later, as #{} (out of order)",
                n - 1,
                issuer + 1
            ),
            BreakReason::Extra => write!(
                f,
                "served certificate #{n} is not on the path from the host's certificate (an extra certificate after #{})",
                n - 1
            ),
        }
    }
}

/// One address of a host and what it served.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointProbe {
    /// The address connected to.
    pub address: SocketAddr,
    /// The chain exactly as served, leaf first.
    pub chain: Vec<CertificateInfo>,
    /// The verifier's verdict.
    pub verdict: ChainVerdict,
    /// True when the chain also validates against Mozilla's roots alone (webpki-roots), i.e. IAM
    /// would trust it without the thumbprint.
    pub publicly_anchored: bool,
    /// Whether each served certificate is issued by the next one (names and signature), none
    /// repeated and none extra.
    pub contiguity: Result<(), ChainBreak>,
    /// The address refused a TLS 1.2 handshake and served its chain over TLS 1.3: IAM, whose
    /// certificate retrieval speaks TLS 1.2, falls back to the thumbprint.
    pub tls13_only: bool,
    /// A connection/handshake failure (timeout, refused, TLS alert); `None` if the chain arrived.
    pub error: Option<String>,
}

impl EndpointProbe {
    /// An address not (yet) connected to: no chain, no verdict.
    pub fn new(address: SocketAddr) -> Self {
        EndpointProbe {
            address,
            chain: Vec::new(),
            verdict: ChainVerdict::NotReceived,
            publicly_anchored: false,
            contiguity: Ok(()),
            tls13_only: false,
            error: None,
        }
    }

    /// SHA-1 of the last served certificate: the thumbprint IAM needs.
    pub fn top_thumbprint(&self) -> Option<&str> {
        self.chain.last().map(|c| c.sha1.as_str())
    }

    /// Where the served chain breaks its order (CHAIN_ORDER): a break after the leaf. A lone
    /// certificate that cannot be parsed has no order to speak of (the verifier rejects it).
    pub fn order_break(&self) -> Option<ChainBreak> {
        self.contiguity.err().filter(|b| b.index > 0)
    }

    /// Trusted, contiguous and reached without error: the only chain whose top certificate is
    /// vouched for by its validation (DESIGN remediation condition 3).
    pub fn vouched(&self) -> bool {
        self.verdict == ChainVerdict::Trusted
            && self.error.is_none()
            && !self.chain.is_empty()
            && self.contiguity.is_ok()
    }
}

/// What one host served on every probed address (shared by providers on the same host).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostProbe {
    /// `host:port` probed (lowercase, IPv6 in brackets).
    pub authority: String,
    /// Which fetches this host carries for the issuer (set per issuer).
    pub serves: Vec<Fetch>,
    /// One entry per address connected to (at most [`MAX_ADDRESSES`]).
    pub endpoints: Vec<EndpointProbe>,
    /// Resolution failures, refused addresses.
    pub issues: Vec<ProbeIssue>,
}

/// Everything learned about one issuer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IssuerProbe {
    /// The issuer URL probed (`https://...`).
    pub issuer: String,
    /// `jwks_uri` from the discovery document, when discovery succeeded (capped).
    pub jwks_uri: Option<String>,
    /// Every probed host, the issuer's host first; one entry when discovery and JWKS share it.
    pub hosts: Vec<HostProbe>,
    /// Number of usable signing keys in the JWKS, when it was fetched.
    pub jwks_keys: Option<usize>,
    /// Discovery / JWKS / whole-probe problems.
    pub issues: Vec<ProbeIssue>,
}

impl IssuerProbe {
    /// Every probed address with its host, issuer host first.
    pub fn endpoints(&self) -> impl Iterator<Item = (&HostProbe, &EndpointProbe)> {
        self.hosts
            .iter()
            .flat_map(|host| host.endpoints.iter().map(move |e| (host, e)))
    }

    /// The host carrying `fetch`, when it was probed.
    pub fn host_serving(&self, fetch: Fetch) -> Option<&HostProbe> {
        self.hosts.iter().find(|h| h.serves.contains(&fetch))
    }

    /// Every issue: the hosts' (resolution, refusals), then the issuer's.
    pub fn all_issues(&self) -> impl Iterator<Item = &ProbeIssue> {
        self.hosts
            .iter()
            .flat_map(|h| h.issues.iter())
            .chain(&self.issues)
    }

    /// The report's endpoints: every address of every host, with `host` and `serves`.
    pub fn report_endpoints(&self) -> Vec<report::Endpoint> {
        self.endpoints()
            .map(|(host, endpoint)| report::Endpoint {
                host: host.authority.clone(),
                serves: host.serves.clone(),
                ..report::Endpoint::from(endpoint)
            })
            .collect()
    }
}

/// Why IAM relies on the thumbprint for an issuer. Since 2023 IAM verifies most issuers against
/// its own library of trusted root CAs (webpki-roots stands in for it) and uses the thumbprint for
/// a certificate outside it, and as a fallback: "AWS will fall back to thumbprint verification if
/// we are unable to retrieve the TLS certificate or if TLS v1.3 is required" (IAM user guide).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enforcement {
    /// Addresses whose served chain does not anchor in Mozilla's roots.
    pub private_anchor: Vec<SocketAddr>,
    /// Addresses that refused TLS 1.2 and served their chain over TLS 1.3 only.
    pub tls13_only: Vec<SocketAddr>,
    /// No address of either host served a chain: nothing shows IAM could verify one.
    pub no_chain: bool,
}

impl Enforcement {
    /// True when IAM relies on the thumbprint (any reason holds).
    pub fn enforced(&self) -> bool {
        self.no_chain || !self.private_anchor.is_empty() || !self.tls13_only.is_empty()
    }
}

impl fmt::Display for Enforcement {
    /// Why, in words ("" when not enforced): each reason, naming its addresses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |addresses: &[SocketAddr]| {
            addresses
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut reasons = Vec::new();
        if self.no_chain {
            reasons.push(
                "no address served a chain, so nothing shows IAM could verify one against its library of trusted root CAs"
                    .to_string(),
            );
        }
        if !self.private_anchor.is_empty() {
            reasons.push(format!(
                "the chain served at {} does not anchor in a public root CA (IAM's library of trusted root CAs)",
                list(&self.private_anchor)
            ));
        }
        if !self.tls13_only.is_empty() {
            reasons.push(format!(
                "{} accepts only TLS 1.3 (it refused a TLS 1.2 handshake), and IAM falls back to the thumbprint \"if TLS v1.3 is required\" (IAM user guide)",
                list(&self.tls13_only)
            ));
        }
        f.write_str(&reasons.join("; and "))
    }
}

/// Why IAM relies on the thumbprint for this issuer: every address of both hosts that served a
/// chain not anchored in Mozilla's roots, every address that accepts only TLS 1.3, and whether
/// none served a chain at all.
pub fn thumbprint_enforcement(probe: &IssuerProbe) -> Enforcement {
    let served: Vec<&EndpointProbe> = probe
        .endpoints()
        .map(|(_, e)| e)
        .filter(|e| !e.chain.is_empty())
        .collect();
    Enforcement {
        private_anchor: served
            .iter()
            .filter(|e| !e.publicly_anchored)
            .map(|e| e.address)
            .collect(),
        tls13_only: served
            .iter()
            .filter(|e| e.tls13_only)
            .map(|e| e.address)
            .collect(),
        no_chain: served.is_empty(),
    }
}

/// Whether IAM relies on the thumbprint for this issuer: true when any address of either host
/// served a chain that does not anchor in Mozilla's roots or accepts only TLS 1.3, or when none
/// served a chain (see [`thumbprint_enforcement`] for which and why).
pub fn thumbprint_enforced(probe: &IssuerProbe) -> bool {
    thumbprint_enforcement(probe).enforced()
}

/// Distinct top thumbprints served by every address of both hosts, in first-seen order (issuer
/// host first).
pub fn served_thumbprints(probe: &IssuerProbe) -> Vec<String> {
    let mut thumbprints: Vec<String> = Vec::new();
    for top in probe.endpoints().filter_map(|(_, e)| e.top_thumbprint()) {
        if !thumbprints.iter().any(|t| t == top) {
            thumbprints.push(top.to_string());
        }
    }
    thumbprints
}

impl From<&EndpointProbe> for report::Endpoint {
    fn from(endpoint: &EndpointProbe) -> Self {
        let reason = endpoint.verdict.rejection().map(str::to_string);
        let error = match (reason, &endpoint.error) {
            (Some(reason), Some(error)) => Some(format!("{reason}; {error}")),
            (reason, error) => reason.or_else(|| error.clone()),
        };
        report::Endpoint {
            host: String::new(),
            serves: Vec::new(),
            address: endpoint.address.to_string(),
            chain: endpoint.chain.clone(),
            top_thumbprint: endpoint.top_thumbprint().map(str::to_string),
            trusted: endpoint.verdict == ChainVerdict::Trusted,
            tls13_only: endpoint.tls13_only,
            error: error.map(|e| capped(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::FindingCode;
    use time::macros::datetime;

    fn endpoint(
        address: &str,
        tops: &[&str],
        verdict: ChainVerdict,
        public: bool,
    ) -> EndpointProbe {
        EndpointProbe {
            chain: tops
                .iter()
                .map(|sha1| CertificateInfo {
                    subject: "CN=x".into(),
                    issuer: "CN=y".into(),
                    sha1: sha1.to_string(),
                    not_before: Some(datetime!(2025-01-01 0:00 UTC)),
                    not_after: Some(datetime!(2027-01-01 0:00 UTC)),
                })
                .collect(),
            verdict,
            publicly_anchored: public,
            ..EndpointProbe::new(address.parse().unwrap())
        }
    }

    fn issuer(hosts: Vec<Vec<EndpointProbe>>) -> IssuerProbe {
        IssuerProbe {
            hosts: hosts
                .into_iter()
                .enumerate()
                .map(|(i, endpoints)| HostProbe {
                    authority: format!("h{i}:443"),
                    endpoints,
                    ..HostProbe::default()
                })
                .collect(),
            ..IssuerProbe::default()
        }
    }

    #[test]
    fn enforced_unless_every_served_chain_of_both_hosts_is_public() {
        let public = endpoint("192.0.2.1:443", &["aa"], ChainVerdict::Trusted, true);
        let private = endpoint("192.0.2.2:443", &["bb"], ChainVerdict::Trusted, false);
        let silent = endpoint("192.0.2.3:443", &[], ChainVerdict::NotReceived, false);
        assert!(!thumbprint_enforced(&issuer(vec![vec![
            public.clone(),
            silent.clone()
        ]])));
        assert!(thumbprint_enforced(&issuer(vec![vec![
            public.clone(),
            private.clone()
        ]])));
        assert!(thumbprint_enforced(&issuer(vec![
            vec![public.clone()],
            vec![private.clone()]
        ])));
        assert!(thumbprint_enforced(&issuer(vec![vec![silent]])));
        assert!(thumbprint_enforced(&issuer(vec![])));
        assert_eq!(
            served_thumbprints(&issuer(vec![
                vec![public.clone(), private.clone()],
                vec![public]
            ])),
            vec!["aa", "bb"]
        );
        assert_eq!(
            served_thumbprints(&issuer(vec![
                vec![private],
                vec![endpoint(
                    "192.0.2.4:443",
                    &["x", "cc"],
                    ChainVerdict::Trusted,
                    false
                )]
            ])),
            vec!["bb", "cc"]
        );
    }

    #[test]
    fn a_publicly_anchored_chain_is_enforced_when_an_address_accepts_only_tls13() {
        let public = endpoint("192.0.2.1:443", &["aa"], ChainVerdict::Trusted, true);
        let tls13 = EndpointProbe {
            tls13_only: true,
            ..endpoint("192.0.2.2:443", &["aa"], ChainVerdict::Trusted, true)
        };
        assert!(!thumbprint_enforced(&issuer(vec![vec![public.clone()]])));
        // Same public chain, one address refusing TLS 1.2: IAM falls back to the thumbprint.
        let probe = issuer(vec![vec![public.clone(), tls13.clone()]]);
        assert!(thumbprint_enforced(&probe));
        let enforcement = thumbprint_enforcement(&probe);
        assert_eq!(
            enforcement,
            Enforcement {
                private_anchor: vec![],
                tls13_only: vec!["192.0.2.2:443".parse().unwrap()],
                no_chain: false,
            }
        );
        let why = enforcement.to_string();
        assert!(
            why.starts_with("192.0.2.2:443 accepts only TLS 1.3 (it refused a TLS 1.2 handshake)"),
            "{why}"
        );
        assert!(why.contains("\"if TLS v1.3 is required\""), "{why}");
        assert!(!why.contains("public root"), "{why}");
        // On the JWKS host alone it counts too.
        assert!(thumbprint_enforced(&issuer(vec![
            vec![public.clone()],
            vec![tls13.clone()]
        ])));
        // Both reasons at once are both named.
        let private = endpoint("192.0.2.3:443", &["bb"], ChainVerdict::Trusted, false);
        let both = thumbprint_enforcement(&issuer(vec![vec![private], vec![tls13]])).to_string();
        assert!(
            both.starts_with(
                "the chain served at 192.0.2.3:443 does not anchor in a public root CA"
            ),
            "{both}"
        );
        assert!(
            both.contains("; and 192.0.2.2:443 accepts only TLS 1.3"),
            "{both}"
        );
        assert_eq!(
            thumbprint_enforcement(&issuer(vec![vec![public]])).to_string(),
            ""
        );
    }

    #[test]
    fn report_endpoint_carries_host_serves_top_thumbprint_and_reason() {
        let untrusted = endpoint(
            "[2001:db8::1]:443",
            &["leaf", "top"],
            ChainVerdict::Untrusted("unknown issuer".into()),
            false,
        );
        let shown = report::Endpoint::from(&untrusted);
        assert!(!shown.tls13_only);
        assert!(
            report::Endpoint::from(&EndpointProbe {
                tls13_only: true,
                ..untrusted.clone()
            })
            .tls13_only
        );
        assert_eq!(shown.address, "[2001:db8::1]:443");
        assert_eq!(shown.top_thumbprint.as_deref(), Some("top"));
        assert!(!shown.trusted);
        assert_eq!(shown.error.as_deref(), Some("unknown issuer"));
        let mut probe = issuer(vec![
            vec![untrusted],
            vec![endpoint(
                "192.0.2.1:443",
                &["a"],
                ChainVerdict::Trusted,
                false,
            )],
        ]);
        probe.hosts[0].serves = vec![Fetch::Discovery];
        probe.hosts[1].serves = vec![Fetch::Jwks];
        let shown = probe.report_endpoints();
        assert_eq!(shown.len(), 2);
        assert_eq!(
            (shown[0].host.as_str(), shown[0].serves.as_slice()),
            ("h0:443", &[Fetch::Discovery][..])
        );
        assert_eq!(
            (shown[1].host.as_str(), shown[1].serves.as_slice()),
            ("h1:443", &[Fetch::Jwks][..])
        );
        assert!(shown[1].trusted && shown[1].error.is_none());
    }

    #[test]
    fn failures_give_their_codes() {
        let issue = ProbeIssue::new(
            ProbeFailure::Unreachable { step: Step::Jwks },
            "x".repeat(5000),
            serde_json::json!({}),
        );
        assert_eq!(issue.code(), FindingCode::IssuerUnreachable);
        assert!(issue.message.chars().count() <= report::ISSUER_TEXT_MAX);
        assert_eq!(
            ProbeFailure::DiscoveryInvalid {
                problem: DiscoveryProblem::BadIssuerUrl
            }
            .code(),
            FindingCode::DiscoveryInvalid
        );
        assert_eq!(
            ProbeFailure::Refused { address: None }.code(),
            FindingCode::AddressRefused
        );
        assert_eq!(
            ProbeFailure::JwksInvalid {
                problem: JwksProblem::NoUsableKey
            }
            .code(),
            FindingCode::JwksInvalid
        );
    }
}
