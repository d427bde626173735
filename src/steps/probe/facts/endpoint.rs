//! What was served where: one address ([`EndpointProbe`]), one host ([`HostProbe`]), one issuer
//! ([`IssuerProbe`]), and an address as the report shows it.

use std::net::SocketAddr;

use super::chain::{ChainBreak, ChainVerdict};
use super::failure::ProbeIssue;
use super::limits::capped;
use crate::report::{self, CertificateInfo, Fetch};

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
    /// One entry per address connected to (at most [`MAX_ADDRESSES`](super::MAX_ADDRESSES)).
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
