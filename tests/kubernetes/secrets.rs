//! The token is a credential: it never shows in what a read returns, in an error's text, or in
//! the logs, trace level included (every test of this binary logs into [`capture_logs`]).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use tracing_subscriber::fmt::MakeWriter;

use crate::support::kube_api::{pod, service_account};
use crate::Lab;
use thumbprint_guard::kubernetes::ApiFailure;

/// Every log line written by this test binary, kept in memory (up to [`KEPT`] bytes).
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

/// More than every test of this binary writes at trace level.
const KEPT: usize = 256 * 1024 * 1024;

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut kept = self.0.lock().unwrap();
        if kept.len() + buf.len() <= KEPT {
            kept.extend_from_slice(buf);
        }
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

static LOGS: OnceLock<Captured> = OnceLock::new();

/// Installs, once per test binary and before any test reads a cluster, the process's subscriber
/// at trace level, writing into memory. A process-wide subscriber rather than one per test:
/// tracing caches whether a call site is enabled per process, so a subscriber set for one test
/// thread misses call sites another test thread reached first.
pub fn capture_logs() -> &'static Captured {
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(captured.clone())
            .with_ansi(false)
            .init();
        captured
    })
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

#[tokio::test]
async fn the_token_never_appears_in_the_read_in_errors_or_in_logs() {
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

    let logs = String::from_utf8_lossy(&capture_logs().0.lock().unwrap()).into_owned();
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
