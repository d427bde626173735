//! The Lambda's path: a scheduled event with `KUBERNETES_CHECKS=on` in the function's environment
//! reads the clusters, logs their entries and findings, and a cluster API slower than the
//! invocation's deadline is cut at the deadline, not at `PROBE_TIMEOUT_SECS`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use thumbprint_guard::aws::AwsClients;
use thumbprint_guard::handler::{self, Runtime};
use thumbprint_guard::probe::ProbeContext;
use thumbprint_guard::report::FindingCode;

use crate::support::kube_api::{pod, service_account};
use crate::{role_arn, rows, Lab, ACCOUNT, REGION};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_invocation_runs_the_checks_and_a_slow_api_is_cut_at_the_deadline() {
    let lab = Lab::start().await;
    let cart = role_arn(ACCOUNT, "cart");
    let prod = lab
        .cluster(
            "prod",
            REGION,
            vec![service_account("shop", "cart", Some(&cart))],
            vec![pod("shop", "cart-1", Some("cart"), &[], "Running")],
        )
        .await;
    lab.role("cart", &prod.trusts("shop", "cart")).await;
    let slow = lab
        .cluster(
            "slow",
            REGION,
            vec![service_account("a", "b", None)],
            vec![],
        )
        .await;
    slow.api.set_delay(Duration::from_secs(60));

    let vars: HashMap<String, String> = lab
        .cli_env(REGION, &[("PROBE_TIMEOUT_SECS", "30")])
        .into_iter()
        .filter(|(k, _)| !k.starts_with("AWS_"))
        .collect();
    let base = Runtime::base_config(&vars).expect("the function's configuration");
    assert!(base.kubernetes_checks);
    let runtime = Runtime {
        aws: AwsClients::new(&lab.sdk, &base),
        probe: ProbeContext::new(&base).expect("probe context"),
        env: vars,
        organization: None,
    };
    let lines = Mutex::new(Vec::<String>::new());
    let emit = |line: &str| lines.lock().unwrap().push(line.to_string());
    let event: Value =
        serde_json::from_str(include_str!("../../events/scheduled.json")).expect("the event");

    let started = Instant::now();
    let report = handler::handle_event(
        &runtime,
        &event,
        time::OffsetDateTime::now_utc(),
        Some(tokio::time::Instant::now() + Duration::from_secs(8)),
        &emit,
    )
    .await
    .expect("the invocation succeeds")
    .into_account()
    .expect("a single-account run");
    let elapsed = started.elapsed();

    assert!(
        elapsed < Duration::from_secs(20),
        "the slow API is cut at the deadline (8 s), not at PROBE_TIMEOUT_SECS (30 s): {elapsed:?}"
    );
    let mut expected = vec![
        (
            FindingCode::PodNeedsRestart,
            prod.arn.clone(),
            "shop".to_string(),
            "cart-1".to_string(),
        ),
        (
            FindingCode::ClusterApiUnreachable,
            slow.arn.clone(),
            String::new(),
            String::new(),
        ),
    ];
    expected.sort();
    assert_eq!(rows(&report), expected, "{:#?}", report.findings);
    let cut = report
        .findings
        .iter()
        .find(|f| f.code == FindingCode::ClusterApiUnreachable)
        .expect("the slow cluster's finding");
    assert!(
        cut.message.contains("deadline") && cut.message.contains("the function's timeout"),
        "{}",
        cut.message
    );

    // The logged report carries the cluster entries with what was read.
    let lines = lines.into_inner().unwrap();
    let logged: Value = serde_json::from_str(&lines[0]).expect("a JSON log line");
    let clusters = logged["report"]["clusters"].as_array().expect("clusters");
    let reads: Vec<(&str, &Value)> = clusters
        .iter()
        .map(|c| (c["name"].as_str().unwrap_or_default(), &c["kubernetes"]))
        .collect();
    assert_eq!(reads.len(), 2, "{logged:#}");
    assert_eq!(reads[0].0, "prod");
    assert_eq!(reads[0].1["service_accounts"], 1);
    assert_eq!(reads[0].1["error"], Value::Null);
    assert_eq!(reads[1].0, "slow");
    assert!(
        reads[1].1["error"]
            .as_str()
            .is_some_and(|e| e.contains("deadline")),
        "{logged:#}"
    );
}
