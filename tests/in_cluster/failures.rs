//! CLUSTER_API_UNREACHABLE through the run: one finding per cluster that cannot be read, saying
//! why and how to grant access, cleared once it can be read; the rest of the run unaffected.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use thumbprint_guard::kubernetes::PAGE_BYTES;
use thumbprint_guard::report::{FindingCode, Report, Severity};

use crate::support::eks_shim::{Association, EksFailure};
use crate::support::env::cli;
use crate::support::issuer::ChainSpec;
use crate::support::kube_api::{pod, service_account, Oversize, MOTO_DEFAULT_CALLER};
use crate::{in_cluster, role_arn, rows, Lab, LabCluster, ACCOUNT, REGION};

/// A cluster with one annotated service account whose pod needs a restart (a warning).
async fn cluster_with_a_stale_pod(lab: &Lab, name: &str) -> LabCluster {
    let cart = role_arn(ACCOUNT, "cart");
    lab.cluster(
        name,
        REGION,
        vec![service_account("shop", "cart", Some(&cart))],
        vec![pod("shop", "cart-1", Some("cart"), &[], "Running")],
    )
    .await
}

fn row(
    code: FindingCode,
    resource: &str,
    namespace: &str,
    name: &str,
) -> (FindingCode, String, String, String) {
    (
        code,
        resource.to_string(),
        namespace.to_string(),
        name.to_string(),
    )
}

/// The CLUSTER_API_UNREACHABLE findings of `report` about `cluster`.
fn unreachable<'r>(
    report: &'r Report,
    cluster: &str,
) -> Vec<&'r thumbprint_guard::report::Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::ClusterApiUnreachable && f.resource == cluster)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_that_refuses_the_read_is_one_finding_until_access_is_granted() {
    let lab = Lab::start().await;
    let prod = cluster_with_a_stale_pod(&lab, "prod").await;
    lab.role("cart", &prod.trusts("shop", "cart")).await;
    // An association of a service account the cluster lacks, to a role that does not exist.
    lab.shim.set_associations(
        "prod",
        vec![Association::new(
            "a-1",
            "pi",
            "nosa",
            &role_arn(ACCOUNT, "pi-missing"),
        )],
    );
    let config = lab.config(&[REGION]);
    let restart = row(FindingCode::PodNeedsRestart, &prod.arn, "shop", "cart-1");
    let api_row = row(FindingCode::ClusterApiUnreachable, &prod.arn, "", "");
    let role_missing = row(FindingCode::PodIdentityRoleMissing, &prod.arn, "pi", "nosa");
    let sa_missing = row(
        FindingCode::PodIdentityServiceAccountMissing,
        &prod.arn,
        "pi",
        "nosa",
    );

    // 403: an access entry without the view policy. What needs the service accounts is not said
    // (the pod's restart, the association's missing service account); the association's role is
    // still checked.
    prod.api.set_allowed(vec![]);
    let report = lab.run(&config).await;
    let mut expected = vec![api_row.clone(), role_missing.clone()];
    expected.sort();
    assert_eq!(rows(&report), expected, "{:#?}", report.findings);
    let denied = unreachable(&report, &prod.arn)[0];
    assert_eq!(denied.severity, Severity::Warning);
    assert_eq!(denied.details["api"], "kubernetes");
    assert_eq!(denied.details["cluster"], "prod");
    let error = denied.details["error"].as_str().expect("the error");
    assert!(
        error.starts_with("the API denied the read (HTTP 403)")
            && error.contains("cannot list resource"),
        "{error}"
    );
    assert!(
        denied.message.contains(
            "Associate the AmazonEKSViewPolicy access policy at cluster scope with the access entry"
        ) && denied.message.contains(MOTO_DEFAULT_CALLER),
        "{}",
        denied.message
    );
    let entry = &report.clusters[0];
    let reads = entry.kubernetes.as_ref().expect("the checks ran");
    assert_eq!((reads.service_accounts, reads.pods), (0, 0));
    assert!(
        reads
            .error
            .as_deref()
            .is_some_and(|e| e.contains("HTTP 403")),
        "{reads:?}"
    );
    // Both lists are read at once and the first refusal ends the read: either path may be the one
    // the API refused.
    assert!(
        prod.api.count("/api/v1/serviceaccounts", 403) + prod.api.count("/api/v1/pods", 403) >= 1
    );

    // 401: a token the API does not accept (its clock is past the token's 60 s).
    prod.api.set_clock_offset(Duration::from_secs(120));
    let expired = lab.run(&config).await;
    assert_eq!(rows(&expired), expected);
    let refused = unreachable(&expired, &prod.arn)[0];
    assert!(
        refused.message.contains("HTTP 401")
            && refused
                .message
                .contains("an EKS access entry with the AmazonEKSViewPolicy access policy"),
        "{}",
        refused.message
    );
    assert_eq!(
        refused.id, denied.id,
        "one problem, one id, whatever the cause"
    );

    // Access granted, the Pod Identity associations denied: the API's findings are back, and the
    // associations are their own CLUSTER_API_UNREACHABLE.
    prod.api.set_clock_offset(Duration::ZERO);
    prod.api.set_allowed(vec![MOTO_DEFAULT_CALLER.to_string()]);
    lab.shim.fail_pod_identity(Some(EksFailure {
        status: 403,
        kind: "AccessDeniedException".into(),
        message: "User is not authorized to perform: eks:ListPodIdentityAssociations".into(),
    }));
    let associations_denied = lab.run(&config).await;
    let mut expected = vec![api_row.clone(), restart.clone()];
    expected.sort();
    assert_eq!(rows(&associations_denied), expected);
    let listing = unreachable(&associations_denied, &prod.arn)[0];
    assert_eq!(listing.details["api"], "pod-identity-associations");
    assert_eq!(
        listing.details["operation"],
        "eks:ListPodIdentityAssociations"
    );
    assert!(
        listing.message.contains(
            "Allow eks:ListPodIdentityAssociations and eks:DescribePodIdentityAssociation"
        ),
        "{}",
        listing.message
    );
    assert_ne!(listing.id, denied.id, "the two reads are two findings");

    lab.shim.fail_pod_identity(None);
    let granted = lab.run(&config).await;
    let mut expected = vec![restart, role_missing, sa_missing];
    expected.sort();
    assert_eq!(rows(&granted), expected, "{:#?}", granted.findings);
    let reads = granted.clusters[0].kubernetes.clone().expect("read");
    assert_eq!(
        (
            reads.service_accounts,
            reads.pods,
            reads.pod_identity_associations
        ),
        (1, 1, 1)
    );
    assert_eq!(reads.error, None);
}

/// The clusters of the next test: four that cannot be read, each its own way, and one that can.
struct Broken {
    down: LabCluster,
    denied: LabCluster,
    slow: LabCluster,
    huge: LabCluster,
    healthy: LabCluster,
}

async fn broken_clusters(lab: &Lab) -> Broken {
    let one = || vec![service_account("ns", "sa", None)];
    let down = lab.cluster("down", REGION, one(), vec![]).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    lab.shim
        .set_cluster("down", &format!("https://{closed}"), &down.api.ca_data());
    let denied = lab.cluster("denied", REGION, one(), vec![]).await;
    denied.api.set_allowed(vec![]);
    let slow = lab.cluster("slow", REGION, one(), vec![]).await;
    slow.api.set_delay(Duration::from_secs(6));
    let huge = lab.cluster("huge", REGION, one(), vec![]).await;
    huge.api.set_oversized(Some(Oversize::Streamed(PAGE_BYTES)));
    let healthy = cluster_with_a_stale_pod(lab, "healthy").await;
    lab.role("cart", &healthy.trusts("shop", "cart")).await;
    Broken {
        down,
        denied,
        slow,
        huge,
        healthy,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_forbidden_slow_and_oversized_apis_are_one_finding_each_and_the_run_goes_on() {
    let lab = Lab::start().await;
    let broken = broken_clusters(&lab).await;
    let vars = lab.cli_env(REGION, &[("PROBE_TIMEOUT_SECS", "2")]);

    let started = Instant::now();
    let (code, stdout, stderr) = cli(&vars, &["sweep", "--json"]).await;
    let elapsed = started.elapsed();
    let report: Report =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    assert_eq!(code, 0, "warnings only: exit 0\n{stderr}");
    assert!(
        elapsed < Duration::from_secs(30),
        "the slow API is bounded by PROBE_TIMEOUT_SECS: {elapsed:?}"
    );

    let mut expected = vec![
        row(FindingCode::ClusterApiUnreachable, &broken.down.arn, "", ""),
        row(
            FindingCode::ClusterApiUnreachable,
            &broken.denied.arn,
            "",
            "",
        ),
        row(FindingCode::ClusterApiUnreachable, &broken.slow.arn, "", ""),
        row(FindingCode::ClusterApiUnreachable, &broken.huge.arn, "", ""),
        row(
            FindingCode::PodNeedsRestart,
            &broken.healthy.arn,
            "shop",
            "cart-1",
        ),
    ];
    expected.sort();
    // The cluster ARNs are not in the JSON's cluster entries, but the findings name them.
    assert_eq!(rows(&report), expected, "{:#?}", report.findings);
    let why = |cluster: &LabCluster| -> String {
        let found = unreachable(&report, &cluster.arn);
        assert_eq!(found.len(), 1, "{found:#?}");
        found[0].message.clone()
    };
    let down = why(&broken.down);
    assert!(
        down.contains("the endpoint could not be reached") && down.contains("probably private"),
        "{down}"
    );
    let denied = why(&broken.denied);
    assert!(
        denied.contains("HTTP 403") && denied.contains("AmazonEKSViewPolicy"),
        "{denied}"
    );
    let slow = why(&broken.slow);
    assert!(
        slow.contains("the API did not answer in time")
            && slow.contains("raise PROBE_TIMEOUT_SECS"),
        "{slow}"
    );
    let huge = why(&broken.huge);
    assert!(
        huge.contains(&format!("an API answer exceeded {PAGE_BYTES} bytes")),
        "{huge}"
    );
    let entries: Vec<(String, Value)> = report
        .clusters
        .iter()
        .map(|c| {
            let reads = c.kubernetes.as_ref().expect("the checks ran");
            (
                c.name.clone(),
                json!([reads.service_accounts, reads.pods, reads.error.is_some()]),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            ("denied".to_string(), json!([0, 0, true])),
            ("down".to_string(), json!([0, 0, true])),
            ("healthy".to_string(), json!([1, 1, false])),
            ("huge".to_string(), json!([0, 0, true])),
            ("slow".to_string(), json!([0, 0, true])),
        ]
    );
    assert_eq!(broken.slow.api.count("/api/v1/serviceaccounts", 200), 0);

    // A rotated issuer in the same run: its critical mismatch is there, the clusters' findings
    // are the same, and the exit code is 1.
    let old = lab.env.ca.chain(ChainSpec::default());
    let (issuer, provider) = lab
        .env
        .issuer(&old, "ROTATED", &[&old.top_sha1()], &[])
        .await;
    issuer.rotate(lab.env.ca.chain(ChainSpec::default()));
    let (code, stdout, stderr) = cli(&vars, &["sweep", "--json"]).await;
    let with_issuer: Report =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    assert_eq!(code, 1, "a critical finding: exit 1\n{stderr}");
    assert_eq!(rows(&with_issuer), expected);
    let mismatches: Vec<_> = with_issuer
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::ThumbprintMismatch)
        .map(|f| f.resource.as_str())
        .collect();
    assert_eq!(mismatches, [provider.as_str()]);
    assert_eq!(
        in_cluster(&with_issuer).len(),
        5,
        "nothing else about the clusters"
    );
}
