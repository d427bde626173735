//! `thumbprint-guard inspect` as a person runs it: the built binary against local TLS issuers.
//! Exit codes 0/1/2 and the thumbprint, cross-checked against the SHA-1 of rcgen's DER.

mod support;

use std::process::Output;

use support::issuer::{ChainSpec, IssuerServer, Order, TestCa, TrustFile};
use tokio::process::Command;

/// Runs the CLI with a clean environment plus `env`.
async fn inspect(args: &[&str], env: &[(&str, String)]) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_thumbprint-guard"))
        .arg("inspect")
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .await
        .expect("run thumbprint-guard");
    (
        status.code().expect("exit code"),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

fn trusting(trust: &TrustFile) -> Vec<(&'static str, String)> {
    vec![
        (
            "EXTRA_TRUST_ANCHORS_PEM",
            trust.path().display().to_string(),
        ),
        ("ALLOW_PRIVATE_ADDRESSES", "true".to_string()),
        ("PROBE_TIMEOUT_SECS", "2".to_string()),
    ]
}

#[tokio::test]
async fn healthy_issuer_prints_the_top_thumbprint_and_exits_0() {
    let ca = TestCa::new("cli");
    let trust = TrustFile::new(&[&ca]);
    let chain = ca.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    let (code, stdout, stderr) = inspect(&[&server.url()], &trusting(&trust)).await;

    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!(
            "Thumbprint to configure in IAM: {}",
            chain.top_sha1()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("Findings   none"), "{stdout}");
}

#[tokio::test]
async fn json_output_is_the_provider_shape() {
    let ca = TestCa::new("cli-json");
    let trust = TrustFile::new(&[&ca]);
    let chain = ca.chain(ChainSpec::full());
    let server = IssuerServer::start(chain.clone()).await;
    let (code, stdout, stderr) = inspect(&[&server.url(), "--json"], &trusting(&trust)).await;

    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(report["url"], server.url());
    assert_eq!(report["jwks_uri"], server.jwks_url());
    assert_eq!(report["served_thumbprints"], serde_json::json!([ca.sha1()]));
    assert_eq!(report["endpoints"][0]["top_thumbprint"], chain.top_sha1());
    assert_eq!(report["endpoints"][0]["trusted"], true);
    assert_eq!(report["thumbprint_enforced"], true);
    assert_eq!(report["findings"], serde_json::json!([]));
}

#[tokio::test]
async fn untrusted_issuer_exits_1_and_still_shows_the_served_thumbprint() {
    let trusted = TestCa::new("cli-trusted");
    let trust = TrustFile::new(&[&trusted]);
    let chain = TestCa::new("cli-stranger").chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    let (code, stdout, stderr) = inspect(&[&server.url()], &trusting(&trust)).await;

    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stdout.contains("CHAIN_UNTRUSTED"), "{stdout}");
    assert!(stdout.contains(&chain.top_sha1()), "{stdout}");
    assert!(
        stdout.contains("do not configure its thumbprint"),
        "{stdout}"
    );
}

/// Each address's TLS version and chain order: a well-formed issuer taking TLS 1.2, and one that
/// takes only TLS 1.3 and serves its chain out of order (exit 1, CHAIN_ORDER, IAM relies on the
/// thumbprint because of TLS 1.3, and no advice to configure the broken chain's top).
#[tokio::test]
async fn each_address_shows_its_tls_version_and_chain_order() {
    let ca = TestCa::new("cli-order");
    let trust = TrustFile::new(&[&ca]);
    let good = IssuerServer::start(ca.chain(ChainSpec::default())).await;
    let (code, stdout, stderr) = inspect(&[&good.url()], &trusting(&trust)).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("  tls      TLS 1.2 (as IAM's certificate retrieval speaks it)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  order    in order: each certificate issued by the next"),
        "{stdout}"
    );

    let chain = ca.chain(ChainSpec::ordered(Order::LeafRootIntermediate));
    let bad = IssuerServer::start_tls13_only(chain.clone()).await;
    let (code, stdout, stderr) = inspect(&[&bad.url()], &trusting(&trust)).await;
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("  tls      TLS 1.3 only: refused a TLS 1.2 handshake"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "  order    NOT CONTIGUOUS: served certificate #2 did not issue certificate #1"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("CRITICAL CHAIN_ORDER"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "IAM relies on the thumbprint: the chain served at {} does not anchor in a public root CA",
            bad.addr()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("and {} accepts only TLS 1.3", bad.addr())),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "Thumbprint to configure in IAM: none until the issuer serves its chain in order"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "WARNING: {} tops a served chain that is not contiguous (CHAIN_ORDER)",
            chain.top_sha1()
        )),
        "{stdout}"
    );
}

#[tokio::test]
async fn usage_and_configuration_errors_exit_2() {
    let (code, _, stderr) = inspect(&["http://127.0.0.1:1/id/X"], &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("https"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let (code, _, stderr) = inspect(
        &["https://127.0.0.1:1/id/X"],
        &[("EXTRA_TRUST_ANCHORS_PEM", missing.display().to_string())],
    )
    .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("EXTRA_TRUST_ANCHORS_PEM"), "{stderr}");
}
