//! The context of one run, built once (CLI or Lambda invocation) and shared by reference: crypto
//! provider, trust stores, verifiers, the TLS template, address policy, pins, step bound and the
//! connection semaphore.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use tokio::sync::Semaphore;

use super::address::{AddressPolicy, PinError, PinnedHosts};
use super::permits::Permits;
use super::route;
use crate::config::{Config, ConfigError};

const TRUST_VAR: &str = "EXTRA_TRUST_ANCHORS_PEM";

/// Everything a probe needs, built once per process and shared by reference (the connections of
/// a run hold a cheap clone: every field is shared or small).
#[derive(Debug, Clone)]
pub struct ProbeContext {
    /// aws-lc-rs, named explicitly: both ring and aws-lc are in the dependency graph, so the
    /// process-wide default provider cannot be relied on.
    pub(super) provider: Arc<CryptoProvider>,
    /// WebPKI verifier over Mozilla's roots plus `EXTRA_TRUST_ANCHORS_PEM`: decides `trusted`.
    pub(super) full_verifier: Arc<WebPkiServerVerifier>,
    /// WebPKI verifier over Mozilla's roots alone: decides `publicly_anchored`.
    pub(super) public_verifier: Arc<WebPkiServerVerifier>,
    /// Template of the per-connection configs offering TLS 1.2 only, as IAM's certificate
    /// retrieval does: every address is handshaken with it first (resumption off, ALPN h2 and
    /// http/1.1).
    pub(super) tls12_template: Arc<ClientConfig>,
    /// The same offering TLS 1.3 only: for a second handshake with an address that refused TLS 1.2.
    pub(super) tls13_template: Arc<ClientConfig>,
    /// `ALLOW_PRIVATE_ADDRESSES`.
    pub(super) policy: AddressPolicy,
    /// `PROBE_TIMEOUT_SECS`: bound on each network step.
    pub(super) timeout: Duration,
    /// `PROBE_CONCURRENCY`: TLS connections open at once, over all hosts and addresses; one
    /// permit per open connection, idle hosts closed when a permit is wanted.
    pub(super) permits: Arc<Permits>,
    /// The semaphore's size.
    pub(super) max_connections: usize,
    /// Hosts pinned to fixed addresses.
    pub(super) pins: PinnedHosts,
    /// Whether this machine has a route to an address (replaced in tests).
    pub(super) has_route: fn(SocketAddr) -> bool,
    /// `HTTPS_PROXY`/`NO_PROXY` (and their lowercase forms): which hosts are reached through a
    /// CONNECT tunnel, and through which proxy.
    pub(super) proxy: Arc<hyper_util::client::proxy::matcher::Matcher>,
}

impl ProbeContext {
    /// Builds the trust stores, verifiers and TLS template from the configuration.
    ///
    /// Fails only on `EXTRA_TRUST_ANCHORS_PEM`: unreadable, no certificate in it, or a certificate
    /// rustls cannot use as a trust anchor.
    pub fn new(config: &Config) -> Result<ProbeContext, ConfigError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut public_roots = RootCertStore::empty();
        public_roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let mut full_roots = public_roots.clone();
        if let Some(path) = config.extra_trust_anchors_pem.as_deref() {
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
        let tls_template = |version: &'static rustls::SupportedProtocolVersion| {
            let mut template = ClientConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(&[version])
                .map_err(|e| setup_error("protocol versions", &e))?
                .with_webpki_verifier(full_verifier.clone())
                .with_no_client_auth();
            template.resumption = Resumption::disabled();
            template.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            Ok::<_, ConfigError>(Arc::new(template))
        };
        let tls12_template = tls_template(&rustls::version::TLS12)?;
        let tls13_template = tls_template(&rustls::version::TLS13)?;
        let max_connections = config.probe_concurrency.clamp(1, Semaphore::MAX_PERMITS);
        Ok(ProbeContext {
            provider,
            full_verifier,
            public_verifier,
            tls12_template,
            tls13_template,
            policy: AddressPolicy {
                allow_private: config.allow_private_addresses,
            },
            timeout: config.probe_timeout,
            permits: Arc::new(Permits::new(max_connections)),
            max_connections,
            pins: PinnedHosts::default(),
            has_route: route::has_route,
            proxy: Arc::new(hyper_util::client::proxy::matcher::Matcher::from_env()),
        })
    }

    /// The proxy `host:port` is reached through (`HTTPS_PROXY`, unless `NO_PROXY` covers it).
    pub(super) fn proxy_for(&self, host: &str, port: u16) -> Option<Proxy> {
        let uri: http::Uri = format!("https://{}/", super::address::authority(host, port))
            .parse()
            .ok()?;
        let intercept = self.proxy.intercept(&uri)?;
        Some(Proxy {
            uri: intercept.uri().clone(),
            auth: intercept.basic_auth().cloned(),
        })
    }

    /// Pins `host` to `addresses` for every connection, like curl's `--resolve`: no DNS lookup is
    /// made for it, on any port. Pin a host to probe specific backends; tests use it to give one
    /// name several loopback addresses.
    ///
    /// The address policy still applies (a refused address stays refused), and at most
    /// [`super::MAX_ADDRESSES`] are probed. Fails when `host` is not a DNS name or `addresses` is
    /// empty.
    pub fn with_resolve(
        mut self,
        host: &str,
        addresses: Vec<IpAddr>,
    ) -> Result<ProbeContext, PinError> {
        self.pins.pin(host, addresses)?;
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

    /// The bound on a whole issuer probe: 3 × the step bound.
    pub fn issuer_bound(&self) -> Duration {
        self.timeout * 3
    }

    /// TLS connections that may be open at once (`PROBE_CONCURRENCY`).
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// Replaces the route check (tests: a machine with IPv4 routes only).
    #[cfg(test)]
    pub(super) fn set_has_route(&mut self, has_route: fn(SocketAddr) -> bool) {
        self.has_route = has_route;
    }
}

/// A proxy the probe tunnels through (CONNECT only: the TLS session stays end to end).
#[derive(Debug, Clone)]
pub(super) struct Proxy {
    /// `http://host:port` of the proxy.
    pub uri: http::Uri,
    /// `Proxy-Authorization` from the proxy URL's user info, if any.
    pub auth: Option<http::HeaderValue>,
}

impl Proxy {
    /// The proxy's `host:port` for messages (never its credentials).
    pub fn display(&self) -> String {
        let host = self.uri.host().unwrap_or("?");
        match self.uri.port_u16() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn only_dns_names_with_addresses_can_be_pinned() {
        let ctx = || ProbeContext::new(&Config::default()).unwrap();
        let loopback = vec![IpAddr::from([127, 0, 0, 1])];
        let err = ctx().with_resolve("127.0.0.1", loopback).unwrap_err();
        assert!(err.to_string().contains("'127.0.0.1'"), "{err}");
        let err = ctx().with_resolve("issuer.test", vec![]).unwrap_err();
        assert!(err.to_string().contains("no address"), "{err}");
    }

    #[test]
    fn the_connection_bound_is_probe_concurrency() {
        let ctx = ProbeContext::new(&Config {
            probe_concurrency: 3,
            ..Config::default()
        })
        .unwrap();
        assert_eq!(ctx.max_connections(), 3);
        assert_eq!(ctx.permits.available(), 3);
    }
}
