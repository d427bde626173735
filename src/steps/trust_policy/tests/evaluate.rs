//! The evaluator: IAM's decision for one request, and what kept each statement from applying.

use super::*;

const OTHER_PATH: &str = "oidc.eks.eu-west-1.amazonaws.com/id/OTHERCLUSTER";

fn policy(document: &str) -> Policy {
    Policy::parse(document).expect("test document is JSON")
}

/// An IRSA request from `system:serviceaccount:NS:SA` of the EKS test cluster.
fn irsa(ns: &str, sa: &str) -> Request {
    irsa_from(EKS_PATH, ns, sa, "sts.amazonaws.com")
}

fn irsa_from(path: &str, ns: &str, sa: &str, aud: &str) -> Request {
    Request::web_identity(
        &provider_arn(path),
        &format!("system:serviceaccount:{ns}:{sa}"),
        aud,
    )
    .expect("an OIDC provider ARN")
}

/// One Allow statement for the EKS provider with `action` and `condition` (JSON text).
fn allow(action: &str, condition: &str) -> Policy {
    policy(&format!(
        r#"{{"Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
        {action},"Condition":{condition}}}]}}"#
    ))
}

fn admits(policy: &Policy, request: &Request) -> bool {
    evaluate(policy, request).admits()
}

#[test]
fn the_documented_irsa_trust_admits_exactly_its_service_account() {
    let policy = policy(&irsa_document());
    assert_eq!(
        evaluate(&policy, &irsa("default", "my-service-account")).access,
        Access::Allowed(0)
    );
    for (ns, sa) in [
        ("default", "other"),
        ("Default", "my-service-account"),
        ("defaults", "my-service-account"),
    ] {
        let evaluation = evaluate(&policy, &irsa(ns, sa));
        assert_eq!(evaluation.access, Access::NotAllowed, "{ns}:{sa}");
        let nearest = evaluation
            .nearest_allow(&irsa(ns, sa).caller)
            .expect("one allow statement");
        let unmet: Vec<_> = nearest.condition_gaps().collect();
        assert_eq!(unmet.len(), 1, "{unmet:?}");
        assert!(unmet[0].0.key.ends_with(":sub"));
        assert_eq!(unmet[0].1, Outcome::Unmet);
    }
    // The wrong audience.
    let request = irsa_from(EKS_PATH, "default", "my-service-account", "other");
    assert!(!admits(&policy, &request));
}

#[test]
fn another_clusters_provider_is_a_principal_gap_and_its_keys_are_absent() {
    let policy = policy(&irsa_document());
    let request = irsa_from(
        OTHER_PATH,
        "default",
        "my-service-account",
        "sts.amazonaws.com",
    );
    let evaluation = evaluate(&policy, &request);
    assert_eq!(evaluation.access, Access::NotAllowed);
    let nearest = evaluation.nearest_allow(&request.caller).unwrap();
    assert!(nearest.misses_principal());
    assert!(!nearest.misses_action());
    // The statement's keys name its own issuer, which a token of OTHER_PATH does not carry.
    assert!(nearest
        .condition_gaps()
        .all(|(_, outcome)| outcome == Outcome::Unmet));
    assert_eq!(
        request.context.lookup(&format!("{EKS_PATH}:sub")),
        KeyState::Absent
    );
}

#[test]
fn string_like_wildcards_admit_and_string_equals_takes_them_literally() {
    let like = allow(
        r#""Action":"sts:AssumeRoleWithWebIdentity""#,
        &format!(r#"{{"StringLike":{{"{EKS_PATH}:sub":"system:serviceaccount:payments:*"}}}}"#),
    );
    assert!(admits(&like, &irsa("payments", "api")));
    assert!(admits(&like, &irsa("payments", "worker")));
    assert!(!admits(&like, &irsa("payment", "api")));
    let question = allow(
        r#""Action":"sts:AssumeRoleWithWebIdentity""#,
        &format!(r#"{{"StringLike":{{"{EKS_PATH}:sub":"system:serviceaccount:ns:app-?"}}}}"#),
    );
    assert!(admits(&question, &irsa("ns", "app-1")));
    assert!(!admits(&question, &irsa("ns", "app-10")));
    // StringLike is case-sensitive.
    assert!(!admits(&question, &irsa("NS", "app-1")));
    let equals = allow(
        r#""Action":"sts:AssumeRoleWithWebIdentity""#,
        &format!(r#"{{"StringEquals":{{"{EKS_PATH}:sub":"system:serviceaccount:payments:*"}}}}"#),
    );
    assert!(!admits(&equals, &irsa("payments", "api")));
    assert!(admits(&equals, &irsa("payments", "*")));
}

#[test]
fn values_of_one_key_are_ored_and_keys_are_anded() {
    let policy = allow(
        r#""Action":"sts:AssumeRoleWithWebIdentity""#,
        &format!(
            r#"{{"StringEquals":{{"{EKS_PATH}:sub":["system:serviceaccount:a:x","system:serviceaccount:b:y"],
                                  "{EKS_PATH}:aud":"sts.amazonaws.com"}}}}"#
        ),
    );
    assert!(admits(&policy, &irsa("a", "x")));
    assert!(admits(&policy, &irsa("b", "y")));
    assert!(!admits(&policy, &irsa("a", "y")));
    assert!(!admits(
        &policy,
        &irsa_from(EKS_PATH, "a", "x", "sts.amazonaws.com.cn")
    ));
}

#[test]
fn a_federated_list_admits_each_provider_it_names() {
    let policy = policy(&format!(
        r#"{{"Statement":{{"Effect":"Allow",
        "Principal":{{"Federated":["arn:aws:iam::{ACCOUNT}:oidc-provider/{OTHER_PATH}",
                                   "arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"]}},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{"StringLike":{{"{EKS_PATH}:sub":"system:serviceaccount:ns:*"}}}}}}}}"#
    ));
    assert!(admits(&policy, &irsa("ns", "a")));
    // A token of the other cluster lacks this issuer's sub claim.
    assert!(!admits(
        &policy,
        &irsa_from(OTHER_PATH, "ns", "a", "sts.amazonaws.com")
    ));
}

#[test]
fn set_qualifiers_and_if_exists_follow_iam() {
    let sub = format!("{EKS_PATH}:sub");
    let other_sub = format!("{OTHER_PATH}:sub");
    for (condition, expected) in [
        (
            format!(r#"{{"ForAnyValue:StringLike":{{"{sub}":"system:serviceaccount:ns:*"}}}}"#),
            true,
        ),
        (
            format!(
                r#"{{"ForAllValues:StringEquals":{{"{sub}":"system:serviceaccount:ns:app"}}}}"#
            ),
            true,
        ),
        (
            format!(
                r#"{{"ForAllValues:StringEquals":{{"{sub}":"system:serviceaccount:ns:other"}}}}"#
            ),
            false,
        ),
        // Over an absent key ForAllValues holds (the empty set) and ForAnyValue does not.
        (
            format!(r#"{{"ForAllValues:StringEquals":{{"{other_sub}":"x"}}}}"#),
            true,
        ),
        (
            format!(r#"{{"ForAnyValue:StringEquals":{{"{other_sub}":"x"}}}}"#),
            false,
        ),
        // IfExists holds when the key is absent, and tests it when present.
        (
            format!(r#"{{"StringEqualsIfExists":{{"{other_sub}":"x"}}}}"#),
            true,
        ),
        (
            format!(r#"{{"StringEqualsIfExists":{{"{sub}":"x"}}}}"#),
            false,
        ),
        // Plain positive operators fail on an absent key.
        (
            format!(r#"{{"StringEquals":{{"{other_sub}":"system:serviceaccount:ns:app"}}}}"#),
            false,
        ),
    ] {
        let policy = allow(r#""Action":"sts:AssumeRoleWithWebIdentity""#, &condition);
        assert_eq!(admits(&policy, &irsa("ns", "app")), expected, "{condition}");
    }
}

#[test]
fn ignore_case_and_case_insensitive_keys_and_operators() {
    let upper_key = format!("{}:SUB", EKS_PATH.to_ascii_uppercase());
    let policy = allow(
        r#""Action":"STS:assumerolewithwebidentity""#,
        &format!(
            r#"{{"stringequalsignorecase":{{"{upper_key}":"SYSTEM:ServiceAccount:NS:App"}}}}"#
        ),
    );
    assert!(admits(&policy, &irsa("ns", "app")));
    let exact = allow(
        r#""Action":"sts:AssumeRoleWithWebIdentity""#,
        &format!(r#"{{"StringEquals":{{"{upper_key}":"SYSTEM:ServiceAccount:NS:App"}}}}"#),
    );
    assert!(!admits(&exact, &irsa("ns", "app")));
}

#[test]
fn negated_operators_hold_when_no_value_matches_or_the_key_is_absent() {
    let sub = format!("{EKS_PATH}:sub");
    let not_default = allow(
        r#""Action":"sts:AssumeRoleWithWebIdentity""#,
        &format!(
            r#"{{"StringNotEquals":{{"{sub}":["system:serviceaccount:default:default","system:serviceaccount:kube-system:x"]}}}}"#
        ),
    );
    assert!(admits(&not_default, &irsa("ns", "app")));
    assert!(!admits(&not_default, &irsa("default", "default")));
    assert!(!admits(&not_default, &irsa("kube-system", "x")));
    let not_like = allow(
        r#""Action":"sts:AssumeRoleWithWebIdentity""#,
        &format!(
            r#"{{"StringNotLike":{{"{sub}":"system:serviceaccount:kube-*"}},
                     "StringNotEqualsIgnoreCase":{{"{OTHER_PATH}:sub":"anything"}}}}"#
        ),
    );
    assert!(admits(&not_like, &irsa("ns", "app")));
    assert!(!admits(&not_like, &irsa("kube-system", "app")));
    let null = allow(
        r#""Action":"sts:AssumeRoleWithWebIdentity""#,
        &format!(r#"{{"Null":{{"{sub}":"false","{OTHER_PATH}:sub":"true"}}}}"#),
    );
    assert!(admits(&null, &irsa("ns", "app")));
}

#[test]
fn a_matching_deny_overrides_every_allow() {
    let document = format!(
        r#"{{"Statement":[
        {{"Effect":"Allow","Principal":{{"Federated":"{arn}"}},"Action":"sts:AssumeRoleWithWebIdentity",
          "Condition":{{"StringLike":{{"{EKS_PATH}:sub":"system:serviceaccount:*"}}}}}},
        {{"Sid":"NoKubeSystem","Effect":"Deny","Principal":{{"Federated":"{arn}"}},"Action":"sts:*",
          "Condition":{{"StringLike":{{"{EKS_PATH}:sub":"system:serviceaccount:kube-system:*"}}}}}}]}}"#,
        arn = provider_arn(EKS_PATH)
    );
    let with_deny = policy(&document);
    assert_eq!(
        evaluate(&with_deny, &irsa("ns", "app")).access,
        Access::Allowed(0)
    );
    assert_eq!(
        evaluate(&with_deny, &irsa("kube-system", "app")).access,
        Access::Denied(1)
    );
    // A Deny for another principal does not apply.
    let service_deny = format!(
        r#"{{"Statement":[
        {{"Effect":"Allow","Principal":{{"Federated":"{arn}"}},"Action":"sts:AssumeRoleWithWebIdentity"}},
        {{"Effect":"Deny","Principal":{{"Service":"ec2.amazonaws.com"}},"Action":"*"}}]}}"#,
        arn = provider_arn(EKS_PATH)
    );
    assert!(admits(&policy(&service_deny), &irsa("ns", "app")));
}

#[test]
fn not_action_covers_everything_it_does_not_list() {
    let condition =
        format!(r#"{{"StringEquals":{{"{EKS_PATH}:sub":"system:serviceaccount:ns:app"}}}}"#);
    for (action, expected) in [
        (r#""NotAction":"sts:AssumeRole""#, true),
        (r#""NotAction":["sts:TagSession","iam:*"]"#, true),
        (r#""NotAction":"sts:*""#, false),
        (r#""NotAction":"sts:AssumeRoleWith*""#, false),
        (r#""Action":"sts:AssumeRole?ithWebIdentity""#, true),
        (r#""Action":"*""#, true),
        (r#""Action":"sts:AssumeRole""#, false),
    ] {
        let policy = allow(action, &condition);
        assert_eq!(admits(&policy, &irsa("ns", "app")), expected, "{action}");
        if !expected {
            let evaluation = evaluate(&policy, &irsa("ns", "app"));
            assert!(evaluation.checks[0].misses_action(), "{action}");
        }
    }
}

#[test]
fn an_undecidable_condition_fails_closed_both_ways() {
    let sub = format!("{EKS_PATH}:sub");
    let allow_with_ip = allow(
        r#""Action":"sts:AssumeRoleWithWebIdentity""#,
        &format!(
            r#"{{"StringEquals":{{"{sub}":"system:serviceaccount:ns:app"}},
                     "IpAddress":{{"aws:SourceIp":"10.0.0.0/8"}}}}"#
        ),
    );
    let evaluation = evaluate(&allow_with_ip, &irsa("ns", "app"));
    assert_eq!(evaluation.access, Access::NotAllowed);
    let gaps: Vec<_> = evaluation.checks[0].condition_gaps().collect();
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].0.key, "aws:SourceIp");
    assert_eq!(gaps[0].1, Outcome::Undecidable);
    // Another claim of the same issuer, and a policy variable, are undecidable too.
    for condition in [
        format!(r#"{{"StringEquals":{{"{EKS_PATH}:amr":"x"}}}}"#),
        format!(r#"{{"StringEquals":{{"{sub}":"system:serviceaccount:${{aws:username}}:app"}}}}"#),
        format!(r#"{{"NumericLessThan":{{"{sub}":"3"}}}}"#),
        format!(r#"{{"StringEquals":{{"{sub}":[]}}}}"#),
    ] {
        let policy = allow(r#""Action":"sts:AssumeRoleWithWebIdentity""#, &condition);
        let evaluation = evaluate(&policy, &irsa("ns", "app"));
        assert_eq!(evaluation.access, Access::NotAllowed, "{condition}");
        assert!(
            evaluation.checks[0]
                .condition_gaps()
                .any(|(_, outcome)| outcome == Outcome::Undecidable),
            "{condition}"
        );
    }
    // A Deny whose condition cannot be decided is taken to apply.
    let document = format!(
        r#"{{"Statement":[
        {{"Effect":"Allow","Principal":{{"Federated":"{arn}"}},"Action":"sts:AssumeRoleWithWebIdentity"}},
        {{"Effect":"Deny","Principal":"*","Action":"sts:*","Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}]}}"#,
        arn = provider_arn(EKS_PATH)
    );
    assert_eq!(
        evaluate(&policy(&document), &irsa("ns", "app")).access,
        Access::Denied(1)
    );
}

#[test]
fn the_nearest_allow_is_the_web_identity_statement_not_an_unrelated_one() {
    let document = format!(
        r#"{{"Statement":[
        {{"Effect":"Allow","Principal":{{"Service":"ec2.amazonaws.com"}},"Action":"sts:AssumeRole"}},
        {{"Sid":"Irsa","Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{OTHER_PATH}"}},
          "Action":"sts:AssumeRoleWithWebIdentity",
          "Condition":{{"StringEquals":{{"{OTHER_PATH}:sub":"system:serviceaccount:ns:app","{OTHER_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
    );
    let policy = policy(&document);
    let request = irsa("ns", "app");
    let evaluation = evaluate(&policy, &request);
    let nearest = evaluation.nearest_allow(&request.caller).unwrap();
    assert_eq!(nearest.statement.sid.as_deref(), Some("Irsa"));
    assert_eq!(nearest.statement.label(), "statement \"Irsa\"");
}
