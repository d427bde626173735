//! Every finding of the in-cluster table (but CLUSTER_API_UNREACHABLE, in failures.rs, and
//! POD_REGION_MISSING, in china.rs) fired by a fixture in one cluster, with exact codes,
//! resources and details, the same ids on a second run, and all of them cleared by their fixes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use thumbprint_guard::config::{Config, MuteRules};
use thumbprint_guard::report::{FindingCode, FindingStatus, Report, RunReport, Severity};

use crate::support::eks_shim::Association;
use crate::support::kube_api::{pod, service_account};
use crate::{
    assert_details, finding, in_cluster, injected, irsa_trust, pod_identity_trust, role_arn, rows,
    Lab, LabCluster, ACCOUNT, REGION,
};

/// A provider path of another cluster's issuer (the wrong-cluster trust).
const OTHER_ISSUER: &str = "oidc.eks.us-east-1.amazonaws.com/id/0THERC1USTER";

/// The cluster's service accounts; `fixed` applies every fix made in the cluster.
fn service_accounts(fixed: bool) -> Vec<Value> {
    let typo = if fixed {
        role_arn(ACCOUNT, "typo")
    } else {
        // A YAML block scalar's trailing line break: STS rejects the ARN.
        format!("{}\n", role_arn(ACCOUNT, "typo"))
    };
    let mut accounts = vec![
        service_account("default", "default", None),
        service_account("payments", "api", Some(&role_arn(ACCOUNT, "payments-api"))),
        service_account("payments", "typo", Some(&typo)),
        service_account("payments", "ghost", Some(&role_arn(ACCOUNT, "ghost-role"))),
        service_account("payment", "ledger", Some(&role_arn(ACCOUNT, "ledger"))),
        service_account("orders", "api", Some(&role_arn(ACCOUNT, "orders-api"))),
        service_account("shop", "cart", Some(&role_arn(ACCOUNT, "cart"))),
        service_account("jobs", "runner-7", Some(&role_arn(ACCOUNT, "jobs"))),
        service_account("web", "a", Some(&role_arn(ACCOUNT, "web"))),
        service_account("web", "b", Some(&role_arn(ACCOUNT, "web"))),
        service_account("pi", "missing", None),
        service_account("pi", "untrusted", None),
        // An empty value (a chart's unset role): the IRSA webhook treats it as no annotation.
        service_account("legacy", "chart", Some("")),
    ];
    if fixed {
        accounts.push(service_account("pi", "dual", None));
        accounts.push(service_account("pi", "nosa", None));
    } else {
        accounts.push(service_account(
            "pi",
            "dual",
            Some(&role_arn(ACCOUNT, "dual-irsa")),
        ));
    }
    accounts
}

/// The cluster's pods; `fixed`: restarted after the annotation (and the typo's fix).
fn pods(fixed: bool) -> Vec<Value> {
    let payments = role_arn(ACCOUNT, "payments-api");
    let cart = role_arn(ACCOUNT, "cart");
    let stale = role_arn(ACCOUNT, "cart-old");
    let typo = role_arn(ACCOUNT, "typo");
    let jobs = role_arn(ACCOUNT, "jobs");
    let mut pods = vec![
        pod(
            "payments",
            "api-6f",
            Some("api"),
            &injected(&payments),
            "Running",
        ),
        pod(
            "jobs",
            "runner-7-x",
            Some("runner-7"),
            &injected(&jobs),
            "Running",
        ),
        // Not running: never a restart to ask for.
        pod("shop", "cart-3", Some("cart"), &[], "Pending"),
        pod("legacy", "chart-1", Some("chart"), &[], "Running"),
        // Started after the association: EKS's webhook injected Pod Identity's container
        // credentials instead of IRSA's variables (the association takes precedence), so no
        // restart would add AWS_ROLE_ARN.
        pod(
            "pi",
            "dual-1",
            Some("dual"),
            &[
                (
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    "http://169.254.170.23/v1/credentials",
                ),
                (
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                    "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token",
                ),
            ],
            "Running",
        ),
    ];
    if fixed {
        pods.push(pod(
            "shop",
            "cart-1",
            Some("cart"),
            &injected(&cart),
            "Running",
        ));
        pods.push(pod(
            "shop",
            "cart-2",
            Some("cart"),
            &injected(&cart),
            "Running",
        ));
        pods.push(pod(
            "payments",
            "typo-1",
            Some("typo"),
            &injected(&typo),
            "Running",
        ));
    } else {
        // Started before the annotation: nothing injected.
        pods.push(pod("shop", "cart-1", Some("cart"), &[], "Running"));
        // Started when the annotation named another role.
        pods.push(pod(
            "shop",
            "cart-2",
            Some("cart"),
            &injected(&stale),
            "Running",
        ));
        // Its annotation is invalid: a restart would not help, so no restart is asked for.
        pods.push(pod("payments", "typo-1", Some("typo"), &[], "Running"));
    }
    pods
}

/// The cluster's Pod Identity associations (their fixes are in IAM and in the cluster).
fn associations() -> Vec<Association> {
    vec![
        Association::new(
            "a-missing",
            "pi",
            "missing",
            &role_arn(ACCOUNT, "pi-missing"),
        ),
        Association::new(
            "a-untrusted",
            "pi",
            "untrusted",
            &role_arn(ACCOUNT, "pi-untrusted"),
        ),
        Association::new("a-nosa", "pi", "nosa", &role_arn(ACCOUNT, "pi-ok")),
        Association::new("a-dual", "pi", "dual", &role_arn(ACCOUNT, "pi-ok")),
    ]
}

/// The roles of the account before any fix.
async fn roles(lab: &Lab, prod: &LabCluster) {
    lab.role("payments-api", &prod.trusts("payments", "api"))
        .await;
    lab.role("typo", &prod.trusts("payments", "typo")).await;
    // Trusts namespace `payments`; the service account is in `payment`.
    lab.role("ledger", &prod.trusts("payments", "ledger")).await;
    // Trusts another cluster's provider.
    lab.role(
        "orders-api",
        &irsa_trust(
            &format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{OTHER_ISSUER}"),
            OTHER_ISSUER,
            "StringEquals",
            json!("system:serviceaccount:orders:api"),
        ),
    )
    .await;
    lab.role("cart", &prod.trusts("shop", "cart")).await;
    // A workload that is gone: the trust names a service account the cluster does not have.
    lab.role("retired", &prod.trusts("batch", "old-job")).await;
    // Wildcards and lists admit: no finding for their service accounts.
    lab.role(
        "jobs",
        &prod.irsa_trust_in(ACCOUNT, "StringLike", json!("system:serviceaccount:jobs:*")),
    )
    .await;
    lab.role(
        "web",
        &prod.irsa_trust_in(
            ACCOUNT,
            "StringEquals",
            json!(["system:serviceaccount:web:a", "system:serviceaccount:web:b"]),
        ),
    )
    .await;
    lab.role("dual-irsa", &prod.trusts("pi", "dual")).await;
    // Pod Identity needs sts:TagSession too.
    lab.role("pi-untrusted", &pod_identity_trust(&["sts:AssumeRole"]))
        .await;
    lab.role(
        "pi-ok",
        &pod_identity_trust(&["sts:AssumeRole", "sts:TagSession"]),
    )
    .await;
}

/// Every fix made in IAM.
async fn fix_roles(lab: &Lab, prod: &LabCluster) {
    lab.role("ghost-role", &prod.trusts("payments", "ghost"))
        .await;
    lab.retrust_in(ACCOUNT, "ledger", &prod.trusts("payment", "ledger"))
        .await;
    lab.retrust_in(ACCOUNT, "orders-api", &prod.trusts("orders", "api"))
        .await;
    lab.retrust_in(
        ACCOUNT,
        "retired",
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    )
    .await;
    lab.role(
        "pi-missing",
        &pod_identity_trust(&["sts:AssumeRole", "sts:TagSession"]),
    )
    .await;
    lab.retrust_in(
        ACCOUNT,
        "pi-untrusted",
        &pod_identity_trust(&["sts:AssumeRole", "sts:TagSession"]),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_in_cluster_finding_fires_with_its_details_keeps_its_id_and_clears_with_its_fix() {
    let lab = Lab::start().await;
    let prod = lab
        .cluster("prod", REGION, service_accounts(false), pods(false))
        .await;
    lab.shim.set_associations("prod", associations());
    roles(&lab, &prod).await;
    // A state table: the findings are new, then open, then resolved by their fixes.
    let dynamodb = aws_sdk_dynamodb::Client::new(&lab.env.moto.sdk_config(REGION).await);
    crate::support::moto::create_state_table(&dynamodb, "in-cluster-state").await;
    let config = Config {
        state_table: Some("in-cluster-state".into()),
        ..lab.config(&[REGION])
    };

    let report = lab.run(&config).await;

    let cluster = prod.arn.clone();
    let role = |name: &str| role_arn(ACCOUNT, name);
    let row = |code, resource: &str, namespace: &str, name: &str| {
        (
            code,
            resource.to_string(),
            namespace.to_string(),
            name.to_string(),
        )
    };
    let mut expected = vec![
        row(
            FindingCode::ServiceAccountAnnotationInvalid,
            &cluster,
            "payments",
            "typo",
        ),
        row(
            FindingCode::ServiceAccountRoleMissing,
            &cluster,
            "payments",
            "ghost",
        ),
        row(
            FindingCode::ServiceAccountRoleUntrusted,
            &cluster,
            "payment",
            "ledger",
        ),
        row(
            FindingCode::ServiceAccountRoleUntrusted,
            &cluster,
            "orders",
            "api",
        ),
        row(FindingCode::PodNeedsRestart, &cluster, "shop", "cart-1"),
        row(FindingCode::PodNeedsRestart, &cluster, "shop", "cart-2"),
        row(
            FindingCode::TrustPolicyUnknownServiceAccount,
            &role("ledger"),
            "payments",
            "ledger",
        ),
        row(
            FindingCode::TrustPolicyUnknownServiceAccount,
            &role("retired"),
            "batch",
            "old-job",
        ),
        row(
            FindingCode::PodIdentityRoleMissing,
            &cluster,
            "pi",
            "missing",
        ),
        row(
            FindingCode::PodIdentityRoleUntrusted,
            &cluster,
            "pi",
            "untrusted",
        ),
        row(
            FindingCode::PodIdentityServiceAccountMissing,
            &cluster,
            "pi",
            "nosa",
        ),
        row(
            FindingCode::ServiceAccountDualIdentity,
            &cluster,
            "pi",
            "dual",
        ),
    ];
    expected.sort();
    assert_eq!(rows(&report), expected, "{:#?}", report.findings);
    // Besides them, only the cluster's missing IAM provider (none is registered for moto's issuer).
    let others: Vec<_> = report
        .findings
        .iter()
        .filter(|f| !crate::IN_CLUSTER.contains(&f.code))
        .map(|f| (f.code, f.resource.as_str()))
        .collect();
    assert_eq!(
        others,
        [(FindingCode::ClusterWithoutProvider, cluster.as_str())]
    );

    // Details and messages, one code at a time.
    let invalid = finding(
        &report,
        FindingCode::ServiceAccountAnnotationInvalid,
        "payments",
        "typo",
    );
    assert_eq!(invalid.severity, Severity::Critical);
    assert_details(
        invalid,
        &[
            ("cluster", json!("prod")),
            ("region", json!(REGION)),
            ("annotation", json!(format!("{}\\u{{a}}", role("typo")))),
            ("reason", json!("it holds white space or a line break")),
        ],
    );
    assert!(
        invalid.message.contains(&format!(
            "Role {} of the cluster's account already trusts this service account",
            role("typo")
        )),
        "{}",
        invalid.message
    );
    assert!(!invalid.message.contains('\n'), "{}", invalid.message);

    let missing = finding(
        &report,
        FindingCode::ServiceAccountRoleMissing,
        "payments",
        "ghost",
    );
    assert_eq!(missing.severity, Severity::Critical);
    assert_details(missing, &[("role_arn", json!(role("ghost-role")))]);
    let statement: Value =
        serde_json::from_str(missing.details["trust_statement"].as_str().expect("text"))
            .expect("the statement is JSON");
    assert_eq!(statement["Principal"]["Federated"], prod.provider());
    assert_eq!(
        statement["Condition"]["StringEquals"][format!("{}:sub", prod.path)],
        "system:serviceaccount:payments:ghost"
    );
    assert!(
        missing
            .message
            .contains(&format!("which does not exist in account {ACCOUNT}")),
        "{}",
        missing.message
    );

    let ledger = finding(
        &report,
        FindingCode::ServiceAccountRoleUntrusted,
        "payment",
        "ledger",
    );
    assert_eq!(ledger.severity, Severity::Critical);
    assert_details(ledger, &[("role_arn", json!(role("ledger")))]);
    assert!(
        ledger
            .message
            .contains("names namespace `payments` but the service account is in `payment`"),
        "{}",
        ledger.message
    );

    let orders = finding(
        &report,
        FindingCode::ServiceAccountRoleUntrusted,
        "orders",
        "api",
    );
    assert_details(orders, &[("role_arn", json!(role("orders-api")))]);
    assert!(
        orders.message.contains(&format!(
            "trusts provider `{OTHER_ISSUER}` (another cluster's issuer, or this cluster's before it was recreated) but this cluster's issuer is `{}`",
            prod.path
        )),
        "{}",
        orders.message
    );

    let never_injected = finding(&report, FindingCode::PodNeedsRestart, "shop", "cart-1");
    assert_eq!(never_injected.severity, Severity::Warning);
    assert_details(
        never_injected,
        &[
            ("service_account", json!("cart")),
            ("role_arn", json!(role("cart"))),
            ("pod_role_arn", Value::Null),
        ],
    );
    let stale = finding(&report, FindingCode::PodNeedsRestart, "shop", "cart-2");
    assert_details(
        stale,
        &[
            ("service_account", json!("cart")),
            ("role_arn", json!(role("cart"))),
            ("pod_role_arn", json!(role("cart-old"))),
        ],
    );
    assert!(
        stale
            .message
            .contains(&format!("AWS_ROLE_ARN is still `{}`", role("cart-old"))),
        "{}",
        stale.message
    );

    let retired = finding(
        &report,
        FindingCode::TrustPolicyUnknownServiceAccount,
        "batch",
        "old-job",
    );
    assert_eq!(retired.severity, Severity::Info);
    assert_details(
        retired,
        &[
            ("role_arn", json!(role("retired"))),
            ("cluster_arn", json!(cluster)),
            ("cluster", json!("prod")),
        ],
    );

    let pi_missing = finding(
        &report,
        FindingCode::PodIdentityRoleMissing,
        "pi",
        "missing",
    );
    assert_eq!(pi_missing.severity, Severity::Critical);
    assert_details(
        pi_missing,
        &[
            ("association_id", json!("a-missing")),
            ("role_arn", json!(role("pi-missing"))),
        ],
    );
    let pi_untrusted = finding(
        &report,
        FindingCode::PodIdentityRoleUntrusted,
        "pi",
        "untrusted",
    );
    assert_eq!(pi_untrusted.severity, Severity::Critical);
    assert_details(
        pi_untrusted,
        &[
            ("association_id", json!("a-untrusted")),
            ("role_arn", json!(role("pi-untrusted"))),
        ],
    );
    assert!(
        pi_untrusted.message.contains("for sts:TagSession")
            && !pi_untrusted.message.contains("for sts:AssumeRole,"),
        "only TagSession is refused: {}",
        pi_untrusted.message
    );
    let no_sa = finding(
        &report,
        FindingCode::PodIdentityServiceAccountMissing,
        "pi",
        "nosa",
    );
    assert_eq!(no_sa.severity, Severity::Warning);
    assert_details(
        no_sa,
        &[
            ("association_id", json!("a-nosa")),
            ("role_arn", json!(role("pi-ok"))),
        ],
    );
    let dual = finding(
        &report,
        FindingCode::ServiceAccountDualIdentity,
        "pi",
        "dual",
    );
    assert_eq!(dual.severity, Severity::Warning);
    assert_details(
        dual,
        &[
            ("association_id", json!("a-dual")),
            ("role_arn", json!(role("pi-ok"))),
            ("annotation_role_arn", json!(role("dual-irsa"))),
        ],
    );
    assert!(
        dual.message
            .contains("pods started since the association get its role"),
        "{}",
        dual.message
    );

    // The cluster entry says what was read.
    let entry = report
        .clusters
        .iter()
        .find(|c| c.name == "prod")
        .expect("the cluster entry");
    let reads = serde_json::to_value(&entry.kubernetes).expect("serializes");
    assert_eq!(
        reads,
        json!({"service_accounts": 14, "pods": 8, "pod_identity_associations": 4, "error": null})
    );

    // The same problems keep their ids on the next run; no two share one.
    let ids = |report: &Report| -> BTreeMap<_, String> {
        in_cluster(report)
            .into_iter()
            .map(|f| (crate::row(f), f.id.clone()))
            .collect()
    };
    let first = ids(&report);
    assert!(
        in_cluster(&report)
            .iter()
            .all(|f| f.status == Some(FindingStatus::New)),
        "{:#?}",
        report.findings
    );
    // The next run, with the role's unknown service account muted.
    let muted = Config {
        mute_findings: MuteRules::parse(&format!(
            "TRUST_POLICY_UNKNOWN_SERVICE_ACCOUNT@{}",
            role("retired")
        ))
        .expect("a mute rule"),
        ..config.clone()
    };
    let again = lab.run(&muted).await;
    assert_eq!(ids(&again), first, "ids are stable between runs");
    for f in in_cluster(&again) {
        assert_eq!(f.status, Some(FindingStatus::Open), "{f:#?}");
        assert_eq!(f.muted, f.resource == role("retired"), "{f:#?}");
    }
    assert_eq!(again.summary.muted, 1);
    assert_eq!(again.summary.info, report.summary.info - 1);
    let distinct: BTreeSet<&String> = first.values().collect();
    assert_eq!(distinct.len(), first.len(), "every finding has its own id");
    assert_eq!(RunReport::Account(report.clone()).exit_code(), 1);

    // Every fix: in IAM, in the cluster, in EKS.
    fix_roles(&lab, &prod).await;
    prod.api.set_objects(service_accounts(true), pods(true));

    let fixed = lab.run(&config).await;
    assert_eq!(rows(&fixed), [], "{:#?}", fixed.findings);
    let resolved: BTreeSet<&str> = fixed.resolved.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        resolved,
        first.values().map(String::as_str).collect::<BTreeSet<_>>(),
        "every fixed finding is resolved, nothing else"
    );
    let entry = fixed
        .clusters
        .iter()
        .find(|c| c.name == "prod")
        .expect("the cluster entry");
    assert_eq!(
        serde_json::to_value(&entry.kubernetes).expect("serializes"),
        json!({"service_accounts": 15, "pods": 8, "pod_identity_associations": 4, "error": null})
    );
}
