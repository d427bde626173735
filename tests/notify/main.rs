//! Notifications end to end: publish to an SNS topic in moto, with two SQS subscriptions (one raw,
//! one with the SNS envelope), and check what SNS recorded (`/moto-api/data.json`) and what the
//! queues received. SNS failures come from moto (a missing topic) and from a local server that
//! answers every request with HTTP 500 (the SDK's retries, then `NotifyError`).

#[path = "../support/mod.rs"]
mod support;

mod delivery;
mod failures;
mod reports;
mod topic;

use support::env::{Env, REGION};
use support::issuer::ChainSpec;
use support::moto::ACCOUNT_ID;
use thumbprint_guard::config::{Config, NotifyRule};
use thumbprint_guard::notify::{self, NotifyOutcome, RunNotes};
use thumbprint_guard::report::{FindingCode, Report, RunReport, Severity};
use topic::{protocol, receive_all, sent, setup};

#[tokio::test]
async fn a_sweep_of_a_rotated_issuer_is_published_with_the_new_thumbprint_and_the_fix() {
    let env = Env::new("notify").await;
    let moto = &env.moto;
    let sns = aws_sdk_sns::Client::new(&moto.sdk_config(REGION).await);
    let topic = setup(moto, &sns, "sweep").await;

    let old = env.ca.chain(ChainSpec::default());
    let (server, provider_arn) = env.issuer(&old, "ROTATED", &[&old.top_sha1()], &[]).await;
    let new = env.ca.chain(ChainSpec::default());
    server.rotate(new.clone());

    let config = Config {
        sns_topic_arn: Some(topic.arn.clone()),
        notify: NotifyRule::Findings,
        ..env.base_config.clone()
    };
    let report = env.sweep(&config).await;
    assert_eq!(report.findings[0].code, FindingCode::ThumbprintMismatch);

    let outcome = notify::publish_run(
        &sns,
        &config,
        &RunReport::Account(report.clone()),
        &RunNotes::default(),
    )
    .await
    .expect("publish");
    assert!(
        matches!(outcome, NotifyOutcome::Published { parts: 1, .. }),
        "{outcome:?}"
    );

    let sent = sent(moto, &topic.arn).await;
    assert_eq!(sent.len(), 1);
    let expected_severity = report.highest_severity().map_or("ok", Severity::as_str);
    assert_eq!(sent[0].attributes["severity"]["Value"], expected_severity);
    assert!(sent[0].subject.starts_with(&format!(
        "[{}] thumbprint-guard {ACCOUNT_ID}: ",
        expected_severity.to_uppercase()
    )));
    let email = protocol(&sent[0], "email");
    assert!(
        email.contains(&format!("Provider: {provider_arn}")),
        "{email}"
    );
    assert!(
        email.contains(&format!("Not configured (new): {}", new.top_sha1())),
        "{email}"
    );
    assert!(
        email.contains(&format!(
            "aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn {provider_arn} --thumbprint-list {} {}",
            old.top_sha1(),
            new.top_sha1()
        )),
        "{email}"
    );
    let raw = receive_all(moto, &topic.raw_queue).await;
    assert_eq!(raw.len(), 1);
    let delivered: Report = serde_json::from_str(raw[0]["Body"].as_str().unwrap()).unwrap();
    assert_eq!(delivered, report);
}
