//! IRSA per service account: is the `eks.amazonaws.com/role-arn` annotation a role ARN, does the
//! role exist, and does its trust policy admit this service account of this cluster.

use serde_json::json;

use super::cluster::{qualified, shown, Cluster};
use super::explain::{irsa_statement, why_not, Asker};
use crate::kubernetes::{ServiceAccount, ROLE_ARN_ANNOTATION};
use crate::report::{Finding, FindingCode, Remedy, Workload, STS_AUDIENCE};
use crate::trust_policy::{
    evaluate, parse_role_arn, DirectoryRole, Policy, Request, RoleArn, RoleDirectory,
};

/// The annotation's role, when the value is a role ARN of the cluster's partition; otherwise why
/// it is not one.
pub(super) fn annotated_role<'v>(
    cluster: &Cluster<'_>,
    value: &'v str,
) -> Result<RoleArn<'v>, String> {
    let arn = parse_role_arn(value).map_err(|e| e.to_string())?;
    if arn.partition != cluster.partition {
        return Err(format!(
            "it is in partition `{}` but the cluster is in `{}`",
            shown(arn.partition),
            shown(cluster.partition)
        ));
    }
    Ok(arn)
}

/// The IRSA web-identity request of `namespace`/`name` for a role of `account`; `None` when the
/// cluster has no issuer.
pub(super) fn irsa_request(
    cluster: &Cluster<'_>,
    account: &str,
    namespace: &str,
    name: &str,
) -> Option<Request> {
    let provider_arn = cluster.provider_arn_in(account)?;
    Request::web_identity(
        &provider_arn,
        &format!("system:serviceaccount:{namespace}:{name}"),
        STS_AUDIENCE,
    )
}

/// Whether `policy` admits `namespace`/`name` of the cluster for a role of `account`.
fn admits(
    cluster: &Cluster<'_>,
    policy: &Policy,
    account: &str,
    namespace: &str,
    name: &str,
) -> bool {
    irsa_request(cluster, account, namespace, name)
        .is_some_and(|request| evaluate(policy, &request).admits())
}

/// A role of `account`, other than `except`, whose trust already admits the service account: the
/// role the annotation probably meant.
fn admitting_role(
    cluster: &Cluster<'_>,
    roles: &RoleDirectory,
    account: &str,
    service_account: &ServiceAccount,
    except: Option<&str>,
) -> Option<String> {
    roles
        .roles_of(account)
        .filter(|candidate| except.is_none_or(|arn| !candidate.role.arn.eq_ignore_ascii_case(arn)))
        .find(|candidate| {
            candidate.policy.as_ref().is_ok_and(|policy| {
                admits(
                    cluster,
                    policy,
                    account,
                    &service_account.namespace,
                    &service_account.name,
                )
            })
        })
        .map(|candidate| candidate.role.arn.clone())
}

/// ANNOTATION_INVALID, ROLE_MISSING and ROLE_UNTRUSTED for every annotated service account. An
/// empty value is no annotation: the IRSA webhook injects nothing for it (it acts on a non-empty
/// role ARN only), so its pods run exactly as without one (a chart's unset role renders so).
pub(super) fn service_account_findings(
    cluster: &Cluster<'_>,
    service_accounts: &[ServiceAccount],
    roles: &RoleDirectory,
) -> Vec<Finding> {
    service_accounts
        .iter()
        .filter_map(|sa| Some((sa, sa.role_arn.as_deref().filter(|v| !v.is_empty())?)))
        .filter_map(|(sa, value)| check(cluster, sa, value, roles))
        .collect()
}

fn check(
    cluster: &Cluster<'_>,
    sa: &ServiceAccount,
    value: &str,
    roles: &RoleDirectory,
) -> Option<Finding> {
    let arn = match annotated_role(cluster, value) {
        Ok(arn) => arn,
        Err(why) => {
            let alternative = admitting_role(cluster, roles, cluster.account, sa, None);
            return Some(invalid(cluster, sa, value, &why, alternative));
        }
    };
    if !roles.has_account(arn.account) {
        return None;
    }
    let Some(found) = roles.find(arn.account, arn.name) else {
        let alternative = admitting_role(cluster, roles, arn.account, sa, None);
        return Some(missing(cluster, sa, value, arn, alternative));
    };
    let policy = found.policy.as_ref().ok()?;
    let request = irsa_request(cluster, arn.account, &sa.namespace, &sa.name)?;
    let evaluation = evaluate(policy, &request);
    if evaluation.admits() {
        return None;
    }
    let asker = Asker::Irsa {
        path: cluster.target.issuer_path.as_deref().unwrap_or_default(),
        namespace: &sa.namespace,
        name: &sa.name,
    };
    let why = why_not(&evaluation, &request, asker);
    let alternative = admitting_role(cluster, roles, arn.account, sa, Some(&found.role.arn));
    Some(untrusted(cluster, sa, value, found, arn, why, alternative))
}

fn workload(sa: &ServiceAccount) -> Workload {
    Workload {
        namespace: sa.namespace.clone(),
        name: sa.name.clone(),
        cluster: None,
    }
}

/// The trust statement for the service account, with the provider of `account`.
fn statement_for(cluster: &Cluster<'_>, account: &str, sa: &ServiceAccount) -> serde_json::Value {
    let path = cluster.target.issuer_path.as_deref().unwrap_or("ISSUER");
    let provider_arn = cluster.provider_arn_in(account).unwrap_or_else(|| {
        format!(
            "arn:{}:iam::{account}:oidc-provider/ISSUER",
            cluster.partition
        )
    });
    irsa_statement(&provider_arn, path, &sa.namespace, &sa.name)
}

fn invalid(
    cluster: &Cluster<'_>,
    sa: &ServiceAccount,
    value: &str,
    why: &str,
    alternative: Option<String>,
) -> Finding {
    let hint = alternative.as_deref().map_or_else(String::new, |arn| {
        format!(" Role {arn} of the cluster's account already trusts this service account.")
    });
    let message = format!(
        "Service account `{}` of {} has {ROLE_ARN_ANNOTATION} `{}`, which is not a usable IAM role ARN: {why}. Its pods \
         get no working AWS credentials from IRSA (STS rejects the role ARN).{hint}",
        qualified(&sa.namespace, &sa.name),
        cluster.label(),
        shown(value)
    );
    cluster.finding(
        FindingCode::ServiceAccountAnnotationInvalid,
        workload(sa),
        message,
        json!({ "annotation": shown(value), "reason": why }),
        Remedy::Annotate {
            role_arn: alternative,
        },
    )
}

fn missing(
    cluster: &Cluster<'_>,
    sa: &ServiceAccount,
    value: &str,
    arn: RoleArn<'_>,
    alternative: Option<String>,
) -> Finding {
    let hint = alternative.as_deref().map_or_else(
        || " Create the role, or annotate the service account with an existing one.".to_string(),
        |arn| format!(" Role {arn} already trusts this service account: annotate it with that one, or create the role."),
    );
    let statement = statement_for(cluster, arn.account, sa);
    let message = format!(
        "Service account `{}` of {} is annotated with role {}, which does not exist in account {}: its pods fail with \
         AccessDenied (\"Not authorized to perform sts:AssumeRoleWithWebIdentity\").{hint}",
        qualified(&sa.namespace, &sa.name),
        cluster.label(),
        shown(value),
        arn.account
    );
    cluster.finding(
        FindingCode::ServiceAccountRoleMissing,
        workload(sa),
        message,
        json!({ "role_arn": value, "trust_statement": statement.to_string() }),
        Remedy::CreateRole {
            role_arn: value.to_string(),
            statement,
            alternative,
            association_id: None,
        },
    )
}

fn untrusted(
    cluster: &Cluster<'_>,
    sa: &ServiceAccount,
    value: &str,
    found: &DirectoryRole,
    arn: RoleArn<'_>,
    why: String,
    alternative: Option<String>,
) -> Finding {
    let hint = alternative.as_deref().map_or_else(String::new, |arn| {
        format!(" Role {arn} already trusts this service account: the annotation may name the wrong role.")
    });
    let statement = statement_for(cluster, arn.account, sa);
    let message = format!(
        "Service account `{}` of {} is annotated with role {}, whose trust policy does not admit it \
         (system:serviceaccount:{}:{}, audience {STS_AUDIENCE}, from the cluster's issuer): {why}. Its pods fail with \
         AccessDenied (\"Not authorized to perform sts:AssumeRoleWithWebIdentity\").{hint}",
        qualified(&sa.namespace, &sa.name),
        cluster.label(),
        shown(value),
        shown(&sa.namespace),
        shown(&sa.name)
    );
    cluster.finding(
        FindingCode::ServiceAccountRoleUntrusted,
        workload(sa),
        message,
        json!({ "role_arn": value, "trust_statement": statement.to_string() }),
        Remedy::Trust {
            role_arn: found.role.arn.clone(),
            statement,
            alternative,
        },
    )
}
