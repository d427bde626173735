//! Connections to one cluster's API server: the endpoint's addresses under the address policy, TLS
//! verified against the cluster's CA only, and hyper-util's pooled client over a connector that
//! dials only those addresses.
//!
//! The endpoint comes from EKS, not from an issuer, so private addresses are allowed (a VPC
//! endpoint); link-local and instance-metadata addresses stay refused ([`AddressPolicy`]). The
//! name is resolved once and the connector dials the checked addresses whatever the request names,
//! so the name cannot re-resolve elsewhere between the check and a later connection.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::RootCertStore;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use url::Url;

use super::model::ApiFailure;
use crate::probe::AddressPolicy;
use crate::report::cap;

/// Addresses of one endpoint kept (a public EKS endpoint has two or three).
const MAX_ADDRESSES: usize = 8;
/// How long an unused connection stays in the pool between two pages.
const IDLE: Duration = Duration::from_secs(30);

/// The rule for API endpoints: private addresses allowed, link-local and metadata refused.
const POLICY: AddressPolicy = AddressPolicy {
    allow_private: true,
};

/// Why a connection could not be opened; the pool hands it back inside its own error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DialFailure {
    /// No TCP connection to any address.
    #[error("{0}")]
    Unreachable(String),
    /// The TLS handshake failed (the chain did not verify against the cluster's CA, or another
    /// TLS error).
    #[error("{0}")]
    Tls(String),
    /// The TLS handshake did not finish in time.
    #[error("{0}")]
    Timeout(String),
}

impl From<DialFailure> for ApiFailure {
    fn from(failure: DialFailure) -> Self {
        match failure {
            DialFailure::Unreachable(m) => ApiFailure::Unreachable(m),
            DialFailure::Tls(m) => ApiFailure::Tls(m),
            DialFailure::Timeout(m) => ApiFailure::Timeout(m),
        }
    }
}

/// Every address of `url`'s host, resolved within `timeout`, or why none may be contacted.
pub async fn addresses(url: &Url, timeout: Duration) -> Result<Vec<SocketAddr>, ApiFailure> {
    let port = url.port_or_known_default().unwrap_or(443);
    let resolved: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(url::Host::Domain(host)) => {
            match tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await {
                Ok(Ok(found)) => found.collect(),
                Ok(Err(e)) => {
                    return Err(ApiFailure::Unreachable(format!(
                        "cannot resolve {host}: {e}; the endpoint may be private (reachable \
                         only from the cluster's VPC), or the cluster gone"
                    )))
                }
                Err(_) => {
                    return Err(ApiFailure::Unreachable(format!(
                        "resolving {host} took longer than {}s",
                        timeout.as_secs_f32()
                    )))
                }
            }
        }
        None => return Err(ApiFailure::Describe("the endpoint has no host".to_string())),
    };
    let mut kept: Vec<SocketAddr> = Vec::new();
    for address in resolved {
        if let Err(refusal) = POLICY.check(address.ip()) {
            // One refused address is enough to distrust the answer: EKS never mixes them.
            return Err(ApiFailure::AddressRefused(match refusal {
                crate::probe::Refusal::Always { ip, via, kind }
                | crate::probe::Refusal::Private { ip, via, kind } => {
                    format!("{ip}{via} ({kind})")
                }
            }));
        }
        if !kept.contains(&address) && kept.len() < MAX_ADDRESSES {
            kept.push(address);
        }
    }
    if kept.is_empty() {
        return Err(ApiFailure::Unreachable(format!(
            "{} resolves to no address",
            url.host_str().unwrap_or_default()
        )));
    }
    Ok(kept)
}

/// The pooled HTTP/1.1 client of one cluster, over [`Dialer`].
pub type ApiClient = Client<Dialer, Empty<Bytes>>;

/// Opens the first connection to the cluster (so that an unreachable endpoint, a CA mismatch or a
/// stalled handshake is told apart before any request), and returns the pooled client that starts
/// with it. `timeout` bounds each address's TCP connection and the TLS handshake: at most
/// (addresses + 1) × `timeout` in all.
pub async fn open(
    url: &Url,
    addresses: Vec<SocketAddr>,
    roots: Arc<RootCertStore>,
    timeout: Duration,
) -> Result<ApiClient, ApiFailure> {
    let host = url.host_str().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let server_name = ServerName::try_from(bare.to_string())
        .map_err(|e| ApiFailure::Describe(format!("'{}' is not a host name: {e}", cap(host))))?;
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ApiFailure::Tls(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let dialer = Dialer(Arc::new(DialState {
        addresses,
        server_name,
        tls: TlsConnector::from(Arc::new(tls)),
        timeout,
        first: Mutex::new(None),
    }));
    let first = dialer.0.dial().await?;
    *dialer
        .0
        .first
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(first);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(IDLE)
        .pool_max_idle_per_host(2)
        .build(dialer))
}

/// The pool's connector: dials the checked addresses in turn, whatever host the request names.
#[derive(Clone)]
pub struct Dialer(Arc<DialState>);

struct DialState {
    addresses: Vec<SocketAddr>,
    server_name: ServerName<'static>,
    tls: TlsConnector,
    timeout: Duration,
    /// The connection [`open`] made, handed to the pool on its first request.
    first: Mutex<Option<ApiIo>>,
}

impl DialState {
    async fn dial(&self) -> Result<ApiIo, DialFailure> {
        let mut failures = Vec::new();
        for address in &self.addresses {
            let tcp = match tokio::time::timeout(self.timeout, TcpStream::connect(address)).await {
                Ok(Ok(tcp)) => tcp,
                Ok(Err(e)) => {
                    failures.push(format!("{address}: {e}"));
                    continue;
                }
                Err(_) => {
                    failures.push(format!(
                        "{address}: no answer within {}s",
                        self.timeout.as_secs_f32()
                    ));
                    continue;
                }
            };
            let handshake = self.tls.connect(self.server_name.clone(), tcp);
            return match tokio::time::timeout(self.timeout, handshake).await {
                Ok(Ok(tls)) => Ok(ApiIo(TokioIo::new(tls))),
                Ok(Err(e)) => Err(handshake_failure(*address, &e)),
                Err(_) => Err(DialFailure::Timeout(format!(
                    "the TLS handshake with {address} took longer than {}s",
                    self.timeout.as_secs_f32()
                ))),
            };
        }
        Err(DialFailure::Unreachable(format!(
            "no connection to the endpoint ({}); if its public access is off or limited to some \
             CIDR blocks, the API is reachable only from the cluster's VPC or those blocks",
            failures.join("; ")
        )))
    }
}

/// A failed handshake: a TLS error (the chain against the cluster's CA above all), or the
/// connection dropped during the handshake.
fn handshake_failure(address: SocketAddr, error: &std::io::Error) -> DialFailure {
    match error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(reason)) => DialFailure::Tls(format!(
            "{address} presented a certificate that does not verify against the cluster's CA \
             ({reason:?})"
        )),
        Some(tls) => DialFailure::Tls(format!("TLS with {address} failed: {tls}")),
        None => DialFailure::Unreachable(format!(
            "{address} closed the connection during the TLS handshake: {error}"
        )),
    }
}

impl tower_service::Service<http::Uri> for Dialer {
    type Response = ApiIo;
    type Error = DialFailure;
    type Future = Pin<Box<dyn Future<Output = Result<ApiIo, DialFailure>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _destination: http::Uri) -> Self::Future {
        let state = self.0.clone();
        Box::pin(async move {
            let first = state
                .first
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take();
            match first {
                Some(io) => Ok(io),
                None => state.dial().await,
            }
        })
    }
}

/// One TLS connection to the API server.
pub struct ApiIo(TokioIo<TlsStream<TcpStream>>);

impl Connection for ApiIo {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl hyper::rt::Read for ApiIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for ApiIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[tokio::test]
    async fn private_addresses_are_allowed_for_an_endpoint_from_eks() {
        for endpoint in [
            "https://10.0.1.5",
            "https://127.0.0.1:6443",
            "https://[fd12::1]",
        ] {
            let found = addresses(&url(endpoint), Duration::from_secs(1)).await;
            assert!(found.is_ok(), "{endpoint}: {found:?}");
        }
        assert_eq!(
            addresses(&url("https://10.0.1.5"), Duration::from_secs(1))
                .await
                .unwrap(),
            ["10.0.1.5:443".parse::<SocketAddr>().unwrap()]
        );
    }

    #[tokio::test]
    async fn link_local_and_metadata_addresses_are_refused() {
        for (endpoint, kind) in [
            ("https://169.254.169.254", "instance-metadata"),
            ("https://169.254.10.1:443", "link-local"),
            ("https://[fe80::1]", "link-local"),
            ("https://[fd00:ec2::254]", "instance-services"),
            ("https://[::ffff:169.254.169.254]", "instance-metadata"),
        ] {
            match addresses(&url(endpoint), Duration::from_secs(1)).await {
                Err(ApiFailure::AddressRefused(message)) => {
                    assert!(message.contains(kind), "{endpoint}: {message}")
                }
                other => panic!("{endpoint}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_unreachable() {
        match addresses(&url("https://cluster.invalid"), Duration::from_secs(5)).await {
            Err(ApiFailure::Unreachable(message)) => {
                assert!(message.contains("cluster.invalid"), "{message}");
                assert!(message.contains("private"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_stalled_handshake_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((tcp, _)) = listener.accept().await {
                open.push(tcp);
            }
        });
        let endpoint = url(&format!("https://{address}"));
        let started = std::time::Instant::now();
        let failure = open(
            &endpoint,
            vec![address],
            Arc::new(RootCertStore::empty()),
            Duration::from_millis(500),
        )
        .await
        .err()
        .unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        match failure {
            ApiFailure::Timeout(message) => {
                assert!(message.contains("TLS handshake"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        held.abort();
    }

    #[tokio::test]
    async fn every_address_is_tried_before_giving_up() {
        let mut closed = Vec::new();
        for _ in 0..2 {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            closed.push(listener.local_addr().unwrap());
        }
        let endpoint = url(&format!("https://{}", closed[0]));
        let failure = open(
            &endpoint,
            closed.clone(),
            Arc::new(RootCertStore::empty()),
            Duration::from_secs(2),
        )
        .await
        .err()
        .unwrap();
        match failure {
            ApiFailure::Unreachable(message) => {
                for address in &closed {
                    assert!(message.contains(&address.to_string()), "{message}");
                }
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_refused_connection_is_unreachable_and_says_the_endpoint_may_be_private() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let endpoint = url(&format!("https://{address}"));
        let found = addresses(&endpoint, Duration::from_secs(1)).await.unwrap();
        let failure = open(
            &endpoint,
            found,
            Arc::new(RootCertStore::empty()),
            Duration::from_secs(2),
        )
        .await
        .err()
        .unwrap();
        match failure {
            ApiFailure::Unreachable(message) => {
                assert!(message.contains(&address.to_string()), "{message}");
                assert!(message.contains("VPC"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
