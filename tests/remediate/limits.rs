//! IAM's limits: a full list of five, and a write the caller may not make.

use thumbprint_guard::config::RemediationMode;
use thumbprint_guard::report::{FindingCode, RemediationOutcome, Severity};

use crate::support::env::{create_user, Env, REGION};
use crate::support::issuer::ChainSpec;
use crate::support::moto;
use crate::{assert_skipped, codes_for, provider, remediation};

#[tokio::test]
async fn a_full_list_of_five_is_never_exceeded() {
    let env = Env::new("remediate").await;
    let five: Vec<String> = (0..5)
        .map(|_| env.ca.chain(ChainSpec::default()).top_sha1())
        .collect();
    let five_refs: Vec<&str> = five.iter().map(String::as_str).collect();
    let new = env.ca.chain(ChainSpec::default());
    let (_server, arn) = env.issuer(&new, "FULL", &five_refs, &[]).await;

    let report = env
        .sweep(&env.config(RemediationMode::Add, "127.0.0.1"))
        .await;
    assert_skipped(&report, &arn, &["no room", "5 of IAM's maximum 5"]);
    let full = report
        .findings
        .iter()
        .find(|f| f.resource == arn && f.code == FindingCode::ThumbprintListFull)
        .unwrap_or_else(|| panic!("no THUMBPRINT_LIST_FULL in {:#?}", report.findings));
    assert_eq!(full.severity, Severity::Warning);
    assert_eq!(full.details["thumbprints"][0], new.top_sha1());
    assert!(codes_for(&report, &arn).contains(&FindingCode::ThumbprintMismatch));
    assert_eq!(moto::thumbprints(&env.iam, &arn).await, five);
}

/// A moto IAM user whose policy allows reading and tagging but not
/// `iam:UpdateOpenIDConnectProviderThumbprint`; returns its access key.
async fn user_without_update(iam: &aws_sdk_iam::Client) -> (String, String) {
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["sts:GetCallerIdentity", "iam:Get*", "iam:List*", "iam:Tag*", "sns:*", "eks:*"],
            "Resource": "*"
        }]
    });
    let key = create_user(iam, "guard", &policy).await;
    (key.key, key.secret)
}

#[tokio::test]
async fn access_denied_on_the_write_fails_that_provider_and_the_sweep_goes_on() {
    let env = Env::new("remediate").await;
    let old = env.ca.chain(ChainSpec::default());
    let new = env.ca.chain(ChainSpec::default());
    let (_rotated, denied) = env.issuer(&new, "DENIED", &[&old.top_sha1()], &[]).await;
    let (_healthy_server, healthy) = env.issuer(&old, "HEALTHY", &[&old.top_sha1()], &[]).await;
    let (key, secret) = user_without_update(&env.iam).await;
    env.moto.enable_auth().await;
    let guard_iam =
        aws_sdk_iam::Client::new(&env.moto.sdk_config_with(REGION, &key, &secret).await);

    let report = env
        .sweep_as(
            &env.config(RemediationMode::Add, "127.0.0.1"),
            &key,
            &secret,
        )
        .await;
    let r = remediation(&report, &denied);
    assert_eq!(r.outcome, RemediationOutcome::Failed, "{r:?}");
    assert!(r.added.is_empty());
    assert!(
        r.reason.contains("UpdateOpenIDConnectProviderThumbprint"),
        "{}",
        r.reason
    );
    assert!(
        r.reason.contains("AccessDenied") || r.reason.contains("not authorized"),
        "{}",
        r.reason
    );
    // The mismatch stays (critical: a private CA), nothing was added or tagged.
    assert_eq!(
        codes_for(&report, &denied),
        [FindingCode::ThumbprintMismatch]
    );
    assert_eq!(report.summary.thumbprints_added, 0);
    assert_eq!(
        moto::thumbprints(&guard_iam, &denied).await,
        [old.top_sha1()]
    );
    // The rest of the sweep is intact.
    assert_eq!(report.summary.providers, 2);
    assert_eq!(provider(&report, &healthy).remediation, None);
    assert!(
        codes_for(&report, &healthy).is_empty(),
        "{:#?}",
        report.findings
    );
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.code == FindingCode::InventoryIncomplete),
        "{:#?}",
        report.findings
    );
}
