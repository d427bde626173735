//! The TLS probe of one address: TCP connect, handshake with SNI, record what was served.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls_pki_types::ServerName;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::certificate::certificate_info;
use super::http::describe;
use super::verifier::{accepts, chain_verdict, RecordingVerifier};
use super::{ChainVerdict, EndpointProbe, ProbeContext};

/// Connects to `address`, runs a verified handshake for `server_name`, and reports the chain the
/// server presented, the verifier's verdict and any failure. Never panics, never returns an error:
/// every failure is data in the result.
pub async fn probe_endpoint(
    ctx: &ProbeContext,
    server_name: ServerName<'static>,
    address: SocketAddr,
) -> EndpointProbe {
    // PROBE_CONCURRENCY: a closed semaphore cannot happen (we never close it); probe anyway.
    let _permit = ctx.endpoint_permits.acquire().await.ok();
    let mut endpoint = EndpointProbe {
        address,
        chain: Vec::new(),
        verdict: ChainVerdict::NotReceived,
        publicly_anchored: false,
        error: None,
    };
    let timeout = ctx.timeout;
    let tcp = match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => {
            endpoint.error = Some(format!("TCP connection to {address} failed: {e}"));
            return endpoint;
        }
        Err(_) => {
            endpoint.error = Some(format!(
                "TCP connection to {address} timed out after {}s",
                timeout.as_secs_f32()
            ));
            return endpoint;
        }
    };

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
    }
    match handshake {
        Ok(Ok(mut tls)) => {
            // Polite close; the result does not matter and is bounded like every step.
            let _ = tokio::time::timeout(timeout, tls.shutdown()).await;
        }
        // The verifier's rejection is the verdict itself, not a connection failure.
        Ok(Err(_))
            if matches!(
                endpoint.verdict,
                ChainVerdict::Expired(_) | ChainVerdict::Untrusted(_)
            ) => {}
        Ok(Err(e)) => {
            endpoint.error = Some(format!(
                "TLS handshake with {address} failed: {}",
                describe(&e)
            ));
        }
        Err(_) => {
            endpoint.error = Some(format!(
                "TLS handshake with {address} timed out after {}s",
                timeout.as_secs_f32()
            ));
        }
    }
    endpoint
}
