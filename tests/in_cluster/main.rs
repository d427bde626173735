//! The in-cluster checks end to end through the run (`KUBERNETES_CHECKS=on`): moto for IAM, STS and
//! EKS's cluster list, the EKS shim in front of it for what moto cannot answer (each cluster's
//! endpoint and CA, Pod Identity), and one fake Kubernetes API per cluster that authenticates each
//! token the way EKS does (tests/support/kube_api.rs). Runs go through `run::execute` (the library,
//! one account or an organization) and through the CLI binary; the findings are read from the
//! report, and what the reads cost from the fakes' counters.

#[path = "../support/mod.rs"]
mod support;

mod checks;
mod china;
mod failures;
mod lambda;
mod off;
mod organization;
mod outputs;
mod scale;
mod secrets;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use serde_json::{json, Value};
use support::eks_shim::EksShim;
use support::env::Env;
use support::kube_api::{FakeKubeApi, KubeApiFixture};
use support::moto;
use thumbprint_guard::aws::AwsClients;
use thumbprint_guard::config::{Config, EksRegions};
use thumbprint_guard::organization::{OrganizationClients, OrganizationSettings};
use thumbprint_guard::probe::ProbeContext;
use thumbprint_guard::report::{Finding, FindingCode, OrganizationReport, Report};
use thumbprint_guard::run::{self, Scope, Sinks};

/// The region of every cluster but the China one.
pub(crate) const REGION: &str = "us-east-1";
/// moto's account for its default credentials.
pub(crate) const ACCOUNT: &str = moto::ACCOUNT_ID;
/// The role an organization run assumes in each member.
pub(crate) const MEMBER_ROLE: &str = "thumbprint-guard-member";

/// The codes of DESIGN's in-cluster table.
pub(crate) const IN_CLUSTER: [FindingCode; 11] = [
    FindingCode::ClusterApiUnreachable,
    FindingCode::ServiceAccountAnnotationInvalid,
    FindingCode::ServiceAccountRoleMissing,
    FindingCode::ServiceAccountRoleUntrusted,
    FindingCode::PodNeedsRestart,
    FindingCode::PodRegionMissing,
    FindingCode::TrustPolicyUnknownServiceAccount,
    FindingCode::PodIdentityRoleMissing,
    FindingCode::PodIdentityRoleUntrusted,
    FindingCode::PodIdentityServiceAccountMissing,
    FindingCode::ServiceAccountDualIdentity,
];

/// moto (with a trusted CA for local issuers, from [`Env`]) and the EKS shim in front of it.
pub(crate) struct Lab {
    pub env: Env,
    pub shim: EksShim,
    /// The central account's SDK configuration, reaching AWS through the shim.
    pub sdk: SdkConfig,
}

/// One EKS cluster in moto whose API is a [`FakeKubeApi`].
pub(crate) struct LabCluster {
    pub name: String,
    pub arn: String,
    /// The issuer as IAM's provider path (`oidc.eks.REGION.amazonaws.com/id/X`).
    pub path: String,
    pub api: FakeKubeApi,
}

impl LabCluster {
    /// The ARN of the IAM OIDC provider for this cluster's issuer in `account`.
    pub fn provider_in(&self, account: &str) -> String {
        let partition = self.arn.split(':').nth(1).unwrap_or("aws");
        format!("arn:{partition}:iam::{account}:oidc-provider/{}", self.path)
    }

    /// The provider of the cluster's own account.
    pub fn provider(&self) -> String {
        let account = self.arn.split(':').nth(4).unwrap_or_default().to_string();
        self.provider_in(&account)
    }

    /// A trust policy admitting `sub` (under `operator`) with audience `sts.amazonaws.com` from
    /// this cluster's provider in `account`.
    pub fn irsa_trust_in(&self, account: &str, operator: &str, sub: Value) -> Value {
        irsa_trust(&self.provider_in(account), &self.path, operator, sub)
    }

    /// [`LabCluster::irsa_trust_in`] for `system:serviceaccount:NAMESPACE:NAME`, exactly, in the
    /// cluster's own account.
    pub fn trusts(&self, namespace: &str, name: &str) -> Value {
        irsa_trust(
            &self.provider(),
            &self.path,
            "StringEquals",
            json!(format!("system:serviceaccount:{namespace}:{name}")),
        )
    }
}

/// A trust policy with one statement admitting web identities of `provider_arn` whose `PATH:sub`
/// is `sub` and `PATH:aud` is `sts.amazonaws.com`, under `operator`.
pub(crate) fn irsa_trust(provider_arn: &str, path: &str, operator: &str, sub: Value) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Federated": provider_arn },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": { operator: {
                format!("{path}:sub"): sub,
                format!("{path}:aud"): "sts.amazonaws.com",
            }},
        }],
    })
}

/// A trust policy letting EKS Pod Identity call `actions`.
pub(crate) fn pod_identity_trust(actions: &[&str]) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "pods.eks.amazonaws.com" },
            "Action": actions,
        }],
    })
}

/// `arn:aws:iam::ACCOUNT:role/NAME`.
pub(crate) fn role_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

/// The environment the IRSA webhook injects for `role`.
pub(crate) fn injected(role: &str) -> Vec<(&str, &str)> {
    vec![
        ("AWS_ROLE_ARN", role),
        (
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
        ),
    ]
}

impl Lab {
    pub async fn start() -> Lab {
        let env = Env::new("in-cluster").await;
        let shim = EksShim::start(&env.moto.endpoint).await;
        let sdk = sdk_through(&shim.endpoint, "testing", "testing", None).await;
        Lab { env, shim, sdk }
    }

    /// IAM of `account` (moto's default credentials for the central account, an assumed role
    /// for any other).
    pub async fn iam(&self, account: &str) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.account_sdk(account, REGION).await)
    }

    /// SDK configuration acting in `account` in `region`, straight to moto.
    pub async fn account_sdk(&self, account: &str, region: &str) -> SdkConfig {
        if account == ACCOUNT {
            self.env.moto.sdk_config(region).await
        } else {
            moto::member_sdk_config(&self.env.moto, region, account).await
        }
    }

    /// Creates cluster `name` of `region` in the central account, its fake API serving
    /// `service_accounts` and `pods` to moto's default caller, and points the shim at it.
    pub async fn cluster(
        &self,
        name: &str,
        region: &str,
        service_accounts: Vec<Value>,
        pods: Vec<Value>,
    ) -> LabCluster {
        self.cluster_in(ACCOUNT, name, region, service_accounts, pods)
            .await
    }

    /// [`Lab::cluster`] in `account`.
    pub async fn cluster_in(
        &self,
        account: &str,
        name: &str,
        region: &str,
        service_accounts: Vec<Value>,
        pods: Vec<Value>,
    ) -> LabCluster {
        let sdk = self.account_sdk(account, region).await;
        let partition = if region.starts_with("cn-") {
            "aws-cn"
        } else {
            "aws"
        };
        let role = format!("arn:{partition}:iam::{account}:role/eks-cluster");
        let created =
            support::moto::create_eks_cluster(&aws_sdk_eks::Client::new(&sdk), name, &role)
                .await
                .expect("CreateCluster in moto");
        let arn = created.arn.expect("a cluster ARN");
        let issuer = created
            .identity
            .and_then(|i| i.oidc)
            .and_then(|o| o.issuer)
            .expect("moto gives every cluster an issuer");
        let api = FakeKubeApi::start(KubeApiFixture {
            service_accounts,
            pods,
            sessions_from_moto: true,
            ..KubeApiFixture::new(name, &self.shim.endpoint, &self.env.moto.endpoint)
        })
        .await;
        self.shim.set_cluster(name, &api.endpoint(), &api.ca_data());
        LabCluster {
            name: name.to_string(),
            arn,
            path: issuer.trim_start_matches("https://").to_string(),
            api,
        }
    }

    /// Creates role `name` in `account` with `trust` as its trust policy.
    pub async fn role_in(&self, account: &str, name: &str, trust: &Value) -> String {
        self.iam(account)
            .await
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .expect("CreateRole")
            .role
            .expect("a role")
            .arn
    }

    /// [`Lab::role_in`] the central account.
    pub async fn role(&self, name: &str, trust: &Value) -> String {
        self.role_in(ACCOUNT, name, trust).await
    }

    /// Replaces the trust policy of role `name` of `account`.
    pub async fn retrust_in(&self, account: &str, name: &str, trust: &Value) {
        self.iam(account)
            .await
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(trust.to_string())
            .send()
            .await
            .expect("UpdateAssumeRolePolicy");
    }

    /// The configuration of a run with the in-cluster checks on for the clusters of `regions`:
    /// the test CA trusted, loopback allowed, 2-second steps, the trust-policy audit off (its
    /// findings are other tests' business).
    pub fn config(&self, regions: &[&str]) -> Config {
        Config {
            eks_regions: EksRegions::List(regions.iter().map(|r| r.to_string()).collect()),
            kubernetes_checks: true,
            ..self.env.base_config.clone()
        }
    }

    /// One single-account run of `config` with the central credentials, through the shim.
    pub async fn run(&self, config: &Config) -> Report {
        let aws = AwsClients::new(&self.sdk, config);
        let ctx = ProbeContext::new(config).expect("probe context");
        let sinks = Sinks {
            progress: None,
            report: &|_| {},
        };
        Box::pin(run::execute(
            Scope::Account(&aws),
            &ctx,
            config,
            time::OffsetDateTime::now_utc(),
            None,
            &sinks,
        ))
        .await
        .expect("the run runs")
        .report
        .into_account()
        .expect("a single-account run")
    }

    /// One organization run of `config` over `accounts` through [`MEMBER_ROLE`].
    pub async fn run_organization(&self, config: &Config, accounts: &[&str]) -> OrganizationReport {
        let clients = OrganizationClients::new(&self.sdk, config);
        let settings = OrganizationSettings {
            role_name: MEMBER_ROLE.into(),
            accounts: Some(accounts.iter().map(|a| a.to_string()).collect()),
            external_id: None,
            account_concurrency: 2,
        };
        let ctx = ProbeContext::new(config).expect("probe context");
        let sinks = Sinks {
            progress: None,
            report: &|_| {},
        };
        Box::pin(run::execute(
            Scope::Organization(&clients, &settings),
            &ctx,
            config,
            time::OffsetDateTime::now_utc(),
            None,
            &sinks,
        ))
        .await
        .expect("the run runs")
        .report
        .into_organization()
        .expect("an organization run")
    }

    /// The CLI's environment: moto through the shim, the test CA trusted, loopback allowed, the
    /// checks on for `regions`, the trust-policy audit off; then `extra`.
    pub fn cli_env(&self, regions: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = self
            .env
            .cli_env()
            .into_iter()
            .filter(|(k, _)| k != "AWS_ENDPOINT_URL" && k != "EKS_REGIONS")
            .collect();
        for (k, v) in [
            ("AWS_ENDPOINT_URL", self.shim.endpoint.as_str()),
            ("EKS_REGIONS", regions),
            ("KUBERNETES_CHECKS", "on"),
        ]
        .iter()
        .chain(extra)
        {
            vars.retain(|(key, _)| key != k);
            vars.push((k.to_string(), v.to_string()));
        }
        vars
    }
}

/// SDK configuration reaching AWS at `endpoint` with these credentials.
pub(crate) async fn sdk_through(
    endpoint: &str,
    key: &str,
    secret: &str,
    session: Option<String>,
) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_eks::config::Credentials::new(
            key, secret, session, None, "moto",
        ))
        .load()
        .await
}

/// The report's in-cluster findings.
pub(crate) fn in_cluster(report: &Report) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| IN_CLUSTER.contains(&f.code))
        .collect()
}

/// One finding as `(code, resource, details.namespace, details.name)`, for exact comparisons.
pub(crate) fn row(finding: &Finding) -> (FindingCode, String, String, String) {
    let text = |key: &str| {
        finding.details[key]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    (
        finding.code,
        finding.resource.clone(),
        text("namespace"),
        text("name"),
    )
}

/// The report's in-cluster findings as sorted rows.
pub(crate) fn rows(report: &Report) -> Vec<(FindingCode, String, String, String)> {
    let mut rows: Vec<_> = in_cluster(report).into_iter().map(row).collect();
    rows.sort();
    rows
}

/// The finding of `code` about `namespace`/`name`; panics with the report's findings otherwise.
pub(crate) fn finding<'r>(
    report: &'r Report,
    code: FindingCode,
    namespace: &str,
    name: &str,
) -> &'r Finding {
    report
        .findings
        .iter()
        .find(|f| {
            f.code == code && f.details["namespace"] == namespace && f.details["name"] == name
        })
        .unwrap_or_else(|| panic!("no {code} for {namespace}/{name} in {:#?}", report.findings))
}

/// Asserts that `details` holds each `(key, value)` of `expected`.
pub(crate) fn assert_details(finding: &Finding, expected: &[(&str, Value)]) {
    for (key, value) in expected {
        assert_eq!(
            &finding.details[*key], value,
            "{} details.{key}: {:#}",
            finding.code, finding.details
        );
    }
}
