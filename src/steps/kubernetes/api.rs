//! The Kubernetes API reads: `GET /api/v1/serviceaccounts` and `GET /api/v1/pods` across
//! namespaces, page by page (`limit`, then `continue` until it comes back empty), each request
//! with a freshly signed token. Every page is bounded by the page timeout and by the run's
//! deadline, and capped in size; a status other than 200 ends the read with the
//! [`ApiFailure`] that says what to do.

use std::time::Duration;

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, USER_AGENT};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use url::Url;

use super::connect::{self, ApiClient, DialFailure};
use super::eks::ClusterEndpoint;
use super::model::{ApiFailure, ApiObjects, ClusterTarget, Pod, ServiceAccount};
use super::token::TokenSigner;
use super::wire::{ListPage, WirePod, WireServiceAccount};
use crate::report::cap;

const AGENT: &str = concat!("thumbprint-guard/", env!("CARGO_PKG_VERSION"));
/// What is read of an error answer (for the `message` of a 403).
const ERROR_BODY_BYTES: usize = 64 * 1024;

/// Objects asked for per page: a quarter of a typical pod list page of kubectl's 500, so that
/// a page of sidecar-heavy pods (20–30 KiB of JSON each, managed fields included) stays well
/// under [`PAGE_BYTES`].
pub const PAGE_LIMIT: u32 = 250;
/// Bytes one page may hold: 8 MiB, i.e. [`PAGE_LIMIT`] objects of 32 KiB on average, about
/// three times a typical pod with its managed fields. The page is parsed in memory (the Lambda
/// has 256 MB and reads several clusters at once), so a bigger page is refused rather than read.
pub const PAGE_BYTES: usize = 8 * 1024 * 1024;

/// The bounds of one cluster's reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadLimits {
    /// `PROBE_TIMEOUT_SECS`: each page's exchange (the connection when one is opened, the
    /// request, the answer and its body) and each connection attempt.
    pub page_timeout: Duration,
    /// `limit=N`: objects asked for per page (at least 1: `limit=0` would ask for everything).
    pub page_limit: u32,
    /// The most bytes one page may hold.
    pub page_size_cap: usize,
}

impl ReadLimits {
    /// [`PAGE_LIMIT`] objects per page, at most [`PAGE_BYTES`] each, within `page_timeout`.
    pub fn new(page_timeout: Duration) -> Self {
        ReadLimits {
            page_timeout,
            page_limit: PAGE_LIMIT,
            page_size_cap: PAGE_BYTES,
        }
    }
}

/// Every service account and pod of the cluster at `endpoint`, or the first reason they could
/// not all be read. Tokens are signed by `signer` for `cluster`'s name and region.
pub async fn read_api(
    endpoint: &ClusterEndpoint,
    signer: &TokenSigner,
    cluster: &ClusterTarget,
    limits: &ReadLimits,
    deadline: Instant,
) -> Result<ApiObjects, ApiFailure> {
    let bound = limits.page_timeout;
    // The lookup, each connection attempt and the handshake are bounded by `bound` inside, so
    // that a name or an address that never answers (a private endpoint seen from outside its
    // VPC) is told apart from a slow server; the run's deadline bounds the whole.
    let until_deadline = |what: &'static str| {
        move |_| ApiFailure::Timeout(format!("the run's deadline came while {what}"))
    };
    let addresses = tokio::time::timeout_at(deadline, connect::addresses(&endpoint.url, bound))
        .await
        .map_err(until_deadline("resolving the endpoint"))??;
    let client = tokio::time::timeout_at(
        deadline,
        connect::open(&endpoint.url, addresses, endpoint.roots.clone(), bound),
    )
    .await
    .map_err(until_deadline("connecting"))??;
    let reader = Reader {
        client,
        base: endpoint.url.clone(),
        signer,
        cluster,
        limits,
        deadline,
    };
    let (service_accounts, pods) = tokio::try_join!(
        reader.list::<WireServiceAccount, ServiceAccount>("/api/v1/serviceaccounts"),
        reader.list::<WirePod, Pod>("/api/v1/pods"),
    )?;
    Ok(ApiObjects {
        service_accounts,
        pods,
    })
}

/// Runs `work` within `bound` and the run's `deadline`; `Err(Timeout)` naming `what` otherwise.
async fn within<F: std::future::Future>(
    deadline: Instant,
    bound: Duration,
    what: &str,
    work: F,
) -> Result<F::Output, ApiFailure> {
    let own = Instant::now() + bound;
    match tokio::time::timeout_at(own.min(deadline), work).await {
        Ok(output) => Ok(output),
        Err(_) if deadline <= own => Err(ApiFailure::Timeout(format!(
            "the run's deadline came while {what}"
        ))),
        Err(_) => Err(ApiFailure::Timeout(format!(
            "{what} took longer than {}s (PROBE_TIMEOUT_SECS)",
            bound.as_secs_f32()
        ))),
    }
}

struct Reader<'a> {
    client: ApiClient,
    base: Url,
    signer: &'a TokenSigner,
    cluster: &'a ClusterTarget,
    limits: &'a ReadLimits,
    deadline: Instant,
}

impl Reader<'_> {
    /// Every object of the list at `path`, page by page.
    async fn list<W, T>(&self, path: &str) -> Result<Vec<T>, ApiFailure>
    where
        W: DeserializeOwned,
        T: From<W>,
    {
        let mut objects = Vec::new();
        let mut next: Option<String> = None;
        let mut pages = 0usize;
        loop {
            let mut url = self.base.clone();
            url.set_path(path);
            url.query_pairs_mut()
                .append_pair("limit", &self.limits.page_limit.max(1).to_string());
            if let Some(token) = &next {
                url.query_pairs_mut().append_pair("continue", token);
            }
            let what = format!("reading a page of {path}");
            let page: ListPage<W> = within(
                self.deadline,
                self.limits.page_timeout,
                &what,
                self.page(&url),
            )
            .await??;
            pages += 1;
            objects.extend(page.items.into_iter().map(T::from));
            match page.metadata.next.filter(|token| !token.is_empty()) {
                Some(token) if next.as_ref() == Some(&token) => {
                    return Err(ApiFailure::Invalid(format!(
                        "{path} answered the same continue token twice"
                    )))
                }
                Some(token) => next = Some(token),
                None => break,
            }
        }
        tracing::debug!(
            cluster = %self.cluster.name,
            path,
            pages,
            objects = objects.len(),
            "Kubernetes list read"
        );
        Ok(objects)
    }

    /// One page: a fresh token, the request, the status, the capped body, the JSON.
    async fn page<W: DeserializeOwned>(&self, url: &Url) -> Result<ListPage<W>, ApiFailure> {
        let token = self
            .signer
            .token(&self.cluster.name, &self.cluster.region)
            .await
            .map_err(|e| ApiFailure::Token(e.to_string()))?;
        let authorization = token
            .header()
            .map_err(|_| ApiFailure::Token("the token is not a valid header value".to_string()))?;
        let request = Request::get(url.as_str())
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, AGENT)
            .header(AUTHORIZATION, authorization)
            .body(Empty::<Bytes>::new())
            .map_err(|e| ApiFailure::Invalid(format!("cannot request {url}: {e}")))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| request_failure(&e))?;
        let status = response.status();
        match status {
            StatusCode::OK => {
                let body = read_capped(response, self.limits.page_size_cap)
                    .await?
                    .ok_or(ApiFailure::TooLarge(self.limits.page_size_cap))?;
                serde_json::from_slice(&body)
                    .map_err(|e| ApiFailure::Invalid(cap(&format!("{}: {e}", url.path())).into()))
            }
            StatusCode::UNAUTHORIZED => Err(ApiFailure::Unauthorized),
            StatusCode::FORBIDDEN => {
                let message = read_capped(response, ERROR_BODY_BYTES)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|body| status_message(&body))
                    .unwrap_or_else(|| format!("{} is forbidden", url.path()));
                Err(ApiFailure::Forbidden(cap(&message).into_owned()))
            }
            other => Err(ApiFailure::Status(other.as_u16())),
        }
    }
}

/// The `message` of a Kubernetes `Status` answer.
fn status_message(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Status {
        message: Option<String>,
    }
    serde_json::from_slice::<Status>(body)
        .ok()?
        .message
        .filter(|m| !m.is_empty())
}

/// The body, or `None` when it holds more than `limit` bytes (by its `Content-Length` or as read).
async fn read_capped(
    response: http::Response<Incoming>,
    limit: usize,
) -> Result<Option<Vec<u8>>, ApiFailure> {
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Ok(None);
    }
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiFailure::Unreachable(format!("the answer was cut off: {}", chain(&e)))
        })?;
        if let Some(chunk) = frame.data_ref() {
            if bytes.len() + chunk.len() > limit {
                return Ok(None);
            }
            bytes.extend_from_slice(chunk);
        }
    }
    Ok(Some(bytes))
}

/// A request that got no answer: a connection the pool could not open (the dialer's own
/// failure), or one that broke.
fn request_failure(error: &hyper_util::client::legacy::Error) -> ApiFailure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(dial) = e.downcast_ref::<DialFailure>() {
            return dial.clone().into();
        }
        source = e.source();
    }
    ApiFailure::Unreachable(format!("the request failed: {}", chain(error)))
}

/// An error and its causes on one line.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    cap(&parts.join(": ")).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_page_bound_and_the_deadline_are_told_apart() {
        let slow = || tokio::time::sleep(Duration::from_secs(60));
        let far = Instant::now() + Duration::from_secs(600);
        match within(
            far,
            Duration::from_secs(10),
            "reading a page of /api/v1/pods",
            slow(),
        )
        .await
        {
            Err(ApiFailure::Timeout(message)) => assert_eq!(
                message,
                "reading a page of /api/v1/pods took longer than 10s (PROBE_TIMEOUT_SECS)"
            ),
            other => panic!("{other:?}"),
        }
        let near = Instant::now() + Duration::from_secs(3);
        match within(near, Duration::from_secs(10), "connecting", slow()).await {
            Err(ApiFailure::Timeout(message)) => {
                assert_eq!(message, "the run's deadline came while connecting")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            within(far, Duration::from_secs(10), "x", async { 7 }).await,
            Ok(7)
        );
    }

    #[test]
    fn a_status_answer_gives_its_message() {
        let body = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods is forbidden: User \"x\" cannot list resource \"pods\"","reason":"Forbidden","code":403}"#;
        assert_eq!(
            status_message(body).as_deref(),
            Some("pods is forbidden: User \"x\" cannot list resource \"pods\"")
        );
        assert_eq!(status_message(br#"{"message":""}"#), None);
        assert_eq!(status_message(b"<html>forbidden</html>"), None);
    }
}
