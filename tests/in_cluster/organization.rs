//! Organization mode: each member's clusters read with the member's own credentials, and an
//! annotation naming a role of another swept account checked against that account's roles; a role
//! of an account not swept is not reported.

use serde_json::json;
use thumbprint_guard::report::FindingCode;

use crate::support::kube_api::{service_account, MOTO_DEFAULT_CALLER};
use crate::{assert_details, finding, role_arn, rows, Lab, MEMBER_ROLE, REGION};

const A: &str = "111111111111";
const B: &str = "222222222222";
/// The region of B's cluster.
const OTHER_REGION: &str = "us-west-2";
/// An account the run does not sweep.
const C: &str = "333333333333";

/// The member role's session as STS names it, and the role an access entry names.
fn session(account: &str) -> (String, String) {
    (
        format!("arn:aws:sts::{account}:assumed-role/{MEMBER_ROLE}/thumbprint-guard"),
        role_arn(account, MEMBER_ROLE),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_account_annotation_is_checked_in_the_swept_account_and_each_member_reads_its_own_clusters(
) {
    let lab = Lab::start().await;
    let alpha = lab
        .cluster_in(
            A,
            "alpha",
            REGION,
            vec![
                service_account("team", "cross-ok", Some(&role_arn(B, "cross-ok"))),
                service_account("team", "cross-bad", Some(&role_arn(B, "cross-bad"))),
                service_account("team", "elsewhere", Some(&role_arn(C, "anything"))),
                service_account("team", "local", Some(&role_arn(A, "nope"))),
            ],
            vec![],
        )
        .await;
    // Another region: moto gives every cluster of one region the same issuer.
    let beta = lab
        .cluster_in(
            B,
            "beta",
            OTHER_REGION,
            vec![service_account("app", "x", None)],
            vec![],
        )
        .await;
    // Only each member's role has an access entry on its cluster.
    alpha.api.set_allowed(vec![session(A).1]);
    beta.api.set_allowed(vec![session(B).1]);
    // A cross-account role trusts its own account's provider for the cluster's issuer.
    let trust_in_b = |sub: &str| alpha.irsa_trust_in(B, "StringEquals", json!(sub));
    lab.role_in(
        B,
        "cross-ok",
        &trust_in_b("system:serviceaccount:team:cross-ok"),
    )
    .await;
    lab.role_in(
        B,
        "cross-bad",
        &trust_in_b("system:serviceaccount:team:other"),
    )
    .await;
    let config = lab.config(&[REGION, OTHER_REGION]);

    let report = lab.run_organization(&config, &[A, B]).await;

    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    // The organization's counts include the in-cluster findings (and each cluster's missing
    // IAM provider, a warning).
    assert_eq!(
        (
            report.summary.critical,
            report.summary.warning,
            report.summary.clusters
        ),
        (2, 2, 2)
    );
    let a = report.account(A).expect("A swept");
    let mut expected = vec![
        (
            FindingCode::ServiceAccountRoleUntrusted,
            alpha.arn.clone(),
            "team".to_string(),
            "cross-bad".to_string(),
        ),
        (
            FindingCode::ServiceAccountRoleMissing,
            alpha.arn.clone(),
            "team".to_string(),
            "local".to_string(),
        ),
    ];
    expected.sort();
    assert_eq!(rows(a), expected, "{:#?}", a.findings);
    let untrusted = finding(
        a,
        FindingCode::ServiceAccountRoleUntrusted,
        "team",
        "cross-bad",
    );
    assert_details(untrusted, &[("role_arn", json!(role_arn(B, "cross-bad")))]);
    assert!(
        untrusted
            .message
            .contains("names service account `other` but this one is `cross-bad`"),
        "{}",
        untrusted.message
    );
    let statement: serde_json::Value = serde_json::from_str(
        untrusted.details["trust_statement"]
            .as_str()
            .expect("a statement"),
    )
    .expect("JSON");
    assert_eq!(
        statement["Principal"]["Federated"],
        alpha.provider_in(B),
        "the fix trusts B's provider for alpha's issuer"
    );
    let b = report.account(B).expect("B swept");
    assert_eq!(rows(b), [], "{:#?}", b.findings);
    assert_eq!(
        b.clusters[0]
            .kubernetes
            .as_ref()
            .map(|k| k.service_accounts),
        Some(1)
    );

    // Each cluster was read with its own member's credentials, never the central ones.
    for (cluster, account) in [(&alpha, A), (&beta, B)] {
        let callers = cluster.api.callers();
        assert!(!callers.is_empty(), "{} was read", cluster.name);
        assert!(
            callers.iter().all(|c| *c == session(account).0),
            "{}: {callers:?}",
            cluster.name
        );
        assert!(!callers.iter().any(|c| c == MOTO_DEFAULT_CALLER));
    }

    // B's role fixed: the finding clears; the role of the account not swept stays unreported.
    // B's access entry lost its view policy: B's finding names B's member role (not its session)
    // as the principal to grant.
    lab.retrust_in(
        B,
        "cross-bad",
        &trust_in_b("system:serviceaccount:team:cross-bad"),
    )
    .await;
    beta.api.set_allowed(vec![]);
    let fixed = lab.run_organization(&config, &[A, B]).await;
    let b = fixed.account(B).expect("B swept");
    let denied: Vec<_> = b
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::ClusterApiUnreachable)
        .collect();
    assert_eq!(denied.len(), 1, "{:#?}", b.findings);
    assert_eq!(denied[0].resource, beta.arn);
    assert!(
        denied[0].message.contains(&format!(
            "with the access entry of the role thumbprint-guard runs as ({})",
            session(B).1
        )),
        "{}",
        denied[0].message
    );
    let a = fixed.account(A).expect("A swept");
    assert_eq!(
        rows(a),
        [(
            FindingCode::ServiceAccountRoleMissing,
            alpha.arn.clone(),
            "team".to_string(),
            "local".to_string()
        )],
        "{:#?}",
        a.findings
    );

    // With B left out of the run, its roles are not checked at all: silence, not ROLE_MISSING.
    lab.retrust_in(
        B,
        "cross-bad",
        &trust_in_b("system:serviceaccount:team:other"),
    )
    .await;
    let without_b = lab.run_organization(&config, &[A]).await;
    let a = without_b.account(A).expect("A swept");
    assert_eq!(
        rows(a),
        [(
            FindingCode::ServiceAccountRoleMissing,
            alpha.arn.clone(),
            "team".to_string(),
            "local".to_string()
        )],
        "{:#?}",
        a.findings
    );
}
