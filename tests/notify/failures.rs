//! SNS failures: a missing topic, a refused part, server errors the SDK retries.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::env::REGION;
use crate::support::moto::{Moto, ACCOUNT_ID};
use thumbprint_guard::config::NotifyRule;
use thumbprint_guard::notify::{self, NotifyError, RunNotes, SNS_MAX_PUBLISH_BYTES};
use thumbprint_guard::report::RunReport;

use crate::reports::{config, large_report, problem_report};
use crate::topic::{client, sent, setup};

#[tokio::test]
async fn publishing_to_a_missing_topic_is_an_error_naming_the_topic() {
    let moto = Moto::start().await;
    let sns = client(&moto).await;
    let missing = format!("arn:aws:sns:{REGION}:{ACCOUNT_ID}:does-not-exist");

    let error = notify::publish_run(
        &sns,
        &config(NotifyRule::Findings, &missing),
        &RunReport::Account(problem_report()),
        &RunNotes::default(),
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

    let mut messages = notify::render_run(
        &RunReport::Account(report.clone()),
        &RunNotes::default(),
        notify::PUBLISH_BUDGET_BYTES,
    );
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
    crate::support::moto::install_crypto_provider();
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

    let error = notify::publish_run(
        &sns,
        &config(NotifyRule::Findings, &topic_arn),
        &RunReport::Account(problem_report()),
        &RunNotes::default(),
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
