//! One organization invocation of the Lambda's handler against moto: every member swept, the
//! members' state in the central table (one item each), each member's findings in its own Security
//! Hub, one EMF line per account, ONE SNS message for the organization with `organization_id`, and
//! `NOTIFY=changes` silent on an unchanged second invocation.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;
use thumbprint_guard::aws::AwsClients;
use thumbprint_guard::handler::{self, Runtime};
use thumbprint_guard::organization::{OrganizationClients, OrganizationSettings};
use thumbprint_guard::probe::ProbeContext;

use crate::support::issuer::{ChainSpec, IssuerServer};
use crate::support::moto::{self, Moto, ACCOUNT_ID};
use crate::{Env, REGION, STS};

const TABLE: &str = "thumbprint-guard-state";

/// Everything SNS recorded for `topic_arn`: (subject, message document, attributes).
async fn sent(moto: &Moto, topic_arn: &str) -> Vec<(String, Value, Value)> {
    moto.sent_notifications(topic_arn)
        .await
        .into_iter()
        .map(|n| {
            (
                n[2].as_str().unwrap_or_default().to_string(),
                serde_json::from_str(n[1].as_str().unwrap_or("{}")).unwrap_or(Value::Null),
                n[3].clone(),
            )
        })
        .collect()
}

/// Security Hub finding ids of one account, as that account's own credentials see them.
async fn hub_ids(securityhub: &aws_sdk_securityhub::Client) -> Vec<String> {
    moto::security_hub_findings(securityhub)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

#[test]
fn an_organization_invocation_remembers_each_member_and_publishes_one_message() {
    // Many SDK clients in one debug-build future: more than a test thread's default stack.
    crate::support::on_a_large_stack(scenario);
}

async fn scenario() {
    let env = Env::new().await;
    let organization_id = moto::create_organization(&env.sdk).await;
    let rotated_id = moto::create_account(&env.sdk, "rotated").await;
    let healthy_id = moto::create_account(&env.sdk, "healthy").await;
    let member_sdk = |id: String| {
        let moto = &env.moto;
        async move { moto::member_sdk_config(moto, REGION, &id).await }
    };
    let rotated_sdk = member_sdk(rotated_id.clone()).await;
    let healthy_sdk = member_sdk(healthy_id.clone()).await;
    for sdk in [&env.sdk, &rotated_sdk, &healthy_sdk] {
        aws_sdk_securityhub::Client::new(sdk)
            .enable_security_hub()
            .send()
            .await
            .expect("enable Security Hub");
    }
    let dynamodb = aws_sdk_dynamodb::Client::new(&env.sdk);
    moto::create_state_table(&dynamodb, TABLE).await;
    let sns = aws_sdk_sns::Client::new(&env.sdk);
    let topic = sns
        .create_topic()
        .name("organization")
        .send()
        .await
        .expect("topic")
        .topic_arn()
        .unwrap_or_default()
        .to_string();

    let old_chain = env.ca.chain(ChainSpec::default());
    let rotated = IssuerServer::start(old_chain.clone()).await;
    let new_chain = env.ca.chain(ChainSpec::default());
    rotated.rotate(new_chain.clone());
    let rotated_arn = moto::create_provider(
        &aws_sdk_iam::Client::new(&rotated_sdk),
        &rotated.issuer_url("/id/ROTATED"),
        &[STS],
        &[&old_chain.top_sha1()],
        &[],
    )
    .await;
    let healthy_chain = env.ca.chain(ChainSpec::default());
    let healthy = IssuerServer::start(healthy_chain.clone()).await;
    moto::create_provider(
        &aws_sdk_iam::Client::new(&healthy_sdk),
        &healthy.issuer_url("/id/HEALTHY"),
        &[STS],
        &[&healthy_chain.top_sha1()],
        &[],
    )
    .await;

    let vars: HashMap<String, String> = env
        .organization_vars(&[
            ("STATE_TABLE", TABLE),
            ("SECURITY_HUB", "on"),
            ("NOTIFY", "changes"),
            ("SNS_TOPIC_ARN", topic.as_str()),
        ])
        .into_iter()
        .collect();
    let base = Runtime::base_config(&vars).expect("configuration");
    assert!(OrganizationSettings::from_config(&base).is_some());
    let runtime = Runtime {
        aws: AwsClients::new(&env.sdk, &base),
        probe: ProbeContext::new(&base).expect("probe context"),
        env: vars,
        organization: Some(OrganizationClients::new(&env.sdk, &base)),
    };
    let lines = Mutex::new(Vec::<String>::new());
    let emit = |line: &str| lines.lock().unwrap().push(line.to_string());
    let event: Value = serde_json::from_str(include_str!("../../events/scheduled.json")).unwrap();

    let report = handler::handle_event(
        &runtime,
        &event,
        time::OffsetDateTime::now_utc(),
        None,
        &emit,
    )
    .await
    .expect("the invocation succeeds")
    .into_organization()
    .expect("an organization report");
    assert_eq!(
        report.organization_id.as_deref(),
        Some(organization_id.as_str())
    );
    assert_eq!(report.summary.accounts, 3, "central + 2 members");
    let rotated_report = report.account(&rotated_id).expect("rotated member swept");
    let mismatch = rotated_report
        .findings
        .iter()
        .find(|f| f.resource == rotated_arn)
        .expect("the rotated provider's finding");
    assert_eq!(mismatch.code.as_str(), "THUMBPRINT_MISMATCH");
    assert_eq!(
        serde_json::to_value(mismatch.status).unwrap(),
        "new",
        "the member is remembered"
    );
    assert!(report
        .account(&healthy_id)
        .expect("healthy")
        .findings
        .is_empty());

    // The state: one item per member account, in the central table.
    for account in [ACCOUNT_ID, rotated_id.as_str(), healthy_id.as_str()] {
        let item = dynamodb
            .get_item()
            .table_name(TABLE)
            .key(
                "account_id",
                aws_sdk_dynamodb::types::AttributeValue::S(account.to_string()),
            )
            .send()
            .await
            .expect("get_item");
        assert!(item.item().is_some(), "a state item for {account}");
    }
    // Security Hub: the rotated member's finding in its own hub, none in the others'.
    let rotated_hub = aws_sdk_securityhub::Client::new(&rotated_sdk);
    assert_eq!(hub_ids(&rotated_hub).await, vec![mismatch.id.clone()]);
    assert!(hub_ids(&aws_sdk_securityhub::Client::new(&env.sdk))
        .await
        .is_empty());
    assert!(hub_ids(&aws_sdk_securityhub::Client::new(&healthy_sdk))
        .await
        .is_empty());

    // Logs: the organization report, then one EMF line per account with its AccountId.
    let logged = lines.lock().unwrap().clone();
    let report_line: Value = serde_json::from_str(&logged[0]).expect("JSON line");
    assert_eq!(
        report_line["message"],
        "thumbprint-guard organization report"
    );
    assert_eq!(
        report_line["report"]["organization_id"],
        organization_id.as_str()
    );
    let mut emf_accounts: Vec<String> = logged
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .map(|v| {
            assert_eq!(
                v["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0],
                "AccountId"
            );
            v["AccountId"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    emf_accounts.sort();
    let mut all = vec![
        ACCOUNT_ID.to_string(),
        rotated_id.clone(),
        healthy_id.clone(),
    ];
    all.sort();
    assert_eq!(emf_accounts, all);

    // SNS: one message for the whole organization.
    let messages = sent(&env.moto, &topic).await;
    assert_eq!(messages.len(), 1, "one message per organization run");
    let (subject, document, attributes) = &messages[0];
    assert!(
        subject.starts_with("[CRITICAL] thumbprint-guard org "),
        "{subject}"
    );
    assert!(subject.contains(&organization_id), "{subject}");
    assert!(subject.len() <= 100);
    let attributes = attributes.to_string();
    assert!(
        attributes.contains("organization_id") && attributes.contains(&organization_id),
        "{attributes}"
    );
    let payload: Value =
        serde_json::from_str(document["sqs"].as_str().expect("sqs body")).expect("JSON");
    assert_eq!(payload["organization_id"], organization_id.as_str());
    let account_ids: Vec<&str> = payload["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter_map(|a| a["account_id"].as_str())
        .collect();
    assert_eq!(account_ids.len(), 3);
    assert!(account_ids.contains(&rotated_id.as_str()));
    let email = document["email"].as_str().expect("email body");
    assert!(
        email.contains(&format!("AWS account {rotated_id}")),
        "{email}"
    );
    assert!(email.contains("NEW SINCE THE LAST RUN"), "{email}");
    assert!(email.contains(&rotated_arn));
    let chatbot: Value =
        serde_json::from_str(document["https"].as_str().expect("https body")).expect("JSON");
    assert_eq!(
        chatbot["metadata"]["threadId"],
        format!("thumbprint-guard-{organization_id}")
    );
    assert!(
        chatbot["content"]["nextSteps"][0]
            .as_str()
            .unwrap_or_default()
            .contains("update-open-id-connect-provider-thumbprint"),
        "{chatbot}"
    );

    // A second invocation with nothing changed: everything open, nothing published.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let again = handler::handle_event(
        &runtime,
        &event,
        time::OffsetDateTime::now_utc(),
        None,
        &emit,
    )
    .await
    .expect("the second invocation succeeds")
    .into_organization()
    .expect("an organization report");
    let finding = again
        .account(&rotated_id)
        .and_then(|a| a.findings.iter().find(|f| f.resource == rotated_arn))
        .expect("still reported");
    assert_eq!(serde_json::to_value(finding.status).unwrap(), "open");
    assert_eq!(finding.first_seen, mismatch.first_seen);
    assert_eq!(
        sent(&env.moto, &topic).await.len(),
        1,
        "NOTIFY=changes: nothing new"
    );
    assert_eq!(
        hub_ids(&rotated_hub).await,
        vec![mismatch.id.clone()],
        "no duplicate"
    );
}
