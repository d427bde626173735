//! EKS Pod Identity associations, and service accounts with both mechanisms.

use super::*;

/// AWS's documented Pod Identity trust.
const POD_IDENTITY_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowEksAuthToAssumeRoleForPodIdentity",
  "Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#;

fn associated(role: &str) -> ClusterRead {
    read(
        vec![sa("payments", "api", None)],
        vec![],
        vec![association("payments", "api", role)],
    )
}

#[test]
fn the_documented_trust_is_clean() {
    let roles = directory(vec![role(ACCOUNT, "api", POD_IDENTITY_TRUST)]);
    assert!(findings(&associated(&role_arn(ACCOUNT, "api")), &roles).is_empty());
}

#[test]
fn a_missing_role_is_reported_and_the_proposed_role_clears_it() {
    let arn = role_arn(ACCOUNT, "api");
    let found = findings(&associated(&arn), &directory(vec![]));
    assert_eq!(codes(&found), ["POD_IDENTITY_ROLE_MISSING"]);
    let finding = &found[0];
    assert_eq!(finding.details["association_id"], "a-abcdefghij0123456");
    assert_eq!(finding.details["role_arn"], arn.as_str());
    let command = fix(finding);
    assert!(
        command.contains("aws iam create-role --role-name api "),
        "{command}"
    );
    assert!(
        command.contains("aws eks update-pod-identity-association --cluster-name prod --region us-west-2 --association-id a-abcdefghij0123456 --role-arn ROLE_ARN"),
        "{command}"
    );
    let created = directory(vec![Role {
        arn: arn.clone(),
        trust_policy: proposed_trust(finding),
    }]);
    assert!(findings(&associated(&arn), &created).is_empty());
    // A role of an account that was not swept is not reported.
    assert!(findings(
        &associated(&role_arn(OTHER_ACCOUNT, "api")),
        &directory(vec![])
    )
    .is_empty());
}

#[test]
fn a_trust_without_tag_session_is_untrusted_until_the_statement_is_added() {
    let assume_only = POD_IDENTITY_TRUST.replace(r#","sts:TagSession""#, "");
    let arn = role_arn(ACCOUNT, "api");
    let found = findings(
        &associated(&arn),
        &directory(vec![role(ACCOUNT, "api", &assume_only)]),
    );
    assert_eq!(codes(&found), ["POD_IDENTITY_ROLE_UNTRUSTED"]);
    assert!(
        found[0].message.contains("for sts:TagSession, statement \"AllowEksAuthToAssumeRoleForPodIdentity\" grants sts:AssumeRole, not sts:TagSession"),
        "{}",
        found[0].message
    );
    assert!(
        !found[0].message.contains("for sts:AssumeRole,"),
        "{}",
        found[0].message
    );
    let fixed = with_proposed_statement(&assume_only, &found[0]);
    assert!(findings(
        &associated(&arn),
        &directory(vec![role(ACCOUNT, "api", &fixed)])
    )
    .is_empty());
}

#[test]
fn an_irsa_trust_does_not_serve_pod_identity() {
    let arn = role_arn(ACCOUNT, "api");
    let irsa_only = irsa_trust(ACCOUNT, PATH, "payments", "api");
    let found = findings(
        &associated(&arn),
        &directory(vec![role(ACCOUNT, "api", &irsa_only)]),
    );
    assert_eq!(codes(&found), ["POD_IDENTITY_ROLE_UNTRUSTED"]);
    assert!(
        found[0]
            .message
            .contains("grants sts:AssumeRoleWithWebIdentity, not sts:AssumeRole"),
        "{}",
        found[0].message
    );
}

#[test]
fn session_tag_conditions_are_checked_against_the_association() {
    let scoped = POD_IDENTITY_TRUST.replace(
        r#""Action":["sts:AssumeRole","sts:TagSession"]"#,
        r#""Action":["sts:AssumeRole","sts:TagSession"],
           "Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"payment"}}"#,
    );
    let arn = role_arn(ACCOUNT, "api");
    let found = findings(
        &associated(&arn),
        &directory(vec![role(ACCOUNT, "api", &scoped)]),
    );
    assert_eq!(codes(&found), ["POD_IDENTITY_ROLE_UNTRUSTED"]);
    assert!(
        found[0]
            .message
            .contains("requires the namespace to be `payment` but the association's is `payments`"),
        "{}",
        found[0].message
    );
    let right = scoped.replace("\"payment\"", "\"payments\"");
    assert!(findings(
        &associated(&arn),
        &directory(vec![role(ACCOUNT, "api", &right)])
    )
    .is_empty());
}

#[test]
fn an_association_for_a_missing_service_account_is_reported_until_it_exists() {
    let arn = role_arn(ACCOUNT, "api");
    let roles = directory(vec![role(ACCOUNT, "api", POD_IDENTITY_TRUST)]);
    let orphan = read(vec![], vec![], vec![association("payments", "api", &arn)]);
    let found = findings(&orphan, &roles);
    assert_eq!(codes(&found), ["POD_IDENTITY_SERVICE_ACCOUNT_MISSING"]);
    assert_eq!(found[0].severity, crate::report::Severity::Warning);
    assert_eq!(
        fix(&found[0]),
        "kubectl create serviceaccount -n payments api if the workload is still to be deployed; otherwise delete the association: aws eks delete-pod-identity-association --cluster-name prod --region us-west-2 --association-id a-abcdefghij0123456"
    );
    assert!(findings(&associated(&arn), &roles).is_empty());
}

#[test]
fn a_service_account_with_both_mechanisms_is_reported_until_one_is_removed() {
    let arn = role_arn(ACCOUNT, "api");
    let roles = directory(vec![
        role(ACCOUNT, "api", POD_IDENTITY_TRUST),
        role(
            ACCOUNT,
            "api-irsa",
            &irsa_trust(ACCOUNT, PATH, "payments", "api"),
        ),
    ]);
    let both = read(
        vec![sa("payments", "api", Some(&role_arn(ACCOUNT, "api-irsa")))],
        vec![],
        vec![association("payments", "api", &arn)],
    );
    let found = findings(&both, &roles);
    assert_eq!(codes(&found), ["SERVICE_ACCOUNT_DUAL_IDENTITY"]);
    let finding = &found[0];
    assert!(
        finding
            .message
            .contains("pods started since the association get its role"),
        "{}",
        finding.message
    );
    assert_eq!(finding.details["role_arn"], arn.as_str());
    assert_eq!(
        finding.details["annotation_role_arn"],
        role_arn(ACCOUNT, "api-irsa").as_str()
    );
    assert!(
        fix(finding).contains("eks.amazonaws.com/role-arn-"),
        "{}",
        fix(finding)
    );
    assert!(findings(&associated(&arn), &roles).is_empty());
}
