//! Notifications end to end: publish to an SNS topic in moto, with two SQS subscriptions (one raw,
//! one with the SNS envelope), and check what SNS recorded (`/moto-api/data.json`) and what the
//! queues received. SNS failures come from moto (a missing topic) and from a local server that
//! answers every request with HTTP 500 (the SDK's retries, then `NotifyError`).

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use time::macros::datetime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use support::issuer::{probe_config, ChainSpec, IssuerServer, TestCa, TrustFile};
use support::moto::{self, Moto, ACCOUNT_ID};
use thumbprint_guard::config::{Config, EksRegions, NotifyRule, RemediationMode};
use thumbprint_guard::inventory::AwsClients;
use thumbprint_guard::notify::{self, NotifyError, NotifyOutcome, SNS_MAX_PUBLISH_BYTES};
use thumbprint_guard::probe::ProbeContext;
use thumbprint_guard::report::{
    sort_findings, CertificateInfo, ClusterReport, Endpoint, Finding, FindingCode, ProviderReport,
    Remediation, RemediationOutcome, Report, Severity, Summary, SCHEMA_VERSION,
};
use thumbprint_guard::sweep;

const REGION: &str = "us-east-1";
const OLD: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";
const NEW: &str = "06b25927c42a721631c1efd9431e648fa62e1e39";
const ADDED: &str = "b2c5d3a1e4f60718293a4b5c6d7e8f9012345678";

// ---------------------------------------------------------------------------------------------
// Reports

fn arn(n: usize) -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/P{n:04}")
}

fn provider(n: usize, configured: &str, served: &str) -> ProviderReport {
    let url = format!("https://oidc.eks.us-east-1.amazonaws.com/id/P{n:04}");
    let cert = |subject: &str, sha1: &str| CertificateInfo {
        subject: subject.into(),
        issuer: "CN=Amazon Root CA 1, O=Amazon, C=US".into(),
        sha1: sha1.into(),
        not_before: Some(datetime!(2026-10-01 00:00:00 UTC)),
        not_after: Some(datetime!(2027-10-01 00:00:00 UTC)),
    };
    let endpoint = |address: &str| Endpoint {
        host: "127.0.0.1:443".into(),
        serves: vec![thumbprint_guard::report::Fetch::Jwks],
        address: address.into(),
        chain: vec![
            cert("CN=oidc.eks.us-east-1.amazonaws.com", &"11".repeat(20)),
            cert("CN=Amazon RSA 2048 M02, O=Amazon, C=US", served),
        ],
        top_thumbprint: Some(served.into()),
        trusted: true,
        error: None,
    };
    ProviderReport {
        arn: arn(n),
        url: url.clone(),
        client_ids: vec!["sts.amazonaws.com".into()],
        configured_thumbprints: vec![configured.into()],
        jwks_uri: Some(format!("{url}/keys")),
        endpoints: vec![endpoint("203.0.113.10:443"), endpoint("203.0.113.11:443")],
        served_thumbprints: vec![served.into()],
        thumbprint_enforced: true,
        remediation: None,
    }
}

fn mismatch(n: usize) -> Finding {
    Finding::new(
        FindingCode::ThumbprintMismatch,
        arn(n),
        format!(
            "P{n:04}: the JWKS host serves CA thumbprint {NEW}, which the provider does not list."
        ),
    )
    .with_details(json!({"served": [NEW], "configured": [OLD]}))
}

fn expiring(n: usize) -> Finding {
    Finding::new(
        FindingCode::CertExpiring,
        arn(n),
        format!("P{n:04}: the served certificate expires within 30 days."),
    )
    .with_details(json!({"not_after": "2026-12-01T00:00:00Z"}))
}

fn report(
    providers: Vec<ProviderReport>,
    clusters: Vec<ClusterReport>,
    mut findings: Vec<Finding>,
) -> Report {
    sort_findings(&mut findings);
    let mut report = Report {
        resolved: Vec::new(),
        schema_version: SCHEMA_VERSION,
        account_id: ACCOUNT_ID.into(),
        generated_at: datetime!(2026-11-22 10:00:00 UTC),
        remediation_mode: RemediationMode::Add,
        providers,
        clusters,
        findings,
        summary: Summary::default(),
    };
    report.recount();
    report
}

/// One critical mismatch (provider 1, cluster prod), one warning, one added thumbprint (info).
fn problem_report() -> Report {
    let mut added = provider(2, OLD, ADDED);
    added.remediation = Some(Remediation {
        outcome: RemediationOutcome::Applied,
        added: vec![ADDED.into()],
        reason: "every address served a trusted chain".into(),
    });
    report(
        vec![provider(1, OLD, NEW), added, provider(3, OLD, OLD)],
        vec![ClusterReport {
            arn: String::new(),
            name: "prod".into(),
            region: REGION.into(),
            issuer: Some("https://oidc.eks.us-east-1.amazonaws.com/id/P0001".into()),
            provider_arn: Some(arn(1)),
        }],
        vec![
            mismatch(1),
            expiring(3),
            Finding::new(
                FindingCode::ThumbprintAdded,
                arn(2),
                format!("Added thumbprint {ADDED}."),
            ),
        ],
    )
}

fn healthy_report() -> Report {
    report(vec![provider(1, OLD, OLD)], vec![], vec![])
}

/// 400 providers, each with a critical mismatch and an expiring certificate.
fn large_report() -> Report {
    let providers = (0..400).map(|n| provider(n, OLD, NEW)).collect();
    let findings = (0..400).flat_map(|n| [mismatch(n), expiring(n)]).collect();
    report(providers, vec![], findings)
}

fn config(notify: NotifyRule, topic_arn: &str) -> Config {
    Config {
        notify,
        sns_topic_arn: Some(topic_arn.to_string()),
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// The topic, its SQS subscriptions, and what arrived

/// An SNS topic with a raw and an enveloped SQS subscription.
struct Topic {
    arn: String,
    raw_queue: String,
    envelope_queue: String,
}

/// One SQS call in the JSON protocol (moto does not check signatures; the Authorization header
/// only tells it which service is meant).
async fn sqs(moto: &Moto, operation: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(&moto.endpoint)
        .header("X-Amz-Target", format!("AmazonSQS.{operation}"))
        .header("Content-Type", "application/x-amz-json-1.0")
        .header(
            "Authorization",
            format!("AWS4-HMAC-SHA256 Credential=testing/20261122/{REGION}/sqs/aws4_request, SignedHeaders=host, Signature=0"),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("SQS {operation}: {e}"));
    assert!(
        response.status().is_success(),
        "SQS {operation}: {}",
        response.status()
    );
    response
        .json()
        .await
        .unwrap_or_else(|e| panic!("SQS {operation} answer: {e}"))
}

async fn setup(moto: &Moto, sns: &aws_sdk_sns::Client, name: &str) -> Topic {
    let arn = sns
        .create_topic()
        .name(name)
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .expect("topic ARN");
    let mut queues = Vec::new();
    for (suffix, raw) in [("raw", "true"), ("envelope", "false")] {
        let queue_name = format!("{name}-{suffix}");
        let created = sqs(moto, "CreateQueue", json!({"QueueName": queue_name})).await;
        let url = created["QueueUrl"].as_str().expect("QueueUrl").to_string();
        sns.subscribe()
            .topic_arn(&arn)
            .protocol("sqs")
            .endpoint(format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue_name}"))
            .attributes("RawMessageDelivery", raw)
            .return_subscription_arn(true)
            .send()
            .await
            .expect("Subscribe");
        queues.push(url);
    }
    Topic {
        arn,
        envelope_queue: queues.pop().expect("envelope queue"),
        raw_queue: queues.pop().expect("raw queue"),
    }
}

/// Every message in a queue (received, so a second call returns none).
async fn receive_all(moto: &Moto, queue_url: &str) -> Vec<Value> {
    let mut messages = Vec::new();
    loop {
        let answer = sqs(
            moto,
            "ReceiveMessage",
            json!({"QueueUrl": queue_url, "MaxNumberOfMessages": 10, "MessageAttributeNames": ["All"]}),
        )
        .await;
        match answer["Messages"].as_array() {
            Some(batch) if !batch.is_empty() => messages.extend(batch.iter().cloned()),
            _ => return messages,
        }
    }
}

/// One notification as moto's SNS recorded it.
#[derive(Debug)]
struct Sent {
    message: Value,
    subject: String,
    attributes: Value,
}

/// `sent_notifications` of one topic from `/moto-api/data.json`, in publish order.
async fn sent(moto: &Moto, topic_arn: &str) -> Vec<Sent> {
    let data = moto.data_json().await;
    let topics = data["sns"]["Topic"].as_array().cloned().unwrap_or_default();
    let topic = topics
        .iter()
        .find(|t| t["arn"] == topic_arn)
        .unwrap_or_else(|| panic!("topic {topic_arn} in data.json"));
    topic["sent_notifications"]
        .as_array()
        .expect("sent_notifications")
        .iter()
        .map(|n| Sent {
            message: serde_json::from_str(n[1].as_str().expect("message"))
                .expect("message is JSON"),
            subject: n[2].as_str().unwrap_or_default().to_string(),
            attributes: n[3].clone(),
        })
        .collect()
}

fn protocol(sent: &Sent, name: &str) -> String {
    sent.message[name]
        .as_str()
        .unwrap_or_else(|| panic!("protocol {name} in {}", sent.message))
        .to_string()
}

async fn client(moto: &Moto) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(&moto.sdk_config(REGION).await)
}

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn findings_reach_every_protocol_with_subject_and_attributes() {
    let moto = Moto::start().await;
    let sns = client(&moto).await;
    let topic = setup(&moto, &sns, "thumbprint-guard").await;
    let report = problem_report();

    let outcome = notify::publish_if_needed(
        &sns,
        &config(NotifyRule::Findings, &topic.arn),
        &report,
        None,
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
    let outcome = notify::publish_if_needed(
        &sns,
        &config(NotifyRule::Findings, &topic.arn),
        &healthy_report(),
        None,
    )
    .await
    .expect("no error");
    assert!(
        matches!(outcome, NotifyOutcome::NotSent { .. }),
        "{outcome:?}"
    );
    assert!(sent(&moto, &topic.arn).await.is_empty());

    // never: not even a critical run.
    let outcome = notify::publish_if_needed(
        &sns,
        &config(NotifyRule::Never, &topic.arn),
        &problem_report(),
        None,
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
    let outcome = notify::publish_if_needed(&sns, &unset, &problem_report(), None)
        .await
        .expect("no error");
    assert!(
        matches!(outcome, NotifyOutcome::NotSent { ref reason } if reason.contains("SNS_TOPIC_ARN")),
        "{outcome:?}"
    );
    assert!(sent(&moto, &topic.arn).await.is_empty());

    // always: a healthy run is a heartbeat with severity ok.
    let outcome = notify::publish_if_needed(
        &sns,
        &config(NotifyRule::Always, &topic.arn),
        &healthy_report(),
        None,
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

    let outcome = notify::publish_if_needed(
        &sns,
        &config(NotifyRule::Findings, &topic.arn),
        &report,
        None,
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

#[tokio::test]
async fn publishing_to_a_missing_topic_is_an_error_naming_the_topic() {
    let moto = Moto::start().await;
    let sns = client(&moto).await;
    let missing = format!("arn:aws:sns:{REGION}:{ACCOUNT_ID}:does-not-exist");

    let error = notify::publish_if_needed(
        &sns,
        &config(NotifyRule::Findings, &missing),
        &problem_report(),
        None,
    )
    .await
    .expect_err("the topic does not exist");
    let text = error.to_string();
    assert!(text.contains(&missing), "{text}");
    match error {
        NotifyError::Publish {
            topic_arn,
            part,
            parts,
            delivered,
            code,
            ..
        } => {
            assert_eq!((topic_arn, part, parts, delivered), (missing, 1, 1, 0));
            assert_eq!(code.as_deref(), Some("NotFound"), "{text}");
        }
        other => panic!("expected a publish error, got {other:?}"),
    }
}

/// One provider whose served certificate names are huge (issuer-controlled) no longer makes a part
/// larger than SNS accepts: it is condensed. A part SNS still refuses (made oversized by hand here)
/// does not lose the others: every other part is published, and the error names the refused part.
#[tokio::test]
async fn a_part_sns_refuses_does_not_lose_the_other_parts() {
    let moto = Moto::start().await;
    let sns = client(&moto).await;
    let topic = setup(&moto, &sns, "oversized").await;
    let mut report = large_report();
    let huge = format!("CN={}", "x".repeat(SNS_MAX_PUBLISH_BYTES + 1024));
    report.providers[0].endpoints[0].chain[0].subject = huge;

    let mut messages = notify::render(&report);
    let parts = messages.len();
    assert!(parts > 2, "{parts} parts");
    assert!(
        messages
            .iter()
            .all(|m| m.publish_size() <= SNS_MAX_PUBLISH_BYTES),
        "no part exceeds SNS's limit, whatever one issuer serves"
    );
    let refused = 2;
    let mut document: serde_json::Value =
        serde_json::from_str(&messages[refused - 1].message).unwrap();
    document["default"] = serde_json::Value::String("z".repeat(SNS_MAX_PUBLISH_BYTES));
    messages[refused - 1].message = document.to_string();

    let error = notify::publish(&sns, &topic.arn, &messages)
        .await
        .expect_err("SNS refuses the oversized part");
    let text = error.to_string();
    match error {
        NotifyError::Publish {
            topic_arn,
            part,
            parts: total,
            delivered,
            ..
        } => {
            assert_eq!(
                (topic_arn.as_str(), part, total, delivered),
                (topic.arn.as_str(), refused, parts, parts - 1),
                "{text}"
            );
        }
        other => panic!("expected one failed part, got {other:?}"),
    }
    assert!(
        text.contains(&format!("part {refused} of {parts}")),
        "{text}"
    );
    assert!(text.contains("that part carried provider"), "{text}");

    let sent = sent(&moto, &topic.arn).await;
    assert_eq!(sent.len(), parts - 1, "every other part was published");
    let published: Vec<String> = sent
        .iter()
        .map(|n| {
            n.attributes["part"]["Value"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    let expected: Vec<String> = (1..=parts)
        .filter(|&p| p != refused)
        .map(|p| p.to_string())
        .collect();
    assert_eq!(published, expected);
}

/// A server that answers every request with SNS's InternalFailure (HTTP 500), counting requests.
async fn failing_sns() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 65536];
                loop {
                    let Ok(n) = stream.read(&mut buffer).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&request);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (name, value) = l.split_once(':')?;
                                name.eq_ignore_ascii_case("content-length")
                                    .then(|| value.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let body = "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>injected failure</Message></Error><RequestId>test</RequestId></ErrorResponse>";
                let response = format!(
                    "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (endpoint, requests)
}

#[tokio::test]
async fn server_errors_are_retried_by_the_sdk_then_reported() {
    support::moto::install_crypto_provider();
    let (endpoint, requests) = failing_sns().await;
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(&endpoint)
        .credentials_provider(aws_sdk_sns::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic_arn = format!("arn:aws:sns:{REGION}:{ACCOUNT_ID}:thumbprint-guard");

    let error = notify::publish_if_needed(
        &sns,
        &config(NotifyRule::Findings, &topic_arn),
        &problem_report(),
        None,
    )
    .await
    .expect_err("every attempt fails");
    let text = error.to_string();
    assert!(text.contains(&topic_arn), "{text}");
    assert!(
        text.contains("InternalFailure") || text.contains("injected failure"),
        "{text}"
    );
    assert!(
        matches!(&error, NotifyError::Publish { code: Some(code), .. } if code == "InternalFailure"),
        "{error:?}"
    );
    assert_eq!(
        requests.load(Ordering::SeqCst),
        3,
        "the standard retry mode makes three attempts"
    );
}

#[tokio::test]
async fn a_sweep_of_a_rotated_issuer_is_published_with_the_new_thumbprint_and_the_fix() {
    let moto = Moto::start().await;
    let sdk = moto.sdk_config(REGION).await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let topic = setup(&moto, &sns, "sweep").await;

    let ca = TestCa::new("notify");
    let trust = TrustFile::new(&[&ca]);
    let old = ca.chain(ChainSpec::default());
    let server = IssuerServer::start(old.clone()).await;
    let url = server.issuer_url("/id/ROTATED");
    let provider_arn =
        moto::create_provider(&iam, &url, &["sts.amazonaws.com"], &[&old.top_sha1()], &[]).await;
    let new = ca.chain(ChainSpec::default());
    server.rotate(new.clone());

    let config = Config {
        eks_regions: EksRegions::Disabled,
        audit_trust_policies: false,
        sns_topic_arn: Some(topic.arn.clone()),
        notify: NotifyRule::Findings,
        ..probe_config(&trust)
    };
    let aws = AwsClients::new(&sdk, &config);
    let ctx = ProbeContext::new(&config).expect("probe context");
    let report = sweep::run(&aws, &ctx, &config, time::OffsetDateTime::now_utc(), None)
        .await
        .expect("sweep runs");
    assert_eq!(report.findings[0].code, FindingCode::ThumbprintMismatch);

    let outcome = notify::publish_if_needed(&sns, &config, &report, None)
        .await
        .expect("publish");
    assert!(
        matches!(outcome, NotifyOutcome::Published { parts: 1, .. }),
        "{outcome:?}"
    );

    let sent = sent(&moto, &topic.arn).await;
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
    let raw = receive_all(&moto, &topic.raw_queue).await;
    assert_eq!(raw.len(), 1);
    let delivered: Report = serde_json::from_str(raw[0]["Body"].as_str().unwrap()).unwrap();
    assert_eq!(delivered, report);
}
