//! Publishing against an SNS faked with aws-smithy-mocks: a part SNS refuses does not stop the
//! others.

use aws_sdk_sns::operation::publish::PublishOutput;
use aws_sdk_sns::Client;
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

use crate::notify::{publish, MessageAttributes, NotifyError, NotifyOutcome, SnsMessage};
use crate::test_mocks::mock_client;

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:thumbprint-guard";

fn message(part: usize, parts: usize) -> SnsMessage {
    SnsMessage {
        subject: format!("[WARNING] thumbprint-guard (part {part}/{parts})"),
        message: format!(r#"{{"default":"part {part}"}}"#),
        attributes: MessageAttributes {
            severity: "warning",
            account_id: "123456789012".into(),
            organization_id: None,
            part,
            parts,
        },
        providers: vec![format!("arn:aws:iam::123456789012:oidc-provider/p{part}")],
    }
}

fn too_long() -> HttpResponse {
    let body = "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: Message too long</Message></Error><RequestId>test</RequestId></ErrorResponse>";
    HttpResponse::new(StatusCode::try_from(400).unwrap(), SdkBody::from(body))
}

/// A client on which the parts in `refused` fail (SNS's "Message too long") and every other
/// part is published; returns the rule counting the successful publishes.
fn sns(refused: &'static [usize]) -> (Client, Rule) {
    let refuse = mock!(Client::publish)
        .match_requests(move |request| {
            refused.iter().any(|part| {
                request
                    .subject()
                    .is_some_and(|s| s.contains(&format!("(part {part}/")))
            })
        })
        .then_http_response(too_long);
    let accept = mock!(Client::publish).then_compute_output(|request| {
        PublishOutput::builder()
            .message_id(format!("id-{}", request.subject().unwrap_or_default()))
            .build()
    });
    let client = mock_client!(aws_sdk_sns, [&refuse, &accept], 2);
    (client, accept)
}

#[tokio::test]
async fn a_refused_first_part_does_not_lose_the_later_ones() {
    let (client, accepted) = sns(&[1]);
    let messages: Vec<SnsMessage> = (1..=3).map(|part| message(part, 3)).collect();
    let error = publish(&client, TOPIC, &messages)
        .await
        .expect_err("part 1 is refused");
    assert_eq!(accepted.num_calls(), 2, "parts 2 and 3 are still published");
    match &error {
        NotifyError::Publish {
            topic_arn,
            part,
            parts,
            delivered,
            code,
            ..
        } => {
            assert_eq!(
                (topic_arn.as_str(), *part, *parts, *delivered),
                (TOPIC, 1, 3, 2)
            );
            assert_eq!(code.as_deref(), Some("InvalidParameter"));
            assert!(
                error.to_string().contains(
                    "that part carried provider arn:aws:iam::123456789012:oidc-provider/p1"
                ),
                "{error}"
            );
        }
        other => panic!("expected one failed part, got {other:?}"),
    }
    let text = error.to_string();
    assert!(text.contains("part 1 of 3"), "{text}");
    assert!(text.contains("Message too long"), "{text}");
}

#[tokio::test]
async fn every_failed_part_is_named() {
    let (client, accepted) = sns(&[1, 3]);
    let messages: Vec<SnsMessage> = (1..=4).map(|part| message(part, 4)).collect();
    let error = publish(&client, TOPIC, &messages)
        .await
        .expect_err("parts 1 and 3 are refused");
    assert_eq!(accepted.num_calls(), 2, "parts 2 and 4 are published");
    let text = error.to_string();
    match error {
        NotifyError::PublishParts {
            topic_arn,
            parts,
            delivered,
            failures,
        } => {
            assert_eq!((topic_arn.as_str(), parts, delivered), (TOPIC, 4, 2));
            let failed: Vec<usize> = failures.iter().map(|f| f.part).collect();
            assert_eq!(failed, [1, 3]);
            assert!(failures
                .iter()
                .all(|f| f.code.as_deref() == Some("InvalidParameter")));
        }
        other => panic!("expected several failed parts, got {other:?}"),
    }
    assert!(text.contains("2 of 4 parts"), "{text}");
    assert!(text.contains(TOPIC), "{text}");
    assert!(
        text.contains("part 1: ") && text.contains("part 3: "),
        "{text}"
    );
}

#[tokio::test]
async fn all_parts_accepted_is_published() {
    let (client, accepted) = sns(&[]);
    let messages: Vec<SnsMessage> = (1..=2).map(|part| message(part, 2)).collect();
    let outcome = publish(&client, TOPIC, &messages).await.unwrap();
    assert_eq!(accepted.num_calls(), 2);
    assert_eq!(
        outcome,
        NotifyOutcome::Published {
            message_ids: vec![
                "id-[WARNING] thumbprint-guard (part 1/2)".to_string(),
                "id-[WARNING] thumbprint-guard (part 2/2)".to_string()
            ],
            parts: 2
        }
    );
}
