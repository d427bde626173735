//! EKS Pod Identity associations: their service account, their role and its trust, and service
//! accounts that also carry an IRSA annotation.

use serde_json::json;

use super::cluster::{qualified, shown, Cluster};
use super::explain::{pod_identity_statement, why_not, Asker};
use crate::kubernetes::{PodIdentityAssociation, ServiceAccount, ROLE_ARN_ANNOTATION};
use crate::report::{Finding, FindingCode, Remedy, Workload};
use crate::trust_policy::{
    evaluate, parse_role_arn, Policy, Request, RoleDirectory, ASSUME_ROLE_ACTION,
    TAG_SESSION_ACTION,
};

/// Every association's findings. `service_accounts` is `None` when the Kubernetes API could not
/// be read: then nothing that needs them (a missing service account, a second mechanism) is said.
pub(super) fn association_findings(
    cluster: &Cluster<'_>,
    associations: &[PodIdentityAssociation],
    service_accounts: Option<&[ServiceAccount]>,
    roles: &RoleDirectory,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for association in associations {
        if let Some(service_accounts) = service_accounts {
            let service_account = service_accounts.iter().find(|sa| {
                sa.namespace == association.namespace && sa.name == association.service_account
            });
            match service_account {
                None => findings.push(service_account_missing(cluster, association)),
                Some(sa) => findings.extend(dual_identity(cluster, association, sa)),
            }
        }
        findings.extend(role_finding(cluster, association, roles));
    }
    findings
}

fn workload(association: &PodIdentityAssociation) -> Workload {
    Workload {
        namespace: association.namespace.clone(),
        name: association.service_account.clone(),
        cluster: None,
    }
}

/// `Pod Identity association ID (service account `NS/NAME`) of CLUSTER`.
fn subject(cluster: &Cluster<'_>, association: &PodIdentityAssociation) -> String {
    format!(
        "Pod Identity association {} (service account `{}`) of {}",
        shown(&association.association_id),
        qualified(&association.namespace, &association.service_account),
        cluster.label()
    )
}

fn details(association: &PodIdentityAssociation) -> serde_json::Value {
    json!({
        "association_id": association.association_id,
        "role_arn": association.role_arn,
    })
}

/// The details of a role finding: the association's, and the statement its role needs.
fn role_details(
    association: &PodIdentityAssociation,
    statement: &serde_json::Value,
) -> serde_json::Value {
    let mut details = details(association);
    details["trust_statement"] = json!(statement.to_string());
    details
}

fn service_account_missing(cluster: &Cluster<'_>, association: &PodIdentityAssociation) -> Finding {
    let message = format!(
        "{} names a service account the cluster does not have: no pod gets its role until it is created, and whoever \
         creates a service account of that name in namespace `{}` gets the role.",
        subject(cluster, association),
        shown(&association.namespace)
    );
    cluster.finding(
        FindingCode::PodIdentityServiceAccountMissing,
        workload(association),
        message,
        details(association),
        Remedy::Association {
            association_id: association.association_id.clone(),
        },
    )
}

fn dual_identity(
    cluster: &Cluster<'_>,
    association: &PodIdentityAssociation,
    sa: &ServiceAccount,
) -> Option<Finding> {
    let annotation = sa
        .role_arn
        .as_deref()
        .filter(|value| !value.trim().is_empty())?;
    let message = format!(
        "Service account `{}` of {} has both an IRSA annotation ({ROLE_ARN_ANNOTATION} {}) and Pod Identity association \
         {} (role {}): pods started since the association get its role (EKS's webhook injects Pod Identity's credentials \
         instead of IRSA's when both are set, so the annotation is ignored), pods started before it keep the annotation's \
         role until restarted. A migration is half done. Keep one mechanism.",
        qualified(&sa.namespace, &sa.name),
        cluster.label(),
        shown(annotation),
        shown(&association.association_id),
        shown(&association.role_arn)
    );
    let mut extra = details(association);
    extra["annotation_role_arn"] = json!(annotation);
    Some(cluster.finding(
        FindingCode::ServiceAccountDualIdentity,
        workload(association),
        message,
        extra,
        Remedy::Association {
            association_id: association.association_id.clone(),
        },
    ))
}

/// ROLE_MISSING or ROLE_UNTRUSTED when the role's account was swept.
fn role_finding(
    cluster: &Cluster<'_>,
    association: &PodIdentityAssociation,
    roles: &RoleDirectory,
) -> Option<Finding> {
    let arn = parse_role_arn(&association.role_arn).ok()?;
    if !roles.has_account(arn.account) {
        return None;
    }
    let statement = pod_identity_statement(
        &cluster.target.arn,
        &association.namespace,
        &association.service_account,
    );
    let Some(found) = roles.find(arn.account, arn.name) else {
        let message = format!(
            "{} names role {}, which does not exist in account {}: its pods get no credentials. Create the role, or \
             point the association at an existing one.",
            subject(cluster, association),
            shown(&association.role_arn),
            arn.account
        );
        return Some(cluster.finding(
            FindingCode::PodIdentityRoleMissing,
            workload(association),
            message,
            role_details(association, &statement),
            Remedy::CreateRole {
                role_arn: association.role_arn.clone(),
                statement,
                alternative: None,
                association_id: Some(association.association_id.clone()),
            },
        ));
    };
    let policy = found.policy.as_ref().ok()?;
    let refusals = refusals(cluster, association, policy);
    if refusals.is_empty() {
        return None;
    }
    let message = format!(
        "{} names role {}, whose trust policy does not let {} call both sts:AssumeRole and sts:TagSession: {}. Its pods \
         get no credentials (the Pod Identity agent's AssumeRole is denied).",
        subject(cluster, association),
        shown(&association.role_arn),
        crate::trust_policy::POD_IDENTITY_SERVICE,
        refusals.join("; ")
    );
    Some(cluster.finding(
        FindingCode::PodIdentityRoleUntrusted,
        workload(association),
        message,
        role_details(association, &statement),
        Remedy::Trust {
            role_arn: found.role.arn.clone(),
            statement,
            alternative: None,
        },
    ))
}

/// For each of the two actions the trust refuses, `ACTION: why`.
fn refusals(
    cluster: &Cluster<'_>,
    association: &PodIdentityAssociation,
    policy: &Policy,
) -> Vec<String> {
    let asker = Asker::PodIdentity {
        namespace: &association.namespace,
        service_account: &association.service_account,
    };
    [ASSUME_ROLE_ACTION, TAG_SESSION_ACTION]
        .into_iter()
        .filter_map(|action| {
            let request = Request::pod_identity(
                action,
                &cluster.target.arn,
                &cluster.target.name,
                &association.namespace,
                &association.service_account,
            );
            let evaluation = evaluate(policy, &request);
            (!evaluation.admits())
                .then(|| format!("for {action}, {}", why_not(&evaluation, &request, asker)))
        })
        .collect()
}
