//! `sweep --output asff` in organization mode: every member's findings as ASFF, each under its
//! own `AwsAccountId`, and nothing imported into any Security Hub, whatever `SECURITY_HUB` says.

use serde_json::Value;

use crate::support::env::cli;
use crate::support::issuer::{ChainSpec, IssuerServer};
use crate::support::moto::{self, ACCOUNT_ID};
use crate::{Env, REGION, STS};

#[test]
fn asff_output_in_organization_mode_prints_every_members_findings_and_imports_nothing() {
    crate::support::on_a_large_stack(scenario);
}

async fn scenario() {
    let env = Env::new().await;
    moto::create_organization(&env.sdk).await;
    let members = [
        moto::create_account(&env.sdk, "first").await,
        moto::create_account(&env.sdk, "second").await,
    ];
    let chain = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    let stale = "0".repeat(40);
    let mut member_hubs = Vec::new();
    for (index, member) in members.iter().enumerate() {
        let sdk = moto::member_sdk_config(&env.moto, REGION, member).await;
        let hub = aws_sdk_securityhub::Client::new(&sdk);
        hub.enable_security_hub()
            .send()
            .await
            .expect("enable Security Hub");
        member_hubs.push(hub);
        moto::create_provider(
            &aws_sdk_iam::Client::new(&sdk),
            &server.issuer_url(&format!("/id/MEMBER{index}")),
            &[STS],
            &[&stale],
            &[],
        )
        .await;
    }
    let mut vars = env.moto.env(REGION);
    vars.extend(env.organization_vars(&[("SECURITY_HUB", "on")]));

    let (code, stdout, stderr) = cli(&vars, &["sweep", "--output", "asff"]).await;

    assert_eq!(code, 1, "a stale enforced thumbprint is critical: {stderr}");
    let document: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("ASFF JSON on stdout ({e}):\n{stdout}\n{stderr}"));
    let findings = document["Findings"].as_array().expect("a Findings array");
    for member in &members {
        let theirs: Vec<&Value> = findings
            .iter()
            .filter(|f| f["AwsAccountId"] == member.as_str())
            .collect();
        assert_eq!(theirs.len(), 1, "one finding of {member}: {document:#}");
        assert_eq!(
            theirs[0]["GeneratorId"], "thumbprint-guard/THUMBPRINT_MISMATCH",
            "{document:#}"
        );
        assert_eq!(
            theirs[0]["ProductArn"],
            format!("arn:aws:securityhub:{REGION}:{member}:product/{member}/default")
        );
    }
    assert!(
        findings.iter().all(|f| f["AwsAccountId"] != ACCOUNT_ID),
        "the central account has nothing to say: {document:#}"
    );
    for hub in &member_hubs {
        assert_eq!(
            moto::security_hub_findings(hub).await,
            Vec::<(String, String)>::new(),
            "--output asff imports nothing"
        );
    }
}
