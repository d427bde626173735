//! What a cluster whose API lets the caller in gives: every service account and pod, over
//! as many pages as it takes, and the Pod Identity associations.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::support::eks_shim::{Association, EksFailure};
use crate::support::kube_api::{pod, service_account};
use crate::{Lab, CLUSTER, DEFAULT_CALLER};
use thumbprint_guard::aws::AwsFailure;
use thumbprint_guard::kubernetes::{
    ContainerEnv, Pod, PodIdentityAssociation, ReadLimits, ServiceAccount,
};

const ROLE: &str = "arn:aws:iam::123456789012:role/payments-api";

#[tokio::test]
async fn the_token_is_accepted_end_to_end_and_everything_is_read() {
    let lab = Lab::start(
        vec![
            service_account("payments", "api", Some(ROLE)),
            service_account("payments", "default", None),
            service_account("kube-system", "aws-node", None),
        ],
        vec![
            pod(
                "payments",
                "api-7d9",
                Some("api"),
                &[
                    ("AWS_ROLE_ARN", ROLE),
                    (
                        "AWS_WEB_IDENTITY_TOKEN_FILE",
                        "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
                    ),
                ],
                "Running",
            ),
            pod("payments", "old-1", None, &[], "Pending"),
        ],
    )
    .await;
    lab.associate(vec![
        Association::new(
            "a-2",
            "payments",
            "api",
            "arn:aws:iam::123456789012:role/pi",
        ),
        Association::new("a-1", "batch", "worker", "arn:aws:iam::123456789012:role/w"),
        Association::new(
            "a-3",
            "payments",
            "cron",
            "arn:aws:iam::123456789012:role/c",
        ),
    ]);

    let read = lab.read().await;

    let objects = read.api.as_ref().expect("the API was read");
    assert_eq!(
        objects.service_accounts,
        [
            ServiceAccount {
                namespace: "payments".into(),
                name: "api".into(),
                role_arn: Some(ROLE.into()),
            },
            ServiceAccount {
                namespace: "payments".into(),
                name: "default".into(),
                role_arn: None,
            },
            ServiceAccount {
                namespace: "kube-system".into(),
                name: "aws-node".into(),
                role_arn: None,
            },
        ]
    );
    assert_eq!(
        objects.pods,
        [
            Pod {
                namespace: "payments".into(),
                name: "api-7d9".into(),
                service_account: "api".into(),
                running: true,
                containers: vec![ContainerEnv {
                    name: "app".into(),
                    role_arn: Some(ROLE.into()),
                    web_identity_token_file: true,
                    region: false,
                }],
            },
            Pod {
                namespace: "payments".into(),
                name: "old-1".into(),
                service_account: "default".into(),
                running: false,
                containers: vec![ContainerEnv {
                    name: "app".into(),
                    ..ContainerEnv::default()
                }],
            },
        ]
    );
    let associations = read.associations.as_ref().expect("associations read");
    let ids: Vec<(&str, &str, &str)> = associations
        .iter()
        .map(|a| {
            (
                a.namespace.as_str(),
                a.service_account.as_str(),
                a.association_id.as_str(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("batch", "worker", "a-1"),
            ("payments", "api", "a-2"),
            ("payments", "cron", "a-3")
        ]
    );
    assert_eq!(
        associations[1],
        PodIdentityAssociation {
            association_id: "a-2".into(),
            namespace: "payments".into(),
            service_account: "api".into(),
            role_arn: "arn:aws:iam::123456789012:role/pi".into(),
        }
    );
    // The shim pages associations two at a time: two list calls, one description each.
    assert_eq!(lab.shim.count("eks:ListPodIdentityAssociations"), 2);
    assert_eq!(lab.shim.count("eks:DescribePodIdentityAssociation"), 3);
    assert_eq!(lab.shim.count("eks:DescribeCluster"), 1);

    // Each list was one page, each request carried a token that STS (moto) resolved to the caller.
    assert_eq!(lab.api.count("/api/v1/serviceaccounts", 200), 1);
    assert_eq!(lab.api.count("/api/v1/pods", 200), 1);
    assert_eq!(lab.api.tokens().len(), 2);
    assert_eq!(lab.api.callers(), [DEFAULT_CALLER, DEFAULT_CALLER]);
    for served in lab.api.served() {
        assert!(served.query.contains("limit=250"), "{served:?}");
    }
    assert_eq!(read.cluster.name, CLUSTER);
}

#[tokio::test]
async fn five_thousand_service_accounts_are_read_over_twenty_pages() {
    let accounts: Vec<_> = (0..5_000)
        .map(|i| {
            let role = format!("arn:aws:iam::123456789012:role/r{i}");
            service_account(
                &format!("ns-{}", i % 37),
                &format!("sa-{i:04}"),
                (i % 3 == 0).then_some(role.as_str()),
            )
        })
        .collect();
    let pods: Vec<_> = (0..600)
        .map(|i| pod("ns-0", &format!("p-{i}"), Some("sa-0000"), &[], "Running"))
        .collect();
    let lab = Lab::start(accounts, pods).await;

    let started = Instant::now();
    let read = lab.read().await;
    let elapsed = started.elapsed();

    let objects = read.api.expect("the API was read");
    assert_eq!(objects.service_accounts.len(), 5_000);
    let names: BTreeSet<&str> = objects
        .service_accounts
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names.len(), 5_000, "no page read twice, none skipped");
    assert_eq!(
        objects
            .service_accounts
            .iter()
            .filter(|a| a.role_arn.is_some())
            .count(),
        1_667
    );
    assert_eq!(objects.service_accounts[4_999].name, "sa-4999");
    assert_eq!(objects.pods.len(), 600);
    assert_eq!(lab.api.count("/api/v1/serviceaccounts", 200), 20);
    assert_eq!(lab.api.count("/api/v1/pods", 200), 3);
    let continued = lab
        .api
        .served()
        .iter()
        .filter(|s| s.path == "/api/v1/serviceaccounts" && s.query.contains("continue="))
        .count();
    assert_eq!(
        continued, 19,
        "every page after the first follows `continue`"
    );
    assert_eq!(lab.api.tokens().len(), 23, "a token on every request");
    println!(
        "5,000 service accounts and 600 pods over 23 pages in {elapsed:?} ({:?} per 1,000 service accounts, fake API and moto STS on loopback)",
        elapsed / 5
    );
}

#[tokio::test]
async fn the_page_size_asked_for_is_the_limit() {
    let accounts: Vec<_> = (0..10)
        .map(|i| service_account("ns", &format!("sa-{i}"), None))
        .collect();
    let lab = Lab::start(accounts, vec![]).await;
    let limits = ReadLimits {
        page_limit: 3,
        ..ReadLimits::new(Duration::from_secs(5))
    };
    let read = lab
        .read_as(&lab.sdk, CLUSTER, &limits, Duration::from_secs(60))
        .await;
    assert_eq!(read.api.expect("read").service_accounts.len(), 10);
    assert_eq!(lab.api.count("/api/v1/serviceaccounts", 200), 4);
}

#[tokio::test]
async fn denied_pod_identity_does_not_stop_the_api_read() {
    let lab = Lab::start(vec![service_account("ns", "a", None)], vec![]).await;
    lab.shim.fail_pod_identity(Some(EksFailure {
        status: 403,
        kind: "AccessDeniedException".into(),
        message: "User is not authorized to perform: eks:ListPodIdentityAssociations".into(),
    }));
    let read = lab.read().await;
    assert_eq!(
        read.api.expect("the API was read").service_accounts.len(),
        1
    );
    let error = read
        .associations
        .expect_err("the associations could not be read");
    assert!(error.is_access_denied(), "{error:?}");
    assert_eq!(error.failure, AwsFailure::Service);
    assert_eq!(error.operation, "ListPodIdentityAssociations");
}
