//! The EKS token is a credential: after CLI runs with `RUST_LOG=debug` (and `trace`) over a
//! cluster that lets the run in and one that refuses it, no part of any token the fake APIs
//! received appears in the JSON report, the table, stderr, or the messages published to SNS.

use base64::Engine as _;
use thumbprint_guard::report::FindingCode;

use crate::support::env::cli;
use crate::support::kube_api::{pod, service_account};
use crate::{role_arn, Lab, ACCOUNT, REGION};

/// The parts of a token that give access: the token, its base64 payload, the presigned URL inside
/// it and that URL's signature.
fn secrets_of(token: &str) -> Vec<String> {
    let encoded = token.strip_prefix("k8s-aws-v1.").expect("an EKS token");
    let url = String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .expect("base64url"),
    )
    .expect("UTF-8");
    let signature = url::Url::parse(&url)
        .expect("a URL")
        .query_pairs()
        .find(|(k, _)| k == "X-Amz-Signature")
        .map(|(_, v)| v.into_owned())
        .expect("a signature");
    vec![token.to_string(), encoded.to_string(), url, signature]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_appears_in_the_report_the_logs_or_the_messages() {
    let lab = Lab::start().await;
    let cart = role_arn(ACCOUNT, "cart");
    let prod = lab
        .cluster(
            "prod",
            REGION,
            vec![service_account("shop", "cart", Some(&cart))],
            vec![pod("shop", "cart-1", Some("cart"), &[], "Running")],
        )
        .await;
    lab.role("cart", &prod.trusts("shop", "cart")).await;
    let denied = lab
        .cluster(
            "denied",
            REGION,
            vec![service_account("a", "b", None)],
            vec![],
        )
        .await;
    denied.api.set_allowed(vec![]);
    let sns = aws_sdk_sns::Client::new(&lab.env.moto.sdk_config(REGION).await);
    let topic = sns
        .create_topic()
        .name("in-cluster")
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .expect("a topic ARN");

    let mut shown = Vec::new();
    for (level, args) in [
        ("debug", ["sweep", "--json"].as_slice()),
        ("debug", ["sweep"].as_slice()),
        ("trace", ["sweep", "--output", "asff"].as_slice()),
    ] {
        let vars = lab.cli_env(
            REGION,
            &[
                ("RUST_LOG", level),
                ("SNS_TOPIC_ARN", topic.as_str()),
                ("NOTIFY", "always"),
            ],
        );
        let (code, stdout, stderr) = cli(&vars, args).await;
        assert_eq!(code, 0, "warnings only: {args:?}: {stderr}");
        assert!(
            stderr.contains("cluster API read") && stderr.contains("cluster API could not be read"),
            "RUST_LOG={level} shows the reads: {stderr}"
        );
        assert!(stderr.contains("published to SNS"), "{stderr}");
        shown.push(stdout);
        shown.push(stderr);
    }
    assert!(
        shown[0].contains(FindingCode::PodNeedsRestart.as_str())
            && shown[0].contains(FindingCode::ClusterApiUnreachable.as_str()),
        "both clusters' findings are in the report: {}",
        shown[0]
    );
    let messages = lab.env.moto.sent_notifications(&topic).await;
    assert_eq!(messages.len(), 3, "one message per run");
    shown.extend(messages.iter().map(|m| m.to_string()));

    let mut tokens = prod.api.tokens();
    tokens.extend(denied.api.tokens());
    assert!(
        tokens.len() >= 9,
        "each run sent tokens to both clusters: {}",
        tokens.len()
    );
    for token in &tokens {
        for secret in secrets_of(token) {
            for text in &shown {
                assert!(
                    !text.contains(&secret),
                    "a secret part of a token ({} characters) appears in:\n{text}",
                    secret.len()
                );
            }
        }
    }
}
