//! The token is a credential: it never shows in what a read returns, in an error's text, or in
//! the logs, trace level included.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use tracing_subscriber::fmt::MakeWriter;

use crate::support::kube_api::{pod, service_account};
use crate::Lab;
use thumbprint_guard::kubernetes::ApiFailure;

/// Every log line written, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The parts of a token that give access: the token, the presigned URL inside it, its signature.
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

// A current-thread runtime (tokio::test's default): every task of the reads, hyper's connection
// tasks included, runs on this thread and logs into the subscriber set here.
#[tokio::test]
async fn the_token_never_appears_in_the_read_in_errors_or_in_logs() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // While only one subscriber exists, tracing-core decides a callsite's interest from the
    // default subscriber of the thread that reaches it first, for every thread: a log line first
    // reached by another test's thread (no subscriber) would stay disabled here. With a second
    // subscriber registered, it asks every subscriber.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());

    let lab = Lab::start(
        vec![service_account(
            "payments",
            "api",
            Some("arn:aws:iam::123456789012:role/api"),
        )],
        vec![pod("payments", "api-1", Some("api"), &[], "Running")],
    )
    .await;
    let mut shown = Vec::new();
    let accepted = lab.read().await;
    assert!(accepted.api.is_ok(), "{:?}", accepted.api);
    shown.push(format!("{accepted:?}"));

    lab.api.set_allowed(vec![]);
    let forbidden = lab.read().await;
    let failure = forbidden.api.clone().expect_err("forbidden");
    assert!(matches!(failure, ApiFailure::Forbidden(_)), "{failure:?}");
    shown.push(format!("{forbidden:?}"));
    shown.push(failure.to_string());

    lab.api.set_clock_offset(Duration::from_secs(120));
    let expired = lab.read().await;
    let failure = expired.api.clone().expect_err("expired");
    assert_eq!(failure, ApiFailure::Unauthorized);
    shown.push(format!("{expired:?}"));
    shown.push(failure.to_string());

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).expect("UTF-8 logs");
    assert!(
        logs.contains("Kubernetes list read") && logs.contains("cluster API read"),
        "the subscriber captured the reads' debug and info lines:\n{logs}"
    );
    assert!(logs.contains("cluster API could not be read"), "{logs}");
    shown.push(logs);

    let tokens = lab.api.tokens();
    // Two requests for the accepted read; a failed read may stop its other list before it asks.
    assert!(tokens.len() >= 4, "tokens received: {}", tokens.len());
    for token in &tokens {
        for secret in secrets_of(token) {
            for text in &shown {
                assert!(
                    !text.contains(&secret),
                    "a secret part of the token ({} characters) appears in:\n{text}",
                    secret.len()
                );
            }
        }
    }
}
