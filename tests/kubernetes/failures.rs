//! Each way a cluster's API cannot be read gives its own `ApiFailure`, within the bounds.

use std::time::{Duration, Instant};

use crate::support::certs::TestCa;
use crate::support::kube_api::{service_account, Oversize};
use crate::{Lab, ACCOUNT, CLUSTER, DEFAULT_CALLER};
use base64::Engine as _;
use thumbprint_guard::kubernetes::{ApiFailure, ReadLimits};

fn one_account() -> Vec<serde_json::Value> {
    vec![service_account("payments", "api", None)]
}

#[tokio::test]
async fn a_token_signed_for_another_cluster_is_refused() {
    let lab = Lab::start(one_account(), vec![]).await;
    // `staging` is described with prod's API: the token names staging, the API is prod's.
    lab.create_cluster("staging").await;
    lab.shim
        .set_cluster("staging", &lab.api.endpoint(), &lab.api.ca_data());
    let read = lab
        .read_as(
            &lab.sdk,
            "staging",
            &ReadLimits::new(Duration::from_secs(5)),
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(read.api, Err(ApiFailure::Unauthorized));
    // Both lists are read at once and the first refusal ends the read: either may be refused.
    assert!(
        lab.api.count("/api/v1/serviceaccounts", 401) + lab.api.count("/api/v1/pods", 401) >= 1
    );
    assert!(lab.api.callers().is_empty(), "STS never named a caller");

    // The same API with the right name lets the same credentials in.
    assert!(lab.read().await.api.is_ok());
    assert_eq!(
        lab.api.callers().first().map(String::as_str),
        Some(DEFAULT_CALLER)
    );
}

#[tokio::test]
async fn a_token_older_than_sixty_seconds_is_refused() {
    let lab = Lab::start(one_account(), vec![]).await;
    lab.api.set_clock_offset(Duration::from_secs(90));
    assert_eq!(lab.read().await.api, Err(ApiFailure::Unauthorized));
    // Within its 60 seconds, the same token is good.
    lab.api.set_clock_offset(Duration::from_secs(30));
    assert!(lab.read().await.api.is_ok());
}

#[tokio::test]
async fn a_caller_without_access_entry_is_forbidden_with_the_api_message() {
    let lab = Lab::start(one_account(), vec![]).await;
    let iam = aws_sdk_iam::Client::new(&lab.moto.sdk_config(crate::REGION).await);
    iam.create_user()
        .user_name("intruder")
        .send()
        .await
        .expect("CreateUser");
    let key = iam
        .create_access_key()
        .user_name("intruder")
        .send()
        .await
        .expect("CreateAccessKey")
        .access_key
        .expect("a key");
    lab.api
        .add_credentials(&key.access_key_id, &key.secret_access_key);
    let sdk = Lab::sdk(&lab.shim, &key.access_key_id, &key.secret_access_key).await;
    let read = lab
        .read_as(
            &sdk,
            CLUSTER,
            &ReadLimits::new(Duration::from_secs(5)),
            Duration::from_secs(60),
        )
        .await;
    let intruder = format!("arn:aws:iam::{ACCOUNT}:user/intruder");
    match read.api {
        Err(ApiFailure::Forbidden(message)) => {
            assert!(
                message.contains(&format!(
                    "is forbidden: User \"{intruder}\" cannot list resource"
                )),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(lab.api.callers().first(), Some(&intruder));
}

#[tokio::test]
async fn an_assumed_role_session_gets_in_by_its_role() {
    let lab = Lab::start(one_account(), vec![]).await;
    let credentials = aws_sdk_sts::Client::new(&lab.moto.sdk_config(crate::REGION).await)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/cluster-viewer"))
        .role_session_name("thumbprint-guard")
        .send()
        .await
        .expect("AssumeRole")
        .credentials
        .expect("credentials");
    lab.api
        .add_credentials(&credentials.access_key_id, &credentials.secret_access_key);
    lab.api
        .set_allowed(vec![format!("arn:aws:iam::{ACCOUNT}:role/cluster-viewer")]);
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(crate::REGION))
        .endpoint_url(&lab.shim.endpoint)
        .credentials_provider(aws_sdk_eks::config::Credentials::new(
            credentials.access_key_id.clone(),
            credentials.secret_access_key.clone(),
            Some(credentials.session_token.clone()),
            None,
            "assumed",
        ))
        .load()
        .await;
    let read = lab
        .read_as(
            &sdk,
            CLUSTER,
            &ReadLimits::new(Duration::from_secs(5)),
            Duration::from_secs(60),
        )
        .await;
    assert!(read.api.is_ok(), "{:?}", read.api);
    assert_eq!(
        lab.api.callers().first().map(String::as_str),
        Some("arn:aws:sts::123456789012:assumed-role/cluster-viewer/thumbprint-guard")
    );
    // The default caller has no access entry any more.
    assert!(matches!(
        lab.read().await.api,
        Err(ApiFailure::Forbidden(_))
    ));
}

#[tokio::test]
async fn an_api_that_is_down_is_unreachable() {
    let lab = Lab::start(one_account(), vec![]).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    lab.shim
        .set_cluster(CLUSTER, &format!("https://{closed}"), &lab.api.ca_data());
    match lab.read().await.api {
        Err(ApiFailure::Unreachable(message)) => {
            assert!(message.contains(&closed.to_string()), "{message}");
            assert!(message.contains("VPC"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_slow_page_times_out_within_the_page_bound() {
    let lab = Lab::start(one_account(), vec![]).await;
    lab.api.set_delay(Duration::from_secs(4));
    let started = Instant::now();
    let read = lab
        .read_as(
            &lab.sdk,
            CLUSTER,
            &ReadLimits::new(Duration::from_secs(1)),
            Duration::from_secs(60),
        )
        .await;
    let elapsed = started.elapsed();
    match read.api {
        Err(ApiFailure::Timeout(message)) => {
            assert!(message.contains("took longer than 1s"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[tokio::test]
async fn the_runs_deadline_cuts_a_read_short() {
    let lab = Lab::start(one_account(), vec![]).await;
    lab.api.set_delay(Duration::from_secs(4));
    let started = Instant::now();
    let read = lab
        .read_as(
            &lab.sdk,
            CLUSTER,
            &ReadLimits::new(Duration::from_secs(30)),
            Duration::from_secs(2),
        )
        .await;
    let elapsed = started.elapsed();
    match read.api {
        Err(ApiFailure::Timeout(message)) => assert!(message.contains("deadline"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[tokio::test]
async fn an_oversized_page_is_refused_whether_declared_or_streamed() {
    let lab = Lab::start(one_account(), vec![]).await;
    let limits = ReadLimits {
        page_size_cap: 1024 * 1024,
        ..ReadLimits::new(Duration::from_secs(5))
    };
    for oversize in [
        Oversize::Declared(2 * 1024 * 1024),
        Oversize::Streamed(2 * 1024 * 1024),
    ] {
        lab.api.set_oversized(Some(oversize));
        let read = lab
            .read_as(&lab.sdk, CLUSTER, &limits, Duration::from_secs(60))
            .await;
        assert_eq!(
            read.api,
            Err(ApiFailure::TooLarge(1024 * 1024)),
            "{oversize:?}"
        );
    }
    // Under the cap, the same padded page is read.
    lab.api.set_oversized(Some(Oversize::Declared(1000)));
    let read = lab
        .read_as(&lab.sdk, CLUSTER, &limits, Duration::from_secs(60))
        .await;
    assert_eq!(read.api.expect("read").service_accounts.len(), 1);
}

#[tokio::test]
async fn a_chain_from_another_ca_fails_tls() {
    let lab = Lab::start(one_account(), vec![]).await;
    let other = TestCa::new("not the cluster's");
    let other_data = base64::engine::general_purpose::STANDARD.encode(other.pem());
    lab.shim
        .set_cluster(CLUSTER, &lab.api.endpoint(), &other_data);
    match lab.read().await.api {
        Err(ApiFailure::Tls(message)) => {
            assert!(
                message.contains("does not verify against the cluster's CA"),
                "{message}"
            );
            assert!(message.contains("UnknownIssuer"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        lab.api.tokens().is_empty(),
        "no token was sent to an unverified server"
    );
}

#[tokio::test]
async fn a_cluster_eks_does_not_know_is_a_describe_failure() {
    let lab = Lab::start(one_account(), vec![]).await;
    let read = lab
        .read_as(
            &lab.sdk,
            "ghost",
            &ReadLimits::new(Duration::from_secs(5)),
            Duration::from_secs(60),
        )
        .await;
    match read.api {
        Err(ApiFailure::Describe(message)) => {
            assert!(message.contains("eks:DescribeCluster"), "{message}");
            assert!(message.contains("ResourceNotFoundException"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
