//! POD_REGION_MISSING: a cluster of an AWS China region (moto creates EKS clusters in cn-north-1,
//! partition `aws-cn`), whose IRSA pods must set their region.

use serde_json::json;
use thumbprint_guard::report::{FindingCode, Severity};

use crate::support::kube_api::{pod, service_account};
use crate::{assert_details, finding, injected, rows, Lab, ACCOUNT};

const CHINA: &str = "cn-north-1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_china_pod_without_a_region_is_reported_until_it_sets_one() {
    let lab = Lab::start().await;
    let role = format!("arn:aws-cn:iam::{ACCOUNT}:role/bj-app");
    let service_accounts = vec![service_account("app", "api", Some(&role))];
    let with_region = |name: &str, variable: &str| {
        let mut env = injected(&role);
        env.push((variable, CHINA));
        pod("app", name, Some("api"), &env, "Running")
    };
    let beijing = lab
        .cluster(
            "beijing",
            CHINA,
            service_accounts.clone(),
            vec![
                pod("app", "api-1", Some("api"), &injected(&role), "Running"),
                with_region("api-2", "AWS_REGION"),
                with_region("api-3", "AWS_DEFAULT_REGION"),
            ],
        )
        .await;
    assert!(
        beijing.arn.starts_with("arn:aws-cn:eks:cn-north-1:"),
        "{}",
        beijing.arn
    );
    // moto's STS names the caller in the partition of the region a token is signed for.
    beijing
        .api
        .set_allowed(vec![format!("arn:aws-cn:sts::{ACCOUNT}:user/moto")]);
    lab.role("bj-app", &beijing.trusts("app", "api")).await;
    let config = lab.config(&[CHINA]);

    let report = lab.run(&config).await;

    assert_eq!(
        rows(&report),
        [(
            FindingCode::PodRegionMissing,
            beijing.arn.clone(),
            "app".to_string(),
            "api-1".to_string()
        )],
        "{:#?}",
        report.findings
    );
    let missing = finding(&report, FindingCode::PodRegionMissing, "app", "api-1");
    assert_eq!(missing.severity, Severity::Warning);
    assert_details(
        missing,
        &[
            ("service_account", json!("api")),
            ("role_arn", json!(role)),
            ("region", json!(CHINA)),
        ],
    );
    assert!(
        missing.message.contains("Set AWS_REGION=cn-north-1"),
        "{}",
        missing.message
    );
    // The token was signed for the cluster's region and accepted.
    assert_eq!(beijing.api.count("/api/v1/pods", 200), 1);

    // The fix: the pod sets its region.
    beijing.api.set_objects(
        service_accounts,
        vec![
            with_region("api-1", "AWS_REGION"),
            with_region("api-2", "AWS_REGION"),
            with_region("api-3", "AWS_DEFAULT_REGION"),
        ],
    );
    let fixed = lab.run(&config).await;
    assert_eq!(rows(&fixed), [], "{:#?}", fixed.findings);
}
