//! The evaluator for Pod Identity's requests, role ARNs and the role directory.

use super::*;

fn policy(document: &str) -> Policy {
    Policy::parse(document).expect("test document is JSON")
}

fn admits(policy: &Policy, request: &Request) -> bool {
    evaluate(policy, request).admits()
}

/// An IRSA request from `system:serviceaccount:NS:SA` of the EKS test cluster.
fn irsa(ns: &str, sa: &str) -> Request {
    Request::web_identity(
        &provider_arn(EKS_PATH),
        &format!("system:serviceaccount:{ns}:{sa}"),
        "sts.amazonaws.com",
    )
    .expect("an OIDC provider ARN")
}

/// AWS's documented Pod Identity trust (EKS user guide, "Create IAM role with trust policy
/// required by EKS Pod Identity").
const POD_IDENTITY_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowEksAuthToAssumeRoleForPodIdentity",
  "Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#;

const CLUSTER_ARN: &str = "arn:aws:eks:us-west-2:111122223333:cluster/prod";

fn pod_identity(action: &str, ns: &str, sa: &str) -> Request {
    Request::pod_identity(action, CLUSTER_ARN, "prod", ns, sa)
}

#[test]
fn pod_identity_needs_assume_role_and_tag_session_for_its_service() {
    let trust = policy(POD_IDENTITY_TRUST);
    for action in [ASSUME_ROLE_ACTION, TAG_SESSION_ACTION] {
        assert!(
            admits(&trust, &pod_identity(action, "ns", "app")),
            "{action}"
        );
    }
    let assume_only = policy(&POD_IDENTITY_TRUST.replace(r#","sts:TagSession""#, ""));
    assert!(admits(
        &assume_only,
        &pod_identity(ASSUME_ROLE_ACTION, "ns", "app")
    ));
    assert!(!admits(
        &assume_only,
        &pod_identity(TAG_SESSION_ACTION, "ns", "app")
    ));
    let other_service = policy(&POD_IDENTITY_TRUST.replace("pods.eks", "eks"));
    let evaluation = evaluate(
        &other_service,
        &pod_identity(ASSUME_ROLE_ACTION, "ns", "app"),
    );
    assert!(evaluation.checks[0].misses_principal());
    // IRSA's web identity is not Pod Identity's caller.
    assert!(!admits(&trust, &irsa("ns", "app")));
}

#[test]
fn pod_identity_session_tags_are_condition_keys() {
    let scoped = policy(&POD_IDENTITY_TRUST.replace(
        r#""Action":["sts:AssumeRole","sts:TagSession"]"#,
        &format!(
            r#""Action":["sts:AssumeRole","sts:TagSession"],"Condition":{{
              "StringEquals":{{"aws:RequestTag/kubernetes-namespace":"payments",
                               "aws:RequestTag/kubernetes-service-account":["api","worker"]}},
              "ArnLike":{{"aws:RequestTag/eks-cluster-arn":"arn:aws:eks:*:111122223333:cluster/*"}},
              "ForAllValues:StringEquals":{{"aws:TagKeys":["{}"]}}}}"#,
            POD_IDENTITY_TAGS.join("\",\"")
        ),
    ));
    for action in [ASSUME_ROLE_ACTION, TAG_SESSION_ACTION] {
        assert!(admits(&scoped, &pod_identity(action, "payments", "worker")));
        assert!(!admits(&scoped, &pod_identity(action, "payment", "worker")));
    }
    // A tag Pod Identity never sets is absent; a pod's name is undecidable.
    let context = RequestContext::pod_identity(CLUSTER_ARN, "prod", "ns", "sa");
    assert_eq!(context.lookup("aws:RequestTag/team"), KeyState::Absent);
    assert_eq!(
        context.lookup("aws:RequestTag/kubernetes-pod-name"),
        KeyState::Unknown
    );
    assert_eq!(context.lookup("aws:SourceArn"), KeyState::Unknown);
}

#[test]
fn role_arns_are_read_strictly() {
    let arn = parse_role_arn("arn:aws-cn:iam::111122223333:role/team/app/api-role").unwrap();
    assert_eq!(
        (arn.partition, arn.account, arn.path, arn.name),
        ("aws-cn", "111122223333", "/team/app/", "api-role")
    );
    assert_eq!(
        parse_role_arn("arn:aws:iam::111122223333:role/app")
            .unwrap()
            .path,
        "/"
    );
    for (text, error) in [
        (
            "arn:aws:iam::111122223333:role/app\n",
            RoleArnError::WhiteSpace,
        ),
        ("app-role", RoleArnError::NotArn),
        ("arn:aws:iam::111122223333", RoleArnError::NotArn),
        ("arn:gcp:iam::111122223333:role/app", RoleArnError::NotArn),
        (
            "arn:aws:sts::111122223333:assumed-role/app/session",
            RoleArnError::NotRole("sts:assumed-role".into()),
        ),
        (
            "arn:aws:iam::111122223333:user/app",
            RoleArnError::NotRole("iam:user".into()),
        ),
        (
            "arn:aws:iam::11112222333:role/app",
            RoleArnError::Account("11112222333".into()),
        ),
        ("arn:aws:iam::111122223333:role/", RoleArnError::Name),
        ("arn:aws:iam::111122223333:role/app*", RoleArnError::Name),
        (
            &format!("arn:aws:iam::111122223333:role/{}", "a".repeat(65)),
            RoleArnError::Name,
        ),
        ("arn:aws:iam::111122223333:role//app", RoleArnError::Path),
    ] {
        assert_eq!(parse_role_arn(text), Err(error), "{text:?}");
    }
}

#[test]
fn the_directory_finds_roles_by_account_and_name_whatever_the_path() {
    let mut directory = RoleDirectory::new();
    directory.insert_account(
        ACCOUNT,
        [Role {
            arn: format!("arn:aws:iam::{ACCOUNT}:role/team/App-Role"),
            trust_policy: irsa_document(),
        }],
    );
    assert!(directory.has_account(ACCOUNT));
    assert!(!directory.has_account("444455556666"));
    let found = directory.find(ACCOUNT, "app-role").expect("by name");
    assert!(found.policy.is_ok());
    assert!(directory.find(ACCOUNT, "other").is_none());
    assert!(directory.find("444455556666", "app-role").is_none());
    assert_eq!(directory.roles_of(ACCOUNT).count(), 1);
    assert_eq!(directory.roles_of("444455556666").count(), 0);
}
