//! What reaches every protocol, what the notify rule publishes, and a report in parts.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::support::moto::{Moto, ACCOUNT_ID};
use thumbprint_guard::config::{Config, NotifyRule};
use thumbprint_guard::notify::{self, NotifyOutcome, RunNotes, SNS_MAX_PUBLISH_BYTES};
use thumbprint_guard::report::{Report, RunReport};

use crate::reports::{arn, config, healthy_report, large_report, problem_report, ADDED, NEW, OLD};
use crate::topic::{client, protocol, receive_all, sent, setup};

#[tokio::test]
async fn findings_reach_every_protocol_with_subject_and_attributes() {
    let moto = Moto::start().await;
    let sns = client(&moto).await;
    let topic = setup(&moto, &sns, "thumbprint-guard").await;
    let report = problem_report();

    let outcome = notify::publish_run(
        &sns,
        &config(NotifyRule::Findings, &topic.arn),
        &RunReport::Account(report.clone()),
        &RunNotes::default(),
    )
    .await
    .expect("publish");
    let NotifyOutcome::Published { message_ids, parts } = outcome else {
        panic!("expected a publish, got {outcome:?}");
    };
    assert_eq!((message_ids.len(), parts), (1, 1));

    // What SNS recorded: subject, attributes, and each protocol's body.
    let sent = sent(&moto, &topic.arn).await;
    assert_eq!(sent.len(), 1);
    let note = &sent[0];
    assert_eq!(note.subject, "[CRITICAL] thumbprint-guard 123456789012: 1 critical, 1 warning, 1 info, 1 thumbprint added");
    assert_eq!(
        note.attributes["severity"],
        json!({"Type": "String", "Value": "critical"})
    );
    assert_eq!(
        note.attributes["account_id"],
        json!({"Type": "String", "Value": ACCOUNT_ID})
    );
    assert_eq!(
        note.attributes["parts"],
        json!({"Type": "Number", "Value": "1"})
    );

    let email = protocol(note, "email");
    assert_eq!(protocol(note, "default"), email);
    assert!(email.contains(&format!("Provider: {}", arn(1))), "{email}");
    assert!(
        email.contains(&format!("Not configured (new): {NEW}")),
        "{email}"
    );
    assert!(
        email.contains(&format!(
            "aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn {} --thumbprint-list {OLD} {NEW}",
            arn(1)
        )),
        "{email}"
    );
    assert!(
        email.contains(&format!("Done automatically: added {ADDED}")),
        "{email}"
    );
    assert!(email.contains("Clusters: prod (us-east-1)"), "{email}");

    let chatbot: Value = serde_json::from_str(&protocol(note, "https")).expect("Chatbot JSON");
    assert_eq!(chatbot["version"], "1.0");
    assert_eq!(chatbot["source"], "custom");
    assert_eq!(chatbot["content"]["textType"], "client-markdown");
    assert!(chatbot["content"]["title"]
        .as_str()
        .unwrap()
        .contains("[CRITICAL]"));
    assert!(chatbot["content"]["description"]
        .as_str()
        .unwrap()
        .contains("`THUMBPRINT_MISMATCH`"));
    assert_eq!(
        chatbot["metadata"]["additionalContext"]["account_id"],
        ACCOUNT_ID
    );
    assert_eq!(
        chatbot["metadata"]["additionalContext"]["severity"],
        "critical"
    );

    let report_json = serde_json::to_string(&report).unwrap();
    assert_eq!(protocol(note, "sqs"), report_json);
    assert_eq!(protocol(note, "lambda"), report_json);

    // Raw delivery: the body is the report, the attributes are SQS message attributes.
    let raw = receive_all(&moto, &topic.raw_queue).await;
    assert_eq!(raw.len(), 1);
    let delivered: Report = serde_json::from_str(raw[0]["Body"].as_str().unwrap()).expect("report");
    assert_eq!(delivered, report);
    let attributes = &raw[0]["MessageAttributes"];
    assert_eq!(attributes["severity"]["StringValue"], "critical");
    assert_eq!(attributes["severity"]["DataType"], "String");
    assert_eq!(attributes["account_id"]["StringValue"], ACCOUNT_ID);

    // Envelope delivery: SNS's JSON with the subject, the report as Message, the attributes.
    let enveloped = receive_all(&moto, &topic.envelope_queue).await;
    assert_eq!(enveloped.len(), 1);
    let envelope: Value = serde_json::from_str(enveloped[0]["Body"].as_str().unwrap()).unwrap();
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["TopicArn"], topic.arn.as_str());
    assert_eq!(envelope["Subject"], note.subject.as_str());
    assert_eq!(envelope["Message"], report_json.as_str());
    assert_eq!(
        envelope["MessageAttributes"]["severity"]["Value"],
        "critical"
    );
    assert_eq!(
        envelope["MessageAttributes"]["account_id"]["Value"],
        ACCOUNT_ID
    );
}

#[tokio::test]
async fn the_notify_rule_decides_what_is_published() {
    let moto = Moto::start().await;
    let sns = client(&moto).await;
    let topic = setup(&moto, &sns, "rule").await;

    // findings: a healthy run publishes nothing.
    let outcome = notify::publish_run(
        &sns,
        &config(NotifyRule::Findings, &topic.arn),
        &RunReport::Account(healthy_report()),
        &RunNotes::default(),
    )
    .await
    .expect("no error");
    assert!(
        matches!(outcome, NotifyOutcome::NotSent { .. }),
        "{outcome:?}"
    );
    assert!(sent(&moto, &topic.arn).await.is_empty());

    // never: not even a critical run.
    let outcome = notify::publish_run(
        &sns,
        &config(NotifyRule::Never, &topic.arn),
        &RunReport::Account(problem_report()),
        &RunNotes::default(),
    )
    .await
    .expect("no error");
    assert!(
        matches!(outcome, NotifyOutcome::NotSent { ref reason } if reason.contains("never")),
        "{outcome:?}"
    );
    assert!(sent(&moto, &topic.arn).await.is_empty());

    // No topic: nothing, whatever the rule.
    let unset = Config {
        notify: NotifyRule::Always,
        ..Config::default()
    };
    let outcome = notify::publish_run(
        &sns,
        &unset,
        &RunReport::Account(problem_report()),
        &RunNotes::default(),
    )
    .await
    .expect("no error");
    assert!(
        matches!(outcome, NotifyOutcome::NotSent { ref reason } if reason.contains("SNS_TOPIC_ARN")),
        "{outcome:?}"
    );
    assert!(sent(&moto, &topic.arn).await.is_empty());

    // always: a healthy run is a heartbeat with severity ok.
    let outcome = notify::publish_run(
        &sns,
        &config(NotifyRule::Always, &topic.arn),
        &RunReport::Account(healthy_report()),
        &RunNotes::default(),
    )
    .await
    .expect("publish");
    assert!(
        matches!(outcome, NotifyOutcome::Published { parts: 1, .. }),
        "{outcome:?}"
    );
    let sent = sent(&moto, &topic.arn).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].subject,
        "[OK] thumbprint-guard 123456789012: no findings, 1 provider checked"
    );
    assert_eq!(sent[0].attributes["severity"]["Value"], "ok");
    let raw = receive_all(&moto, &topic.raw_queue).await;
    assert_eq!(raw.len(), 1);
    assert_eq!(raw[0]["MessageAttributes"]["severity"]["StringValue"], "ok");
}

#[tokio::test]
async fn a_large_report_arrives_in_parts_that_carry_every_finding() {
    let moto = Moto::start().await;
    let sns = client(&moto).await;
    let topic = setup(&moto, &sns, "large").await;
    let report = large_report();

    let outcome = notify::publish_run(
        &sns,
        &config(NotifyRule::Findings, &topic.arn),
        &RunReport::Account(report.clone()),
        &RunNotes::default(),
    )
    .await
    .expect("every part is accepted (moto refuses messages over 256 KiB)");
    let NotifyOutcome::Published { message_ids, parts } = outcome else {
        panic!("expected a publish, got {outcome:?}");
    };
    assert!(parts > 1, "400 providers' findings take several parts");
    assert_eq!(message_ids.len(), parts);

    let sent = sent(&moto, &topic.arn).await;
    assert_eq!(sent.len(), parts);
    for (i, note) in sent.iter().enumerate() {
        let suffix = format!(" (part {}/{parts})", i + 1);
        assert!(note.subject.ends_with(&suffix), "{}", note.subject);
        assert!(note.subject.len() <= 100);
        assert_eq!(note.attributes["part"]["Value"], (i + 1).to_string());
        assert_eq!(note.attributes["parts"]["Value"], parts.to_string());
        assert!(note.message.to_string().len() < SNS_MAX_PUBLISH_BYTES);
    }

    let raw = receive_all(&moto, &topic.raw_queue).await;
    assert_eq!(raw.len(), parts);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut providers = 0;
    for message in &raw {
        let body = message["Body"].as_str().unwrap();
        assert!(body.len() < SNS_MAX_PUBLISH_BYTES);
        let part: Report = serde_json::from_str(body).expect("each part is a valid report");
        assert_eq!(part.account_id, ACCOUNT_ID);
        providers += part.providers.len();
        for f in &part.findings {
            *seen.entry(format!("{}|{}", f.code, f.message)).or_default() += 1;
        }
    }
    assert_eq!(providers, 400);
    assert_eq!(seen.len(), 800, "every finding arrives");
    assert!(seen.values().all(|&n| n == 1), "no finding arrives twice");
}
