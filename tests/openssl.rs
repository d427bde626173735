//! An independent cross-check of the thumbprint, the way people compute it by hand today:
//! `openssl s_client -showcerts` against a local issuer, the LAST certificate it prints piped to
//! `openssl x509 -fingerprint -sha1 -noout`. The result must equal what the built
//! `thumbprint-guard inspect --json` reports and the SHA-1 of the DER rcgen generated.
//!
//! openssl runs through `tokio::process`, so the issuer keeps being served on the test's runtime
//! while the child talks to it. `.ci/run` installs openssl when a machine lacks it.

mod support;

use std::process::{Output, Stdio};
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use support::issuer::{sha1_hex, ChainSpec, IssuerServer, ServedChain, TestCa, TrustFile};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// Bound on each child process (openssl, the CLI): a hang fails the test instead of stalling it.
const CHILD_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `command` to completion with `stdin` as its standard input (empty: like `</dev/null`).
async fn run(mut command: Command, stdin: &[u8]) -> Output {
    let shown = format!("{:?}", command.as_std());
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {shown} (is openssl installed?): {e}"));
    let mut input = child.stdin.take().expect("piped stdin");
    input.write_all(stdin).await.expect("write to stdin");
    drop(input); // EOF: s_client closes the connection, x509 reads what it got.
    tokio::time::timeout(CHILD_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{shown} did not finish within {CHILD_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("{shown}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `AB:CD:...` (or `abcd...`) as lowercase hex without separators.
fn normalize(fingerprint: &str) -> String {
    fingerprint
        .trim()
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Every certificate `openssl s_client -showcerts` prints for `port`, in the order printed
/// (leaf first). No SNI: the issuer is an IP address, and a client sends none for an IP.
async fn openssl_showcerts(port: u16) -> Vec<CertificateDer<'static>> {
    let mut s_client = Command::new("openssl");
    s_client.args([
        "s_client",
        "-connect",
        &format!("127.0.0.1:{port}"),
        "-noservername",
        "-showcerts",
    ]);
    let out = run(s_client, b"").await;
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "openssl s_client failed ({}):\n{stdout}\n{}",
        out.status,
        text(&out.stderr)
    );
    // The PEM blocks among s_client's prose, parsed by rustls-pki-types (non-PEM lines skipped).
    CertificateDer::pem_slice_iter(&out.stdout)
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("s_client printed malformed PEM ({e}):\n{stdout}"))
}

/// `openssl x509 -fingerprint -sha1 -noout` of one DER certificate, normalized.
async fn openssl_sha1_fingerprint(der: &[u8]) -> String {
    let mut x509 = Command::new("openssl");
    x509.args(["x509", "-inform", "DER", "-fingerprint", "-sha1", "-noout"]);
    let out = run(x509, der).await;
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "openssl x509 failed ({}):\n{stdout}\n{}",
        out.status,
        text(&out.stderr)
    );
    // "SHA1 Fingerprint=AB:CD:..." (the label's case differs between openssl versions).
    let (label, value) = stdout
        .trim()
        .split_once('=')
        .unwrap_or_else(|| panic!("unexpected openssl x509 output: {stdout}"));
    assert!(
        label.to_ascii_lowercase().contains("sha1"),
        "unexpected openssl x509 output: {stdout}"
    );
    normalize(value)
}

/// `thumbprint-guard inspect URL --json` with nothing in the environment but the trust anchors
/// and permission to probe loopback.
async fn inspect_json(url: &str, trust: &TrustFile) -> serde_json::Value {
    let mut cli = Command::new(env!("CARGO_BIN_EXE_thumbprint-guard"));
    cli.args(["inspect", url, "--json"])
        .env_clear()
        .env("EXTRA_TRUST_ANCHORS_PEM", trust.path())
        .env("ALLOW_PRIVATE_ADDRESSES", "true");
    let out = run(cli, b"").await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "inspect {url} --json:\n{stdout}\n{}",
        text(&out.stderr)
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("inspect printed no JSON ({e}):\n{stdout}"))
}

/// Serves a chain of `spec`'s shape and checks openssl, the CLI and rcgen's DER agree on the
/// thumbprint; `expected_top` picks which served certificate that must be.
async fn cross_check(
    name: &str,
    spec: ChainSpec,
    expected_top: impl Fn(&TestCa, &ServedChain) -> String,
) {
    let ca = TestCa::new(name);
    let trust = TrustFile::new(&[&ca]);
    let chain = ca.chain(spec);
    let server = IssuerServer::start(chain.clone()).await;

    let printed = openssl_showcerts(server.port()).await;
    assert_eq!(
        printed.len(),
        chain.certs.len(),
        "s_client printed {} certificate(s); the server sends {}",
        printed.len(),
        chain.certs.len()
    );
    let last = printed.last().expect("s_client printed a certificate");
    let openssl_top = openssl_sha1_fingerprint(last).await;
    assert_eq!(openssl_top.len(), 40, "{openssl_top}");

    // (b) the support's independent SHA-1 of rcgen's DER, and which certificate it is.
    assert_eq!(openssl_top, chain.top_sha1(), "openssl vs rcgen DER");
    assert_eq!(openssl_top, expected_top(&ca, &chain));
    assert_eq!(
        openssl_top,
        sha1_hex(last),
        "openssl vs sha1 of the printed DER"
    );

    // (a) the built CLI.
    let report = inspect_json(&server.url(), &trust).await;
    let endpoints = report["endpoints"].as_array().expect("endpoints");
    assert_eq!(endpoints.len(), 1, "{report:#}");
    assert_eq!(endpoints[0]["address"], server.addr().to_string());
    assert_eq!(endpoints[0]["trusted"], true, "{report:#}");
    assert_eq!(
        endpoints[0]["top_thumbprint"].as_str(),
        Some(openssl_top.as_str()),
        "inspect's top_thumbprint vs openssl: {report:#}"
    );
    assert_eq!(
        report["served_thumbprints"],
        serde_json::json!([openssl_top]),
        "inspect's served_thumbprints vs openssl: {report:#}"
    );
    let served: Vec<&str> = endpoints[0]["chain"]
        .as_array()
        .expect("chain")
        .iter()
        .filter_map(|c| c["sha1"].as_str())
        .collect();
    assert_eq!(served, chain.sha1s(), "inspect's chain vs rcgen DER");
}

#[tokio::test]
async fn leaf_and_intermediate_openssl_agrees_the_top_is_the_intermediate() {
    cross_check("openssl-int", ChainSpec::default(), |_, chain| {
        sha1_hex(&chain.certs[1])
    })
    .await;
}

#[tokio::test]
async fn leaf_intermediate_and_root_openssl_agrees_the_top_is_the_root() {
    cross_check("openssl-full", ChainSpec::full(), |ca, _| ca.sha1()).await;
}

#[tokio::test]
async fn leaf_only_openssl_agrees_the_top_is_the_leaf() {
    cross_check("openssl-leaf", ChainSpec::leaf_only(), |_, chain| {
        chain.leaf_sha1()
    })
    .await;
}
