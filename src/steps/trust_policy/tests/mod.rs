//! Unit tests of the trust-policy audit.

use std::collections::BTreeSet;

use super::*;
use crate::report::{Discriminator, Finding};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

const ACCOUNT: &str = "111122223333";
const EKS_PATH: &str = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
const GITHUB_PATH: &str = "token.actions.githubusercontent.com";

fn provider_arn(path: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{path}")
}

fn role(document: &str) -> Role {
    Role {
        arn: format!("arn:aws:iam::{ACCOUNT}:role/test-role"),
        trust_policy: document.to_string(),
    }
}

fn existing(paths: &[&str]) -> BTreeSet<String> {
    paths.iter().map(|p| provider_arn(p)).collect()
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code.as_str()).collect()
}

/// The trust policy AWS documents for IRSA (EKS user guide, "Assign IAM roles to service accounts").
fn irsa_document() -> String {
    format!(
        r#"{{
  "Version": "2012-10-17",
  "Statement": [
{{
  "Effect": "Allow",
  "Principal": {{
    "Federated": "arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"
  }},
  "Action": "sts:AssumeRoleWithWebIdentity",
  "Condition": {{
    "StringEquals": {{
      "{EKS_PATH}:sub": "system:serviceaccount:default:my-service-account",
      "{EKS_PATH}:aud": "sts.amazonaws.com"
    }}
  }}
}}
  ]
}}"#
    )
}

#[test]
fn eks_irsa_document_is_clean() {
    let findings = audit_role(&role(&irsa_document()), &existing(&[EKS_PATH]));
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn percent_encoded_document_is_decoded_like_real_iam_returns_it() {
    let encoded = utf8_percent_encode(&irsa_document(), NON_ALPHANUMERIC).to_string();
    assert!(
        encoded.starts_with("%7B%0A%20%20%22Version%22"),
        "{encoded}"
    );
    assert_eq!(
        decode_document(&encoded).unwrap(),
        decode_document(&irsa_document()).unwrap()
    );
    assert!(mentions_oidc_provider(&encoded));
    assert!(audit_role(&role(&encoded), &existing(&[EKS_PATH])).is_empty());

    // The same document without its sub condition, encoded: the finding survives encoding.
    let no_sub = irsa_document().replace(
        &format!("\"{EKS_PATH}:sub\": \"system:serviceaccount:default:my-service-account\",\n"),
        "",
    );
    let encoded = utf8_percent_encode(&no_sub, NON_ALPHANUMERIC).to_string();
    let findings = audit_role(&role(&encoded), &existing(&[EKS_PATH]));
    assert_eq!(codes(&findings), ["TRUST_POLICY_NO_SUB"]);
}

#[test]
fn form_encoded_spaces_are_decoded() {
    let document = r#"{"Version": "2012-10-17", "Statement": []}"#;
    let encoded = utf8_percent_encode(document, NON_ALPHANUMERIC)
        .to_string()
        .replace("%20", "+");
    assert_eq!(
        decode_document(&encoded).unwrap(),
        decode_document(document).unwrap()
    );
}

#[test]
fn github_actions_with_repo_pattern_is_clean() {
    // GitHub's documented trust policy for "Configuring OpenID Connect in Amazon Web Services".
    let document = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB_PATH}"}},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{
          "StringEquals":{{"{GITHUB_PATH}:aud":"sts.amazonaws.com"}},
          "StringLike":{{"{GITHUB_PATH}:sub":"repo:octo-org/*"}}}}}}]}}"#
    );
    assert!(audit_role(&role(&document), &existing(&[GITHUB_PATH])).is_empty());
}

#[test]
fn github_actions_without_sub_names_the_risk() {
    let document = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Sid":"GitHubDeploy","Effect":"Allow",
        "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB_PATH}"}},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{"StringEquals":{{"{GITHUB_PATH}:aud":"sts.amazonaws.com"}}}}}}}}"#
    );
    let findings = audit_role(&role(&document), &existing(&[GITHUB_PATH]));
    assert_eq!(codes(&findings), ["TRUST_POLICY_NO_SUB"]);
    let finding = &findings[0];
    assert_eq!(finding.severity, crate::report::Severity::Critical);
    assert_eq!(
        finding.resource,
        format!("arn:aws:iam::{ACCOUNT}:role/test-role")
    );
    assert!(
        finding.message.contains("\"GitHubDeploy\""),
        "{}",
        finding.message
    );
    assert!(
        finding.message.contains("any repository"),
        "{}",
        finding.message
    );
    assert_eq!(finding.details["provider_arn"], provider_arn(GITHUB_PATH));
    assert_eq!(finding.details["statement"], "GitHubDeploy");
    assert_eq!(
        finding.details["condition_key"],
        format!("{GITHUB_PATH}:sub")
    );
}

#[test]
fn missing_provider_and_missing_conditions_are_all_reported() {
    let document = format!(
        r#"{{"Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
        "Action":"sts:AssumeRoleWithWebIdentity"}}]}}"#
    );
    let findings = audit_role(&role(&document), &existing(&[GITHUB_PATH]));
    assert_eq!(
        codes(&findings),
        [
            "ROLE_TRUSTS_MISSING_PROVIDER",
            "TRUST_POLICY_NO_SUB",
            "TRUST_POLICY_NO_AUD"
        ]
    );
    assert!(
        findings[0].message.contains("statement #0"),
        "{}",
        findings[0].message
    );
    assert!(findings[1].message.contains("any workload of the cluster"));
    assert_eq!(findings[0].details["statement"], "#0");
    assert_eq!(findings[2].severity, crate::report::Severity::Warning);
}

#[test]
fn principal_list_and_action_list_check_each_provider() {
    let document = format!(
        r#"{{"Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":["arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}",
                                   "arn:aws:iam::{ACCOUNT}:saml-provider/corp",
                                   "cognito-identity.amazonaws.com"]}},
        "Action":["sts:TagSession","sts:AssumeRoleWithWebIdentity"],
        "Condition":{{"StringEquals":{{"{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
    );
    let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
    assert_eq!(codes(&findings), ["TRUST_POLICY_NO_SUB"]);
    assert_eq!(findings[0].details["provider_arn"], provider_arn(EKS_PATH));
}

#[test]
fn bare_wildcard_sub_is_broad_sub() {
    for sub in [r#""*""#, r#"["*"]"#, r#"["*", "**"]"#] {
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{"StringLike":{{"{EKS_PATH}:sub":{sub},"{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
        );
        let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
        assert_eq!(codes(&findings), ["TRUST_POLICY_BROAD_SUB"], "sub = {sub}");
    }
}

#[test]
fn service_account_pattern_in_string_like_restricts() {
    let document = format!(
        r#"{{"Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{"StringLike":{{"{EKS_PATH}:sub":["system:serviceaccount:app:api","system:serviceaccount:kube-system:*"]}},
                      "StringEquals":{{"{EKS_PATH}:aud":["sts.amazonaws.com"]}}}}}}]}}"#
    );
    assert!(audit_role(&role(&document), &existing(&[EKS_PATH])).is_empty());
}

/// IAM ORs the values of one key: a wildcard-only value beside a narrow one still matches
/// every token, so the key is open.
#[test]
fn wildcard_value_in_a_mixed_string_like_list_opens_the_key() {
    for operator in ["StringLike", "ForAnyValue:StringLike", "StringLikeIfExists"] {
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{"{operator}":{{"{EKS_PATH}:sub":["*","system:serviceaccount:ns:sa"],
                                        "{EKS_PATH}:aud":["sts.amazonaws.com","?*"]}}}}}}]}}"#
        );
        let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
        assert_eq!(
            codes(&findings),
            ["TRUST_POLICY_BROAD_SUB", "TRUST_POLICY_NO_AUD"],
            "operator {operator}"
        );
    }

    // Another operator on the same key still narrows it: operators are ANDed.
    let document = format!(
        r#"{{"Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{"StringLike":{{"{EKS_PATH}:sub":["*","system:serviceaccount:ns:sa"],
                                     "{EKS_PATH}:aud":["*","sts.amazonaws.com"]}},
                      "StringEquals":{{"{EKS_PATH}:sub":"system:serviceaccount:ns:sa",
                                       "{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
    );
    assert!(audit_role(&role(&document), &existing(&[EKS_PATH])).is_empty());
}

/// Under StringEquals `*` is a literal: a mixed list restricts (only the literal `*` or the
/// named account matches).
#[test]
fn wildcard_literal_in_a_string_equals_list_restricts() {
    let document = format!(
        r#"{{"Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{"StringEquals":{{"{EKS_PATH}:sub":["*","system:serviceaccount:ns:sa"],
                                       "{EKS_PATH}:aud":["*","sts.amazonaws.com"]}}}}}}]}}"#
    );
    assert!(audit_role(&role(&document), &existing(&[EKS_PATH])).is_empty());
}

#[test]
fn empty_or_null_value_lists_do_not_restrict() {
    for sub in ["[]", "null", r#"["system:serviceaccount:ns:sa", null]"#] {
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{"StringEquals":{{"{EKS_PATH}:sub":{sub},"{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
        );
        let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
        assert_eq!(codes(&findings), ["TRUST_POLICY_NO_SUB"], "sub = {sub}");
    }
}

mod evaluate;
mod pod_identity;
mod wildcards_and_issuers;
