//! The HTTP fetch: one GET over an address's pooled connections (hyper-util's client: HTTP/2 when
//! the server chose it by ALPN, else HTTP/1.1 with keep-alive), and the provider's time budget.
//!
//! Redirects are never followed, bodies are capped at [`MAX_BODY_BYTES`], and each part (the
//! response head, the body) is bounded by the step bound and by what is left of the provider's
//! own 3 × `PROBE_TIMEOUT_SECS`. Waiting for the address's turn (taken by the issuer probe) is not
//! the provider's exchange: it is bounded by the run's deadline only.

use std::future::Future;
use std::time::Duration;

use http::header::{ACCEPT, LOCATION, USER_AGENT};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use super::facts::MAX_BODY_BYTES;
use super::pool::Link;
use super::tls::describe;

const AGENT: &str = concat!("thumbprint-guard/", env!("CARGO_PKG_VERSION"));

/// What is left of one provider's bound on its own exchanges (3 × `PROBE_TIMEOUT_SECS`), and the
/// bound on each step.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    step: Duration,
    left: Duration,
}

/// The provider's own bound ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spent;

impl Budget {
    /// `total` for the whole probe, `step` for each part.
    pub fn new(step: Duration, total: Duration) -> Self {
        Budget { step, left: total }
    }

    /// Runs `work` within the step bound and what is left, charging the time it took. `Ok(None)`
    /// when the step bound ran out first, `Err(Spent)` when the whole bound did.
    pub async fn spend<F: Future>(&mut self, work: F) -> Result<Option<F::Output>, Spent> {
        let started = Instant::now();
        let result = tokio::time::timeout(self.step.min(self.left), work).await;
        self.left = self.left.saturating_sub(started.elapsed());
        match result {
            Ok(output) => Ok(Some(output)),
            Err(_) if self.left.is_zero() => Err(Spent),
            Err(_) => Ok(None),
        }
    }

    /// Charges `elapsed` of an exchange made elsewhere (a shared host probe).
    pub fn charge(&mut self, elapsed: Duration) -> Result<(), Spent> {
        self.left = self.left.saturating_sub(elapsed);
        if self.left.is_zero() {
            Err(Spent)
        } else {
            Ok(())
        }
    }

    /// The step bound.
    pub fn step(&self) -> Duration {
        self.step
    }
}

/// Why a fetch gave no usable JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FetchError {
    /// A part of the exchange timed out.
    #[error("{0}")]
    Unreachable(String),
    /// The connection failed (closed, reset, could not be opened again): another attempt on a
    /// new connection may succeed.
    #[error("{0}")]
    Broken(String),
    /// The provider's own bound ran out during the exchange.
    #[error("the probe's own time ran out")]
    Spent,
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

impl From<Spent> for FetchError {
    fn from(_: Spent) -> Self {
        FetchError::Spent
    }
}

/// GETs `url` over `link` and parses the body as JSON, charging the exchange to `budget`. The
/// caller holds a turn of the address ([`Link::turn`]).
pub(crate) async fn get_json(
    link: &Link,
    url: &Url,
    budget: &mut Budget,
) -> Result<Value, FetchError> {
    let address = link.address;
    let step = budget.step();
    let timed_out = |what: &str| {
        FetchError::Unreachable(format!(
            "{what} from {address} timed out after {}s",
            step.as_secs_f32()
        ))
    };
    let request = Request::get(url.as_str())
        .header(ACCEPT, "application/json")
        .header(USER_AGENT, AGENT)
        .body(Empty::<Bytes>::new())
        .map_err(|e| FetchError::Unreachable(format!("cannot request {url}: {e}")))?;
    let client = link.client();
    let response = budget
        .spend(client.request(request))
        .await?
        .ok_or_else(|| timed_out("the response"))?
        .map_err(|e| FetchError::Broken(format!("{address}: {}", describe(&e))))?;
    read(response, budget, &timed_out).await
}

/// Checks the status and reads the body (capped, bounded) as JSON.
async fn read(
    response: http::Response<hyper::body::Incoming>,
    budget: &mut Budget,
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
            let frame = frame.map_err(|e| FetchError::Broken(describe(&e)))?;
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
    budget
        .spend(reading)
        .await?
        .ok_or_else(|| timed_out("the body"))??;
    serde_json::from_slice(&bytes).map_err(|e| FetchError::NotJson(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_budget_charges_only_the_work_it_runs() {
        let mut budget = Budget::new(Duration::from_secs(10), Duration::from_secs(30));
        let slow = tokio::time::sleep(Duration::from_secs(60));
        assert_eq!(
            budget.spend(slow).await,
            Ok(None),
            "the step bound cuts first"
        );
        // Time passing outside `spend` (waiting for a turn) is not charged.
        tokio::time::sleep(Duration::from_secs(100)).await;
        assert_eq!(budget.spend(async { 1 }).await, Ok(Some(1)));
        budget.charge(Duration::from_secs(15)).unwrap();
        let slow = tokio::time::sleep(Duration::from_secs(60));
        assert_eq!(budget.spend(slow).await, Err(Spent), "5 s were left");
        assert_eq!(budget.charge(Duration::from_secs(1)), Err(Spent));
    }
}
