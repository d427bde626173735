//! End-to-end sweeps against moto server and local TLS issuers: the library, the CLI binary and the
//! Lambda handler fed with `events/*.json`. Thumbprints are cross-checked against SHA-1s computed
//! here from rcgen's DER, never from the probe's output.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use serde_json::Value;
use support::issuer::{probe_config, ChainSpec, IssuerServer, TestCa, TrustFile};
use support::moto::{self, Moto};
use thumbprint_guard::config::{Config, EksRegions};
use thumbprint_guard::handler::{self, Runtime};
use thumbprint_guard::inventory::{self, AwsClients};
use thumbprint_guard::probe::ProbeContext;
use thumbprint_guard::report::{FindingCode, Report, Severity};
use thumbprint_guard::sweep;

const REGION: &str = "us-east-1";
const STS: &str = "sts.amazonaws.com";

/// A moto, a trusted CA and clients, with EKS and role audit off (other tests cover those).
struct Env {
    moto: Moto,
    ca: TestCa,
    trust: TrustFile,
    iam: aws_sdk_iam::Client,
    config: Config,
}

impl Env {
    async fn new() -> Env {
        let moto = Moto::start().await;
        let ca = TestCa::new("sweep");
        let trust = TrustFile::new(&[&ca]);
        let config = Config {
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
            config,
        }
    }

    async fn sweep(&self) -> Report {
        let sdk = self.moto.sdk_config(REGION).await;
        let aws = AwsClients::new(&sdk, &self.config);
        let ctx = ProbeContext::new(&self.config).expect("probe context");
        sweep::run(
            &aws,
            &ctx,
            &self.config,
            time::OffsetDateTime::now_utc(),
            None,
        )
        .await
        .expect("sweep runs")
    }

    /// Environment for the CLI binary: moto, the trust file, loopback issuers allowed.
    fn cli_env(&self) -> Vec<(String, String)> {
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

fn codes_for(report: &Report, arn: &str) -> Vec<(FindingCode, Severity)> {
    report
        .findings
        .iter()
        .filter(|f| f.resource == arn)
        .map(|f| (f.code, f.severity))
        .collect()
}

/// Runs the CLI binary without blocking the runtime that serves the test issuers.
async fn cli(env: &[(String, String)], args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_thumbprint-guard"))
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

#[tokio::test]
async fn healthy_provider_has_no_findings_and_the_served_thumbprint() {
    let env = Env::new().await;
    let chain = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    let url = server.issuer_url("/id/HEALTHY");
    let arn = moto::create_provider(&env.iam, &url, &[STS], &[&chain.top_sha1()], &[]).await;

    let report = env.sweep().await;
    assert_eq!(report.account_id, moto::ACCOUNT_ID);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(report.summary.providers, 1);
    let p = &report.providers[0];
    assert_eq!(p.arn, arn);
    assert_eq!(p.url, url);
    assert_eq!(p.jwks_uri.as_deref(), Some(format!("{url}/keys").as_str()));
    assert_eq!(p.served_thumbprints, [chain.top_sha1()]);
    assert_eq!(p.configured_thumbprints, [chain.top_sha1()]);
    assert!(
        p.thumbprint_enforced,
        "a private CA is not among Mozilla's roots"
    );
    assert_eq!(p.endpoints.len(), 1);
    assert!(p.endpoints[0].trusted);
    assert_eq!(p.endpoints[0].address, server.addr().to_string());
    let served: Vec<String> = p.endpoints[0]
        .chain
        .iter()
        .map(|c| c.sha1.clone())
        .collect();
    assert_eq!(served, chain.sha1s());
    assert!(p.remediation.is_none());
}

#[tokio::test]
async fn rotated_issuer_is_a_critical_mismatch_and_the_cli_exits_1_with_the_fix() {
    let env = Env::new().await;
    let old = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(old.clone()).await;
    let url = server.issuer_url("/id/ROTATED");
    let arn = moto::create_provider(&env.iam, &url, &[STS], &[&old.top_sha1()], &[]).await;
    let new = env.ca.chain(ChainSpec::default());
    assert_ne!(new.top_sha1(), old.top_sha1());
    server.rotate(new.clone());

    let report = env.sweep().await;
    assert_eq!(
        codes_for(&report, &arn),
        [(FindingCode::ThumbprintMismatch, Severity::Critical)]
    );
    assert_eq!(report.findings[0].details["thumbprint"], new.top_sha1());
    assert_eq!(report.providers[0].served_thumbprints, [new.top_sha1()]);
    // Nothing was written: remediation is off by default.
    assert_eq!(moto::thumbprints(&env.iam, &arn).await, [old.top_sha1()]);

    let (code, stdout, stderr) = cli(&env.cli_env(), &["sweep"]).await;
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("THUMBPRINT_MISMATCH"), "{stdout}");
    let fix = format!(
        "aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn {arn} --thumbprint-list {} {}",
        old.top_sha1(),
        new.top_sha1()
    );
    assert!(
        stdout.contains(&fix),
        "expected the exact fix `{fix}` in:\n{stdout}"
    );

    let (code, stdout, _) = cli(&env.cli_env(), &["sweep", "--json"]).await;
    assert_eq!(code, 1);
    let json: Report = serde_json::from_str(&stdout).expect("--json prints the report");
    assert_eq!(json.findings[0].code, FindingCode::ThumbprintMismatch);
}

#[tokio::test]
async fn unreachable_issuer_is_isolated_from_a_healthy_one() {
    let env = Env::new().await;
    let chain = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    let healthy = moto::create_provider(
        &env.iam,
        &server.issuer_url("/id/OK"),
        &[STS],
        &[&chain.top_sha1()],
        &[],
    )
    .await;
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead_url = format!("https://127.0.0.1:{closed_port}/id/DEAD");
    let dead = moto::create_provider(&env.iam, &dead_url, &[STS], &[&"0".repeat(40)], &[]).await;

    let report = env.sweep().await;
    assert!(
        codes_for(&report, &healthy).is_empty(),
        "{:#?}",
        report.findings
    );
    let dead_codes = codes_for(&report, &dead);
    assert!(
        dead_codes.contains(&(FindingCode::IssuerUnreachable, Severity::Critical)),
        "{dead_codes:?}"
    );
    assert_eq!(report.summary.providers, 2);
    let healthy_entry = report.providers.iter().find(|p| p.arn == healthy).unwrap();
    assert_eq!(healthy_entry.served_thumbprints, [chain.top_sha1()]);
    let dead_entry = report.providers.iter().find(|p| p.arn == dead).unwrap();
    assert!(dead_entry.served_thumbprints.is_empty());
}

#[tokio::test]
async fn missing_audience_is_a_warning_and_exit_0() {
    let env = Env::new().await;
    let chain = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    let arn = moto::create_provider(
        &env.iam,
        &server.issuer_url("/id/AUD"),
        &["my-app"],
        &[&chain.top_sha1()],
        &[],
    )
    .await;

    let report = env.sweep().await;
    assert_eq!(
        codes_for(&report, &arn),
        [(FindingCode::AudienceMissing, Severity::Warning)]
    );
    let (code, stdout, stderr) = cli(&env.cli_env(), &["sweep"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains(&format!(
        "aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn {arn} --client-id sts.amazonaws.com"
    )), "{stdout}");
}

#[tokio::test]
async fn provider_deleted_between_list_and_read_is_inventory_incomplete() {
    let env = Env::new().await;
    let kept =
        moto::create_provider(&env.iam, "https://127.0.0.1:1/id/KEPT", &[STS], &[], &[]).await;
    let gone =
        moto::create_provider(&env.iam, "https://127.0.0.1:1/id/GONE", &[STS], &[], &[]).await;
    let arns = inventory::list_provider_arns(&env.iam).await.unwrap();
    assert_eq!(arns.len(), 2);
    env.iam
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&gone)
        .send()
        .await
        .unwrap();
    let (providers, problems) = inventory::read_providers(&env.iam, &arns).await;
    assert_eq!(
        providers.iter().map(|p| p.arn.as_str()).collect::<Vec<_>>(),
        [kept.as_str()]
    );
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].code, FindingCode::InventoryIncomplete);
    assert_eq!(problems[0].severity, Severity::Critical);
    assert_eq!(problems[0].resource, gone);
    assert!(
        problems[0].message.contains("GetOpenIDConnectProvider"),
        "{}",
        problems[0].message
    );
}

#[tokio::test]
async fn lambda_handler_runs_the_sample_events() {
    let env = Env::new().await;
    let old = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(old.clone()).await;
    let arn = moto::create_provider(
        &env.iam,
        &server.issuer_url("/id/L"),
        &[STS],
        &[&old.top_sha1()],
        &[],
    )
    .await;
    let new = env.ca.chain(ChainSpec::default());
    server.rotate(new.clone());

    let mut vars: HashMap<String, String> = env
        .cli_env()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("AWS_"))
        .collect();
    vars.insert("REMEDIATION_MODE".into(), "add".into());
    vars.insert("REMEDIATION_ALLOWED_HOSTS".into(), "127.0.0.1".into());
    let base = Runtime::base_config(&vars).unwrap();
    let runtime = Runtime {
        aws: AwsClients::new(&env.moto.sdk_config(REGION).await, &base),
        probe: ProbeContext::new(&base).unwrap(),
        env: vars,
    };
    let lines = Mutex::new(Vec::<String>::new());
    let emit = |line: &str| lines.lock().unwrap().push(line.to_string());

    // dry-run.json overrides REMEDIATION_MODE=add: planned, nothing written.
    let event: Value = serde_json::from_str(include_str!("../events/dry-run.json")).unwrap();
    let report = handler::handle(
        &runtime,
        &event,
        time::OffsetDateTime::now_utc(),
        None,
        &emit,
    )
    .await
    .unwrap();
    assert_eq!(report.remediation_mode.as_str(), "dry-run");
    let remediation = report.providers[0]
        .remediation
        .as_ref()
        .expect("remediation planned");
    assert_eq!(
        serde_json::to_value(remediation.outcome).unwrap(),
        "planned"
    );
    assert_eq!(remediation.added, [new.top_sha1()]);
    assert_eq!(moto::thumbprints(&env.iam, &arn).await, [old.top_sha1()]);

    // scheduled.json keeps the environment's mode (add): applied.
    let event: Value = serde_json::from_str(include_str!("../events/scheduled.json")).unwrap();
    let report = handler::handle(
        &runtime,
        &event,
        time::OffsetDateTime::now_utc(),
        None,
        &emit,
    )
    .await
    .unwrap();
    assert_eq!(report.summary.thumbprints_added, 1);
    assert_eq!(
        moto::thumbprints(&env.iam, &arn).await,
        [old.top_sha1(), new.top_sha1()]
    );

    let lines = lines.into_inner().unwrap();
    assert_eq!(
        lines.len(),
        4,
        "a report line and an EMF line per invocation: {lines:#?}"
    );
    let logged: Value = serde_json::from_str(&lines[2]).unwrap();
    assert_eq!(logged["report"]["providers"][0]["arn"], arn);
    let emf: Value = serde_json::from_str(&lines[3]).unwrap();
    assert_eq!(
        emf["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "ThumbprintGuard"
    );
    assert_eq!(emf["ThumbprintsAdded"], 1);
    assert_eq!(emf["ProvidersChecked"], 1);

    let bad: Value = serde_json::json!({"remediation_mode": "yes"});
    let err = handler::handle(
        &runtime,
        &bad,
        time::OffsetDateTime::now_utc(),
        None,
        &|_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "InvalidEvent");
    assert!(err
        .to_string()
        .contains("REMEDIATION_MODE must be one of off, dry-run, add; got 'yes'"));
}

/// The key set of every object, recursively (arrays: the union over their elements).
fn shape(value: &Value, path: &str, out: &mut BTreeMap<String, BTreeSet<String>>) {
    match value {
        Value::Object(_) if path.ends_with(".details") => {} // free-form per code
        Value::Object(map) => {
            let keys = out.entry(path.to_string()).or_default();
            keys.extend(map.keys().cloned());
            for (k, v) in map {
                shape(v, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| shape(v, &format!("{path}[]"), out)),
        _ => {}
    }
}

#[tokio::test]
async fn sweep_json_matches_design_field_for_field() {
    let env = Env::new().await;
    let old = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(old.clone()).await;
    moto::create_provider(
        &env.iam,
        &server.issuer_url("/id/S"),
        &[STS],
        &[&old.top_sha1()],
        &[],
    )
    .await;
    server.rotate(env.ca.chain(ChainSpec::default()));
    let eks = aws_sdk_eks::Client::new(&env.moto.sdk_config(REGION).await);
    eks.create_cluster()
        .name("prod")
        .role_arn("arn:aws:iam::123456789012:role/eks")
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .subnet_ids("subnet-1")
                .build(),
        )
        .send()
        .await
        .expect("CreateCluster");
    let mut cli_env = env.cli_env();
    cli_env.retain(|(k, _)| k != "EKS_REGIONS");
    cli_env.push(("EKS_REGIONS".into(), REGION.into()));
    cli_env.push(("REMEDIATION_MODE".into(), "dry-run".into()));
    cli_env.push(("REMEDIATION_ALLOWED_HOSTS".into(), "127.0.0.1".into()));
    let (code, stdout, stderr) = cli(&cli_env, &["sweep", "--json"]).await;
    assert_eq!(code, 1, "{stderr}");
    let ours: Value = serde_json::from_str(&stdout).unwrap();
    let design: Value =
        serde_json::from_str(include_str!("fixtures/design-report-example.json")).unwrap();
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    shape(&ours, "$", &mut a);
    shape(&design, "$", &mut b);
    b.remove("$.findings[].details");
    // Without STATE_TABLE `resolved` is empty, so its entries' keys are compared on their own.
    assert_eq!(ours["resolved"], serde_json::json!([]));
    let resolved_keys = b
        .remove("$.resolved[]")
        .expect("DESIGN's example lists a resolved finding");
    let entry = thumbprint_guard::report::ResolvedFinding {
        id: "tg-0000000000000000".into(),
        code: thumbprint_guard::report::FindingCode::CertExpiring,
        resource: "arn".into(),
        first_seen: None,
    };
    let mut entry_shape = BTreeMap::new();
    shape(
        &serde_json::to_value(entry).unwrap(),
        "$.resolved[]",
        &mut entry_shape,
    );
    assert_eq!(entry_shape.remove("$.resolved[]"), Some(resolved_keys));
    assert_eq!(a, b, "ours (left) and DESIGN's example (right) differ");
    assert_eq!(ours["clusters"][0]["name"], "prod");
    assert_eq!(ours["clusters"][0]["provider_arn"], Value::Null);
    assert!(ours["generated_at"].as_str().unwrap().ends_with('Z'));
    let thumb = ours["providers"][0]["served_thumbprints"][0]
        .as_str()
        .unwrap();
    assert!(
        thumb.len() == 40
            && thumb
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    );
}

#[tokio::test]
async fn cli_exit_codes_for_configuration_and_unreachable_aws() {
    let env = Env::new().await;
    let mut bad = env.cli_env();
    bad.push(("REMEDIATION_MODE".into(), "yes".into()));
    let (code, _, stderr) = cli(&bad, &["sweep"]).await;
    assert_eq!(code, 2);
    assert!(
        stderr.contains("REMEDIATION_MODE must be one of off, dry-run, add; got 'yes'"),
        "{stderr}"
    );
    let (code, _, stderr) = cli(
        &env.cli_env(),
        &["sweep", "--remediation-mode", "sometimes"],
    )
    .await;
    assert_eq!(code, 2, "{stderr}");
    let (code, _, _) = cli(&env.cli_env(), &["sweep", "--no-such-flag"]).await;
    assert_eq!(code, 2);

    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut dead = env.cli_env();
    dead.retain(|(k, _)| k != "AWS_ENDPOINT_URL");
    dead.push((
        "AWS_ENDPOINT_URL".into(),
        format!("http://127.0.0.1:{closed_port}"),
    ));
    dead.push(("AWS_MAX_ATTEMPTS".into(), "1".into()));
    let (code, _, stderr) = cli(&dead, &["sweep"]).await;
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("the sweep could not run"), "{stderr}");
}

#[tokio::test]
async fn an_explicit_dry_run_flag_caps_a_provider_tagged_add() {
    let env = Env::new().await;
    let old = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(old.clone()).await;
    let arn = moto::create_provider(
        &env.iam,
        &server.issuer_url("/id/TAGGED"),
        &[STS],
        &[&old.top_sha1()],
        &[("thumbprint-guard/remediation", "add")],
    )
    .await;
    let new = env.ca.chain(ChainSpec::default());
    server.rotate(new.clone());

    // REMEDIATION_MODE is unset (off): the tag opts in, but the flag says this run only plans.
    let (code, stdout, stderr) = cli(
        &env.cli_env(),
        &["sweep", "--json", "--remediation-mode", "dry-run"],
    )
    .await;
    assert_eq!(code, 1, "{stderr}");
    let report: Report = serde_json::from_str(&stdout).unwrap();
    let remediation = report.providers[0].remediation.as_ref().unwrap();
    assert_eq!(
        serde_json::to_value(remediation.outcome).unwrap(),
        "planned"
    );
    assert_eq!(remediation.added, [new.top_sha1()]);
    assert_eq!(moto::thumbprints(&env.iam, &arn).await, [old.top_sha1()]);

    // Without the flag the tag's opt-in applies (DESIGN: the tag overrides REMEDIATION_MODE).
    let (code, stdout, stderr) = cli(&env.cli_env(), &["sweep", "--json"]).await;
    assert_eq!(code, 0, "{stderr}");
    let report: Report = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report.summary.thumbprints_added, 1);
    assert_eq!(
        moto::thumbprints(&env.iam, &arn).await,
        [old.top_sha1(), new.top_sha1()]
    );
}
