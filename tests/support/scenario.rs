//! The scenarios `make demo` and `make test-lambda` run: one healthy issuer and one whose chain
//! rotated away from the configured thumbprint, both registered in moto, and an SNS topic; for
//! the demo, an EKS cluster whose service accounts and pods the in-cluster checks read.

use serde_json::json;

use super::eks_shim::EksShim;
use super::issuer::{ChainSpec, IssuerServer, ServedChain, TestCa, TrustFile};
use super::kube_api::{self, FakeKubeApi, KubeApiFixture};
use super::moto::{self, Moto};

/// Two local issuers registered as IAM OIDC providers in moto, and a topic for notifications.
pub struct HealthyAndRotated {
    /// The CA both chains come from.
    pub ca: TestCa,
    /// Its PEM file, for `EXTRA_TRUST_ANCHORS_PEM`.
    pub trust: TrustFile,
    /// The healthy issuer and its chain (configured thumbprint = its top).
    pub healthy: IssuerServer,
    /// The healthy issuer's chain.
    pub healthy_chain: ServedChain,
    /// The rotated issuer: configured with `old_chain`'s thumbprint, serving `new_chain`.
    pub rotated: IssuerServer,
    /// The chain the rotated provider was configured for.
    pub old_chain: ServedChain,
    /// The chain it serves now.
    pub new_chain: ServedChain,
    /// ARN of the healthy provider.
    pub healthy_arn: String,
    /// ARN of the rotated provider.
    pub rotated_arn: String,
    /// ARN of the SNS topic `thumbprint-guard`.
    pub topic_arn: String,
}

impl HealthyAndRotated {
    /// Starts both issuers and registers them (and the topic) in `moto`.
    pub async fn start(moto: &Moto, region: &str) -> Result<Self, String> {
        let ca = TestCa::new("demo");
        let trust = TrustFile::new(&[&ca]);
        let healthy_chain = ca.chain(ChainSpec::default());
        let healthy = IssuerServer::start(healthy_chain.clone()).await;
        let old_chain = ca.chain(ChainSpec::default());
        let rotated = IssuerServer::start(old_chain.clone()).await;
        let new_chain = ca.chain(ChainSpec::default());
        rotated.rotate(new_chain.clone());

        let sdk = moto.sdk_config(region).await;
        let iam = aws_sdk_iam::Client::new(&sdk);
        let sts = ["sts.amazonaws.com"];
        let healthy_url = healthy.issuer_url("/id/HEALTHY");
        let healthy_arn =
            moto::create_provider(&iam, &healthy_url, &sts, &[&healthy_chain.top_sha1()], &[])
                .await;
        let rotated_url = rotated.issuer_url("/id/ROTATED");
        let rotated_arn =
            moto::create_provider(&iam, &rotated_url, &sts, &[&old_chain.top_sha1()], &[]).await;
        let topic_arn = aws_sdk_sns::Client::new(&sdk)
            .create_topic()
            .name("thumbprint-guard")
            .send()
            .await
            .map_err(|e| format!("CreateTopic in moto: {e}"))?
            .topic_arn
            .unwrap_or_default();
        Ok(HealthyAndRotated {
            ca,
            trust,
            healthy,
            healthy_chain,
            rotated,
            old_chain,
            new_chain,
            healthy_arn,
            rotated_arn,
            topic_arn,
        })
    }
}

/// The demo's EKS cluster `prod`, read with the in-cluster checks on: moto's cluster behind an
/// [`EksShim`] that gives it a local issuer (registered as its IAM OIDC provider) and a
/// [`FakeKubeApi`] as its Kubernetes API, serving:
/// - service account `payments/api`, annotated with role `payments-api`, whose trust names
///   namespace `payment` (SERVICE_ACCOUNT_ROLE_UNTRUSTED on the cluster, and
///   TRUST_POLICY_UNKNOWN_SERVICE_ACCOUNT on the role: no `payment/api` in the cluster);
/// - service account `orders/worker`, annotated with role `orders-worker` (trusted as it should
///   be), whose running pod `orders/worker-7c9d4` started before the annotation: no
///   `AWS_ROLE_ARN` in its environment (POD_NEEDS_RESTART);
/// - a pod `payments/api-6d5f7` with the injected variables, and an unannotated service account.
///
/// The CLI reaches AWS through [`MisconfiguredCluster::aws_endpoint`] (the shim forwards every
/// other call to moto). Everything stops when the value drops.
pub struct MisconfiguredCluster {
    /// The shim in front of moto.
    pub shim: EksShim,
    /// The cluster's Kubernetes API.
    pub api: FakeKubeApi,
    /// The cluster's ARN.
    pub cluster_arn: String,
    /// Its IAM OIDC provider's ARN.
    pub provider_arn: String,
    /// The role whose trust names the wrong namespace.
    pub untrusting_role_arn: String,
    /// The role trusted as it should be, whose pod needs a restart.
    pub restart_role_arn: String,
}

impl MisconfiguredCluster {
    /// The cluster's name.
    pub const NAME: &'static str = "prod";

    /// Creates the cluster in `moto`, its provider on `issuer` (path `/id/PROD`, configured with
    /// `thumbprint`), the two roles, and starts the shim and the Kubernetes API.
    pub async fn start(
        moto: &Moto,
        region: &str,
        issuer: &IssuerServer,
        thumbprint: &str,
    ) -> Result<Self, String> {
        let sdk = moto.sdk_config(region).await;
        let role = format!("arn:aws:iam::{}:role/eks-cluster", moto::ACCOUNT_ID);
        let cluster_arn =
            moto::create_eks_cluster(&aws_sdk_eks::Client::new(&sdk), Self::NAME, &role)
                .await?
                .arn
                .unwrap_or_default();
        let iam = aws_sdk_iam::Client::new(&sdk);
        let issuer_url = issuer.issuer_url("/id/PROD");
        let provider_arn = moto::create_provider(
            &iam,
            &issuer_url,
            &["sts.amazonaws.com"],
            &[thumbprint],
            &[],
        )
        .await;
        let path = issuer_url.trim_start_matches("https://");
        let trust = |namespace: &str, name: &str| {
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {
                        format!("{path}:sub"): format!("system:serviceaccount:{namespace}:{name}"),
                        format!("{path}:aud"): "sts.amazonaws.com",
                    }},
                }],
            })
            .to_string()
        };
        let mut role_arns = Vec::new();
        for (role, document) in [
            ("payments-api", trust("payment", "api")),
            ("orders-worker", trust("orders", "worker")),
        ] {
            let created = iam
                .create_role()
                .role_name(role)
                .assume_role_policy_document(document)
                .send()
                .await
                .map_err(|e| format!("CreateRole {role} in moto: {e}"))?;
            role_arns.push(created.role.map(|r| r.arn).unwrap_or_default());
        }
        let [untrusting_role_arn, restart_role_arn] = <[String; 2]>::try_from(role_arns)
            .map_err(|_| "moto created a role count other than two".to_string())?;

        let shim = EksShim::start(&moto.endpoint).await;
        let token_file = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";
        let api = FakeKubeApi::start(KubeApiFixture {
            service_accounts: vec![
                kube_api::service_account("payments", "api", Some(&untrusting_role_arn)),
                kube_api::service_account("payments", "default", None),
                kube_api::service_account("orders", "worker", Some(&restart_role_arn)),
            ],
            pods: vec![
                kube_api::pod(
                    "payments",
                    "api-6d5f7",
                    Some("api"),
                    &[
                        ("AWS_ROLE_ARN", &untrusting_role_arn),
                        ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file),
                    ],
                    "Running",
                ),
                kube_api::pod("orders", "worker-7c9d4", Some("worker"), &[], "Running"),
            ],
            ..KubeApiFixture::new(Self::NAME, &shim.endpoint, &moto.endpoint)
        })
        .await;
        shim.set_cluster(Self::NAME, &api.endpoint(), &api.ca_data());
        shim.set_issuer(Self::NAME, &issuer_url);
        Ok(MisconfiguredCluster {
            shim,
            api,
            cluster_arn,
            provider_arn,
            untrusting_role_arn,
            restart_role_arn,
        })
    }

    /// The `AWS_ENDPOINT_URL` of a run that reads this cluster: the shim.
    pub fn aws_endpoint(&self) -> &str {
        &self.shim.endpoint
    }
}
