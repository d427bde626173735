//! 5,000 service accounts over twenty pages, through the run: every one counted in the cluster
//! entry and checked against the roles, the last page's included.

use std::time::Instant;

use serde_json::json;
use thumbprint_guard::report::FindingCode;

use crate::support::kube_api::{pod, service_account};
use crate::{injected, role_arn, rows, Lab, ACCOUNT, REGION};

const ROLES: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_service_accounts_over_several_pages_are_all_counted_and_checked() {
    let lab = Lab::start().await;
    // Service account i is in namespace ns-(i % 50), annotated with role r(i % 50), which trusts
    // every service account of that namespace; but the last one names a role of another namespace.
    let annotated = |i: usize| {
        let role = if i == 4_999 { 0 } else { i % ROLES };
        role_arn(ACCOUNT, &format!("r{role}"))
    };
    let accounts: Vec<_> = (0..5_000)
        .map(|i| {
            service_account(
                &format!("ns-{}", i % ROLES),
                &format!("sa-{i:04}"),
                Some(&annotated(i)),
            )
        })
        .collect();
    let pods: Vec<_> = (0..600)
        .map(|i| {
            let role = annotated(i);
            pod(
                &format!("ns-{}", i % ROLES),
                &format!("p-{i}"),
                Some(&format!("sa-{i:04}")),
                &injected(&role),
                "Running",
            )
        })
        .collect();
    let prod = lab.cluster("prod", REGION, accounts, pods).await;
    for role in 0..ROLES {
        let trust = prod.irsa_trust_in(
            ACCOUNT,
            "StringLike",
            json!(format!("system:serviceaccount:ns-{role}:*")),
        );
        lab.role(&format!("r{role}"), &trust).await;
    }

    let off = lab.config(&[REGION]);
    let off = thumbprint_guard::config::Config {
        kubernetes_checks: false,
        ..off
    };
    let started = Instant::now();
    lab.run(&off).await;
    let without = started.elapsed();
    let config = lab.config(&[REGION]);
    let started = Instant::now();
    let report = lab.run(&config).await;
    let with = started.elapsed();

    let reads = report.clusters[0]
        .kubernetes
        .clone()
        .expect("the checks ran");
    assert_eq!(reads.service_accounts, 5_000);
    assert_eq!(reads.pods, 600);
    assert_eq!(reads.error, None);
    assert_eq!(prod.api.count("/api/v1/serviceaccounts", 200), 20);
    assert_eq!(prod.api.count("/api/v1/pods", 200), 3);
    assert_eq!(
        rows(&report),
        [(
            FindingCode::ServiceAccountRoleUntrusted,
            prod.arn.clone(),
            "ns-49".to_string(),
            "sa-4999".to_string()
        )],
        "only the last page's odd one out"
    );
    println!(
        "a run with 5,000 service accounts and 600 pods: {with:?} with the checks, {without:?} without ({:?} per 1,000 service accounts, debug build, fake API and moto on loopback)",
        with.saturating_sub(without) / 5
    );
}
