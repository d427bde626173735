//! The moto account the sweeps run in, the request signing moto needs, and reading a report.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::json;
use thumbprint_guard::aws::AwsClients;
use thumbprint_guard::config::{Config, EksRegions, HostGlobs, NotifyRule, RemediationMode};
use thumbprint_guard::notify::{self, NotifyOutcome, RunNotes};
use thumbprint_guard::probe::ProbeContext;
use thumbprint_guard::report::{FindingCode, RemediationOutcome, Report, RunReport};
use thumbprint_guard::sweep;
use thumbprint_guard::sweep::SharedProbes;

use crate::support::env::{create_cluster, create_user, AccessKey, REGION, STS};
use crate::support::issuer::{probe_config, ChainSpec, IssuerServer, TestCa, TrustFile};
use crate::support::moto::{self, Moto};
use crate::WRITE_ACTIONS;

/// moto with a healthy and a rotated local issuer registered as OIDC providers, an EKS cluster, a
/// topic, an administrator for the test's own reads, and users created before enforcement is on.
pub struct Account {
    pub moto: Moto,
    pub _servers: Vec<IssuerServer>,
    pub trust: TrustFile,
    pub admin: AccessKey,
    pub topic_arn: String,
    pub cluster_arn: String,
    pub healthy: String,
    pub rotated: String,
    pub rotated_old: String,
    pub rotated_new: String,
}

/// Adds `x-amz-content-sha256` (the body's SHA-256) before signing, so that moto verifies the
/// signature against the body as sent rather than its own re-encoding (see the module comment).
#[derive(Debug)]
pub struct SignPayloadHash;

impl Intercept for SignPayloadHash {
    fn name(&self) -> &'static str {
        "SignPayloadHash"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let hash = sha256_hex(request.body().bytes().unwrap_or_default());
        request.headers_mut().insert("x-amz-content-sha256", hash);
        Ok(())
    }
}

/// Lowercase hex SHA-256, with the hash of aws-lc-rs as rustls exposes it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let suite = provider
        .cipher_suites
        .iter()
        .filter_map(|suite| suite.tls13())
        .find(|suite| suite.common.suite == rustls::CipherSuite::TLS13_AES_128_GCM_SHA256)
        .expect("aws-lc-rs offers TLS13_AES_128_GCM_SHA256");
    hex::encode(suite.common.hash_provider.hash(bytes).as_ref())
}

impl Account {
    pub async fn new() -> Account {
        let moto = Moto::start().await;
        let setup = moto.sdk_config(REGION).await;
        let iam = aws_sdk_iam::Client::new(&setup);
        let ca = TestCa::new("permissions");
        let trust = TrustFile::new(&[&ca]);

        let healthy_chain = ca.chain(ChainSpec::default());
        let healthy_server = IssuerServer::start(healthy_chain.clone()).await;
        let healthy = moto::create_provider(
            &iam,
            &healthy_server.issuer_url("/id/HEALTHY"),
            &[STS],
            &[&healthy_chain.top_sha1()],
            &[],
        )
        .await;
        let old = ca.chain(ChainSpec::default());
        let rotated_server = IssuerServer::start(old.clone()).await;
        let rotated = moto::create_provider(
            &iam,
            &rotated_server.issuer_url("/id/ROTATED"),
            &[STS],
            &[&old.top_sha1()],
            &[],
        )
        .await;
        let new = ca.chain(ChainSpec::default());
        rotated_server.rotate(new.clone());

        let eks = aws_sdk_eks::Client::new(&setup);
        let cluster_arn = create_cluster(&eks).await;
        let topic_arn = aws_sdk_sns::Client::new(&setup)
            .create_topic()
            .name("thumbprint-guard")
            .send()
            .await
            .expect("CreateTopic")
            .topic_arn
            .expect("topic ARN");
        let admin = create_user(
            &iam,
            "admin",
            &json!({
                "Version": "2012-10-17",
                "Statement": [{ "Effect": "Allow", "Action": "*", "Resource": "*" }]
            }),
        )
        .await;
        Account {
            moto,
            _servers: vec![healthy_server, rotated_server],
            trust,
            admin,
            topic_arn,
            cluster_arn,
            healthy,
            rotated,
            rotated_old: old.top_sha1(),
            rotated_new: new.top_sha1(),
        }
    }

    /// The IAM client of the setup credentials (valid until enforcement is turned on).
    pub async fn setup_iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.moto.sdk_config(REGION).await)
    }

    pub async fn admin_iam(&self) -> aws_sdk_iam::Client {
        let sdk = self
            .moto
            .sdk_config_with(REGION, &self.admin.key, &self.admin.secret)
            .await;
        aws_sdk_iam::Client::new(&sdk)
    }

    /// The configuration of the function as the template sets it, pointed at the local issuers;
    /// no EKS cross-check (moto cannot authenticate EKS requests, see the module comment).
    pub fn config(&self, mode: RemediationMode) -> Config {
        Config {
            remediation_mode: mode,
            remediation_allowed_hosts: HostGlobs::parse("127.0.0.1").expect("glob"),
            sns_topic_arn: Some(self.topic_arn.clone()),
            notify: NotifyRule::Always,
            eks_regions: EksRegions::Disabled,
            audit_trust_policies: true,
            ..probe_config(&self.trust)
        }
    }

    /// One sweep and its notification, as the Lambda handler runs them, under `user`'s key.
    pub async fn sweep_as(
        &self,
        user: &AccessKey,
        mode: RemediationMode,
    ) -> (Result<Report, String>, Result<NotifyOutcome, String>) {
        let config = self.config(mode);
        let sdk = self
            .moto
            .sdk_config_with(REGION, &user.key, &user.secret)
            .await;
        let mut aws = AwsClients::new(&sdk, &config);
        aws.sns = aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::config::Builder::from(&sdk)
                .interceptor(SignPayloadHash)
                .build(),
        );
        aws.iam = aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&sdk)
                .interceptor(SignPayloadHash)
                .build(),
        );
        let ctx = ProbeContext::new(&config).expect("probe context");
        let report = sweep::run(
            &aws,
            &ctx,
            &config,
            &SharedProbes::default(),
            time::OffsetDateTime::now_utc(),
            None,
            &|_| {},
        )
        .await
        .map(|swept| swept.report)
        .map_err(|e| e.to_string());
        let published = match &report {
            Ok(report) => notify::publish_run(
                &aws.sns,
                &config,
                &RunReport::Account(report.clone()),
                &RunNotes::default(),
            )
            .await
            .map_err(|e| e.to_string()),
            Err(_) => Err("no report to publish".to_string()),
        };
        (report, published)
    }

    /// How many notifications moto holds for the topic.
    pub async fn notifications(&self) -> usize {
        self.moto.sent_notifications(&self.topic_arn).await.len()
    }
}

pub fn codes(report: &Report) -> Vec<(FindingCode, String)> {
    report
        .findings
        .iter()
        .map(|f| (f.code, f.resource.clone()))
        .collect()
}

pub fn incomplete(report: &Report) -> Vec<String> {
    report
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::InventoryIncomplete)
        .map(|f| f.message.clone())
        .collect()
}

pub fn outcome_of(report: &Report, arn: &str) -> Option<(RemediationOutcome, String)> {
    report
        .providers
        .iter()
        .find(|p| p.arn == arn)
        .and_then(|p| p.remediation.as_ref())
        .map(|r| (r.outcome, r.reason.clone()))
}

/// The calls a sweep makes and the resource each is authorized on (Service Authorization
/// Reference: the list calls support no resource, the others the provider, cluster or topic).
pub fn calls(account: &Account, mode: &str) -> Vec<(&'static str, String)> {
    let mut calls = vec![
        ("iam:ListOpenIDConnectProviders", "*".to_string()),
        ("iam:GetOpenIDConnectProvider", account.healthy.clone()),
        ("iam:GetOpenIDConnectProvider", account.rotated.clone()),
        ("iam:ListRoles", "*".to_string()),
        ("iam:ListAccountAliases", "*".to_string()),
        ("eks:ListClusters", "*".to_string()),
        ("eks:DescribeCluster", account.cluster_arn.clone()),
        ("sns:Publish", account.topic_arn.clone()),
    ];
    if mode == "add" {
        for action in WRITE_ACTIONS {
            calls.push((action, account.rotated.clone()));
        }
    }
    calls
}
