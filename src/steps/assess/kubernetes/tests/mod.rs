//! Unit tests of the in-cluster checks: each code fired by a fixture and cleared by its fix.

use serde_json::Value;

use super::*;
use crate::kubernetes::{
    ApiFailure, ApiObjects, ClusterRead, ClusterTarget, ContainerEnv, Pod, PodIdentityAssociation,
    ServiceAccount,
};
use crate::report::{Finding, Remedy};
use crate::trust_policy::{Role, RoleDirectory};

mod access;
mod irsa;
mod pod_identity;
mod pods;

const ACCOUNT: &str = "111122223333";
const OTHER_ACCOUNT: &str = "444455556666";
const PATH: &str = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
const OTHER_PATH: &str = "oidc.eks.us-west-2.amazonaws.com/id/OTHERCLUSTER0000000000000000000";
const CLUSTER_ARN: &str = "arn:aws:eks:us-west-2:111122223333:cluster/prod";

fn cluster() -> ClusterTarget {
    ClusterTarget {
        name: "prod".into(),
        region: "us-west-2".into(),
        arn: CLUSTER_ARN.into(),
        issuer_path: Some(PATH.into()),
    }
}

/// A read of the test cluster with these objects and associations.
fn read(
    service_accounts: Vec<ServiceAccount>,
    pods: Vec<Pod>,
    associations: Vec<PodIdentityAssociation>,
) -> ClusterRead {
    ClusterRead {
        cluster: cluster(),
        api: Ok(ApiObjects {
            service_accounts,
            pods,
        }),
        associations: Ok(associations),
    }
}

fn sa(namespace: &str, name: &str, role_arn: Option<&str>) -> ServiceAccount {
    ServiceAccount {
        namespace: namespace.into(),
        name: name.into(),
        role_arn: role_arn.map(str::to_string),
    }
}

fn role_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

fn provider_arn(account: &str, path: &str) -> String {
    format!("arn:aws:iam::{account}:oidc-provider/{path}")
}

/// The documented IRSA trust for `system:serviceaccount:NS:NAME`, for a role of `account`, on
/// the issuer at `path`.
fn irsa_trust(account: &str, path: &str, namespace: &str, name: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Irsa","Effect":"Allow",
        "Principal":{{"Federated":"{}"}},"Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{"StringEquals":{{"{path}:sub":"system:serviceaccount:{namespace}:{name}","{path}:aud":"sts.amazonaws.com"}}}}}}]}}"#,
        provider_arn(account, path)
    )
}

fn role(account: &str, name: &str, trust: &str) -> Role {
    Role {
        arn: role_arn(account, name),
        trust_policy: trust.to_string(),
    }
}

/// A directory holding `roles` for the cluster's account (and nothing for any other).
fn directory(roles: Vec<Role>) -> RoleDirectory {
    let mut directory = RoleDirectory::new();
    directory.insert_account(ACCOUNT, roles);
    directory
}

/// A running pod with one container, injected with `role_arn` when given.
fn pod(namespace: &str, name: &str, service_account: &str, injected: Option<&str>) -> Pod {
    Pod {
        namespace: namespace.into(),
        name: name.into(),
        service_account: service_account.into(),
        running: true,
        containers: vec![ContainerEnv {
            name: "app".into(),
            role_arn: injected.map(str::to_string),
            web_identity_token_file: injected.is_some(),
            region: false,
        }],
    }
}

fn association(namespace: &str, service_account: &str, role_arn: &str) -> PodIdentityAssociation {
    PodIdentityAssociation {
        association_id: "a-abcdefghij0123456".into(),
        namespace: namespace.into(),
        service_account: service_account.into(),
        role_arn: role_arn.into(),
    }
}

fn findings(read: &ClusterRead, roles: &RoleDirectory) -> Vec<Finding> {
    in_cluster_findings(
        read,
        roles,
        Some("arn:aws:iam::111122223333:role/thumbprint-guard"),
    )
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code.as_str()).collect()
}

/// The finding's manual fix, as every output shows it.
fn fix(finding: &Finding) -> String {
    crate::fix::manual_fix(
        finding,
        crate::fix::FixContext {
            issuer: None,
            provider: None,
            clusters: &[],
            chain_untrusted: false,
            findings: &[],
        },
    )
    .expect("every in-cluster finding has a fix")
}

/// The trust statement a finding's remedy proposes, as a one-statement policy document.
fn proposed_trust(finding: &Finding) -> String {
    let statement: &Value = match finding.remedy.as_ref() {
        Some(Remedy::Trust { statement, .. } | Remedy::CreateRole { statement, .. }) => statement,
        other => panic!("no statement in {other:?}"),
    };
    serde_json::json!({ "Version": "2012-10-17", "Statement": [statement] }).to_string()
}

/// The trust document `trust` with the statement the finding proposes appended.
fn with_proposed_statement(trust: &str, finding: &Finding) -> String {
    let mut document: Value = serde_json::from_str(trust).expect("test trust is JSON");
    let proposed: Value = serde_json::from_str(&proposed_trust(finding)).unwrap();
    let statement = proposed["Statement"][0].clone();
    document["Statement"]
        .as_array_mut()
        .expect("a statement list")
        .push(statement);
    document.to_string()
}

#[test]
fn a_clean_cluster_has_no_finding() {
    let arn = role_arn(ACCOUNT, "api");
    let read = read(
        vec![
            sa("payments", "api", Some(&arn)),
            sa("default", "default", None),
        ],
        vec![pod("payments", "api-1", "api", Some(&arn))],
        vec![],
    );
    let roles = directory(vec![role(
        ACCOUNT,
        "api",
        &irsa_trust(ACCOUNT, PATH, "payments", "api"),
    )]);
    assert!(
        findings(&read, &roles).is_empty(),
        "{:#?}",
        findings(&read, &roles)
    );
}

#[test]
fn caller_sessions_become_their_role() {
    assert_eq!(
        caller_role("arn:aws:sts::111122223333:assumed-role/thumbprint-guard/1700000000"),
        "arn:aws:iam::111122223333:role/thumbprint-guard"
    );
    assert_eq!(
        caller_role("arn:aws-cn:iam::111122223333:role/ops/tg"),
        "arn:aws-cn:iam::111122223333:role/ops/tg"
    );
}
