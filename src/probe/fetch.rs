//! The HTTP fetch: one GET over a recorded, verified TLS connection (hyper's client connection,
//! HTTP/2 when the server chose it by ALPN, else HTTP/1.1 with keep-alive).
//!
//! Redirects are never followed, bodies are capped at [`MAX_BODY_BYTES`], and each part (waiting
//! for the connection, the response head, the body) is bounded by the step bound.

use std::net::SocketAddr;
use std::time::Duration;

use http::header::{ACCEPT, HOST, LOCATION, USER_AGENT};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::{Mutex, OwnedSemaphorePermit};
use tokio::task::AbortHandle;
use tokio_rustls::client::TlsStream;
use url::{Position, Url};

use super::facts::MAX_BODY_BYTES;
use super::tls::describe;

const AGENT: &str = concat!("thumbprint-guard/", env!("CARGO_PKG_VERSION"));

enum Sender {
    Http1(http1::SendRequest<Empty<Bytes>>),
    Http2(http2::SendRequest<Empty<Bytes>>),
}

/// One open, verified connection of a host, kept for the HTTP requests of every provider that
/// shares the host. Dropping it closes the connection and returns its permit.
pub struct Connection {
    /// The address connected to.
    pub address: SocketAddr,
    /// Whether its chain was trusted (only such a connection carries the JWKS fetch).
    pub trusted: bool,
    sender: Mutex<Sender>,
    driver: AbortHandle,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("address", &self.address)
            .field("trusted", &self.trusted)
            .finish_non_exhaustive()
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// Why a fetch gave no usable JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The connection failed or a part of the exchange timed out.
    #[error("{0}")]
    Unreachable(String),
    /// A 3xx answer (never followed: IAM does not follow redirects either).
    #[error("answered HTTP {status} redirecting to {location}; redirects are not followed (IAM does not follow them either)")]
    Redirected {
        /// The status.
        status: u16,
        /// The `Location` header, or a note that there was none.
        location: String,
    },
    /// Another non-success status.
    #[error("answered HTTP {}", StatusCode::from_u16(*.0).map(|s| s.to_string()).unwrap_or_else(|_| .0.to_string()))]
    Status(u16),
    /// The body exceeded [`MAX_BODY_BYTES`].
    #[error("returned more than {MAX_BODY_BYTES} bytes ({0})")]
    TooLarge(String),
    /// The body is not JSON.
    #[error("did not return JSON ({0})")]
    NotJson(String),
}

/// Why HTTP could not be started on a verified TLS connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// The peer went away before HTTP started.
    #[error("the connection closed: {0}")]
    Closed(String),
    /// The HTTP/1.1 or HTTP/2 handshake failed.
    #[error("HTTP setup with {address} failed: {reason}")]
    Failed {
        /// The peer.
        address: std::net::SocketAddr,
        /// hyper's reason.
        reason: String,
    },
    /// The handshake did not finish within `PROBE_TIMEOUT_SECS`.
    #[error("HTTP setup with {0} timed out")]
    TimedOut(std::net::SocketAddr),
}

impl Connection {
    /// Starts HTTP on a TLS stream whose handshake completed; `permit` is held until the
    /// connection closes.
    pub async fn open(
        tls: TlsStream<TcpStream>,
        permit: OwnedSemaphorePermit,
        trusted: bool,
        timeout: Duration,
    ) -> Result<Connection, SetupError> {
        let address = tls
            .get_ref()
            .0
            .peer_addr()
            .map_err(|e| SetupError::Closed(e.to_string()))?;
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
        let io = TokioIo::new(tls);
        let failed = |e: hyper::Error| SetupError::Failed {
            address,
            reason: describe(&e),
        };
        let timed_out = || SetupError::TimedOut(address);
        let (sender, driver) = if h2 {
            let (sender, connection) =
                tokio::time::timeout(timeout, http2::handshake(TokioExecutor::new(), io))
                    .await
                    .map_err(|_| timed_out())?
                    .map_err(failed)?;
            let driver = tokio::spawn(async move {
                let _permit = permit;
                let _ = connection.await;
            });
            (Sender::Http2(sender), driver.abort_handle())
        } else {
            let (sender, connection) = tokio::time::timeout(timeout, http1::handshake(io))
                .await
                .map_err(|_| timed_out())?
                .map_err(failed)?;
            let driver = tokio::spawn(async move {
                let _permit = permit;
                let _ = connection.await;
            });
            (Sender::Http1(sender), driver.abort_handle())
        };
        Ok(Connection {
            address,
            trusted,
            sender: Mutex::new(sender),
            driver,
        })
    }

    /// GETs `url` over this connection and parses the body as JSON.
    pub async fn get_json(&self, url: &Url, timeout: Duration) -> Result<Value, FetchError> {
        let address = self.address;
        let timed_out = |what: &str| {
            FetchError::Unreachable(format!(
                "{what} from {address} timed out after {}s",
                timeout.as_secs_f32()
            ))
        };
        let broken =
            |e: hyper::Error| FetchError::Unreachable(format!("{address}: {}", describe(&e)));
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let request = |uri: &str, with_host: bool| {
            let mut builder = Request::get(uri)
                .header(ACCEPT, "application/json")
                .header(USER_AGENT, AGENT);
            if with_host {
                builder = builder.header(HOST, host.as_str());
            }
            builder
                .body(Empty::<Bytes>::new())
                .map_err(|e| FetchError::Unreachable(format!("cannot request {url}: {e}")))
        };
        let mut guard = tokio::time::timeout(timeout, self.sender.lock())
            .await
            .map_err(|_| timed_out("waiting for the connection"))?;
        let response = match &mut *guard {
            Sender::Http2(shared) => {
                // HTTP/2 multiplexes: every provider sharing the host sends on its own clone of the
                // sender at once (up to the server's stream limit); the lock is released here.
                let mut sender = shared.clone();
                drop(guard);
                tokio::time::timeout(timeout, sender.ready())
                    .await
                    .map_err(|_| timed_out("waiting for the connection"))?
                    .map_err(broken)?;
                let future = sender.send_request(request(url.as_str(), false)?);
                tokio::time::timeout(timeout, future)
                    .await
                    .map_err(|_| timed_out("the response"))?
                    .map_err(broken)?
            }
            Sender::Http1(sender) => {
                tokio::time::timeout(timeout, sender.ready())
                    .await
                    .map_err(|_| timed_out("waiting for the connection"))?
                    .map_err(broken)?;
                let sent = sender.send_request(request(&url[Position::BeforePath..], true)?);
                // HTTP/1.1: one exchange at a time; the lock is held until the head arrives.
                let response = tokio::time::timeout(timeout, sent)
                    .await
                    .map_err(|_| timed_out("the response"))?
                    .map_err(broken)?;
                drop(guard);
                response
            }
        };
        read(response, timeout, &timed_out).await
    }
}

/// Checks the status and reads the body (capped, bounded) as JSON.
async fn read(
    response: http::Response<hyper::body::Incoming>,
    timeout: Duration,
    timed_out: &dyn Fn(&str) -> FetchError,
) -> Result<Value, FetchError> {
    let status = response.status();
    if status.is_redirection() {
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("(no Location header)")
            .to_string();
        return Err(FetchError::Redirected {
            status: status.as_u16(),
            location,
        });
    }
    if !status.is_success() {
        return Err(FetchError::Status(status.as_u16()));
    }
    let declared = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(length) = declared.filter(|l| *l > MAX_BODY_BYTES as u64) {
        return Err(FetchError::TooLarge(format!("Content-Length {length}")));
    }
    let mut body = response.into_body();
    let mut bytes: Vec<u8> = Vec::new();
    let reading = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| FetchError::Unreachable(describe(&e)))?;
            if let Some(chunk) = frame.data_ref() {
                if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(FetchError::TooLarge(
                        "body cut off at the limit".to_string(),
                    ));
                }
                bytes.extend_from_slice(chunk);
            }
        }
        Ok(())
    };
    tokio::time::timeout(timeout, reading)
        .await
        .map_err(|_| timed_out("the body"))??;
    serde_json::from_slice(&bytes).map_err(|e| FetchError::NotJson(e.to_string()))
}
