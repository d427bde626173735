//! A request to assume a role as its trust policy sees it: the action, the caller and the
//! condition keys the request carries, surely lacks, or may carry with a value unknown here.

use std::collections::BTreeMap;

use super::conditions::issuer_of_key;
use super::document::{oidc_provider_path, WEB_IDENTITY_ACTION};

/// The service principal EKS Pod Identity assumes roles as.
pub const POD_IDENTITY_SERVICE: &str = "pods.eks.amazonaws.com";
/// The action Pod Identity calls to assume a role.
pub const ASSUME_ROLE_ACTION: &str = "sts:AssumeRole";
/// The action Pod Identity needs to attach its session tags.
pub const TAG_SESSION_ACTION: &str = "sts:TagSession";
/// The session tags EKS Pod Identity adds (EKS user guide, "Enable or disable session tags").
pub const POD_IDENTITY_TAGS: [&str; 6] = [
    "eks-cluster-arn",
    "eks-cluster-name",
    "kubernetes-namespace",
    "kubernetes-service-account",
    "kubernetes-pod-name",
    "kubernetes-pod-uid",
];

/// Who asks to assume the role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A web identity from the OIDC provider with this ARN (`AssumeRoleWithWebIdentity`).
    Federated(String),
    /// An AWS service principal (`pods.eks.amazonaws.com`).
    Service(String),
}

/// What the request carries for one condition key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState<'a> {
    /// The key is in the request, with these values.
    Present(&'a [String]),
    /// The key is surely not in the request (another issuer's claim, a session tag not set).
    Absent,
    /// The request may carry the key, with a value this check cannot know (`aws:SourceIp`…).
    Unknown,
}

/// Which request the context describes, for the keys it does not list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    /// A token of the issuer at this path (lowercase).
    WebIdentity(String),
    /// EKS Pod Identity's AssumeRole/TagSession with its session tags.
    PodIdentity,
}

/// The condition keys of a request and what it surely lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    known: BTreeMap<String, Vec<String>>,
    origin: Origin,
}

impl RequestContext {
    /// A token from the issuer at `provider_path` with these `sub` and `aud` claims.
    pub fn web_identity(provider_path: &str, sub: &str, aud: &str) -> RequestContext {
        let known = [("sub", sub), ("aud", aud)]
            .into_iter()
            .map(|(claim, value)| {
                (
                    format!("{provider_path}:{claim}").to_ascii_lowercase(),
                    vec![value.to_string()],
                )
            })
            .collect();
        RequestContext {
            known,
            origin: Origin::WebIdentity(provider_path.to_ascii_lowercase()),
        }
    }

    /// Pod Identity's request for a pod of `namespace`/`service_account` on the cluster.
    pub fn pod_identity(
        cluster_arn: &str,
        cluster_name: &str,
        namespace: &str,
        service_account: &str,
    ) -> RequestContext {
        let mut known: BTreeMap<String, Vec<String>> = [
            ("eks-cluster-arn", cluster_arn),
            ("eks-cluster-name", cluster_name),
            ("kubernetes-namespace", namespace),
            ("kubernetes-service-account", service_account),
        ]
        .into_iter()
        .map(|(tag, value)| (format!("aws:requesttag/{tag}"), vec![value.to_string()]))
        .collect();
        known.insert(
            "aws:tagkeys".to_string(),
            POD_IDENTITY_TAGS.iter().map(|t| t.to_string()).collect(),
        );
        RequestContext {
            known,
            origin: Origin::PodIdentity,
        }
    }

    /// The state of `key` (case-insensitive) in this request.
    pub fn lookup(&self, key: &str) -> KeyState<'_> {
        let lower = key.to_ascii_lowercase();
        if let Some(values) = self.known.get(&lower) {
            return KeyState::Present(values);
        }
        match &self.origin {
            Origin::WebIdentity(own) => match issuer_of_key(&lower) {
                Some(issuer) if issuer != own => KeyState::Absent,
                _ => KeyState::Unknown,
            },
            Origin::PodIdentity => {
                if let Some(tag) = lower.strip_prefix("aws:requesttag/") {
                    if POD_IDENTITY_TAGS.contains(&tag) {
                        KeyState::Unknown
                    } else {
                        KeyState::Absent
                    }
                } else if issuer_of_key(&lower).is_some() {
                    KeyState::Absent
                } else {
                    KeyState::Unknown
                }
            }
        }
    }
}

/// One request to assume a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `sts:AssumeRoleWithWebIdentity`, `sts:AssumeRole`, `sts:TagSession`.
    pub action: String,
    /// Who asks.
    pub caller: Caller,
    /// Its condition keys.
    pub context: RequestContext,
}

impl Request {
    /// `AssumeRoleWithWebIdentity` with a token of the OIDC provider `provider_arn`; `None` when
    /// that is not an OIDC provider ARN.
    pub fn web_identity(provider_arn: &str, sub: &str, aud: &str) -> Option<Request> {
        let path = oidc_provider_path(provider_arn)?;
        Some(Request {
            action: WEB_IDENTITY_ACTION.to_string(),
            caller: Caller::Federated(provider_arn.to_string()),
            context: RequestContext::web_identity(path, sub, aud),
        })
    }

    /// Pod Identity's `action` (`sts:AssumeRole` or `sts:TagSession`) for a pod of
    /// `namespace`/`service_account` on the cluster.
    pub fn pod_identity(
        action: &str,
        cluster_arn: &str,
        cluster_name: &str,
        namespace: &str,
        service_account: &str,
    ) -> Request {
        Request {
            action: action.to_string(),
            caller: Caller::Service(POD_IDENTITY_SERVICE.to_string()),
            context: RequestContext::pod_identity(
                cluster_arn,
                cluster_name,
                namespace,
                service_account,
            ),
        }
    }
}
