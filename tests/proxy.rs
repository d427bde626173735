//! `HTTPS_PROXY`: the probe reaches issuers through CONNECT tunnels only, one per address, and
//! the chain it records is the issuer's own (cross-checked with the SHA-1 of rcgen's DER). Through
//! a proxy, a chain that does not validate against Mozilla's roots may be a TLS-intercepting
//! proxy's: it is untrusted and the finding says so. `NO_PROXY` bypasses the proxy.
//!
//! The proxy is a minimal CONNECT relay written here (a test fixture: it parses one request line,
//! records the target, answers 200 and copies bytes both ways).

mod support;

use std::sync::{Arc, Mutex};

use serde_json::Value;
use support::issuer::{ChainSpec, IssuerServer, TestCa, TrustFile};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;

/// A CONNECT proxy on 127.0.0.1 that records every CONNECT target.
struct ConnectProxy {
    port: u16,
    targets: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    async fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let targets = Arc::new(Mutex::new(Vec::new()));
        let seen = targets.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let _ = relay(client, seen).await;
                });
            }
        });
        ConnectProxy { port, targets }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

async fn relay(client: TcpStream, seen: Arc<Mutex<Vec<String>>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(client);
    let mut request = String::new();
    reader.read_line(&mut request).await?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).await? == 0 || header == "\r\n" {
            break;
        }
    }
    let mut words = request.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (words.next(), words.next()) else {
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            .await?;
        return Ok(());
    };
    seen.lock().unwrap().push(target.to_string());
    let mut upstream = TcpStream::connect(target).await?;
    let mut client = reader.into_inner();
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

async fn inspect_json(url: &str, env: &[(&str, String)]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_thumbprint-guard"))
        .args(["inspect", "--json", url])
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .await
        .expect("run thumbprint-guard");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (out.status.code().expect("exit code"), json, stderr)
}

fn base_env(trust: &TrustFile) -> Vec<(&'static str, String)> {
    vec![
        (
            "EXTRA_TRUST_ANCHORS_PEM",
            trust.path().display().to_string(),
        ),
        ("ALLOW_PRIVATE_ADDRESSES", "true".to_string()),
        ("PROBE_TIMEOUT_SECS", "3".to_string()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_tunnel_through_https_proxy_and_record_the_issuers_own_chain() {
    let ca = TestCa::new("proxy");
    let trust = TrustFile::new(&[&ca]);
    let chain = ca.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    let proxy = ConnectProxy::start().await;
    let mut env = base_env(&trust);
    env.push(("HTTPS_PROXY", proxy.url()));

    let (code, report, stderr) = inspect_json(&server.url(), &env).await;

    let targets = proxy.targets();
    let issuer_address = format!("127.0.0.1:{}", server.port());
    assert!(
        !targets.is_empty() && targets.iter().all(|t| *t == issuer_address),
        "every connection was a CONNECT tunnel to the resolved address {issuer_address}: {targets:?}"
    );
    assert_eq!(
        targets.len(),
        server.connections(),
        "no connection bypassed the proxy"
    );
    let text = report.to_string();
    assert!(
        text.contains(&chain.top_sha1()),
        "the chain recorded is the issuer's own ({}): {report:#}",
        chain.top_sha1()
    );
    assert_eq!(
        code, 0,
        "a private CA through a proxy is judged by the same trust store as without one: {stderr}"
    );
    assert_eq!(report["findings"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["endpoints"][0]["trusted"], true, "{report:#}");
}

/// A TLS-intercepting proxy presents a chain of its own CA, which is not in the trust store: the
/// chain fails validation like any unknown CA, and the reason names the proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intercepted_chain_is_untrusted_and_names_the_proxy() {
    let ca = TestCa::new("proxy");
    let trust = TrustFile::new(&[&ca]);
    let interceptor = TestCa::new("interceptor");
    let chain = interceptor.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    let proxy = ConnectProxy::start().await;
    let mut env = base_env(&trust);
    env.push(("HTTPS_PROXY", proxy.url()));

    let (code, report, stderr) = inspect_json(&server.url(), &env).await;

    assert_eq!(
        code, 1,
        "an unknown CA through a proxy is critical: {stderr}"
    );
    let findings = report["findings"].as_array().expect("findings");
    let untrusted = findings
        .iter()
        .find(|f| f["code"] == "CHAIN_UNTRUSTED")
        .unwrap_or_else(|| panic!("CHAIN_UNTRUSTED: {report:#}"));
    let message = untrusted["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
        + &untrusted["details"].to_string();
    assert!(
        message.contains("TLS-intercepting proxy")
            && message.contains(&format!("127.0.0.1:{}", proxy.port)),
        "the finding names the proxy and the interception risk: {message}"
    );
    assert!(!message.contains("Proxy-Authorization"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_proxy_bypasses_the_proxy() {
    let ca = TestCa::new("no-proxy");
    let trust = TrustFile::new(&[&ca]);
    let chain = ca.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    let proxy = ConnectProxy::start().await;
    let mut env = base_env(&trust);
    env.push(("HTTPS_PROXY", proxy.url()));
    env.push(("NO_PROXY", "127.0.0.1".to_string()));

    let (code, report, stderr) = inspect_json(&server.url(), &env).await;

    assert_eq!(
        proxy.targets(),
        Vec::<String>::new(),
        "NO_PROXY covers the issuer"
    );
    assert_eq!(
        code, 0,
        "direct, the test CA is trusted: {report:#}\n{stderr}"
    );
    assert!(report.to_string().contains(&chain.top_sha1()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_that_refuses_is_named_in_the_error() {
    let ca = TestCa::new("dead-proxy");
    let trust = TrustFile::new(&[&ca]);
    let server = IssuerServer::start(ca.chain(ChainSpec::default())).await;
    // Nothing listens on port 9.
    let mut env = base_env(&trust);
    env.push(("HTTPS_PROXY", "http://127.0.0.1:9".to_string()));

    let (code, report, _) = inspect_json(&server.url(), &env).await;

    assert_eq!(code, 1);
    assert_eq!(
        server.connections(),
        0,
        "nothing reached the issuer directly"
    );
    let text = report.to_string();
    assert!(
        text.contains("through proxy 127.0.0.1:9 (HTTPS_PROXY) failed"),
        "{report:#}"
    );
}
