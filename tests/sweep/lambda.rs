//! The Lambda handler fed with the sample events in `events/`.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;
use thumbprint_guard::aws::AwsClients;
use thumbprint_guard::handler::{self, Runtime};
use thumbprint_guard::probe::ProbeContext;

use crate::support::env::{Env, REGION};
use crate::support::issuer::ChainSpec;
use crate::support::moto;

#[tokio::test]
async fn lambda_handler_runs_the_sample_events() {
    let env = Env::new("sweep").await;
    let old = env.ca.chain(ChainSpec::default());
    let (server, arn) = env.issuer(&old, "L", &[&old.top_sha1()], &[]).await;
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
        organization: None,
    };
    let lines = Mutex::new(Vec::<String>::new());
    let emit = |line: &str| lines.lock().unwrap().push(line.to_string());

    // dry-run.json overrides REMEDIATION_MODE=add: planned, nothing written.
    let event: Value = serde_json::from_str(include_str!("../../events/dry-run.json")).unwrap();
    let report = handler::handle_event(
        &runtime,
        &event,
        time::OffsetDateTime::now_utc(),
        None,
        &emit,
    )
    .await
    .unwrap()
    .into_account()
    .expect("a single-account run");
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
    let event: Value = serde_json::from_str(include_str!("../../events/scheduled.json")).unwrap();
    let report = handler::handle_event(
        &runtime,
        &event,
        time::OffsetDateTime::now_utc(),
        None,
        &emit,
    )
    .await
    .unwrap()
    .into_account()
    .expect("a single-account run");
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
    let err = handler::handle_event(
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
