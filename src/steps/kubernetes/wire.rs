//! The JSON of a Kubernetes list page, with only the fields the checks use: everything else an
//! object carries (managed fields, status conditions, volumes, every other annotation and
//! environment variable) is skipped by the parser without being kept.

use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use super::model::{ContainerEnv, Pod, ServiceAccount, ROLE_ARN_ANNOTATION};
use crate::report::cap;

/// One page of `GET /api/v1/{serviceaccounts,pods}`.
#[derive(Debug, Deserialize)]
pub struct ListPage<T> {
    /// The objects of this page.
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
    /// Where the next page starts.
    #[serde(default)]
    pub metadata: ListMeta,
}

/// `metadata` of a list.
#[derive(Debug, Default, Deserialize)]
pub struct ListMeta {
    /// `continue`: empty or absent on the last page.
    #[serde(rename = "continue", default)]
    pub next: Option<String>,
}

/// `metadata` of an object.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    annotations: RoleArnAnnotation,
}

/// The value of [`ROLE_ARN_ANNOTATION`] among an object's annotations; the others are skipped.
#[derive(Debug, Default)]
struct RoleArnAnnotation(Option<String>);

impl<'de> Deserialize<'de> for RoleArnAnnotation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Annotations;
        impl<'de> Visitor<'de> for Annotations {
            type Value = RoleArnAnnotation;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of annotations")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(RoleArnAnnotation(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut role_arn = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == ROLE_ARN_ANNOTATION {
                        role_arn = map.next_value::<Option<String>>()?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(RoleArnAnnotation(role_arn))
            }
        }
        deserializer.deserialize_any(Annotations)
    }
}

/// A service account.
#[derive(Debug, Deserialize)]
pub struct WireServiceAccount {
    #[serde(default)]
    metadata: ObjectMeta,
}

impl From<WireServiceAccount> for ServiceAccount {
    fn from(wire: WireServiceAccount) -> Self {
        ServiceAccount {
            namespace: cap(&wire.metadata.namespace).into_owned(),
            name: cap(&wire.metadata.name).into_owned(),
            role_arn: wire
                .metadata
                .annotations
                .0
                .map(|arn| cap(&arn).into_owned()),
        }
    }
}

/// A pod.
#[derive(Debug, Deserialize)]
pub struct WirePod {
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    spec: PodSpec,
    #[serde(default)]
    status: PodStatus,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodSpec {
    #[serde(default)]
    service_account_name: Option<String>,
    #[serde(default)]
    containers: Vec<Container>,
    #[serde(default)]
    init_containers: Vec<Container>,
}

#[derive(Debug, Default, Deserialize)]
struct PodStatus {
    #[serde(default)]
    phase: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Container {
    #[serde(default)]
    name: String,
    #[serde(default)]
    env: Vec<EnvVar>,
}

/// An environment variable; `valueFrom` is skipped (only a literal `AWS_ROLE_ARN` is compared).
#[derive(Debug, Deserialize)]
struct EnvVar {
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: Option<String>,
}

impl From<Container> for ContainerEnv {
    fn from(container: Container) -> Self {
        let mut env = ContainerEnv {
            name: cap(&container.name).into_owned(),
            ..ContainerEnv::default()
        };
        for var in container.env {
            match var.name.as_str() {
                "AWS_ROLE_ARN" => env.role_arn = var.value.map(|v| cap(&v).into_owned()),
                "AWS_WEB_IDENTITY_TOKEN_FILE" => env.web_identity_token_file = true,
                "AWS_REGION" | "AWS_DEFAULT_REGION" => env.region = true,
                _ => {}
            }
        }
        env
    }
}

impl From<WirePod> for Pod {
    fn from(wire: WirePod) -> Self {
        let service_account = wire
            .spec
            .service_account_name
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "default".to_string());
        Pod {
            namespace: cap(&wire.metadata.namespace).into_owned(),
            name: cap(&wire.metadata.name).into_owned(),
            service_account: cap(&service_account).into_owned(),
            running: wire.status.phase.as_deref() == Some("Running"),
            containers: wire
                .spec
                .containers
                .into_iter()
                .chain(wire.spec.init_containers)
                .map(ContainerEnv::from)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service_accounts(page: serde_json::Value) -> (Vec<ServiceAccount>, Option<String>) {
        let page: ListPage<WireServiceAccount> = serde_json::from_value(page).unwrap();
        (
            page.items.into_iter().map(ServiceAccount::from).collect(),
            page.metadata.next,
        )
    }

    #[test]
    fn a_service_account_keeps_only_its_names_and_the_role_annotation() {
        let (accounts, next) = service_accounts(json!({
            "kind": "ServiceAccountList",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": "1", "continue": "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ"},
            "items": [
                {"metadata": {"name": "api", "namespace": "payments", "uid": "u",
                              "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}",
                                              "eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/api"},
                              "managedFields": [{"manager": "kubectl"}]},
                 "secrets": [{"name": "api-token"}]},
                {"metadata": {"name": "default", "namespace": "payments"}},
                {"metadata": {"name": "odd", "namespace": "x", "annotations": null}}
            ]
        }));
        assert_eq!(
            accounts,
            [
                ServiceAccount {
                    namespace: "payments".into(),
                    name: "api".into(),
                    role_arn: Some("arn:aws:iam::1:role/api".into()),
                },
                ServiceAccount {
                    namespace: "payments".into(),
                    name: "default".into(),
                    role_arn: None,
                },
                ServiceAccount {
                    namespace: "x".into(),
                    name: "odd".into(),
                    role_arn: None,
                },
            ]
        );
        assert_eq!(next.as_deref(), Some("eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ"));
    }

    #[test]
    fn a_pod_keeps_its_service_account_phase_and_aws_environment() {
        let page: ListPage<WirePod> = serde_json::from_value(json!({
            "metadata": {},
            "items": [{
                "metadata": {"name": "api-7d9", "namespace": "payments", "annotations": {"a": "b"}},
                "spec": {
                    "serviceAccountName": "api",
                    "serviceAccount": "api",
                    "volumes": [{"name": "aws-iam-token", "projected": {}}],
                    "containers": [{
                        "name": "app",
                        "image": "app:1",
                        "env": [
                            {"name": "AWS_ROLE_ARN", "value": "arn:aws:iam::1:role/api"},
                            {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"},
                            {"name": "AWS_DEFAULT_REGION", "value": "cn-north-1"},
                            {"name": "SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
                        ]
                    }],
                    "initContainers": [{"name": "init", "env": [{"name": "AWS_REGION", "value": "x"}]}]
                },
                "status": {"phase": "Running", "conditions": [{"type": "Ready"}]}
            }, {
                "metadata": {"name": "job-1", "namespace": "batch"},
                "spec": {"containers": [{"name": "job"}]},
                "status": {"phase": "Succeeded"}
            }]
        }))
        .unwrap();
        assert_eq!(page.metadata.next, None);
        let pods: Vec<Pod> = page.items.into_iter().map(Pod::from).collect();
        assert_eq!(
            pods[0],
            Pod {
                namespace: "payments".into(),
                name: "api-7d9".into(),
                service_account: "api".into(),
                running: true,
                containers: vec![
                    ContainerEnv {
                        name: "app".into(),
                        role_arn: Some("arn:aws:iam::1:role/api".into()),
                        web_identity_token_file: true,
                        region: true,
                    },
                    ContainerEnv {
                        name: "init".into(),
                        role_arn: None,
                        web_identity_token_file: false,
                        region: true,
                    },
                ],
            }
        );
        assert_eq!(pods[1].service_account, "default", "Kubernetes' default");
        assert!(!pods[1].running);
        assert_eq!(
            pods[1].containers[0],
            ContainerEnv {
                name: "job".into(),
                ..ContainerEnv::default()
            }
        );
    }

    #[test]
    fn strings_from_the_cluster_are_capped() {
        let long = "n".repeat(5_000);
        let (accounts, _) = service_accounts(json!({
            "items": [{"metadata": {"name": long, "namespace": "ns",
                                    "annotations": {ROLE_ARN_ANNOTATION: long}}}]
        }));
        assert!(accounts[0].name.chars().count() <= 512);
        assert!(accounts[0].role_arn.as_ref().unwrap().chars().count() <= 512);
    }

    #[test]
    fn a_page_of_another_shape_is_an_error() {
        assert!(serde_json::from_value::<ListPage<WirePod>>(json!({"items": {"a": 1}})).is_err());
        assert!(
            serde_json::from_value::<ListPage<WireServiceAccount>>(json!({
                "items": [{"metadata": {"annotations": ["not", "a", "map"]}}]
            }))
            .is_err()
        );
    }
}
