//! An HTTP shim in front of moto for what moto's EKS cannot answer: a usable endpoint and CA for a
//! cluster (so that its Kubernetes API, a [`super::kube_api::FakeKubeApi`], can be reached) and EKS
//! Pod Identity. Everything else is forwarded to the upstream (moto, or an
//! [`super::aws_proxy::AwsProxy`] in front of it) unchanged.
//!
//! - `GET /clusters/NAME` (`eks:DescribeCluster`): forwarded; for a cluster given to
//!   [`EksShim::set_cluster`], `cluster.endpoint` and `cluster.certificateAuthority.data` of
//!   moto's answer are replaced (the rest, issuer included, is moto's); for a cluster given to
//!   [`EksShim::set_issuer`], `cluster.identity.oidc.issuer` too (moto gives every cluster of a
//!   region the same `oidc.eks.REGION.amazonaws.com` issuer, which a local run cannot probe).
//! - `GET /clusters/NAME/pod-identity-associations` and `.../pod-identity-associations/ID`
//!   (`eks:ListPodIdentityAssociations`, paged by `maxResults`/`nextToken`, and
//!   `eks:DescribePodIdentityAssociation`): answered from [`EksShim::set_associations`], or with
//!   the error of [`EksShim::fail_pod_identity`].
//!
//! Point the SDK (or the CLI's `AWS_ENDPOINT_URL`) at [`EksShim::endpoint`].

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http::header::AUTHORIZATION;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One Pod Identity association of a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Association {
    /// `associationId`.
    pub id: String,
    /// The service account's namespace.
    pub namespace: String,
    /// The service account's name.
    pub service_account: String,
    /// `roleArn`.
    pub role_arn: String,
}

impl Association {
    /// An association `id` of `namespace`/`service_account` to `role_arn`.
    pub fn new(id: &str, namespace: &str, service_account: &str, role_arn: &str) -> Self {
        Association {
            id: id.to_string(),
            namespace: namespace.to_string(),
            service_account: service_account.to_string(),
            role_arn: role_arn.to_string(),
        }
    }
}

/// An EKS error answer: HTTP status, `x-amzn-errortype`, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EksFailure {
    /// HTTP status (403, 429...).
    pub status: u16,
    /// The error type (`AccessDeniedException`, `ThrottlingException`...).
    pub kind: String,
    /// The message.
    pub message: String,
}

#[derive(Default)]
struct Clusters {
    /// name → (endpoint, certificateAuthority.data).
    endpoints: HashMap<String, (String, String)>,
    /// name → identity.oidc.issuer.
    issuers: HashMap<String, String>,
    associations: HashMap<String, Vec<Association>>,
    pod_identity_failure: Option<EksFailure>,
}

struct State {
    upstream: String,
    client: reqwest::Client,
    clusters: Mutex<Clusters>,
    calls: Mutex<BTreeMap<String, usize>>,
}

/// The shim; stops when dropped.
pub struct EksShim {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl EksShim {
    /// Starts in front of `upstream` (moto's endpoint, or a proxy's).
    pub async fn start(upstream: &str) -> EksShim {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the EKS shim");
        let endpoint = format!("http://{}", listener.local_addr().expect("shim address"));
        let state = Arc::new(State {
            upstream: upstream.trim_end_matches('/').to_string(),
            client: reqwest::Client::new(),
            clusters: Mutex::new(Clusters::default()),
            calls: Mutex::new(BTreeMap::new()),
        });
        let accept_state = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let state = accept_state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(&state, request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
        EksShim {
            endpoint,
            state,
            task,
        }
    }

    /// `DescribeCluster` of `name` answers `endpoint` and the CA `ca_data` (base64 of PEM).
    pub fn set_cluster(&self, name: &str, endpoint: &str, ca_data: &str) {
        self.state.clusters.lock().unwrap().endpoints.insert(
            name.to_string(),
            (endpoint.to_string(), ca_data.to_string()),
        );
    }

    /// `DescribeCluster` of `name` answers `issuer` as its OIDC issuer (e.g. a local
    /// [`super::issuer::IssuerServer`]'s `issuer_url`), so a run probes an issuer on this machine.
    pub fn set_issuer(&self, name: &str, issuer: &str) {
        self.state
            .clusters
            .lock()
            .unwrap()
            .issuers
            .insert(name.to_string(), issuer.to_string());
    }

    /// The Pod Identity associations of cluster `name`.
    pub fn set_associations(&self, name: &str, associations: Vec<Association>) {
        self.state
            .clusters
            .lock()
            .unwrap()
            .associations
            .insert(name.to_string(), associations);
    }

    /// Every Pod Identity call answers `failure` from now on (`None`: the fixtures again).
    pub fn fail_pod_identity(&self, failure: Option<EksFailure>) {
        self.state.clusters.lock().unwrap().pod_identity_failure = failure;
    }

    /// Calls answered here (`eks:DescribeCluster`, `eks:ListPodIdentityAssociations`,
    /// `eks:DescribePodIdentityAssociation`), `eks:ListClusters` (forwarded), or forwarded
    /// (`forwarded`), by name.
    pub fn calls(&self) -> BTreeMap<String, usize> {
        self.state.calls.lock().unwrap().clone()
    }

    /// Calls of `operation` so far.
    pub fn count(&self, operation: &str) -> usize {
        self.calls().get(operation).copied().unwrap_or(0)
    }
}

impl Drop for EksShim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn count(state: &State, operation: &str) {
    *state
        .calls
        .lock()
        .unwrap()
        .entry(operation.to_string())
        .or_default() += 1;
}

fn json_reply(status: u16, body: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("response")
}

fn eks_error(failure: &EksFailure) -> Response<Full<Bytes>> {
    Response::builder()
        .status(failure.status)
        .header("content-type", "application/json")
        .header("x-amzn-errortype", failure.kind.as_str())
        .body(Full::new(Bytes::from(
            json!({ "message": failure.message }).to_string(),
        )))
        .expect("response")
}

/// The SigV4 credential scope's service of a request (`eks`, `sts`...).
fn signing_service(parts: &http::request::Parts) -> Option<String> {
    parts
        .headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .split("Credential=")
        .nth(1)?
        .split('/')
        .nth(3)
        .map(str::to_string)
}

async fn handle(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) => return reply(StatusCode::BAD_REQUEST, format!("shim: body: {e}")),
    };
    let segments: Vec<String> = parts
        .uri
        .path()
        .trim_start_matches('/')
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let eks_get =
        parts.method == http::Method::GET && signing_service(&parts).as_deref() == Some("eks");
    if eks_get && segments.first().map(String::as_str) == Some("clusters") {
        let Some(cluster) = segments.get(1).filter(|name| !name.is_empty()).cloned() else {
            count(state, "eks:ListClusters");
            return forward(state, &parts, body).await;
        };
        match segments.get(2).map(String::as_str) {
            None => {
                count(state, "eks:DescribeCluster");
                return describe_cluster(state, &parts, body, &cluster).await;
            }
            Some("pod-identity-associations") => {
                let failure = state.clusters.lock().unwrap().pod_identity_failure.clone();
                let associations = state
                    .clusters
                    .lock()
                    .unwrap()
                    .associations
                    .get(&cluster)
                    .cloned();
                return match segments.get(3) {
                    None => {
                        count(state, "eks:ListPodIdentityAssociations");
                        if let Some(failure) = failure {
                            return eks_error(&failure);
                        }
                        list_associations(&parts, &cluster, associations.unwrap_or_default())
                    }
                    Some(id) => {
                        count(state, "eks:DescribePodIdentityAssociation");
                        if let Some(failure) = failure {
                            return eks_error(&failure);
                        }
                        describe_association(&cluster, id, associations.unwrap_or_default())
                    }
                };
            }
            Some(_) => {}
        }
    }
    count(state, "forwarded");
    forward(state, &parts, body).await
}

async fn describe_cluster(
    state: &State,
    parts: &http::request::Parts,
    body: Bytes,
    cluster: &str,
) -> Response<Full<Bytes>> {
    let answer = forward(state, parts, body).await;
    let (replacement, issuer) = {
        let clusters = state.clusters.lock().unwrap();
        (
            clusters.endpoints.get(cluster).cloned(),
            clusters.issuers.get(cluster).cloned(),
        )
    };
    if (replacement.is_none() && issuer.is_none()) || answer.status() != StatusCode::OK {
        return answer;
    }
    let (head, body) = answer.into_parts();
    let bytes = match body.collect().await {
        Ok(bytes) => bytes.to_bytes(),
        Err(never) => match never {},
    };
    let Ok(mut described) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(head, Full::new(bytes));
    };
    if let Some((endpoint, ca_data)) = replacement {
        described["cluster"]["endpoint"] = Value::String(endpoint);
        described["cluster"]["certificateAuthority"] = json!({ "data": ca_data });
    }
    if let Some(issuer) = issuer {
        described["cluster"]["identity"] = json!({ "oidc": { "issuer": issuer } });
    }
    json_reply(head.status.as_u16(), &described)
}

fn association_arn(cluster: &str, id: &str) -> String {
    format!("arn:aws:eks:us-east-1:123456789012:podidentityassociation/{cluster}/{id}")
}

fn list_associations(
    parts: &http::request::Parts,
    cluster: &str,
    associations: Vec<Association>,
) -> Response<Full<Bytes>> {
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let start: usize = params
        .get("nextToken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let size: usize = params
        .get("maxResults")
        .and_then(|m| m.parse().ok())
        .unwrap_or(2);
    let end = (start + size).min(associations.len());
    let page: Vec<Value> = associations
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|a| {
            json!({
                "clusterName": cluster,
                "namespace": a.namespace,
                "serviceAccount": a.service_account,
                "associationArn": association_arn(cluster, &a.id),
                "associationId": a.id,
            })
        })
        .collect();
    let mut body = json!({ "associations": page });
    if end < associations.len() {
        body["nextToken"] = Value::String(end.to_string());
    }
    json_reply(200, &body)
}

fn describe_association(
    cluster: &str,
    id: &str,
    associations: Vec<Association>,
) -> Response<Full<Bytes>> {
    match associations.iter().find(|a| a.id == id) {
        Some(a) => json_reply(
            200,
            &json!({ "association": {
                "clusterName": cluster,
                "namespace": a.namespace,
                "serviceAccount": a.service_account,
                "roleArn": a.role_arn,
                "associationArn": association_arn(cluster, &a.id),
                "associationId": a.id,
                "tags": {},
                "createdAt": 1_767_225_600,
                "modifiedAt": 1_767_225_600,
                "disableSessionTags": false,
            }}),
        ),
        None => eks_error(&EksFailure {
            status: 404,
            kind: "ResourceNotFoundException".to_string(),
            message: format!("No Pod Identity association found with id {id}"),
        }),
    }
}

fn reply(status: StatusCode, text: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response
}

/// Sends the request on to the upstream unchanged (but for hop-by-hop headers).
async fn forward(
    state: &State,
    parts: &http::request::Parts,
    body: Bytes,
) -> Response<Full<Bytes>> {
    super::aws_proxy::pass_on(&state.client, &state.upstream, parts, body, "shim").await
}
