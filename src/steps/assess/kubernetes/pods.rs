//! Pods of annotated service accounts: started before the annotation (or before it changed), and,
//! in a China region, without a region for the SDK.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::cluster::{qualified, shown, Cluster};
use super::irsa::annotated_role;
use crate::kubernetes::{Pod, ServiceAccount, ROLE_ARN_ANNOTATION};
use crate::report::{Finding, FindingCode, Remedy, Workload};

/// POD_NEEDS_RESTART and POD_REGION_MISSING for every running pod whose service account's
/// annotation is a valid role ARN (an invalid one is ANNOTATION_INVALID; a restart would not help).
/// `associated` holds the `(namespace, service account)` pairs with a Pod Identity association:
/// for them EKS's webhook injects Pod Identity's container credentials instead of IRSA's
/// variables (the association takes precedence), so a pod without AWS_ROLE_ARN is as it should
/// be and no restart would add it (SERVICE_ACCOUNT_DUAL_IDENTITY reports the service account).
pub(super) fn pod_findings(
    cluster: &Cluster<'_>,
    service_accounts: &[ServiceAccount],
    pods: &[Pod],
    associated: &BTreeSet<(&str, &str)>,
) -> Vec<Finding> {
    let annotations: BTreeMap<(&str, &str), &str> = service_accounts
        .iter()
        .filter_map(|sa| {
            let value = sa.role_arn.as_deref()?;
            annotated_role(cluster, value).ok()?;
            Some(((sa.namespace.as_str(), sa.name.as_str()), value))
        })
        .collect();
    let china = cluster.target.region.starts_with("cn-");
    let mut findings = Vec::new();
    for pod in pods.iter().filter(|pod| pod.running) {
        let Some(annotation) = annotations
            .get(&(pod.namespace.as_str(), pod.service_account.as_str()))
            .copied()
        else {
            continue;
        };
        let key = (pod.namespace.as_str(), pod.service_account.as_str());
        if !associated.contains(&key) {
            findings.extend(needs_restart(cluster, pod, annotation));
        }
        if china {
            findings.extend(region_missing(cluster, pod, annotation));
        }
    }
    findings
}

fn workload(pod: &Pod) -> Workload {
    Workload {
        namespace: pod.namespace.clone(),
        name: pod.name.clone(),
        cluster: None,
    }
}

fn needs_restart(cluster: &Cluster<'_>, pod: &Pod, annotation: &str) -> Option<Finding> {
    let injected: Vec<&str> = pod
        .containers
        .iter()
        .filter(|c| c.web_identity_token_file)
        .filter_map(|c| c.role_arn.as_deref())
        .collect();
    let stale = injected.iter().find(|arn| **arn != annotation).copied();
    let why = if injected.is_empty() {
        "no container has the AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE that the IRSA webhook injects, so it \
         started before the annotation (or while the webhook was not running) and runs with the node's credentials \
         or none"
            .to_string()
    } else if let Some(stale) = stale {
        format!(
            "a container's AWS_ROLE_ARN is still `{}`: it assumes the role the annotation named when it started",
            shown(stale)
        )
    } else {
        return None;
    };
    let message = format!(
        "Pod `{}` of {} needs a restart: its service account `{}` is annotated with {ROLE_ARN_ANNOTATION} {}, but {why}.",
        qualified(&pod.namespace, &pod.name),
        cluster.label(),
        shown(&pod.service_account),
        shown(annotation)
    );
    Some(cluster.finding(
        FindingCode::PodNeedsRestart,
        workload(pod),
        message,
        json!({
            "service_account": pod.service_account,
            "role_arn": annotation,
            "pod_role_arn": stale,
        }),
        Remedy::RestartPod,
    ))
}

fn region_missing(cluster: &Cluster<'_>, pod: &Pod, annotation: &str) -> Option<Finding> {
    let uses_irsa = pod.containers.iter().any(|c| c.web_identity_token_file);
    if !uses_irsa || pod.containers.iter().any(|c| c.region) {
        return None;
    }
    let region = &cluster.target.region;
    let message = format!(
        "Pod `{}` of {} uses IRSA but none of its containers sets AWS_REGION or AWS_DEFAULT_REGION: in the AWS China \
         regions there is no global STS endpoint, so an SDK without a region cannot exchange the token and the pod \
         gets no credentials. Set AWS_REGION={} in its containers.",
        qualified(&pod.namespace, &pod.name),
        cluster.label(),
        shown(region)
    );
    Some(cluster.finding(
        FindingCode::PodRegionMissing,
        workload(pod),
        message,
        json!({ "service_account": pod.service_account, "role_arn": annotation }),
        Remedy::SetRegion {
            region: region.clone(),
        },
    ))
}
