//! End-to-end sweeps against moto server and local TLS issuers: the library, the CLI binary and the
//! Lambda handler fed with `events/*.json`. Thumbprints are cross-checked against SHA-1s computed
//! here from rcgen's DER, never from the probe's output.

#[path = "../support/mod.rs"]
mod support;

mod cli;
mod lambda;

use support::env::{cli, Env, STS};
use support::issuer::{ChainSpec, IssuerServer};
use support::moto;
use thumbprint_guard::inventory;
use thumbprint_guard::report::{FindingCode, Report, Severity};

fn codes_for(report: &Report, arn: &str) -> Vec<(FindingCode, Severity)> {
    report
        .findings
        .iter()
        .filter(|f| f.resource == arn)
        .map(|f| (f.code, f.severity))
        .collect()
}

/// A rotated chain behind a TLS 1.3-only issuer: the report's endpoint is `tls13_only`, the
/// thumbprint is enforced, and the critical mismatch says both reasons IAM relies on it.
#[tokio::test]
async fn a_tls13_only_issuer_is_reported_tls13_only_with_the_reason_in_the_mismatch() {
    let env = Env::new("sweep").await;
    let old = env.ca.chain(ChainSpec::default());
    let new = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start_tls13_only(new.clone()).await;
    let url = server.issuer_url("/id/TLS13");
    let arn = moto::create_provider(&env.iam, &url, &[STS], &[&old.top_sha1()], &[]).await;

    let report = env.sweep(&env.base_config).await;
    let p = &report.providers[0];
    assert_eq!(p.arn, arn);
    assert!(p.thumbprint_enforced);
    assert_eq!(p.endpoints.len(), 1);
    assert!(p.endpoints[0].tls13_only, "{:#?}", p.endpoints);
    assert_eq!(p.served_thumbprints, [new.top_sha1()]);
    let json = serde_json::to_value(&p.endpoints[0]).unwrap();
    assert_eq!(json["tls13_only"], true);
    assert_eq!(
        codes_for(&report, &arn),
        [(FindingCode::ThumbprintMismatch, Severity::Critical)]
    );
    let message = &report.findings[0].message;
    let address = server.addr();
    assert!(
        message.contains(&format!(
            "{address} accepts only TLS 1.3 (it refused a TLS 1.2 handshake)"
        )),
        "{message}"
    );
    assert!(
        message.contains("does not anchor in a public root CA"),
        "{message}"
    );
    assert_eq!(server.handshakes(), 1);
}

#[tokio::test]
async fn healthy_provider_has_no_findings_and_the_served_thumbprint() {
    let env = Env::new("sweep").await;
    let chain = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    let url = server.issuer_url("/id/HEALTHY");
    let arn = moto::create_provider(&env.iam, &url, &[STS], &[&chain.top_sha1()], &[]).await;

    let report = env.sweep(&env.base_config).await;
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
    assert!(!p.endpoints[0].tls13_only);
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
    let env = Env::new("sweep").await;
    let old = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(old.clone()).await;
    let url = server.issuer_url("/id/ROTATED");
    let arn = moto::create_provider(&env.iam, &url, &[STS], &[&old.top_sha1()], &[]).await;
    let new = env.ca.chain(ChainSpec::default());
    assert_ne!(new.top_sha1(), old.top_sha1());
    server.rotate(new.clone());

    let report = env.sweep(&env.base_config).await;
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
    let env = Env::new("sweep").await;
    let chain = env.ca.chain(ChainSpec::default());
    let (_server, healthy) = env.issuer(&chain, "OK", &[&chain.top_sha1()], &[]).await;
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead_url = format!("https://127.0.0.1:{closed_port}/id/DEAD");
    let dead = moto::create_provider(&env.iam, &dead_url, &[STS], &[&"0".repeat(40)], &[]).await;

    let report = env.sweep(&env.base_config).await;
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
    let env = Env::new("sweep").await;
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

    let report = env.sweep(&env.base_config).await;
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
    let env = Env::new("sweep").await;
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

/// One cause, one finding: an issuer whose chain does not validate is one critical
/// CHAIN_UNTRUSTED that says discovery and the JWKS were not fetched, not also DISCOVERY_INVALID.
#[tokio::test]
async fn an_untrusted_chain_is_exactly_one_critical_finding() {
    let env = Env::new("sweep").await;
    let stranger = support::issuer::TestCa::new("stranger");
    let chain = stranger.chain(ChainSpec::default());
    // Its thumbprint is configured: the only problem is the chain itself.
    let (_server, arn) = env
        .issuer(&chain, "UNTRUSTED", &[&chain.top_sha1()], &[])
        .await;

    let report = env.sweep(&env.base_config).await;
    assert_eq!(
        codes_for(&report, &arn),
        [(FindingCode::ChainUntrusted, Severity::Critical)],
        "{:#?}",
        report.findings
    );
    let finding = &report.findings[0];
    assert!(
        finding
            .message
            .ends_with("so the discovery document and the JWKS were not fetched"),
        "{}",
        finding.message
    );
    assert_eq!(report.summary.critical, 1);
}
