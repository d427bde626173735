//! Probe an issuer: discovery document, JWKS host's served TLS chains (every address), JWKS keys.
//!
//! The probe records facts, never verdicts about IAM: what each address served, whether rustls'
//! WebPKI verifier accepted it, and which step failed how. [`crate::assess`] turns these facts into
//! findings (it alone knows `now`, the configured thumbprints and the expiry window).
//!
//! I/O lives here; everything is bounded by `PROBE_TIMEOUT_SECS` per network step, and every
//! failure is a [`ProbeIssue`] or an [`EndpointProbe`] field, never an `Err` or a panic.
//!
//! # Layout
//! - [`ProbeContext`]: crypto provider, trust stores, verifiers, address policy and HTTP client,
//!   built once per run from [`Config`].
//! - [`address`]: which addresses may be contacted, the HTTP client's policy-enforcing resolver,
//!   and hosts pinned to fixed addresses ([`ProbeContext::with_resolve`]).
//! - [`verifier`]: the recording verifier (WebPKI's verdict, plus the chain as served).
//! - `tls`: one address's TLS probe; [`probe_host`] runs it on every address of a host.
//! - `http`: the discovery and JWKS fetches and their checks; [`probe_issuer`] strings it all together.
//! - [`certificate`]: subject, issuer, SHA-1 and validity of a served certificate.
//! - [`route`]: IPv6 addresses without a route from here, skipped while another address remains.

pub mod address;
pub mod certificate;
mod http;
pub mod route;
mod tls;
pub mod verifier;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::json;
use tokio::sync::{OnceCell, Semaphore};
use url::{Host, Url};

use crate::config::{Config, ConfigError};
use crate::report::{self, CertificateInfo, FindingCode};

use address::{dedupe_and_cap, AddressPolicy, PinError, PinnedHosts, PolicyResolver};
use http::{
    check_discovery, check_issuer_url, discovery_url, fetch_json, usable_signing_keys, FetchError,
};

/// Addresses probed per host at most (DESIGN: "probe every address ... (capped)").
pub const MAX_ADDRESSES: usize = 8;
/// Largest discovery document or JWKS read, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A step of the probe that failed, already classified with DESIGN's code.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeIssue {
    /// ISSUER_UNREACHABLE, DISCOVERY_INVALID, JWKS_INVALID or ADDRESS_REFUSED.
    pub code: FindingCode,
    /// What went wrong, naming the URL/host/address.
    pub message: String,
    /// Machine-readable facts (url, address, status...); a JSON object.
    pub details: serde_json::Value,
}

/// How the verifier judged one served chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainVerdict {
    /// Validated for the host name against the trust store, nothing expired.
    Trusted,
    /// A certificate of the chain is expired (or not yet valid); the text says which.
    Expired(String),
    /// Does not validate: unknown issuer, bad signature, wrong name, ... (the text says which).
    Untrusted(String),
    /// No chain was received (connection or handshake failed before the certificate).
    NotReceived,
}

/// One address of the JWKS host and what it served.
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
    /// A connection/handshake failure (timeout, refused, TLS alert); `None` if the chain arrived.
    pub error: Option<String>,
}

impl EndpointProbe {
    /// SHA-1 of the last served certificate: the thumbprint IAM needs.
    pub fn top_thumbprint(&self) -> Option<&str> {
        self.chain.last().map(|c| c.sha1.as_str())
    }
}

/// What the JWKS host served on every probed address (shared by providers on the same host).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostProbe {
    /// `host:port` probed.
    pub authority: String,
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
    /// `jwks_uri` from the discovery document, when discovery succeeded.
    pub jwks_uri: Option<String>,
    /// The TLS probe of the JWKS host (or of the issuer host when discovery failed on its chain).
    pub host: HostProbe,
    /// Number of usable signing keys in the JWKS, when it was fetched.
    pub jwks_keys: Option<usize>,
    /// Discovery / JWKS problems.
    pub issues: Vec<ProbeIssue>,
}

impl ProbeIssue {
    fn new(code: FindingCode, message: impl Into<String>, details: serde_json::Value) -> Self {
        ProbeIssue {
            code,
            message: message.into(),
            details,
        }
    }
}

const TRUST_VAR: &str = "EXTRA_TRUST_ANCHORS_PEM";

/// Everything a probe needs, built once per run (CLI or Lambda invocation) and shared by reference.
#[derive(Debug)]
pub struct ProbeContext {
    /// aws-lc-rs, named explicitly: both ring and aws-lc are in the dependency graph, so the
    /// process-wide default provider cannot be relied on.
    provider: Arc<CryptoProvider>,
    /// WebPKI verifier over Mozilla's roots plus `EXTRA_TRUST_ANCHORS_PEM`: decides `trusted`.
    full_verifier: Arc<WebPkiServerVerifier>,
    /// WebPKI verifier over Mozilla's roots alone: decides `publicly_anchored`.
    public_verifier: Arc<WebPkiServerVerifier>,
    /// Template for the per-connection configs of the TLS probe (resumption off; see [`verifier`]).
    tls_template: Arc<ClientConfig>,
    /// `ALLOW_PRIVATE_ADDRESSES`.
    policy: AddressPolicy,
    /// `PROBE_TIMEOUT_SECS`: bound on each network step.
    timeout: Duration,
    /// `PROBE_CONCURRENCY`: endpoints probed at once.
    endpoint_permits: Semaphore,
    /// Hosts pinned to fixed addresses, for the TLS probe and the HTTP client alike.
    pins: Arc<PinnedHosts>,
    /// Whether this machine has a route to an address ([`route::has_route`]; replaced in tests).
    has_route: fn(SocketAddr) -> bool,
    /// The HTTP client's TLS configuration, kept to rebuild the client when a host is pinned.
    http_tls: ClientConfig,
    /// Discovery and JWKS fetches: verified TLS on the full store, no redirects, no proxy, policy
    /// resolver.
    http: reqwest::Client,
}

impl ProbeContext {
    /// Builds the trust stores, verifiers and HTTP client from the configuration.
    ///
    /// Fails only on `EXTRA_TRUST_ANCHORS_PEM`: unreadable, no certificate in it, or a certificate
    /// rustls cannot use as a trust anchor.
    pub fn new(config: &Config) -> Result<ProbeContext, ConfigError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut public_roots = RootCertStore::empty();
        public_roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let mut full_roots = public_roots.clone();
        let anchors_path = config.extra_trust_anchors_pem.as_deref();
        if let Some(path) = anchors_path {
            for (index, cert) in read_trust_anchors(path)?.into_iter().enumerate() {
                full_roots.add(cert).map_err(|e| ConfigError::File {
                    var: TRUST_VAR,
                    path: path.to_path_buf(),
                    problem: format!(
                        "certificate #{} is not a usable trust anchor: {e}",
                        index + 1
                    ),
                })?;
            }
        }
        let setup_error = |what: &'static str, e: &dyn std::fmt::Display| ConfigError::Tls {
            what,
            error: e.to_string(),
        };
        let verifier = |roots: RootCertStore| {
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| setup_error("verifier", &e))
        };
        let full_verifier = verifier(full_roots)?;
        let public_verifier = verifier(public_roots)?;
        let client_config = || -> Result<ClientConfig, ConfigError> {
            Ok(ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| setup_error("protocol versions", &e))?
                .with_webpki_verifier(full_verifier.clone())
                .with_no_client_auth())
        };
        let mut tls_template = client_config()?;
        tls_template.resumption = Resumption::disabled();
        let mut http_tls = client_config()?;
        http_tls.alpn_protocols = vec![b"http/1.1".to_vec()];

        let policy = AddressPolicy {
            allow_private: config.allow_private_addresses,
        };
        let timeout = config.probe_timeout;
        let pins = Arc::new(PinnedHosts::default());
        let http = http_client(&http_tls, policy, timeout, pins.clone())?;
        Ok(ProbeContext {
            provider,
            full_verifier,
            public_verifier,
            tls_template: Arc::new(tls_template),
            policy,
            timeout,
            endpoint_permits: Semaphore::new(config.probe_concurrency.max(1)),
            pins,
            has_route: route::has_route,
            http_tls,
            http,
        })
    }

    /// Pins `host` to `addresses` for the TLS probe and the discovery/JWKS fetches alike, like
    /// curl's `--resolve`: no DNS lookup is made for it, on any port. Pin a host to probe specific
    /// backends; tests use it to give one name several loopback addresses.
    ///
    /// The address policy still applies (a refused address stays refused), and at most
    /// [`MAX_ADDRESSES`] are probed. Fails when `host` is not a DNS name or `addresses` is empty.
    pub fn with_resolve(
        mut self,
        host: &str,
        addresses: Vec<IpAddr>,
    ) -> Result<ProbeContext, ResolveOverrideError> {
        let mut pins = (*self.pins).clone();
        pins.pin(host, addresses)?;
        self.pins = Arc::new(pins);
        self.http = http_client(&self.http_tls, self.policy, self.timeout, self.pins.clone())?;
        Ok(self)
    }

    /// The crypto provider every TLS object of the probe uses.
    pub fn provider(&self) -> &Arc<CryptoProvider> {
        &self.provider
    }

    /// The address policy in force.
    pub fn policy(&self) -> AddressPolicy {
        self.policy
    }

    /// The bound on each network step.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// Why [`ProbeContext::with_resolve`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ResolveOverrideError {
    /// The host or the addresses cannot be pinned.
    #[error(transparent)]
    Pin(#[from] PinError),
    /// The HTTP client could not be rebuilt with the pin.
    #[error(transparent)]
    Client(#[from] ConfigError),
}

/// The discovery/JWKS client: verified TLS (`tls`), https only, no redirects, no proxy, every
/// step bounded by `timeout`, names resolved through `pins` or DNS and checked against `policy`.
fn http_client(
    tls: &ClientConfig,
    policy: AddressPolicy,
    timeout: Duration,
    pins: Arc<PinnedHosts>,
) -> Result<reqwest::Client, ConfigError> {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls.clone())
        .https_only(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(PolicyResolver::new(policy, timeout, MAX_ADDRESSES, pins))
        .connect_timeout(timeout)
        .read_timeout(timeout)
        .timeout(timeout * 2)
        .user_agent(concat!("thumbprint-guard/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ConfigError::Tls {
            what: "HTTP client",
            error: e.to_string(),
        })
}

/// Every certificate of a PEM file; errors name `EXTRA_TRUST_ANCHORS_PEM` and the path.
fn read_trust_anchors(path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let file_error = |problem: String| ConfigError::File {
        var: TRUST_VAR,
        path: path.to_path_buf(),
        problem,
    };
    let pem = std::fs::read(path).map_err(|e| file_error(format!("cannot be read: {e}")))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(format!("is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(file_error(
            "holds no certificate (expected one or more -----BEGIN CERTIFICATE----- blocks)"
                .to_string(),
        ));
    }
    Ok(certs)
}

/// `host:port` as the cache key and report field (lowercase, IPv6 in brackets).
fn authority(host: &str, port: u16) -> String {
    let bare = bare_host(host);
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]:{port}"),
        Ok(ip) => format!("{ip}:{port}"),
        Err(_) => format!("{}:{port}", bare.trim_end_matches('.').to_ascii_lowercase()),
    }
}

fn bare_host(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// Probes every address of `host` (at most [`MAX_ADDRESSES`]; the pinned ones if the context pins
/// it) concurrently: policy check, TCP, TLS with SNI (the DNS name, or the IP for an IP literal),
/// chain and verdict per address.
///
/// IPv6 addresses this machine has no route to (a Lambda outside a VPC has no IPv6 egress) are
/// skipped, logged and not reported, as long as another allowed address remains (see [`route`]).
pub async fn probe_host(ctx: &ProbeContext, host: &str, port: u16) -> HostProbe {
    let authority = authority(host, port);
    let mut probe = HostProbe {
        authority: authority.clone(),
        ..HostProbe::default()
    };
    let bare = bare_host(host);
    let unreachable = |message: String| {
        ProbeIssue::new(
            FindingCode::IssuerUnreachable,
            message,
            json!({"host": authority}),
        )
    };
    let (server_name, addresses) = if let Ok(ip) = bare.parse::<IpAddr>() {
        // reqwest never calls the resolver for IP literals, and neither do we: check here.
        (
            ServerName::IpAddress(ip.into()),
            vec![SocketAddr::new(ip, port)],
        )
    } else {
        let server_name = match ServerName::try_from(bare.to_string()) {
            Ok(name) => name,
            Err(e) => {
                probe.issues.push(unreachable(format!(
                    "'{bare}' is not a valid host name: {e}"
                )));
                return probe;
            }
        };
        let lookup = async {
            match ctx.pins.socket_addrs(bare, port) {
                Some(pinned) => Ok(pinned),
                None => tokio::net::lookup_host((bare, port))
                    .await
                    .map(Iterator::collect::<Vec<_>>),
            }
        };
        match tokio::time::timeout(ctx.timeout, lookup).await {
            Ok(Ok(resolved)) => (server_name, dedupe_and_cap(resolved, MAX_ADDRESSES)),
            Ok(Err(e)) => {
                probe
                    .issues
                    .push(unreachable(format!("cannot resolve {bare}: {e}")));
                return probe;
            }
            Err(_) => {
                probe.issues.push(unreachable(format!(
                    "resolving {bare} timed out after {}s",
                    ctx.timeout.as_secs_f32()
                )));
                return probe;
            }
        }
    };
    if addresses.is_empty() {
        probe
            .issues
            .push(unreachable(format!("{bare} resolves to no address")));
        return probe;
    }
    let mut allowed = Vec::new();
    for address in addresses {
        match ctx.policy.check(address.ip()) {
            Ok(()) => allowed.push(address),
            Err(reason) => probe.issues.push(ProbeIssue::new(
                FindingCode::AddressRefused,
                format!("{authority} resolves to {address}, which the probe refuses to contact: {reason}"),
                json!({"host": authority, "address": address.to_string(), "reason": reason}),
            )),
        }
    }
    // After the policy: only allowed addresses are considered, and a refused one never counts as
    // "another address remains".
    let (allowed, skipped) = route::skip_unroutable_ipv6(allowed, ctx.has_route);
    for address in &skipped {
        tracing::info!(
            host = %authority,
            %address,
            "skipping an IPv6 address this machine has no route to; other addresses remain"
        );
    }
    probe.endpoints = futures::future::join_all(
        allowed
            .into_iter()
            .map(|address| tls::probe_endpoint(ctx, server_name.clone(), address)),
    )
    .await;
    probe
}

/// Host probes of one sweep, keyed by `host:port`: providers sharing a JWKS host (every EKS
/// cluster of a region) probe it once, even when their probes run concurrently.
#[derive(Debug, Default)]
pub struct HostCache {
    hosts: Mutex<HashMap<String, Arc<OnceCell<HostProbe>>>>,
}

impl HostCache {
    /// An empty cache (one per sweep: chains change between sweeps).
    pub fn new() -> Self {
        HostCache::default()
    }

    /// The probe of `host:port`, running it if no other caller has; concurrent callers wait for
    /// the one probe in flight.
    pub async fn probe(&self, ctx: &ProbeContext, host: &str, port: u16) -> HostProbe {
        let cell = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            hosts.entry(authority(host, port)).or_default().clone()
        };
        cell.get_or_init(|| probe_host(ctx, host, port))
            .await
            .clone()
    }

    /// How many distinct hosts have been (or are being) probed.
    pub fn len(&self) -> usize {
        self.hosts.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// True before the first probe.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Port of an https URL (443 unless given).
fn https_port(url: &Url) -> u16 {
    url.port_or_known_default().unwrap_or(443)
}

/// ADDRESS_REFUSED for a URL whose host is an IP literal the policy refuses (the HTTP client's
/// resolver never sees literals).
fn refused_literal(ctx: &ProbeContext, url: &Url) -> Option<ProbeIssue> {
    let ip = match url.host()? {
        Host::Ipv4(v4) => IpAddr::V4(v4),
        Host::Ipv6(v6) => IpAddr::V6(v6),
        Host::Domain(_) => return None,
    };
    let reason = ctx.policy.check(ip).err()?;
    let address = SocketAddr::new(ip, https_port(url)).to_string();
    Some(ProbeIssue::new(
        FindingCode::AddressRefused,
        format!("{url} is at {address}, which the probe refuses to contact: {reason}"),
        json!({"url": url.as_str(), "address": address, "reason": reason}),
    ))
}

/// Probes one issuer: discovery document, then every address of the `jwks_uri` host (through
/// `cache`), then the JWKS itself. Every failure becomes a [`ProbeIssue`].
///
/// When the discovery fetch fails because the issuer's certificate was rejected, the issuer host's
/// chains are probed instead (so the untrusted or expired chain is reported with its real
/// thumbprint) and one DISCOVERY_INVALID says discovery could not be verified.
pub async fn probe_issuer(ctx: &ProbeContext, issuer_url: &str, cache: &HostCache) -> IssuerProbe {
    let mut probe = IssuerProbe {
        issuer: issuer_url.to_string(),
        ..IssuerProbe::default()
    };
    let discovery_invalid = |message: String, details: serde_json::Value| {
        ProbeIssue::new(FindingCode::DiscoveryInvalid, message, details)
    };
    let checked =
        check_issuer_url(issuer_url).and_then(|issuer| Ok((issuer, discovery_url(issuer_url)?)));
    let (issuer, discovery) = match checked {
        Ok(urls) => urls,
        Err(problem) => {
            probe.issues.push(discovery_invalid(
                format!("cannot probe issuer: {problem}"),
                json!({"issuer": issuer_url}),
            ));
            return probe;
        }
    };
    if let Some(issue) = refused_literal(ctx, &discovery) {
        probe.issues.push(issue);
        return probe;
    }

    let document = match fetch_json(ctx, &discovery).await {
        Ok(document) => document,
        Err(FetchError::CertificateRejected(why)) => {
            let host = issuer.host_str().unwrap_or_default();
            probe.host = cache.probe(ctx, host, https_port(&issuer)).await;
            probe.issues.push(discovery_invalid(
                format!(
                    "the discovery document {discovery} could not be fetched over verified TLS ({why}); \
                     the issuer host's chain is reported instead"
                ),
                json!({"url": discovery.as_str(), "error": why, "cause": "certificate_rejected"}),
            ));
            return probe;
        }
        Err(FetchError::Refused(why)) => {
            probe.issues.push(ProbeIssue::new(
                FindingCode::AddressRefused,
                format!("{discovery} was not fetched: {why}"),
                json!({"url": discovery.as_str(), "reason": why}),
            ));
            return probe;
        }
        Err(FetchError::Unreachable(why)) => {
            probe.issues.push(ProbeIssue::new(
                FindingCode::IssuerUnreachable,
                format!("cannot fetch {discovery}: {why}"),
                json!({"url": discovery.as_str(), "error": why}),
            ));
            return probe;
        }
        Err(FetchError::Invalid { problem, details }) => {
            probe.issues.push(discovery_invalid(
                format!("discovery document: {problem}"),
                details,
            ));
            return probe;
        }
    };
    let jwks_url = match check_discovery(issuer_url, &document) {
        Ok(url) => url,
        Err((problem, details)) => {
            probe.issues.push(discovery_invalid(
                format!("discovery document {discovery}: {problem}"),
                details,
            ));
            return probe;
        }
    };
    probe.jwks_uri = Some(
        document
            .get("jwks_uri")
            .and_then(serde_json::Value::as_str)
            .unwrap_or(jwks_url.as_str())
            .to_string(),
    );

    let jwks_host = jwks_url.host_str().unwrap_or_default();
    probe.host = cache.probe(ctx, jwks_host, https_port(&jwks_url)).await;

    let jwks_invalid = |message: String, details: serde_json::Value| {
        ProbeIssue::new(FindingCode::JwksInvalid, message, details)
    };
    let verified = probe
        .host
        .endpoints
        .iter()
        .any(|e| e.verdict == ChainVerdict::Trusted && e.error.is_none());
    if !verified {
        probe.issues.push(jwks_invalid(
            format!(
                "the JWKS {jwks_url} was not fetched: no address of {} completed a verified TLS handshake \
                 with every served certificate valid (see the chain, expiry and reachability findings)",
                probe.host.authority
            ),
            json!({"url": jwks_url.as_str()}),
        ));
        return probe;
    }
    match fetch_json(ctx, &jwks_url).await {
        Ok(jwks) => match usable_signing_keys(&jwks) {
            Ok(count) => probe.jwks_keys = Some(count),
            Err(problem) => {
                probe.jwks_keys = Some(0);
                probe.issues.push(jwks_invalid(
                    format!("{jwks_url}: {problem}"),
                    json!({"url": jwks_url.as_str()}),
                ));
            }
        },
        Err(error) => {
            let (problem, details) = match error {
                FetchError::Invalid { problem, details } => (problem, details),
                FetchError::Refused(why)
                | FetchError::CertificateRejected(why)
                | FetchError::Unreachable(why) => {
                    (why.clone(), json!({"url": jwks_url.as_str(), "error": why}))
                }
            };
            probe.issues.push(jwks_invalid(
                format!("cannot fetch the JWKS {jwks_url}: {problem}"),
                details,
            ));
        }
    }
    probe
}

impl From<&EndpointProbe> for report::Endpoint {
    fn from(endpoint: &EndpointProbe) -> Self {
        let reason = match &endpoint.verdict {
            ChainVerdict::Expired(why) | ChainVerdict::Untrusted(why) => Some(why.clone()),
            ChainVerdict::Trusted | ChainVerdict::NotReceived => None,
        };
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
            error,
        }
    }
}

/// Whether IAM relies on the thumbprint for this host: true unless every address that served a
/// chain served one anchored in Mozilla's roots (true when none served a chain).
pub fn thumbprint_enforced(host: &HostProbe) -> bool {
    let mut served = host
        .endpoints
        .iter()
        .filter(|e| !e.chain.is_empty())
        .peekable();
    if served.peek().is_none() {
        return true;
    }
    !served.all(|e| e.publicly_anchored)
}

/// Distinct top thumbprints served by the host's addresses, in first-seen order.
pub fn served_thumbprints(host: &HostProbe) -> Vec<String> {
    let mut thumbprints: Vec<String> = Vec::new();
    for top in host
        .endpoints
        .iter()
        .filter_map(EndpointProbe::top_thumbprint)
    {
        if !thumbprints.iter().any(|t| t == top) {
            thumbprints.push(top.to_string());
        }
    }
    thumbprints
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn endpoint(
        address: &str,
        tops: &[&str],
        verdict: ChainVerdict,
        public: bool,
    ) -> EndpointProbe {
        EndpointProbe {
            address: address.parse().unwrap(),
            chain: tops
                .iter()
                .map(|sha1| CertificateInfo {
                    subject: "CN=x".into(),
                    issuer: "CN=y".into(),
                    sha1: sha1.to_string(),
                    not_before: datetime!(2025-01-01 0:00 UTC),
                    not_after: datetime!(2027-01-01 0:00 UTC),
                })
                .collect(),
            verdict,
            publicly_anchored: public,
            error: None,
        }
    }

    #[test]
    fn authority_normalises_hosts() {
        assert_eq!(authority("OIDC.Example.com.", 443), "oidc.example.com:443");
        assert_eq!(authority("[::1]", 8443), "[::1]:8443");
        assert_eq!(authority("::1", 8443), "[::1]:8443");
        assert_eq!(authority("127.0.0.1", 1), "127.0.0.1:1");
    }

    #[test]
    fn enforced_unless_every_served_chain_is_public() {
        let public = endpoint("192.0.2.1:443", &["aa"], ChainVerdict::Trusted, true);
        let private = endpoint("192.0.2.2:443", &["bb"], ChainVerdict::Trusted, false);
        let silent = endpoint("192.0.2.3:443", &[], ChainVerdict::NotReceived, false);
        let host = |endpoints: Vec<EndpointProbe>| HostProbe {
            authority: "h:443".into(),
            endpoints,
            issues: vec![],
        };
        assert!(!thumbprint_enforced(&host(vec![
            public.clone(),
            silent.clone()
        ])));
        assert!(thumbprint_enforced(&host(vec![
            public.clone(),
            private.clone()
        ])));
        assert!(thumbprint_enforced(&host(vec![silent])));
        assert!(thumbprint_enforced(&host(vec![])));
        assert_eq!(
            served_thumbprints(&host(vec![public.clone(), private, public])),
            vec!["aa", "bb"]
        );
    }

    #[test]
    fn report_endpoint_carries_top_thumbprint_and_reason() {
        let untrusted = endpoint(
            "[2001:db8::1]:443",
            &["leaf", "top"],
            ChainVerdict::Untrusted("unknown issuer".into()),
            false,
        );
        let shown = report::Endpoint::from(&untrusted);
        assert_eq!(shown.address, "[2001:db8::1]:443");
        assert_eq!(shown.top_thumbprint.as_deref(), Some("top"));
        assert!(!shown.trusted);
        assert_eq!(shown.error.as_deref(), Some("unknown issuer"));
        let trusted = report::Endpoint::from(&endpoint(
            "192.0.2.1:443",
            &["a"],
            ChainVerdict::Trusted,
            false,
        ));
        assert!(trusted.trusted && trusted.error.is_none());
    }

    #[test]
    fn trust_anchor_file_errors_name_the_variable() {
        let dir = std::env::temp_dir().join(format!("tg-anchors-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "no certificates here\n").unwrap();
        for path in [dir.join("missing.pem"), empty] {
            let config = Config {
                extra_trust_anchors_pem: Some(path.clone()),
                ..Config::default()
            };
            let err = ProbeContext::new(&config).unwrap_err().to_string();
            assert!(err.starts_with("EXTRA_TRUST_ANCHORS_PEM"), "{err}");
            assert!(err.contains(&path.display().to_string()), "{err}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn refused_addresses_are_never_contacted() {
        let ctx = ProbeContext::new(&Config::default()).unwrap();
        let probe = probe_host(&ctx, "169.254.169.254", 80).await;
        assert!(probe.endpoints.is_empty());
        assert_eq!(probe.issues.len(), 1);
        assert_eq!(probe.issues[0].code, FindingCode::AddressRefused);
        let cache = HostCache::new();
        let issuer = probe_issuer(&ctx, "https://127.0.0.1:9/id/X", &cache).await;
        assert_eq!(issuer.issues.len(), 1);
        assert_eq!(issuer.issues[0].code, FindingCode::AddressRefused);
        // A DNS name resolving to loopback is refused by the HTTP client's resolver too.
        let issuer = probe_issuer(&ctx, "https://localhost:9/id/X", &cache).await;
        assert_eq!(issuer.issues.len(), 1, "{:?}", issuer.issues);
        assert_eq!(issuer.issues[0].code, FindingCode::AddressRefused);
        assert!(cache.is_empty());
    }

    #[tokio::test]
    async fn pinned_addresses_are_judged_by_the_policy() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // Strict policy: a name pinned to loopback is refused by the TLS probe and the fetch.
        let strict = ProbeContext::new(&Config::default())
            .unwrap()
            .with_resolve("issuer.test", vec![ip("127.0.0.1")])
            .unwrap();
        let probe = probe_host(&strict, "issuer.test", 9).await;
        assert!(probe.endpoints.is_empty());
        assert_eq!(probe.issues.len(), 1, "{:?}", probe.issues);
        assert_eq!(probe.issues[0].code, FindingCode::AddressRefused);
        assert!(probe.issues[0].message.contains("127.0.0.1:9"));
        let issuer = probe_issuer(&strict, "https://issuer.test:9/id/X", &HostCache::new()).await;
        assert_eq!(issuer.issues.len(), 1, "{:?}", issuer.issues);
        assert_eq!(issuer.issues[0].code, FindingCode::AddressRefused);
        assert!(issuer.issues[0].message.contains("127.0.0.1"));

        // Private addresses allowed: the metadata address stays refused, loopback is probed
        // (port 9 on loopback is closed: a TCP failure, not a refusal, proves the pin was used).
        let lenient = ProbeContext::new(&Config {
            allow_private_addresses: true,
            probe_timeout: Duration::from_secs(2),
            ..Config::default()
        })
        .unwrap()
        .with_resolve("issuer.test", vec![ip("127.0.0.1"), ip("169.254.169.254")])
        .unwrap();
        let probe = probe_host(&lenient, "Issuer.Test", 9).await;
        assert_eq!(probe.authority, "issuer.test:9");
        assert_eq!(probe.issues.len(), 1, "{:?}", probe.issues);
        assert_eq!(probe.issues[0].code, FindingCode::AddressRefused);
        assert!(probe.issues[0].message.contains("169.254.169.254:9"));
        assert_eq!(probe.endpoints.len(), 1);
        assert_eq!(probe.endpoints[0].address, "127.0.0.1:9".parse().unwrap());
        assert!(probe.endpoints[0].error.is_some());
    }

    /// A context allowing private addresses, `issuer.test` pinned to `pinned`, and a route to
    /// IPv4 addresses only (a Lambda outside a VPC).
    fn ipv4_only_context(pinned: &[&str]) -> ProbeContext {
        let mut ctx = ProbeContext::new(&Config {
            allow_private_addresses: true,
            probe_timeout: Duration::from_secs(1),
            ..Config::default()
        })
        .unwrap()
        .with_resolve(
            "issuer.test",
            pinned.iter().map(|ip| ip.parse().unwrap()).collect(),
        )
        .unwrap();
        ctx.has_route = |address| address.is_ipv4();
        ctx
    }

    #[tokio::test]
    async fn unroutable_ipv6_is_skipped_while_ipv4_remains() {
        // 127.0.0.1:9 is closed: a TCP failure proves it was probed; 2001:db8::1 is never tried.
        let ctx = ipv4_only_context(&["2001:db8::1", "127.0.0.1", "2001:db8::2"]);
        let probe = probe_host(&ctx, "issuer.test", 9).await;
        assert!(probe.issues.is_empty(), "{:?}", probe.issues);
        let probed: Vec<String> = probe
            .endpoints
            .iter()
            .map(|e| e.address.to_string())
            .collect();
        assert_eq!(probed, ["127.0.0.1:9"]);
    }

    #[tokio::test]
    async fn the_policy_is_applied_before_the_route_check() {
        // The refused addresses are reported; the unroutable IPv6 address is the only allowed
        // one, so it is kept and its failure is real.
        let ctx = ipv4_only_context(&["169.254.169.254", "2001:db8::1", "fe80::1"]);
        let probe = probe_host(&ctx, "issuer.test", 9).await;
        let refused: Vec<&FindingCode> = probe.issues.iter().map(|i| &i.code).collect();
        assert_eq!(
            refused,
            [&FindingCode::AddressRefused, &FindingCode::AddressRefused],
            "{:?}",
            probe.issues
        );
        assert_eq!(probe.endpoints.len(), 1, "{:?}", probe.endpoints);
        assert_eq!(
            probe.endpoints[0].address,
            "[2001:db8::1]:9".parse().unwrap()
        );
        assert!(probe.endpoints[0].error.is_some());
    }

    #[test]
    fn only_dns_names_with_addresses_can_be_pinned() {
        let ctx = || ProbeContext::new(&Config::default()).unwrap();
        let loopback = vec![IpAddr::from([127, 0, 0, 1])];
        let err = ctx().with_resolve("127.0.0.1", loopback).unwrap_err();
        assert!(err.to_string().contains("'127.0.0.1'"), "{err}");
        let err = ctx().with_resolve("issuer.test", vec![]).unwrap_err();
        assert!(err.to_string().contains("no address"), "{err}");
    }
}
