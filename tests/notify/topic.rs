//! The topic, its SQS subscriptions, and what arrived.

use serde_json::{json, Value};

use crate::support::env::REGION;
use crate::support::moto::{Moto, ACCOUNT_ID};

/// An SNS topic with a raw and an enveloped SQS subscription.
pub struct Topic {
    pub arn: String,
    pub raw_queue: String,
    pub envelope_queue: String,
}

/// One SQS call in the JSON protocol (moto does not check signatures; the Authorization header
/// only tells it which service is meant).
pub async fn sqs(moto: &Moto, operation: &str, body: Value) -> Value {
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

pub async fn setup(moto: &Moto, sns: &aws_sdk_sns::Client, name: &str) -> Topic {
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
pub async fn receive_all(moto: &Moto, queue_url: &str) -> Vec<Value> {
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
pub struct Sent {
    pub message: Value,
    pub subject: String,
    pub attributes: Value,
}

/// `sent_notifications` of one topic from `/moto-api/data.json`, in publish order.
pub async fn sent(moto: &Moto, topic_arn: &str) -> Vec<Sent> {
    moto.topic_notifications(topic_arn)
        .await
        .unwrap_or_else(|| panic!("topic {topic_arn} in data.json"))
        .iter()
        .map(|n| Sent {
            message: serde_json::from_str(n[1].as_str().expect("message"))
                .expect("message is JSON"),
            subject: n[2].as_str().unwrap_or_default().to_string(),
            attributes: n[3].clone(),
        })
        .collect()
}

pub fn protocol(sent: &Sent, name: &str) -> String {
    sent.message[name]
        .as_str()
        .unwrap_or_else(|| panic!("protocol {name} in {}", sent.message))
        .to_string()
}

pub async fn client(moto: &Moto) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(&moto.sdk_config(REGION).await)
}
