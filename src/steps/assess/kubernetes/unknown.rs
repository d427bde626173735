//! TRUST_POLICY_UNKNOWN_SERVICE_ACCOUNT: a role of the cluster's account trusts, on the cluster's
//! provider, a service account by its exact name that the cluster does not have. Whoever can
//! create a service account of that name in that namespace gets the role.

use std::collections::BTreeSet;

use serde_json::json;

use super::cluster::{shown, workload_finding, Cluster};
use crate::kubernetes::ServiceAccount;
use crate::report::{Finding, FindingCode, Remedy, Workload};
use crate::trust_policy::{Effect, RoleDirectory, Statement, Test, WEB_IDENTITY_ACTION};

/// One finding per (role, namespace, name) trusted exactly and absent from the cluster.
pub(super) fn unknown_service_accounts(
    cluster: &Cluster<'_>,
    service_accounts: &[ServiceAccount],
    roles: &RoleDirectory,
) -> Vec<Finding> {
    let (Some(path), Some(provider_arn)) = (
        cluster.target.issuer_path.as_deref(),
        cluster.provider_arn_in(cluster.account),
    ) else {
        return Vec::new();
    };
    let present: BTreeSet<(&str, &str)> = service_accounts
        .iter()
        .map(|sa| (sa.namespace.as_str(), sa.name.as_str()))
        .collect();
    let sub_key = format!("{path}:sub");
    let mut findings = Vec::new();
    for candidate in roles.roles_of(cluster.account) {
        let Ok(policy) = &candidate.policy else {
            continue;
        };
        let mut reported = BTreeSet::new();
        for statement in policy
            .statements
            .iter()
            .filter(|s| trusts(s, &provider_arn))
        {
            for (namespace, name, ignore_case) in exact_subjects(statement, &sub_key) {
                let exists = present.contains(&(namespace.as_str(), name.as_str()))
                    || (ignore_case
                        && present.iter().any(|(ns, n)| {
                            ns.eq_ignore_ascii_case(&namespace) && n.eq_ignore_ascii_case(&name)
                        }));
                if !exists && reported.insert((namespace.clone(), name.clone())) {
                    findings.push(finding(
                        cluster,
                        &candidate.role.arn,
                        statement,
                        namespace,
                        name,
                    ));
                }
            }
        }
    }
    findings
}

/// An Allow statement that grants web-identity assumption to the provider.
fn trusts(statement: &Statement, provider_arn: &str) -> bool {
    statement.effect == Effect::Allow
        && !statement.principals.negated
        && statement.actions.cover(WEB_IDENTITY_ACTION)
        && statement
            .principals
            .federated
            .iter()
            .any(|p| p == provider_arn)
}

/// `(namespace, name, compared ignoring case)` of each `system:serviceaccount:NS:NAME` a positive
/// condition on `sub_key` names without a wildcard, when both are names Kubernetes accepts.
fn exact_subjects(statement: &Statement, sub_key: &str) -> Vec<(String, String, bool)> {
    let mut subjects = Vec::new();
    for condition in &statement.conditions {
        let Some(is_pattern) = condition.operator.restricting() else {
            continue;
        };
        if condition.malformed || !condition.key.eq_ignore_ascii_case(sub_key) {
            continue;
        }
        for value in &condition.values {
            if is_pattern && value.contains(['*', '?']) {
                continue;
            }
            let Some((namespace, name)) = value
                .strip_prefix("system:serviceaccount:")
                .and_then(|rest| rest.split_once(':'))
            else {
                continue;
            };
            if is_kubernetes_name(namespace) && is_kubernetes_name(name) {
                let ignore_case = condition.operator.test == Test::EqualsIgnoreCase;
                subjects.push((namespace.to_string(), name.to_string(), ignore_case));
            }
        }
    }
    subjects
}

/// A name Kubernetes accepts for a namespace or service account (lowercase letters, digits, `-`
/// and `.`, at most 253): only such a name can be created later and pick up the trust.
fn is_kubernetes_name(name: &str) -> bool {
    (1..=253).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
}

fn finding(
    cluster: &Cluster<'_>,
    role_arn: &str,
    statement: &Statement,
    namespace: String,
    name: String,
) -> Finding {
    let message = format!(
        "Role {role_arn} trusts service account `{}/{}` of {} ({}), which the cluster does not have: anyone who can \
         create a service account of that name in namespace `{}` gets the role. If the workload is gone, remove it \
         from the trust policy.",
        shown(&namespace),
        shown(&name),
        cluster.label(),
        statement.label(),
        shown(&namespace)
    );
    let workload = Workload {
        namespace,
        name,
        cluster: Some(cluster.target.arn.clone()),
    };
    workload_finding(
        FindingCode::TrustPolicyUnknownServiceAccount,
        role_arn.to_string(),
        workload,
        message,
        cluster.details(json!({
            "role_arn": role_arn,
            "cluster_arn": cluster.target.arn,
            "statement": statement.sid.clone().unwrap_or_else(|| format!("#{}", statement.index)),
        })),
        Remedy::UnknownServiceAccount {
            cluster_name: cluster.target.name.clone(),
        },
    )
}
