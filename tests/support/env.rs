//! One end-to-end environment: moto, a trusted test CA, an IAM client, the configuration of a run
//! and the ways to sweep it (library, CLI binary), shared by the sweep, remediation and notify tests.

use serde_json::Value;
use thumbprint_guard::aws::AwsClients;
use thumbprint_guard::config::{Config, EksRegions, HostGlobs, RemediationMode};
use thumbprint_guard::probe::ProbeContext;
use thumbprint_guard::report::Report;
use thumbprint_guard::sweep;
use thumbprint_guard::sweep::SharedProbes;

use super::issuer::{
    pair_addresses, probe_config, IssuerServer, ServedChain, TestCa, TrustFile, PAIR_HOST,
};
use super::moto::{self, Moto};

/// The region every end-to-end test runs in.
pub const REGION: &str = "us-east-1";
/// The audience STS expects on a provider.
pub const STS: &str = "sts.amazonaws.com";

/// A moto, a trusted CA, an IAM client with moto's default credentials, and the base configuration
/// of a run (remediation off, the test CA trusted, loopback allowed, EKS and role audit off).
pub struct Env {
    pub moto: Moto,
    pub ca: TestCa,
    pub trust: TrustFile,
    pub iam: aws_sdk_iam::Client,
    pub base_config: Config,
}

impl Env {
    /// Starts moto and creates a CA named `ca_name`.
    pub async fn new(ca_name: &str) -> Env {
        let moto = Moto::start().await;
        let ca = TestCa::new(ca_name);
        let trust = TrustFile::new(&[&ca]);
        let base_config = Config {
            eks_regions: EksRegions::Disabled,
            audit_trust_policies: false,
            ..probe_config(&trust)
        };
        let iam = aws_sdk_iam::Client::new(&moto.sdk_config(REGION).await);
        Env {
            moto,
            ca,
            trust,
            iam,
            base_config,
        }
    }

    /// The base configuration with remediation `mode` on the `allowed` hosts.
    pub fn config(&self, mode: RemediationMode, allowed: &str) -> Config {
        Config {
            remediation_mode: mode,
            remediation_allowed_hosts: HostGlobs::parse(allowed).expect("valid globs"),
            ..self.base_config.clone()
        }
    }

    /// A sweep under `config` with moto's default credentials.
    pub async fn sweep(&self, config: &Config) -> Report {
        self.sweep_as(config, "testing", "testing").await
    }

    /// A sweep whose probe uses `ctx` (e.g. one with a pinned host).
    pub async fn sweep_with(&self, config: &Config, ctx: &ProbeContext) -> Report {
        let sdk = self.moto.sdk_config(REGION).await;
        let aws = AwsClients::new(&sdk, config);
        sweep::run(
            &aws,
            ctx,
            config,
            &SharedProbes::default(),
            time::OffsetDateTime::now_utc(),
            None,
            &|_| {},
        )
        .await
        .map(|swept| swept.report)
        .expect("sweep runs")
    }

    /// A sweep with the credentials of a moto IAM user.
    pub async fn sweep_as(&self, config: &Config, key: &str, secret: &str) -> Report {
        let sdk = self.moto.sdk_config_with(REGION, key, secret).await;
        let aws = AwsClients::new(&sdk, config);
        let ctx = ProbeContext::new(config).expect("probe context");
        sweep::run(
            &aws,
            &ctx,
            config,
            &SharedProbes::default(),
            time::OffsetDateTime::now_utc(),
            None,
            &|_| {},
        )
        .await
        .map(|swept| swept.report)
        .expect("sweep runs")
    }

    /// A local issuer serving `served`, and a provider for it that holds `configured`.
    pub async fn issuer(
        &self,
        served: &ServedChain,
        id: &str,
        configured: &[&str],
        tags: &[(&str, &str)],
    ) -> (IssuerServer, String) {
        let server = IssuerServer::start(served.clone()).await;
        let arn = moto::create_provider(
            &self.iam,
            &server.issuer_url(&format!("/id/{id}")),
            &[STS],
            configured,
            tags,
        )
        .await;
        (server, arn)
    }

    /// Backends `127.0.0.1:P` serving `first` and `127.0.0.2:P` serving `second` for the one
    /// issuer `https://issuer.test:P/id/PAIR`, a provider for it holding `configured`, and the
    /// configuration and probe context of an `add` run allowed on `issuer.test` with the name
    /// pinned to both backends.
    pub async fn pair(
        &self,
        first: &ServedChain,
        second: &ServedChain,
        configured: &[&str],
    ) -> Pair {
        let (one, two) = IssuerServer::start_pair(PAIR_HOST, first.clone(), second.clone()).await;
        let url = one.issuer_url("/id/PAIR");
        assert_eq!(url, format!("https://{PAIR_HOST}:{}/id/PAIR", one.port()));
        let arn = moto::create_provider(&self.iam, &url, &[STS], configured, &[]).await;
        let config = self.config(RemediationMode::Add, PAIR_HOST);
        let ctx = ProbeContext::new(&config)
            .expect("probe context")
            .with_resolve(PAIR_HOST, pair_addresses())
            .expect("pin issuer.test");
        Pair {
            one,
            two,
            arn,
            config,
            ctx,
        }
    }

    /// The provider's tags as IAM holds them now.
    pub async fn tags(&self, arn: &str) -> Vec<(String, String)> {
        self.iam
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
            .expect("GetOpenIDConnectProvider")
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect()
    }

    /// Environment for the CLI binary: moto, the trust file, loopback issuers allowed.
    pub fn cli_env(&self) -> Vec<(String, String)> {
        let mut env = self.moto.env(REGION);
        for (k, v) in [
            (
                "EXTRA_TRUST_ANCHORS_PEM",
                self.trust.path().to_str().unwrap(),
            ),
            ("ALLOW_PRIVATE_ADDRESSES", "true"),
            ("EKS_REGIONS", "none"),
            ("AUDIT_TRUST_POLICIES", "false"),
            ("PROBE_TIMEOUT_SECS", "2"),
        ] {
            env.push((k.to_string(), v.to_string()));
        }
        env
    }
}

/// Two backends of `issuer.test`, their provider, and how to sweep them (see [`Env::pair`]).
pub struct Pair {
    pub one: IssuerServer,
    pub two: IssuerServer,
    pub arn: String,
    pub config: Config,
    pub ctx: ProbeContext,
}

/// Runs the CLI binary without blocking the runtime that serves the test issuers; returns the exit
/// code, stdout and stderr. Cargo names the binary to integration tests and benches only.
pub async fn cli(env: &[(String, String)], args: &[&str]) -> (i32, String, String) {
    let Some(binary) = option_env!("CARGO_BIN_EXE_thumbprint-guard") else {
        panic!("the CLI binary is built for integration tests and benches only");
    };
    let out = tokio::process::Command::new(binary)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .await
        .expect("run thumbprint-guard");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An access key of a moto IAM user.
pub struct AccessKey {
    pub key: String,
    pub secret: String,
}

/// Creates a moto IAM user with `policy` inline and returns its access key.
pub async fn create_user(iam: &aws_sdk_iam::Client, name: &str, policy: &Value) -> AccessKey {
    iam.create_user()
        .user_name(name)
        .send()
        .await
        .expect("CreateUser");
    iam.put_user_policy()
        .user_name(name)
        .policy_name("policy")
        .policy_document(policy.to_string())
        .send()
        .await
        .expect("PutUserPolicy");
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .expect("CreateAccessKey")
        .access_key
        .expect("access key");
    AccessKey {
        key: key.access_key_id().to_string(),
        secret: key.secret_access_key().to_string(),
    }
}

/// Creates the EKS cluster `prod` in moto and returns its ARN.
pub async fn create_cluster(eks: &aws_sdk_eks::Client) -> String {
    let role = format!("arn:aws:iam::{}:role/eks", moto::ACCOUNT_ID);
    moto::create_eks_cluster(eks, "prod", &role)
        .await
        .expect("CreateCluster")
        .arn
        .expect("cluster ARN")
}
