//! Organization mode end to end against ONE moto server, which serves each assumed member account
//! from its own backend: listing, member roles, per-account sweeps, remediation in the right
//! account only, unreachable members (aws-smithy-mocks for what moto cannot refuse), issuer hosts
//! shared by every account swept one at a time, and the organization report's JSON shape.

#[path = "../support/mod.rs"]
mod support;

mod asff;
mod lambda;
mod listing;
mod reach;
mod shared;

use std::collections::BTreeSet;

use aws_config::SdkConfig;
use serde_json::Value;
use support::issuer::{probe_config, ChainSpec, IssuerServer, TestCa, TrustFile};
use support::moto::{self, Moto, ACCOUNT_ID};
use thumbprint_guard::config::{Config, EksRegions, REMEDIATION_TAG};
use thumbprint_guard::organization::{
    OrganizationClients, OrganizationError, OrganizationSettings,
};
use thumbprint_guard::probe::ProbeContext;
use thumbprint_guard::report::{FindingCode, OrganizationReport, RunReport, Severity};
use thumbprint_guard::run::{self, RunError, Scope, Sinks};

pub(crate) const REGION: &str = "us-east-1";
pub(crate) const STS: &str = "sts.amazonaws.com";
pub(crate) const ROLE: &str = "thumbprint-guard-member";

/// One moto, a trusted CA, the central SDK configuration and a run's configuration (remediation
/// off by default, EKS and role audit off: other tests cover those).
pub(crate) struct Env {
    pub(crate) moto: Moto,
    pub(crate) ca: TestCa,
    _trust: TrustFile,
    pub(crate) sdk: SdkConfig,
    pub(crate) config: Config,
}

impl Env {
    pub(crate) async fn new() -> Env {
        let moto = Moto::start().await;
        let ca = TestCa::new("organization");
        let trust = TrustFile::new(&[&ca]);
        let sdk = moto.sdk_config(REGION).await;
        let config = Config {
            eks_regions: EksRegions::Disabled,
            audit_trust_policies: false,
            ..probe_config(&trust)
        };
        Env {
            moto,
            ca,
            _trust: trust,
            sdk,
            config,
        }
    }

    /// IAM inside `account_id` (moto's default credentials for the central account).
    pub(crate) async fn iam(&self, account_id: &str) -> aws_sdk_iam::Client {
        if account_id == ACCOUNT_ID {
            return aws_sdk_iam::Client::new(&self.sdk);
        }
        aws_sdk_iam::Client::new(&moto::member_sdk_config(&self.moto, REGION, account_id).await)
    }

    /// The variables of an organization run on this moto: the member role, the test CA trusted,
    /// loopback issuers allowed, EKS and the role audit off; then `extra`.
    pub(crate) fn organization_vars(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let trust = self
            .config
            .extra_trust_anchors_pem
            .as_ref()
            .expect("the test CA file")
            .display()
            .to_string();
        [
            ("EKS_REGIONS", "none"),
            ("AUDIT_TRUST_POLICIES", "false"),
            ("ALLOW_PRIVATE_ADDRESSES", "true"),
            ("EXTRA_TRUST_ANCHORS_PEM", trust.as_str()),
            ("ORGANIZATION_ROLE_NAME", ROLE),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    pub(crate) fn clients(&self) -> OrganizationClients {
        OrganizationClients::new(&self.sdk, &self.config)
    }

    pub(crate) async fn run(
        &self,
        clients: &OrganizationClients,
        settings: &OrganizationSettings,
    ) -> Result<OrganizationReport, OrganizationError> {
        let ctx = ProbeContext::new(&self.config).expect("probe context");
        let sinks = Sinks {
            progress: None,
            report: &|_| {},
        };
        let outcome = run::execute(
            Scope::Organization(clients, settings),
            &ctx,
            &self.config,
            time::OffsetDateTime::now_utc(),
            None,
            &sinks,
        )
        .await;
        match outcome {
            Ok(outcome) => Ok(outcome
                .report
                .into_organization()
                .expect("an organization run")),
            Err(RunError::Organization(e)) => Err(e),
            Err(RunError::Inventory(e)) => {
                panic!("an organization run fails on its account list only: {e}")
            }
        }
    }
}

pub(crate) fn settings(accounts: Option<Vec<String>>) -> OrganizationSettings {
    OrganizationSettings {
        role_name: ROLE.into(),
        accounts,
        external_id: None,
        account_concurrency: 2,
    }
}

pub(crate) fn codes(report: &thumbprint_guard::report::Report) -> Vec<FindingCode> {
    report.findings.iter().map(|f| f.code).collect()
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .expect("a JSON object")
        .keys()
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_active_account_is_swept_and_remediation_lands_in_the_right_account() {
    let env = Env::new().await;
    let organization_id = moto::create_organization(&env.sdk).await;
    let healthy_id = moto::create_account(&env.sdk, "healthy").await;
    let rotated_id = moto::create_account(&env.sdk, "rotated").await;
    let add_id = moto::create_account(&env.sdk, "add").await;
    let closed_id = moto::create_account(&env.sdk, "closed").await;
    moto::close_account(&env.sdk, &closed_id).await;

    // healthy: served by the central account and by `healthy` (one probe for both).
    let healthy_chain = env.ca.chain(ChainSpec::default());
    let healthy = IssuerServer::start(healthy_chain.clone()).await;
    let healthy_url = healthy.issuer_url("/id/HEALTHY");
    let healthy_top = healthy_chain.top_sha1();
    for account in [ACCOUNT_ID, healthy_id.as_str()] {
        let iam = env.iam(account).await;
        moto::create_provider(&iam, &healthy_url, &[STS], &[&healthy_top], &[]).await;
    }
    // rotated: configured for the old chain, remediation off.
    let old_chain = env.ca.chain(ChainSpec::default());
    let rotated = IssuerServer::start(old_chain.clone()).await;
    let new_chain = env.ca.chain(ChainSpec::default());
    rotated.rotate(new_chain.clone());
    let rotated_iam = env.iam(&rotated_id).await;
    let rotated_arn = moto::create_provider(
        &rotated_iam,
        &rotated.issuer_url("/id/ROTATED"),
        &[STS],
        &[&old_chain.top_sha1()],
        &[],
    )
    .await;
    // add: the served thumbprint is missing and the provider's tag opts it into `add`.
    let add_chain = env.ca.chain(ChainSpec::default());
    let add_server = IssuerServer::start(add_chain.clone()).await;
    let stale = "0".repeat(40);
    let add_iam = env.iam(&add_id).await;
    let add_arn = moto::create_provider(
        &add_iam,
        &add_server.issuer_url("/id/ADD"),
        &[STS],
        &[&stale],
        &[(REMEDIATION_TAG, "add")],
    )
    .await;

    let report = env.run(&env.clients(), &settings(None)).await.expect("run");

    assert_eq!(
        report.organization_id.as_deref(),
        Some(organization_id.as_str())
    );
    let swept: Vec<&str> = report
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    let mut expected = vec![ACCOUNT_ID, &healthy_id, &rotated_id, &add_id];
    expected.sort();
    assert_eq!(
        swept, expected,
        "every ACTIVE account, the closed one left out"
    );
    assert_eq!(report.summary.accounts, 4);
    assert_eq!(report.summary.accounts_unreachable, 0);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!(report.summary.providers, 4);

    for account in [ACCOUNT_ID, healthy_id.as_str()] {
        let healthy_report = report.account(account).expect("healthy account swept");
        assert!(
            healthy_report.findings.is_empty(),
            "{:?}",
            healthy_report.findings
        );
        assert_eq!(
            healthy_report.providers[0].served_thumbprints,
            vec![healthy_top.clone()]
        );
    }
    let discoveries = healthy
        .requests()
        .iter()
        .filter(|r| r.contains("openid-configuration"))
        .count();
    assert_eq!(
        discoveries, 1,
        "an issuer shared by two accounts is probed once per run"
    );

    let rotated_report = report.account(&rotated_id).expect("rotated swept");
    let mismatch = rotated_report
        .findings
        .iter()
        .find(|f| f.code == FindingCode::ThumbprintMismatch)
        .expect("rotated chain reported");
    assert_eq!(
        mismatch.severity,
        Severity::Critical,
        "private anchor: enforced"
    );
    assert_eq!(mismatch.resource, rotated_arn);
    assert!(mismatch.id.starts_with("tg-"));
    assert_eq!(
        moto::thumbprints(&rotated_iam, &rotated_arn).await,
        vec![old_chain.top_sha1()],
        "remediation off: nothing written in the rotated account"
    );

    let add_report = report.account(&add_id).expect("add account swept");
    assert_eq!(codes(add_report), vec![FindingCode::ThumbprintAdded]);
    assert_eq!(
        moto::thumbprints(&add_iam, &add_arn).await,
        vec![stale.clone(), add_chain.top_sha1()],
        "the addition is in the add account's IAM"
    );
    let central_iam = env.iam(ACCOUNT_ID).await;
    let central_arns: Vec<String> = central_iam
        .list_open_id_connect_providers()
        .send()
        .await
        .expect("list central providers")
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn().map(str::to_string))
        .collect();
    assert_eq!(
        central_arns.len(),
        1,
        "no provider leaked into the central account"
    );
    assert_eq!(report.summary.thumbprints_added, 1);
    assert_eq!((report.summary.critical, report.summary.info), (1, 1));
    assert_eq!(RunReport::Organization(report.clone()).exit_code(), 1);

    // DESIGN's organization report, field for field.
    let json = serde_json::to_value(&report).expect("serializes");
    let top: BTreeSet<String> = [
        "schema_version",
        "organization_id",
        "generated_at",
        "accounts",
        "findings",
        "summary",
    ]
    .map(String::from)
    .into();
    assert_eq!(keys(&json), top);
    assert_eq!(json["schema_version"], 1);
    let summary: BTreeSet<String> = [
        "accounts",
        "accounts_unreachable",
        "providers",
        "clusters",
        "critical",
        "warning",
        "info",
        "thumbprints_added",
    ]
    .map(String::from)
    .into();
    assert_eq!(keys(&json["summary"]), summary);
    let generated_at = json["generated_at"].as_str().expect("a string");
    assert!(
        generated_at.ends_with('Z') && !generated_at.contains('.'),
        "{generated_at}"
    );
    let account_keys = keys(&json["accounts"][0]);
    for key in [
        "schema_version",
        "account_id",
        "providers",
        "findings",
        "summary",
    ] {
        assert!(account_keys.contains(key), "account report has {key}");
    }
    let back: OrganizationReport = serde_json::from_value(json).expect("round trip");
    assert_eq!(back.summary, report.summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_accounts_without_organizations_sweep_exactly_those() {
    let env = Env::new().await;
    let member_id = "210987654321";
    let chain = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    let member_iam = env.iam(member_id).await;
    let arn = moto::create_provider(
        &member_iam,
        &server.issuer_url("/id/LISTED"),
        &[STS],
        &["1".repeat(40).as_str()],
        &[],
    )
    .await;
    let mut listed = settings(Some(vec![member_id.into(), ACCOUNT_ID.into()]));
    listed.external_id = Some("tg-external".into());

    let report = env.run(&env.clients(), &listed).await.expect("run");

    assert_eq!(report.organization_id, None, "Organizations is not in use");
    let swept: Vec<&str> = report
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    assert_eq!(swept, vec![ACCOUNT_ID, member_id]);
    let member = report.account(member_id).expect("member swept");
    assert_eq!(member.providers[0].arn, arn);
    assert!(codes(member).contains(&FindingCode::ThumbprintMismatch));
    assert!(report
        .account(ACCOUNT_ID)
        .expect("own account")
        .providers
        .is_empty());
    let json = serde_json::to_value(&report).expect("serializes");
    assert!(json["organization_id"].is_null());
    assert_eq!(RunReport::Organization(report.clone()).exit_code(), 1);
}
