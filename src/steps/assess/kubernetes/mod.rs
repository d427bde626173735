//! Findings from what a cluster's Kubernetes API and its Pod Identity associations say, checked
//! against IAM (DESIGN "In-cluster checks"; pure): AWS's IRSA troubleshooting checklist, done for
//! every service account and pod instead of by hand with kubectl, and the same for EKS Pod
//! Identity.
//!
//! Rules, per cluster:
//! - CLUSTER_API_UNREACHABLE once when the Kubernetes API could not be read (the message says which
//!   failure and how to grant read access), and once more, with its own discriminator, when the Pod
//!   Identity associations could not be listed (what to allow). An unread API suppresses every
//!   check that needs the service accounts (their annotations, whether one exists); the
//!   associations' role checks still run.
//! - For each service account annotated with `eks.amazonaws.com/role-arn` (an empty value is no
//!   annotation, as for the IRSA webhook): ANNOTATION_INVALID when
//!   the value is not a role ARN of the cluster's partition; otherwise, when the role's account was
//!   swept in this run ([`RoleDirectory`]), ROLE_MISSING when the account has no role of that name
//!   (IAM role names are unique per account; the ARN's path is not compared) and ROLE_UNTRUSTED
//!   when its trust policy does not admit `system:serviceaccount:NS:NAME` with audience
//!   `sts.amazonaws.com` from the cluster's issuer, as the provider of *the role's* account (a
//!   cross-account role trusts its own account's provider for the cluster's issuer). A role of an
//!   account not swept is not reported.
//! - For each running pod of a service account whose annotation is a valid role ARN:
//!   POD_NEEDS_RESTART when no container has both `AWS_ROLE_ARN` and `AWS_WEB_IDENTITY_TOKEN_FILE`
//!   or a container's `AWS_ROLE_ARN` is not the annotation, unless the service account also has a
//!   Pod Identity association (EKS's webhook then injects Pod Identity's variables instead, and a
//!   restart changes nothing; with the associations unread, pods are checked as if it had none);
//!   in a China region (`cn-…`)
//!   POD_REGION_MISSING when a pod using IRSA (a container with the token file) has no container
//!   setting `AWS_REGION` or `AWS_DEFAULT_REGION`.
//! - TRUST_POLICY_UNKNOWN_SERVICE_ACCOUNT (on the role) for each `system:serviceaccount:NS:NAME`
//!   that a role of the cluster's own account trusts exactly (StringEquals, or StringLike without a
//!   wildcard) on the cluster's provider, when the cluster has no such service account.
//! - For each Pod Identity association: POD_IDENTITY_SERVICE_ACCOUNT_MISSING, POD_IDENTITY_ROLE_MISSING,
//!   POD_IDENTITY_ROLE_UNTRUSTED (the trust must let `pods.eks.amazonaws.com` call both
//!   `sts:AssumeRole` and `sts:TagSession`, with the association's session tags as condition keys),
//!   and SERVICE_ACCOUNT_DUAL_IDENTITY when its service account also has an IRSA annotation.
//!
//! Every in-cluster finding names the cluster as its resource, except
//! TRUST_POLICY_UNKNOWN_SERVICE_ACCOUNT, which names the role; its [`Workload`] discriminator holds
//! the namespace and name (plus the cluster for a role's finding) and `details` carries them with
//! the role's ARN in `role_arn`. Text read from the cluster (names, annotation values, the API's
//! error texts) arrives capped by the reads and is escaped here too ([`shown`]), so it stays on one
//! line in the report, Security Hub and every message, whatever the API server sent.

use std::collections::BTreeSet;

use crate::kubernetes::ClusterRead;
use crate::report::Finding;
use crate::trust_policy::RoleDirectory;

mod access;
mod cluster;
mod explain;
mod irsa;
mod pod_identity;
mod pods;
#[cfg(test)]
mod tests;
mod unknown;

use cluster::Cluster;

/// The in-cluster findings of one cluster. `roles` holds every role of every account swept in
/// this run; `caller_role_arn` is the IAM role the run uses (an `sts` assumed-role ARN is turned
/// into its role's), named in the access fix when the API refused it.
pub fn in_cluster_findings(
    read: &ClusterRead,
    roles: &RoleDirectory,
    caller_role_arn: Option<&str>,
) -> Vec<Finding> {
    let cluster = Cluster::of(&read.cluster);
    let caller = caller_role_arn.map(caller_role);
    let mut findings = Vec::new();
    match &read.api {
        Ok(objects) => {
            findings.extend(irsa::service_account_findings(
                &cluster,
                &objects.service_accounts,
                roles,
            ));
            let associated: BTreeSet<(&str, &str)> = read
                .associations
                .iter()
                .flatten()
                .map(|a| (a.namespace.as_str(), a.service_account.as_str()))
                .collect();
            findings.extend(pods::pod_findings(
                &cluster,
                &objects.service_accounts,
                &objects.pods,
                &associated,
            ));
            findings.extend(unknown::unknown_service_accounts(
                &cluster,
                &objects.service_accounts,
                roles,
            ));
        }
        Err(failure) => findings.push(access::api_unreachable(
            &cluster,
            failure,
            caller.as_deref(),
        )),
    }
    match &read.associations {
        Ok(associations) => findings.extend(pod_identity::association_findings(
            &cluster,
            associations,
            read.api
                .as_ref()
                .ok()
                .map(|o| o.service_accounts.as_slice()),
            roles,
        )),
        Err(error) => findings.push(access::associations_unreadable(
            &cluster,
            error,
            caller.as_deref(),
        )),
    }
    findings
}

/// The IAM role of an `arn:P:sts::A:assumed-role/NAME/SESSION` ARN (`arn:P:iam::A:role/NAME`;
/// the role's path is not in a session ARN); any other ARN unchanged.
pub fn caller_role(arn: &str) -> String {
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    match fields.as_slice() {
        ["arn", partition, "sts", "", account, resource] => {
            match resource
                .strip_prefix("assumed-role/")
                .and_then(|r| r.split('/').next())
            {
                Some(name) if !name.is_empty() => {
                    format!("arn:{partition}:iam::{account}:role/{name}")
                }
                _ => arn.to_string(),
            }
        }
        _ => arn.to_string(),
    }
}
