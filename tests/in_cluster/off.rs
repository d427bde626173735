//! KUBERNETES_CHECKS off (the default): the clusters are listed as before, nothing of theirs is
//! read, and no in-cluster finding is made, however wrong the clusters are.

use serde_json::Value;
use thumbprint_guard::report::FindingCode;

use crate::support::eks_shim::Association;
use crate::support::env::cli;
use crate::support::kube_api::{pod, service_account};
use crate::{role_arn, Lab, ACCOUNT, IN_CLUSTER, REGION};

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().expect("a code").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_checks_off_no_cluster_is_read_and_no_in_cluster_finding_is_made() {
    let lab = Lab::start().await;
    let mut clusters = Vec::new();
    for name in ["prod", "staging"] {
        let cluster = lab
            .cluster(
                name,
                REGION,
                vec![
                    service_account("payments", "api", Some("not-an-arn")),
                    service_account("payments", "ghost", Some(&role_arn(ACCOUNT, "ghost"))),
                ],
                vec![pod("payments", "api-1", Some("ghost"), &[], "Running")],
            )
            .await;
        lab.shim.set_associations(
            name,
            vec![Association::new(
                "a-1",
                "pi",
                "nosa",
                &role_arn(ACCOUNT, "pi-missing"),
            )],
        );
        clusters.push(cluster);
    }

    for off in [
        lab.cli_env(REGION, &[("KUBERNETES_CHECKS", "off")]),
        lab.cli_env(REGION, &[])
            .into_iter()
            .filter(|(k, _)| k != "KUBERNETES_CHECKS")
            .collect(),
    ] {
        let (code, stdout, stderr) = cli(&off, &["sweep", "--json"]).await;
        assert_eq!(code, 0, "{stderr}");
        let report: Value = serde_json::from_str(&stdout).expect("JSON");
        let entries = report["clusters"].as_array().expect("clusters");
        assert_eq!(entries.len(), 2, "{stdout}");
        for entry in entries {
            assert!(
                entry
                    .as_object()
                    .expect("an object")
                    .contains_key("kubernetes")
                    && entry["kubernetes"].is_null(),
                "{entry}"
            );
        }
        assert_eq!(
            codes(&report),
            ["CLUSTER_WITHOUT_PROVIDER", "CLUSTER_WITHOUT_PROVIDER"],
            "{stdout}"
        );
    }
    assert_eq!(
        lab.shim.count("eks:ListClusters"),
        2,
        "the clusters are listed"
    );
    assert_eq!(lab.shim.count("eks:ListPodIdentityAssociations"), 0);
    assert_eq!(lab.shim.count("eks:DescribePodIdentityAssociation"), 0);
    assert_eq!(
        lab.shim.count("eks:DescribeCluster"),
        4,
        "only the inventory's, once per cluster and run"
    );
    for cluster in &clusters {
        assert_eq!(cluster.api.served(), [], "{}", cluster.name);
        assert_eq!(cluster.api.tokens().len(), 0);
    }

    // The same clusters with the checks on: the fixtures do fire.
    let (code, stdout, stderr) = cli(&lab.cli_env(REGION, &[]), &["sweep", "--json"]).await;
    assert_eq!(code, 1, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON");
    let in_cluster: Vec<String> = codes(&report)
        .into_iter()
        .filter(|c| {
            IN_CLUSTER
                .iter()
                .any(|code: &FindingCode| code.as_str() == c)
        })
        .collect();
    assert_eq!(in_cluster.len(), 10, "{stdout}");
    assert!(lab.shim.count("eks:ListPodIdentityAssociations") >= 2);
    for cluster in &clusters {
        assert_eq!(cluster.api.count("/api/v1/serviceaccounts", 200), 1);
    }
}
