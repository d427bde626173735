//! Findings with a memory, end to end through the CLI against moto: the state table marks findings
//! new then open with their first_seen, lists what was resolved, keeps `NOTIFY=changes` quiet on an
//! unchanged run; Security Hub holds exactly one ACTIVE finding per open problem and archives the
//! fixed ones; `--output asff` imports nothing.

mod support;

use serde_json::Value;
use support::moto::{self, Moto};

const REGION: &str = "us-east-1";
const TABLE: &str = "thumbprint-guard-state";

/// The CLI's exit code, its stdout as JSON, and its stderr.
async fn cli(env: &[(String, String)], args: &[&str]) -> (i32, Value, String) {
    let (code, stdout, stderr) = support::env::cli(env, args).await;
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (code, json, stderr)
}

/// (code, id, status, first_seen) of every finding, sorted by id.
fn statuses(report: &Value) -> Vec<(String, String, Value, Value)> {
    let mut rows: Vec<_> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_string(),
                f["id"].as_str().unwrap_or_default().to_string(),
                f["status"].clone(),
                f["first_seen"].clone(),
            )
        })
        .collect();
    rows.sort_by(|a, b| a.1.cmp(&b.1));
    rows
}

async fn published(moto: &Moto, topic_arn: &str) -> usize {
    moto.sent_notifications(topic_arn).await.len()
}

/// The scenario's future holds five SDK clients: in a debug build it needs more than a test
/// thread's default 2 MiB stack.
#[test]
fn a_second_unchanged_run_is_open_silent_and_not_duplicated_and_a_fix_is_resolved() {
    support::on_a_large_stack(scenario);
}

async fn scenario() {
    let moto = Moto::start().await;
    let sdk = moto.sdk_config(REGION).await;
    let iam = aws_sdk_iam::Client::new(&sdk);
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let securityhub = aws_sdk_securityhub::Client::new(&sdk);
    let sns = aws_sdk_sns::Client::new(&sdk);
    moto::create_state_table(&dynamodb, TABLE).await;
    securityhub
        .enable_security_hub()
        .send()
        .await
        .expect("enable Security Hub");
    let topic = sns
        .create_topic()
        .name("memory")
        .send()
        .await
        .expect("topic")
        .topic_arn()
        .unwrap_or_default()
        .to_string();
    // An unreachable issuer (nothing listens on port 9) and a wrong audience: two open problems.
    let arn = moto::create_provider(
        &iam,
        "https://127.0.0.1:9/id/MEMORY",
        &["not-sts"],
        &[&"a".repeat(40)],
        &[],
    )
    .await;

    let mut env = moto.env(REGION);
    for (k, v) in [
        ("EKS_REGIONS", "none"),
        ("AUDIT_TRUST_POLICIES", "false"),
        ("ALLOW_PRIVATE_ADDRESSES", "true"),
        ("PROBE_TIMEOUT_SECS", "2"),
        ("STATE_TABLE", TABLE),
        ("SECURITY_HUB", "on"),
        ("NOTIFY", "changes"),
        ("SNS_TOPIC_ARN", topic.as_str()),
    ] {
        env.push((k.to_string(), v.to_string()));
    }

    let (code, first, stderr) = cli(&env, &["sweep", "--json"]).await;
    assert_eq!(code, 1, "{stderr}");
    let first_rows = statuses(&first);
    let codes: Vec<&str> = first_rows.iter().map(|r| r.0.as_str()).collect();
    assert!(
        codes.contains(&"ISSUER_UNREACHABLE") && codes.contains(&"AUDIENCE_MISSING"),
        "{codes:?}"
    );
    assert!(first_rows.iter().all(|r| r.2 == "new"), "{first_rows:?}");
    assert!(
        first_rows.iter().all(|r| r.3 == first["generated_at"]),
        "{first_rows:?}"
    );
    assert_eq!(
        published(&moto, &topic).await,
        1,
        "new findings are announced"
    );
    let active: Vec<(String, String)> = first_rows
        .iter()
        .map(|r| (r.1.clone(), "ACTIVE".to_string()))
        .collect();
    assert_eq!(moto::security_hub_findings(&securityhub).await, active);

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (code, second, stderr) = cli(&env, &["sweep", "--json"]).await;
    assert_eq!(code, 1, "{stderr}");
    let second_rows = statuses(&second);
    assert_eq!(
        second_rows.iter().map(|r| (&r.0, &r.1)).collect::<Vec<_>>(),
        first_rows.iter().map(|r| (&r.0, &r.1)).collect::<Vec<_>>(),
        "the same problems keep their ids"
    );
    assert!(second_rows.iter().all(|r| r.2 == "open"), "{second_rows:?}");
    assert!(
        second_rows.iter().all(|r| r.3 == first["generated_at"]),
        "first_seen is the first run: {second_rows:?}"
    );
    assert_eq!(second["resolved"], serde_json::json!([]));
    assert_eq!(
        published(&moto, &topic).await,
        1,
        "an unchanged run sends nothing"
    );
    assert_eq!(
        moto::security_hub_findings(&securityhub).await,
        active,
        "no duplicate in Security Hub"
    );

    // `--output asff` prints the findings in ASFF and imports nothing.
    let (_, asff, _) = cli(&env, &["sweep", "--output", "asff"]).await;
    let findings = asff["Findings"].as_array().expect("Findings");
    assert_eq!(findings.len(), first_rows.len());
    for finding in findings {
        assert_eq!(finding["SchemaVersion"], "2018-10-08");
        assert_eq!(finding["AwsAccountId"], moto::ACCOUNT_ID);
        assert_eq!(finding["RecordState"], "ACTIVE");
        assert!(finding["GeneratorId"]
            .as_str()
            .unwrap_or_default()
            .starts_with("thumbprint-guard/"));
        assert_eq!(finding["Resources"][0]["Id"], arn.as_str());
    }

    // The provider is fixed (deleted): both problems resolve, are announced and archived.
    iam.delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .expect("delete the provider");
    let (code, third, stderr) = cli(&env, &["sweep", "--json"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(third["findings"], serde_json::json!([]));
    let mut resolved: Vec<String> = third["resolved"]
        .as_array()
        .expect("resolved")
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default().to_string())
        .collect();
    resolved.sort();
    assert_eq!(
        resolved,
        first_rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>()
    );
    assert_eq!(
        published(&moto, &topic).await,
        2,
        "a resolution is announced"
    );
    let archived: Vec<(String, String)> = first_rows
        .iter()
        .map(|r| (r.1.clone(), "ARCHIVED".to_string()))
        .collect();
    assert_eq!(moto::security_hub_findings(&securityhub).await, archived);
}

/// Two runs of one account overlapping on the same state item: each reads, both write with a
/// condition on the version, the later one retries on the fresh state. Nothing is lost: the item
/// ends at version 2 + rounds, holds the later run's findings, and the later run saw the earlier
/// one's finding (and reported it resolved).
#[test]
fn overlapping_runs_never_lose_an_update() {
    support::on_a_large_stack(overlap);
}

async fn overlap() {
    use thumbprint_guard::report::{Finding, FindingCode};
    use thumbprint_guard::state;

    let moto = Moto::start().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&moto.sdk_config(REGION).await);
    moto::create_state_table(&dynamodb, TABLE).await;
    let account = moto::ACCOUNT_ID;
    let finding = |code: FindingCode, resource: &str| {
        let mut f = Finding::new(code, resource, "m");
        f.identify(account);
        f
    };
    for round in 0..5u64 {
        let mut a = vec![finding(
            FindingCode::AudienceMissing,
            &format!("arn:aws:iam::{account}:oidc-provider/a{round}"),
        )];
        let mut b = vec![finding(
            FindingCode::CertExpiring,
            &format!("arn:aws:iam::{account}:oidc-provider/b{round}"),
        )];
        let (a_id, b_id) = (a[0].id.clone(), b[0].id.clone());
        let now = time::OffsetDateTime::now_utc();
        let (first, second) = tokio::join!(
            state::remember(&dynamodb, TABLE, account, &mut a, now, 24, |_| false),
            state::remember(&dynamodb, TABLE, account, &mut b, now, 24, |_| false),
        );
        let (first, second) = (first.expect("run A"), second.expect("run B"));
        let stored = state::load(&dynamodb, TABLE, account)
            .await
            .expect("load")
            .expect("an item");
        assert_eq!(
            stored.version,
            2 * (round + 1),
            "round {round}: both writes landed"
        );
        let a_saw_b = first.resolved.iter().any(|r| r.id == b_id);
        let b_saw_a = second.resolved.iter().any(|r| r.id == a_id);
        assert!(
            a_saw_b ^ b_saw_a,
            "round {round}: exactly one run wrote on top of the other ({first:?} / {second:?})"
        );
        let (kept, gone) = if b_saw_a {
            (&b_id, &a_id)
        } else {
            (&a_id, &b_id)
        };
        assert!(
            stored.findings.contains_key(kept),
            "round {round}: the later run's finding is stored"
        );
        assert!(
            !stored.findings.contains_key(gone),
            "round {round}: the earlier one's is resolved"
        );
    }
}
