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
use super::verifier::{accepts, chain_verdict, RecordingVerifier};

/// Connects to `address` and runs a verified handshake for `server_name`. Returns what the server
/// presented (chain, verdict, contiguity, failure) and, when the handshake completed, the TLS
/// stream for the HTTP requests. Never panics, never returns an error: every failure is data.
///
/// The caller holds the connection permit (`PROBE_CONCURRENCY`) for as long as the stream lives.
pub async fn connect(
    ctx: &ProbeContext,
    server_name: ServerName<'static>,
    address: SocketAddr,
) -> (EndpointProbe, Option<TlsStream<TcpStream>>) {
    let mut endpoint = EndpointProbe::new(address);
    let timeout = ctx.timeout;
    if let Err(reason) = ctx.policy.check(address.ip()) {
        // Checked by the host probe already; checked again right before the connect.
        endpoint.error = Some(format!("{address} is refused: {reason}"));
        return (endpoint, None);
    }
    let tcp = match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => {
            endpoint.error = Some(format!("TCP connection to {address} failed: {e}"));
            return (endpoint, None);
        }
        Err(_) => {
            endpoint.error = Some(format!(
                "TCP connection to {address} timed out after {}s",
                timeout.as_secs_f32()
            ));
            return (endpoint, None);
        }
    };

    // One recorder per connection: rustls gives a verifier no connection identity.
    let recorder = Arc::new(RecordingVerifier::new(ctx.full_verifier.clone()));
    let mut config = (*ctx.tls_template).clone();
    config
        .dangerous()
        .set_certificate_verifier(recorder.clone());
    let connector = TlsConnector::from(Arc::new(config));
    let handshake = tokio::time::timeout(timeout, connector.connect(server_name, tcp)).await;

    if let Some(presented) = recorder.take() {
        endpoint.chain = presented
            .chain
            .iter()
            .map(|c| certificate_info(c))
            .collect();
        // WebPKI's verdict, made Expired when a served certificate the validated path left out
        // is outside its validity (DESIGN remediation condition 3: no expired certificate).
        endpoint.verdict = chain_verdict(&presented);
        endpoint.publicly_anchored = accepts(&ctx.public_verifier, &presented);
        endpoint.contiguity = contiguity(&presented.chain);
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

/// The error and its sources on one line (a top-level message alone says little).
pub fn describe(error: &(dyn StdError + 'static)) -> String {
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
