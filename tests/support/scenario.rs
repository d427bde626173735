//! The scenario `make demo` and `make test-lambda` run: one healthy issuer and one whose chain
//! rotated away from the configured thumbprint, both registered in moto, and an SNS topic.

use super::issuer::{ChainSpec, IssuerServer, ServedChain, TestCa, TrustFile};
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
