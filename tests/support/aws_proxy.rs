//! A counting reverse proxy in front of moto: every AWS call the tool makes goes through it, is
//! counted by `service:Operation` and forwarded unchanged. moto's own log shows `POST /` for
//! every Query-protocol call (the operation is in the body), so the count is taken here.
//!
//! The operation comes from `X-Amz-Target` (JSON protocols: Organizations, DynamoDB, ...), the
//! body's `Action=` (Query protocol: IAM, STS, SNS), `/operation/NAME` (RPC v2 CBOR), else the
//! method and first path segment (REST protocols: EKS `GET /clusters`); the service from the
//! SigV4 credential scope. The first request's arrival is kept (start-to-first-AWS-request).
//!
//! Used by the bench (`make bench`) and by the tests that count calls (one `sts:AssumeRole` per
//! member account in an organization run).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::header::{AUTHORIZATION, CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

struct State {
    upstream: String,
    client: reqwest::Client,
    /// Waited before forwarding each call (0: moto's own latency only).
    latency: Duration,
    calls: Mutex<BTreeMap<String, usize>>,
    first: Mutex<Option<Instant>>,
    last: Mutex<Option<Instant>>,
}

/// The proxy; stops when dropped.
pub struct AwsProxy {
    /// `http://127.0.0.1:PORT`: the tool's `AWS_ENDPOINT_URL`.
    pub endpoint: String,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl AwsProxy {
    /// Starts forwarding to `upstream` (moto's endpoint), waiting `latency` before each call.
    pub async fn start(upstream: &str, latency: Duration) -> AwsProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("proxy address"));
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_string(),
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .expect("proxy client"),
            latency,
            calls: Mutex::new(BTreeMap::new()),
            first: Mutex::new(None),
            last: Mutex::new(None),
        });
        let accept_state = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let state = accept_state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(forward(&state, request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
        AwsProxy {
            endpoint,
            state,
            task,
        }
    }

    /// Forgets the counts and the first request (before each measured run).
    pub fn reset(&self) {
        self.state.calls.lock().unwrap().clear();
        *self.state.first.lock().unwrap() = None;
        *self.state.last.lock().unwrap() = None;
    }

    /// Calls since the last reset, by `service:Operation`.
    pub fn calls(&self) -> BTreeMap<String, usize> {
        self.state.calls.lock().unwrap().clone()
    }

    /// Calls of `operation` (`service:Operation`, e.g. `sts:AssumeRole`) since the last reset.
    pub fn count(&self, operation: &str) -> usize {
        self.calls().get(operation).copied().unwrap_or(0)
    }

    /// When the first call since the last reset arrived.
    pub fn first_request(&self) -> Option<Instant> {
        *self.state.first.lock().unwrap()
    }

    /// When the last call since the last reset arrived (with remediation off and no topic, the
    /// end of the inventory: the AWS calls all come before the probes).
    pub fn last_request(&self) -> Option<Instant> {
        *self.state.last.lock().unwrap()
    }
}

impl Drop for AwsProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let arrived = Instant::now();
    state.first.lock().unwrap().get_or_insert(arrived);
    *state.last.lock().unwrap() = Some(arrived);
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) => return reply(StatusCode::BAD_REQUEST, format!("proxy: body: {e}")),
    };
    *state
        .calls
        .lock()
        .unwrap()
        .entry(operation(&parts, &body))
        .or_default() += 1;
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    pass_on(&state.client, &state.upstream, &parts, body, "proxy").await
}

/// Sends a request on to `upstream` unchanged but for hop-by-hop headers, and its answer back;
/// `who` names the forwarder in a 502's text.
pub async fn pass_on(
    client: &reqwest::Client,
    upstream: &str,
    parts: &http::request::Parts,
    body: Bytes,
    who: &str,
) -> Response<Full<Bytes>> {
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = client.request(parts.method.clone(), format!("{upstream}{path}"));
    for (name, value) in &parts.headers {
        if ![HOST, CONTENT_LENGTH, CONNECTION, TRANSFER_ENCODING].contains(name) {
            request = request.header(name, value);
        }
    }
    let answer = match request.body(body).send().await {
        Ok(answer) => answer,
        Err(e) => return reply(StatusCode::BAD_GATEWAY, format!("{who}: upstream: {e}")),
    };
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if ![CONTENT_LENGTH, CONNECTION, TRANSFER_ENCODING].contains(name) {
            response = response.header(name, value);
        }
    }
    match answer.bytes().await {
        Ok(bytes) => response
            .body(Full::new(bytes))
            .unwrap_or_else(|e| reply(StatusCode::BAD_GATEWAY, e.to_string())),
        Err(e) => reply(
            StatusCode::BAD_GATEWAY,
            format!("{who}: upstream body: {e}"),
        ),
    }
}

fn reply(status: StatusCode, text: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response
}

/// `service:Operation` of one AWS call.
fn operation(parts: &http::request::Parts, body: &[u8]) -> String {
    let service = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("Credential=").nth(1))
        .and_then(|scope| scope.split('/').nth(3))
        .unwrap_or("unsigned")
        .to_string();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .map(str::to_string);
    let action = || {
        let body = std::str::from_utf8(body).ok()?;
        body.split('&')
            .find_map(|pair| pair.strip_prefix("Action="))
            .map(str::to_string)
    };
    let path = parts.uri.path();
    let rpc = || {
        path.split_once("/operation/")
            .map(|(_, op)| op.trim_matches('/').to_string())
    };
    let rest = || {
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        format!("{} /{first}", parts.method)
    };
    let op = target.or_else(action).or_else(rpc).unwrap_or_else(rest);
    format!("{service}:{op}")
}
