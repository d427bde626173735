//! The state table and Security Hub statements (`StateTable=create`, `SecurityHub=on`) under
//! moto's enforcement, through the CLI with the environment the template gives the function.
//!
//! Measured first (moto 5.2.5, enforcement on, a user without the statement): `dynamodb:GetItem`,
//! `dynamodb:PutItem`, `securityhub:BatchImportFindings` and `securityhub:GetFindings` are each
//! refused (403 AccessDenied) and pass with it, so these actions are enforced like IAM's; as
//! everywhere in moto, resources are not (see the crate comment). moto's DynamoDB does not call
//! KMS, so `DecryptTheStateTableKey` is checked on the template only (`options.rs`).

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use serde_json::Value;

use crate::account::Account;
use crate::support::env::{cli, create_user, AccessKey, REGION};
use crate::support::moto;
use crate::template::{expanded_template, for_moto, Stack};
use crate::{ACCOUNT, STATE_TABLE};

/// The options under test, as parameters of the stack.
const OPTIONS: [(&str, &str); 3] = [
    ("StateTable", "create"),
    ("SecurityHub", "on"),
    ("Notify", "changes"),
];

/// Creates the state table as the template declares it (key schema and billing from the
/// resource), and enables Security Hub, with the setup credentials.
async fn prepare(account: &Account, stack: &Stack) {
    let sdk = account.moto.sdk_config(REGION).await;
    let table = stack
        .resolve(&stack.resource("StateStore")["Properties"])
        .expect("state table");
    let key = table["KeySchema"][0]["AttributeName"]
        .as_str()
        .expect("a partition key");
    aws_sdk_dynamodb::Client::new(&sdk)
        .create_table()
        .table_name(STATE_TABLE)
        .billing_mode(BillingMode::from(
            table["BillingMode"].as_str().expect("BillingMode"),
        ))
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("create the state table");
    aws_sdk_securityhub::Client::new(&sdk)
        .enable_security_hub()
        .send()
        .await
        .expect("enable Security Hub");
}

/// The function's environment as the template sets it, pointed at moto and the local issuers.
/// The test changes only what the emulator needs: the trust file of the test CA, loopback
/// issuers, no EKS (moto cannot authenticate EKS requests), remediation allowed on 127.0.0.1, and
/// no topic: the CLI's SNS client cannot sign the way moto's verifier recomputes (the crate
/// comment; `sweeps.rs` proves sns:Publish with the signing fix).
fn function_env(account: &Account, stack: &Stack, user: &AccessKey) -> Vec<(String, String)> {
    let variables = stack
        .resolve(&stack.resource("Function")["Properties"]["Environment"]["Variables"])
        .expect("the function's environment");
    let mut env: BTreeMap<String, String> = account.moto.env(REGION).into_iter().collect();
    for (name, value) in variables.as_object().expect("variables") {
        let value = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        env.insert(name.clone(), value);
    }
    let trust = account.trust.path().to_string_lossy().into_owned();
    for (name, value) in [
        ("AWS_ACCESS_KEY_ID", user.key.as_str()),
        ("AWS_SECRET_ACCESS_KEY", user.secret.as_str()),
        ("EXTRA_TRUST_ANCHORS_PEM", trust.as_str()),
        ("ALLOW_PRIVATE_ADDRESSES", "true"),
        ("EKS_REGIONS", "none"),
        ("REMEDIATION_ALLOWED_HOSTS", "127.0.0.1"),
        ("PROBE_TIMEOUT_SECS", "2"),
        ("SNS_TOPIC_ARN", ""),
    ] {
        env.insert(name.to_string(), value.to_string());
    }
    env.into_iter().collect()
}

/// One `thumbprint-guard sweep --json` under `user`: the exit code, the report, stderr.
async fn sweep(account: &Account, stack: &Stack, user: &AccessKey) -> (i32, Value, String) {
    let env = function_env(account, stack, user);
    let (code, stdout, stderr) = cli(&env, &["sweep", "--json"]).await;
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("the CLI printed no report ({e}), exit {code}:\n{stderr}"));
    (code, report, stderr)
}

/// Each finding's `status`, by id.
fn statuses(report: &Value) -> BTreeMap<String, Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap_or_default().to_string(),
                f["status"].clone(),
            )
        })
        .collect()
}

/// The account's state item as the administrator reads it: its version and the finding ids in it.
async fn state_item(account: &Account) -> Option<(String, Vec<String>)> {
    let sdk = account
        .moto
        .sdk_config_with(REGION, &account.admin.key, &account.admin.secret)
        .await;
    let item = aws_sdk_dynamodb::Client::new(&sdk)
        .get_item()
        .table_name(STATE_TABLE)
        .key("account_id", AttributeValue::S(ACCOUNT.to_string()))
        .send()
        .await
        .expect("GetItem as the administrator")
        .item?;
    let version = match item.get("version") {
        Some(AttributeValue::N(n)) => n.clone(),
        other => panic!("the item's version is {other:?}"),
    };
    let ids = match item.get("findings") {
        Some(AttributeValue::M(findings)) => findings.keys().cloned().collect(),
        other => panic!("the item's findings are {other:?}"),
    };
    Some((version, ids))
}

/// Security Hub's findings as the administrator reads them: (Id, RecordState), sorted.
async fn hub_findings(account: &Account) -> Vec<(String, String)> {
    let sdk = account
        .moto
        .sdk_config_with(REGION, &account.admin.key, &account.admin.secret)
        .await;
    moto::security_hub_findings(&aws_sdk_securityhub::Client::new(&sdk)).await
}

/// The statements without the one whose `Sid` is `sid` (which must be there).
fn without(statements: &[Value], sid: &str) -> Vec<Value> {
    assert!(
        statements.iter().any(|s| s["Sid"] == sid),
        "no statement {sid} in {statements:#?}"
    );
    statements
        .iter()
        .filter(|s| s["Sid"] != sid)
        .cloned()
        .collect()
}

#[test]
fn state_table_and_security_hub_statements_let_a_sweep_remember_and_import() {
    crate::support::on_a_large_stack(remember_and_import);
}

async fn remember_and_import() {
    let template = expanded_template();
    let account = Account::new().await;
    let stack = Stack::with(&template, &OPTIONS, &account.topic_arn);
    prepare(&account, &stack).await;
    let statements = stack.role_statements();
    let user = create_user(
        &account.setup_iam().await,
        "guard-memory",
        &for_moto(&statements),
    )
    .await;
    account.moto.enable_auth().await;

    let (code, report, stderr) = sweep(&account, &stack, &user).await;
    // 1: the rotated provider's mismatch is critical; 3 would be a sweep that could not run.
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("AccessDenied"), "{stderr}");
    let first = statuses(&report);
    assert!(!first.is_empty());
    assert!(
        first.values().all(|s| s == "new"),
        "the state table was read and written: {first:?}\n{stderr}"
    );
    let (version, remembered) = state_item(&account).await.expect("the account's item");
    assert_eq!(version, "1");
    assert_eq!(
        remembered,
        first.keys().cloned().collect::<Vec<_>>(),
        "the item holds this run's findings"
    );
    let imported: Vec<(String, String)> = first
        .keys()
        .map(|id| (id.clone(), "ACTIVE".to_string()))
        .collect();
    assert_eq!(hub_findings(&account).await, imported);

    // A second run reads what the first wrote.
    let (code, report, stderr) = sweep(&account, &stack, &user).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        statuses(&report).values().all(|s| s == "open"),
        "{report:#}"
    );
    assert_eq!(
        state_item(&account).await.map(|(v, _)| v).as_deref(),
        Some("2")
    );
    assert_eq!(hub_findings(&account).await, imported, "no duplicates");
}

#[test]
fn without_its_statement_the_state_table_or_security_hub_fails_alone() {
    crate::support::on_a_large_stack(each_statement_alone);
}

async fn each_statement_alone() {
    let template = expanded_template();
    let account = Account::new().await;
    let stack = Stack::with(&template, &OPTIONS, &account.topic_arn);
    prepare(&account, &stack).await;
    let statements = stack.role_statements();
    let iam = account.setup_iam().await;
    let no_import = create_user(
        &iam,
        "without-import",
        &for_moto(&without(&statements, "ImportFindingsIntoSecurityHub")),
    )
    .await;
    let no_archive = create_user(
        &iam,
        "without-archive",
        &for_moto(&without(&statements, "ReadEarlierFindingsToArchive")),
    )
    .await;
    let no_state = create_user(
        &iam,
        "without-state",
        &for_moto(&without(&statements, "ReadAndWriteTheState")),
    )
    .await;
    account.moto.enable_auth().await;

    // Without BatchImportFindings: nothing reaches Security Hub, the error says which call; the
    // state and the report are whole.
    let (code, report, stderr) = sweep(&account, &stack, &no_import).await;
    assert_eq!(code, 1, "the run goes on: {stderr}");
    assert!(
        stderr.contains("securityhub:BatchImportFindings") && stderr.contains("AccessDenied"),
        "{stderr}"
    );
    assert!(hub_findings(&account).await.is_empty());
    assert!(statuses(&report).values().all(|s| s == "new"), "{report:#}");
    assert_eq!(
        state_item(&account).await.map(|(v, _)| v).as_deref(),
        Some("1")
    );

    // Without GetFindings: the findings are imported, archiving cannot look for the old ones.
    let (code, report, stderr) = sweep(&account, &stack, &no_archive).await;
    assert_eq!(code, 1, "the run goes on: {stderr}");
    assert!(
        stderr.contains("securityhub:GetFindings") && stderr.contains("AccessDenied"),
        "{stderr}"
    );
    let ids: Vec<String> = statuses(&report).into_keys().collect();
    assert_eq!(
        hub_findings(&account).await,
        ids.iter()
            .map(|id| (id.clone(), "ACTIVE".to_string()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        state_item(&account).await.map(|(v, _)| v).as_deref(),
        Some("2")
    );

    // Without GetItem/PutItem: the state is unavailable, every status is null, the item is as the
    // last run left it, and the rest of the run (Security Hub included) is intact.
    let (code, report, stderr) = sweep(&account, &stack, &no_state).await;
    assert_eq!(code, 1, "the run goes on: {stderr}");
    assert!(
        stderr.contains("state table") && stderr.contains("AccessDenied"),
        "{stderr}"
    );
    let after = statuses(&report);
    assert!(after.values().all(Value::is_null), "{after:?}");
    assert_eq!(after.keys().cloned().collect::<Vec<_>>(), ids);
    assert_eq!(
        state_item(&account).await.map(|(v, _)| v).as_deref(),
        Some("2")
    );
    assert_eq!(hub_findings(&account).await.len(), ids.len());
}
