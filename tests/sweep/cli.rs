//! The CLI binary: its JSON against DESIGN's example, its exit codes, its flags over tags.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use thumbprint_guard::report::Report;

use crate::support::env::{cli, create_cluster, Env, REGION};
use crate::support::issuer::ChainSpec;
use crate::support::moto;

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
    let env = Env::new("sweep").await;
    let old = env.ca.chain(ChainSpec::default());
    let (server, _) = env.issuer(&old, "S", &[&old.top_sha1()], &[]).await;
    server.rotate(env.ca.chain(ChainSpec::default()));
    let eks = aws_sdk_eks::Client::new(&env.moto.sdk_config(REGION).await);
    create_cluster(&eks).await;
    let mut cli_env = env.cli_env();
    cli_env.retain(|(k, _)| k != "EKS_REGIONS");
    cli_env.push(("EKS_REGIONS".into(), REGION.into()));
    cli_env.push(("REMEDIATION_MODE".into(), "dry-run".into()));
    cli_env.push(("REMEDIATION_ALLOWED_HOSTS".into(), "127.0.0.1".into()));
    let (code, stdout, stderr) = cli(&cli_env, &["sweep", "--json"]).await;
    assert_eq!(code, 1, "{stderr}");
    let ours: Value = serde_json::from_str(&stdout).unwrap();
    let design: Value =
        serde_json::from_str(include_str!("../fixtures/design-report-example.json")).unwrap();
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
    let env = Env::new("sweep").await;
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
    let env = Env::new("sweep").await;
    let old = env.ca.chain(ChainSpec::default());
    let (server, arn) = env
        .issuer(
            &old,
            "TAGGED",
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
