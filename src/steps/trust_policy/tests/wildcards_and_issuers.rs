//! The audit's reading of wildcard values, foreign condition keys and the rest of the policy language.

use super::*;

#[test]
fn set_operators_and_if_exists_count_keys_compare_case_insensitively() {
    let upper_path = EKS_PATH.to_uppercase();
    let document = format!(
        r#"{{"Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{"ForAnyValue:StringLike":{{"{upper_path}:SUB":"system:serviceaccount:app:*"}},
                      "stringequalsifexists":{{"{EKS_PATH}:Aud":"sts.amazonaws.com"}}}}}}]}}"#
    );
    assert!(audit_role(&role(&document), &existing(&[EKS_PATH])).is_empty());
}

#[test]
fn string_equals_if_exists_on_sub_restricts() {
    let document = format!(
        r#"{{"Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{"StringEqualsIfExists":{{"{EKS_PATH}:sub":"system:serviceaccount:app:api"}},
                      "ForAllValues:StringEquals":{{"{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
    );
    assert!(audit_role(&role(&document), &existing(&[EKS_PATH])).is_empty());
}

#[test]
fn negative_operators_do_not_restrict() {
    let document = format!(
        r#"{{"Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{"StringNotEquals":{{"{EKS_PATH}:sub":"system:serviceaccount:default:default"}},
                      "Null":{{"{EKS_PATH}:aud":"false"}}}}}}]}}"#
    );
    let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
    assert_eq!(
        codes(&findings),
        ["TRUST_POLICY_NO_SUB", "TRUST_POLICY_NO_AUD"]
    );
}

#[test]
fn deny_statements_are_not_grants() {
    let document = format!(
        r#"{{"Statement":[{{"Sid":"NoOne","Effect":"Deny",
        "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
        "Action":"sts:AssumeRoleWithWebIdentity"}}]}}"#
    );
    assert!(audit_role(&role(&document), &existing(&[])).is_empty());
}

#[test]
fn wildcard_actions_and_not_action_grant_web_identity() {
    for action in [
        r#""Action":"sts:*""#,
        r#""Action":"*""#,
        r#""Action":"STS:AssumeRole*""#,
        r#""Action":"sts:AssumeRoleWith?ebIdentity""#,
        r#""NotAction":"sts:AssumeRole""#,
    ] {
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            {action},
            "Condition":{{"StringEquals":{{"{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
        );
        let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
        assert_eq!(codes(&findings), ["TRUST_POLICY_NO_SUB"], "{action}");
    }
    for action in [
        r#""Action":"sts:AssumeRole""#,
        r#""Action":["sts:TagSession"]"#,
        r#""NotAction":"sts:*""#,
    ] {
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            {action}}}]}}"#
        );
        assert!(
            audit_role(&role(&document), &existing(&[])).is_empty(),
            "{action}"
        );
    }
}

#[test]
fn other_principals_are_ignored() {
    let document = r#"{"Statement":[
        {"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},
        {"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},
         "Action":"sts:AssumeRoleWithWebIdentity"},
        {"Effect":"Allow","Principal":"*","Action":"sts:AssumeRoleWithWebIdentity"}]}"#;
    assert!(audit_role(&role(document), &existing(&[])).is_empty());
    assert!(!mentions_oidc_provider(document));
}

#[test]
fn each_statement_is_judged_alone() {
    let document = format!(
        r#"{{"Statement":[
        {{"Sid":"Good","Effect":"Allow",
          "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
          "Action":"sts:AssumeRoleWithWebIdentity",
          "Condition":{{"StringEquals":{{"{EKS_PATH}:sub":"system:serviceaccount:a:b","{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}},
        {{"Sid":"Loose","Effect":"Allow",
          "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
          "Action":"sts:AssumeRoleWithWebIdentity",
          "Condition":{{"StringEquals":{{"{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
    );
    let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
    assert_eq!(codes(&findings), ["TRUST_POLICY_NO_SUB"]);
    assert_eq!(findings[0].details["statement"], "Loose");
    assert_eq!(findings[0].details["statement_index"], 1);
}

#[test]
fn condition_of_another_provider_is_foreign_condition() {
    let other = "oidc.eks.eu-west-1.amazonaws.com/id/OTHER";
    let document = format!(
        r#"{{"Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{"StringEquals":{{"{other}:sub":"system:serviceaccount:a:b","{other}:aud":"sts.amazonaws.com"}}}}}}]}}"#
    );
    let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
    assert_eq!(codes(&findings), ["TRUST_POLICY_FOREIGN_CONDITION"]);
    assert_eq!(findings[0].discriminator, Discriminator::Statement(0));
}

fn sub_document(operator: &str, sub: &str) -> String {
    format!(
        r#"{{"Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB_PATH}"}},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{"{operator}":{{"{GITHUB_PATH}:sub":{sub}}},
                      "StringEquals":{{"{GITHUB_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
    )
}

#[test]
fn broad_sub_examples_from_design() {
    for value in [
        "repo:*",
        "repo:myOrg*",
        "system:serviceaccount:*",
        "system:serviceaccount:*:*",
        "system:serviceaccount:prod*:app",
        "*",
        "?*",
    ] {
        let document = sub_document("StringLike", &format!("\"{value}\""));
        let findings = audit_role(&role(&document), &existing(&[GITHUB_PATH]));
        assert_eq!(codes(&findings), ["TRUST_POLICY_BROAD_SUB"], "{value}");
        assert_eq!(findings[0].severity, crate::report::Severity::Critical);
        assert_eq!(findings[0].details["pattern"], value);
        assert_eq!(findings[0].details["statement_index"], 0);
    }
}

#[test]
fn specific_sub_values_are_clean() {
    for value in [
        "system:serviceaccount:ns:*",
        "system:serviceaccount:ns:app",
        "repo:org/*",
        "repo:org/repo:ref:refs/heads/main",
    ] {
        let document = sub_document("StringLike", &format!("\"{value}\""));
        let findings = audit_role(&role(&document), &existing(&[GITHUB_PATH]));
        assert!(findings.is_empty(), "{value}: {findings:#?}");
    }
    for value in ["repo:*", "*", "system:serviceaccount:*:*"] {
        // (the aud condition already holds the plain StringEquals block)
        let document = sub_document("StringEqualsIfExists", &format!("\"{value}\""));
        let findings = audit_role(&role(&document), &existing(&[GITHUB_PATH]));
        assert!(findings.is_empty(), "StringEquals {value}: {findings:#?}");
    }
}

#[test]
fn a_list_is_broad_if_any_value_is() {
    let document = sub_document("StringLike", r#"["repo:org/app:*","repo:org*"]"#);
    let findings = audit_role(&role(&document), &existing(&[GITHUB_PATH]));
    assert_eq!(codes(&findings), ["TRUST_POLICY_BROAD_SUB"]);
    assert_eq!(findings[0].details["pattern"], "repo:org*");
}

#[test]
fn foreign_condition_with_mixed_and_case_insensitive_keys() {
    let other = "oidc.eks.eu-west-1.amazonaws.com/id/OTHER";
    let own_upper = EKS_PATH.to_ascii_uppercase();
    // Own keys spelt in another case are not foreign.
    let document = format!(
        r#"{{"Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{"StringEquals":{{"{own_upper}:SUB":"system:serviceaccount:a:b","{own_upper}:Aud":"sts.amazonaws.com"}}}}}}]}}"#
    );
    assert!(audit_role(&role(&document), &existing(&[EKS_PATH])).is_empty());
    // Own sub beside a foreign aud (any case): the statement is unusable.
    let document = format!(
        r#"{{"Statement":[{{"Effect":"Allow","Sid":"ci",
        "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
        "Action":"sts:AssumeRoleWithWebIdentity"}},
        {{"Effect":"Allow",
        "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{"StringEquals":{{"{EKS_PATH}:sub":"system:serviceaccount:a:b","{}:AUD":"sts.amazonaws.com"}}}}}}]}}"#,
        other.to_ascii_uppercase()
    );
    let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
    assert_eq!(
        codes(&findings),
        [
            "TRUST_POLICY_NO_SUB",
            "TRUST_POLICY_NO_AUD",
            "TRUST_POLICY_FOREIGN_CONDITION"
        ]
    );
    assert_eq!(findings[0].discriminator, Discriminator::Statement(0));
    assert_eq!(findings[2].discriminator, Discriminator::Statement(1));
    // Global keys (aws:, sts:) are not issuer keys.
    let document = format!(
        r#"{{"Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{"StringEquals":{{"aws:sub":"x","{EKS_PATH}:sub":"system:serviceaccount:a:b","{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
    );
    assert!(audit_role(&role(&document), &existing(&[EKS_PATH])).is_empty());
}

#[test]
fn undecodable_document_is_reported_not_skipped() {
    let findings = audit_role(&role("%7B%22Statement oidc-provider/"), &existing(&[]));
    assert_eq!(codes(&findings), ["INVENTORY_INCOMPLETE"]);
    assert!(mentions_oidc_provider("%7B%22Statement oidc-provider/"));
    assert!(decode_document("[1,2]").is_err());
}

#[test]
fn provider_paths_come_from_oidc_provider_arns_only() {
    assert_eq!(oidc_provider_path(&provider_arn(EKS_PATH)), Some(EKS_PATH));
    assert_eq!(
        oidc_provider_path("arn:aws-cn:iam::123456789012:oidc-provider/127.0.0.1:8443/id/X"),
        Some("127.0.0.1:8443/id/X")
    );
    assert_eq!(
        oidc_provider_path("arn:aws:iam::123456789012:saml-provider/corp"),
        None
    );
    assert_eq!(
        oidc_provider_path("arn:aws:iam::123456789012:oidc-provider/"),
        None
    );
    assert_eq!(oidc_provider_path("accounts.google.com"), None);
}

#[test]
fn wildcards_match_like_iam() {
    assert!(wildcard_match("*", "sts:AssumeRoleWithWebIdentity"));
    assert!(wildcard_match("sts:*Web*", "sts:AssumeRoleWithWebIdentity"));
    assert!(!wildcard_match(
        "sts:AssumeRole",
        "sts:AssumeRoleWithWebIdentity"
    ));
    assert!(!wildcard_match("iam:*", "sts:AssumeRoleWithWebIdentity"));
    assert!(wildcard_match("a*b*c", "aXbYbZc"));
}
