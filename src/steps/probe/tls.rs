//! One address's TLS connection: policy check, TCP connect, handshake with SNI, and a record of
//! what was served and how the verifier judged it.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;

use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::certificate::{certificate_info, contiguity};
use super::context::ProbeContext;
use super::facts::{capped, ChainVerdict, EndpointProbe};
use super::verifier::{accepts, chain_verdict, Presented, RecordingVerifier};

/// Connects to `address` and runs a verified handshake for `server_name`. Returns what the server
/// presented (chain, verdict, contiguity, failure) and, when the handshake completed, the TLS
/// stream for the HTTP requests. Never panics, never returns an error: every failure is data.
///
/// The handshake offers TLS 1.2 only, as IAM's certificate retrieval does: a host that speaks
/// TLS 1.2 costs one handshake per address. An address that refuses TLS 1.2 is handshaken again,
/// on a new TCP connection, offering TLS 1.3 only; when it serves its chain there, the endpoint
/// is `tls13_only` (IAM then falls back to the thumbprint).
///
/// The caller holds the connection permit (`PROBE_CONCURRENCY`) for as long as the stream lives.
pub(crate) async fn connect(
    ctx: &ProbeContext,
    server_name: ServerName<'static>,
    address: SocketAddr,
) -> (EndpointProbe, Option<TlsStream<TcpStream>>) {
    connect_offering(ctx, server_name, address, Offer::Tls12).await
}

/// A replacement connection to an address already probed: straight to TLS 1.3 when its first
/// handshake found it refusing TLS 1.2 (no refused attempt per replacement), else as [`connect`].
pub(crate) async fn reconnect(
    ctx: &ProbeContext,
    server_name: ServerName<'static>,
    address: SocketAddr,
    tls13_only: bool,
) -> (EndpointProbe, Option<TlsStream<TcpStream>>) {
    if !tls13_only {
        return connect(ctx, server_name, address).await;
    }
    let (mut endpoint, stream) = connect_offering(ctx, server_name, address, Offer::Tls13).await;
    endpoint.tls13_only = !endpoint.chain.is_empty();
    (endpoint, stream)
}

/// The protocol version one handshake offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Offer {
    /// TLS 1.2 only: the first handshake with every address.
    Tls12,
    /// TLS 1.3 only: the second handshake with an address that refused TLS 1.2.
    Tls13,
}

/// [`connect`] with one offered version; an address that refuses TLS 1.2 is handshaken again
/// offering TLS 1.3.
async fn connect_offering(
    ctx: &ProbeContext,
    server_name: ServerName<'static>,
    address: SocketAddr,
    offer: Offer,
) -> (EndpointProbe, Option<TlsStream<TcpStream>>) {
    let mut endpoint = EndpointProbe::new(address);
    let timeout = ctx.timeout;
    if let Err(reason) = ctx.policy.check(address.ip()) {
        // Checked by the host probe already; checked again right before the connect.
        endpoint.error = Some(format!("{address} is refused: {reason}"));
        return (endpoint, None);
    }
    let proxy = ctx.proxy_for(&server_name.to_str(), address.port());
    let tcp = match open_tcp(proxy.as_ref(), address, timeout).await {
        Ok(tcp) => tcp,
        Err(error) => {
            endpoint.error = Some(error);
            return (endpoint, None);
        }
    };

    // One recorder per connection: rustls gives a verifier no connection identity.
    let recorder = Arc::new(RecordingVerifier::new(ctx.full_verifier.clone()));
    let template = match offer {
        Offer::Tls12 => &ctx.tls12_template,
        Offer::Tls13 => &ctx.tls13_template,
    };
    let mut config = (**template).clone();
    config
        .dangerous()
        .set_certificate_verifier(recorder.clone());
    let connector = TlsConnector::from(Arc::new(config));
    let handshake =
        tokio::time::timeout(timeout, connector.connect(server_name.clone(), tcp)).await;

    let presented = recorder.take();
    if let Ok(Err(refusal)) = &handshake {
        if offer == Offer::Tls12 && presented.is_none() && refuses_tls12(refusal) {
            // The refused connection is dropped; the second handshake gets a new one.
            let refusal = describe(refusal);
            return offer_tls13(ctx, server_name, address, &refusal).await;
        }
    }

    if let Some(presented) = presented {
        record(ctx, &mut endpoint, &presented, proxy.as_ref());
    }
    match handshake {
        Ok(Ok(tls)) => return (endpoint, Some(tls)),
        // The verifier's rejection is the verdict itself, not a connection failure.
        Ok(Err(_))
            if matches!(
                endpoint.verdict,
                ChainVerdict::Expired(_) | ChainVerdict::Untrusted(_)
            ) => {}
        Ok(Err(e)) => {
            endpoint.error = Some(capped(&format!(
                "TLS handshake with {address} failed: {}",
                describe(&e)
            )));
        }
        Err(_) => {
            endpoint.error = Some(format!(
                "TLS handshake with {address} timed out after {}s",
                timeout.as_secs_f32()
            ));
        }
    }
    (endpoint, None)
}

/// TCP to `address` within `timeout`, directly or through `proxy`'s CONNECT tunnel; the failure as
/// the endpoint records it.
async fn open_tcp(
    proxy: Option<&super::context::Proxy>,
    address: SocketAddr,
    timeout: std::time::Duration,
) -> Result<TcpStream, String> {
    match proxy {
        None => match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
            Ok(Ok(tcp)) => Ok(tcp),
            Ok(Err(e)) => Err(format!("TCP connection to {address} failed: {e}")),
            Err(_) => Err(format!(
                "TCP connection to {address} timed out after {}s",
                timeout.as_secs_f32()
            )),
        },
        Some(proxy) => match tokio::time::timeout(timeout, tunnel(proxy, address)).await {
            Ok(Ok(tcp)) => Ok(tcp),
            Ok(Err(e)) => Err(capped(&format!(
                "CONNECT to {address} through proxy {} (HTTPS_PROXY) failed: {e}",
                proxy.display()
            ))),
            Err(_) => Err(format!(
                "CONNECT to {address} through proxy {} (HTTPS_PROXY) timed out after {}s",
                proxy.display(),
                timeout.as_secs_f32()
            )),
        },
    }
}

/// The second handshake with an address that refused TLS 1.2 (`refusal`), offering TLS 1.3 only,
/// on a new connection: `tls13_only` when it serves its chain there, else both failures named.
async fn offer_tls13(
    ctx: &ProbeContext,
    server_name: ServerName<'static>,
    address: SocketAddr,
    refusal: &str,
) -> (EndpointProbe, Option<TlsStream<TcpStream>>) {
    let (mut retried, stream) =
        Box::pin(connect_offering(ctx, server_name, address, Offer::Tls13)).await;
    if retried.chain.is_empty() {
        let then = retried
            .error
            .as_deref()
            .unwrap_or("no certificate received");
        let error = format!(
            "{address} refused a TLS 1.2 handshake ({refusal}), then offering TLS 1.3: {then}"
        );
        retried.error = Some(capped(&error));
    } else {
        retried.tls13_only = true;
    }
    (retried, stream)
}

/// What the handshake presented, into `endpoint`: the chain, the verdict, whether it anchors in
/// Mozilla's roots, its contiguity, and the proxy it came through.
fn record(
    ctx: &ProbeContext,
    endpoint: &mut EndpointProbe,
    presented: &Presented,
    proxy: Option<&super::context::Proxy>,
) {
    endpoint.chain = presented
        .chain
        .iter()
        .map(|c| certificate_info(c))
        .collect();
    // WebPKI's verdict, made Expired when a served certificate the validated path left out
    // is outside its validity (DESIGN remediation condition 3: no expired certificate).
    endpoint.verdict = chain_verdict(presented);
    endpoint.publicly_anchored = accepts(&ctx.public_verifier, presented);
    endpoint.contiguity = contiguity(&presented.chain);
    if let Some(proxy) = proxy {
        behind_proxy(endpoint, proxy);
    }
}

/// Whether a failed handshake offering TLS 1.2 only means the server does not take TLS 1.2: its
/// `protocol_version` or `handshake_failure` alert (what TLS 1.3-only servers send; no version or
/// suite in common), or a server hello for a version not offered. Only asked when no certificate
/// arrived: a server that presented its chain over TLS 1.2 takes TLS 1.2.
fn refuses_tls12(error: &std::io::Error) -> bool {
    use rustls::{AlertDescription, Error, PeerIncompatible};
    let Some(tls) = error.get_ref().and_then(|e| e.downcast_ref::<Error>()) else {
        return false;
    };
    matches!(
        tls,
        Error::AlertReceived(
            AlertDescription::ProtocolVersion | AlertDescription::HandshakeFailure
        ) | Error::PeerIncompatible(PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig)
    )
}

/// A CONNECT tunnel to `address` through `proxy`: the proxy only relays bytes, so the TLS session
/// (and the chain recorded) is the issuer's own, unless the proxy intercepts TLS. The address is
/// the one resolved and checked by the policy here, so every address is still probed once.
async fn tunnel(
    proxy: &super::context::Proxy,
    address: SocketAddr,
) -> Result<TcpStream, TunnelError> {
    use hyper_util::client::legacy::connect::proxy::Tunnel;
    use hyper_util::client::legacy::connect::HttpConnector;
    use tower_service::Service;

    if proxy.uri.scheme_str() != Some("http") {
        return Err(TunnelError::Scheme(
            proxy.uri.scheme_str().unwrap_or("?").to_string(),
        ));
    }
    let mut tunnel = Tunnel::new(proxy.uri.clone(), HttpConnector::new());
    if let Some(auth) = &proxy.auth {
        tunnel = tunnel.with_auth(auth.clone());
    }
    let destination: http::Uri = format!("https://{address}/")
        .parse()
        .map_err(|e: http::uri::InvalidUri| TunnelError::Tunnel(e.to_string()))?;
    std::future::poll_fn(|cx| tunnel.poll_ready(cx))
        .await
        .map_err(|e| TunnelError::Tunnel(describe(&e)))?;
    let io = tunnel
        .call(destination)
        .await
        .map_err(|e| TunnelError::Tunnel(describe(&e)))?;
    Ok(io.into_inner())
}

/// Why a CONNECT tunnel could not be opened.
#[derive(Debug, thiserror::Error)]
enum TunnelError {
    /// `HTTPS_PROXY` is not an `http://` URL.
    #[error(
        "only http:// proxies are supported (got {0}://); give HTTPS_PROXY as http://HOST:PORT"
    )]
    Scheme(String),
    /// The proxy refused, could not be reached, or closed the tunnel (the chain of causes).
    #[error("{0}")]
    Tunnel(String),
}

/// Through a proxy, a chain is judged against the same trust store as without one (Mozilla's roots
/// plus `EXTRA_TRUST_ANCHORS_PEM`): a CONNECT tunnel only relays bytes, so a private issuer behind
/// it serves its own chain. A TLS-intercepting proxy's chain fails validation like any unknown CA
/// (unless its CA was put into `EXTRA_TRUST_ANCHORS_PEM`, which docs/security.md warns against); the
/// reason then names the proxy.
fn behind_proxy(endpoint: &mut EndpointProbe, proxy: &super::context::Proxy) {
    if let ChainVerdict::Untrusted(reason) = &endpoint.verdict {
        endpoint.verdict = ChainVerdict::Untrusted(capped(&format!(
            "{reason}; served through proxy {} (HTTPS_PROXY): a TLS-intercepting proxy may be presenting its own certificate instead of the issuer's",
            proxy.display()
        )));
    }
}

/// The error and its sources on one line (a top-level message alone says little).
pub(crate) fn describe(error: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut next = source_of(error);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = source_of(e);
    }
    parts.join(": ")
}

/// The next error in the chain, looking inside `io::Error` (whose `source()` skips the wrapped error).
fn source_of<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a (dyn StdError + 'static)> {
    if let Some(io) = error.downcast_ref::<std::io::Error>() {
        if let Some(inner) = io.get_ref() {
            return Some(inner as &(dyn StdError + 'static));
        }
    }
    error.source()
}
