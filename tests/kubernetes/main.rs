//! The in-cluster reads end to end, through `read_cluster`: moto (STS, IAM, EKS clusters) behind
//! the EKS shim (the cluster's endpoint and CA, Pod Identity), and a fake Kubernetes API that
//! authenticates each token the way EKS does (tests/support/kube_api.rs).

#[path = "../support/mod.rs"]
mod support;

mod failures;
mod reads;
mod secrets;

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use serde_json::Value;
use support::eks_shim::{Association, EksShim};
use support::kube_api::{FakeKubeApi, KubeApiFixture};
use support::moto::Moto;
use thumbprint_guard::kubernetes::{
    read_cluster, ClusterRead, ClusterTarget, ReadLimits, TokenSigner,
};

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
/// The cluster every lab serves.
const CLUSTER: &str = "prod";
/// The caller moto names for its default credentials (`testing`).
const DEFAULT_CALLER: &str = support::kube_api::MOTO_DEFAULT_CALLER;

/// moto, the EKS shim in front of it, and one cluster `prod` whose API is a [`FakeKubeApi`]
/// letting in moto's default caller.
struct Lab {
    moto: Moto,
    shim: EksShim,
    api: FakeKubeApi,
    sdk: SdkConfig,
}

impl Lab {
    async fn start(service_accounts: Vec<Value>, pods: Vec<Value>) -> Lab {
        secrets::capture_logs();
        let moto = Moto::start().await;
        let shim = EksShim::start(&moto.endpoint).await;
        let sdk = Lab::sdk(&shim, "testing", "testing").await;
        let lab_api = FakeKubeApi::start(KubeApiFixture {
            service_accounts,
            pods,
            ..KubeApiFixture::new(CLUSTER, &shim.endpoint, &moto.endpoint)
        })
        .await;
        let lab = Lab {
            moto,
            shim,
            api: lab_api,
            sdk,
        };
        lab.create_cluster(CLUSTER).await;
        lab.shim
            .set_cluster(CLUSTER, &lab.api.endpoint(), &lab.api.ca_data());
        lab
    }

    /// SDK configuration reaching AWS through the shim with these credentials.
    async fn sdk(shim: &EksShim, key: &str, secret: &str) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&shim.endpoint)
            .credentials_provider(aws_sdk_eks::config::Credentials::new(
                key, secret, None, None, "moto",
            ))
            .load()
            .await
    }

    /// Creates cluster `name` in moto (DescribeCluster then finds it).
    async fn create_cluster(&self, name: &str) {
        let role = format!("arn:aws:iam::{ACCOUNT}:role/eks-cluster");
        support::moto::create_eks_cluster(&aws_sdk_eks::Client::new(&self.sdk), name, &role)
            .await
            .expect("CreateCluster in moto");
    }

    fn target(name: &str) -> ClusterTarget {
        ClusterTarget {
            name: name.to_string(),
            region: REGION.to_string(),
            arn: format!("arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{name}"),
            issuer_path: None,
        }
    }

    /// `read_cluster` of `name` with `sdk`'s credentials, `limits` and a deadline `within` from now.
    async fn read_as(
        &self,
        sdk: &SdkConfig,
        name: &str,
        limits: &ReadLimits,
        within: Duration,
    ) -> ClusterRead {
        let eks = aws_sdk_eks::Client::new(sdk);
        let signer = TokenSigner::from_sdk(sdk).expect("the SDK has credentials");
        let deadline = tokio::time::Instant::now() + within;
        read_cluster(&eks, &signer, Lab::target(name), limits, deadline).await
    }

    /// `read_cluster` of `prod` with moto's default credentials, 5 s pages, a minute's deadline.
    async fn read(&self) -> ClusterRead {
        self.read_as(
            &self.sdk,
            CLUSTER,
            &ReadLimits::new(Duration::from_secs(5)),
            Duration::from_secs(60),
        )
        .await
    }

    fn associate(&self, associations: Vec<Association>) {
        self.shim.set_associations(CLUSTER, associations);
    }
}
