//! moto server on 127.0.0.1 (the AWS emulator): virtualenv, start, SDK configuration, moto-api.
//!
//! Every test starts its own moto process (state is per process), on a free loopback port, and the
//! process is killed when the [`Moto`] value drops. Nothing here can reach real AWS: the SDK gets an
//! explicit endpoint and dummy credentials, never the environment's.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::types::Tag;

/// The account moto reports for its default credentials.
pub const ACCOUNT_ID: &str = "123456789012";

static VENV: Once = Once::new();

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Creates the virtualenv (moto etc.) if missing; panics with the installer's output otherwise.
pub fn ensure_venv() {
    VENV.call_once(|| {
        let out = Command::new(root().join("scripts/ensure-venv.sh"))
            .output()
            .expect("run scripts/ensure-venv.sh");
        assert!(
            out.status.success(),
            "scripts/ensure-venv.sh failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// Installs aws-lc-rs as rustls' process default (reqwest in tests needs one).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// A running moto server.
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    child: Child,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a free loopback port")
}

impl Moto {
    /// Starts moto server on a free loopback port and waits until it answers.
    pub async fn start() -> Moto {
        ensure_venv();
        install_crypto_provider();
        for _attempt in 0..5 {
            let port = free_port();
            let child = Command::new(root().join(".venv/bin/moto_server"))
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start .venv/bin/moto_server");
            let mut moto = Moto {
                endpoint: format!("http://127.0.0.1:{port}"),
                child,
            };
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(30) {
                if let Ok(Some(_)) = moto.child.try_wait() {
                    break; // exited: port taken; try another
                }
                if let Ok(resp) = reqwest::get(format!("{}/moto-api/", moto.endpoint)).await {
                    if resp.status().is_success() {
                        return moto;
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let _ = moto.child.kill();
        }
        panic!("moto server did not start on 127.0.0.1 after 5 attempts");
    }

    /// SDK configuration pointing at this moto, with dummy credentials and `region`.
    pub async fn sdk_config(&self, region: &str) -> SdkConfig {
        self.sdk_config_with(region, "testing", "testing").await
    }

    /// Like [`Moto::sdk_config`] with explicit credentials (for moto's IAM enforcement).
    pub async fn sdk_config_with(&self, region: &str, key: &str, secret: &str) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_iam::config::Credentials::new(
                key.to_string(),
                secret.to_string(),
                None,
                None,
                "moto",
            ))
            .load()
            .await
    }

    /// Environment for a child process (CLI binary) that must reach this moto and nothing else.
    pub fn env(&self, region: &str) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", region),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// `GET /moto-api/data.json`: moto's whole state (SNS sent notifications among it).
    pub async fn data_json(&self) -> serde_json::Value {
        reqwest::get(format!("{}/moto-api/data.json", self.endpoint))
            .await
            .expect("GET /moto-api/data.json")
            .json()
            .await
            .expect("data.json is JSON")
    }

    /// What moto's SNS recorded as sent to `topic_arn`, in publish order: each entry is
    /// `[message_id, message, subject, message_attributes, group_id]`. `None` when moto has no
    /// such topic.
    pub async fn topic_notifications(&self, topic_arn: &str) -> Option<Vec<serde_json::Value>> {
        let data = self.data_json().await;
        data["sns"]["Topic"]
            .as_array()?
            .iter()
            .find(|t| t["arn"] == topic_arn)
            .map(|t| {
                t["sent_notifications"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
    }

    /// [`Moto::topic_notifications`], empty when there is no such topic.
    pub async fn sent_notifications(&self, topic_arn: &str) -> Vec<serde_json::Value> {
        self.topic_notifications(topic_arn)
            .await
            .unwrap_or_default()
    }

    /// Turns IAM policy enforcement on (`POST /moto-api/reset-auth` with body `0`).
    pub async fn enable_auth(&self) {
        let resp = reqwest::Client::new()
            .post(format!("{}/moto-api/reset-auth", self.endpoint))
            .header("Content-Type", "text/plain")
            .body("0")
            .send()
            .await
            .expect("POST /moto-api/reset-auth");
        assert!(resp.status().is_success(), "reset-auth: {}", resp.status());
    }
}

/// Registers an IAM OIDC provider and returns its ARN.
pub async fn create_provider(
    iam: &aws_sdk_iam::Client,
    url: &str,
    client_ids: &[&str],
    thumbprints: &[&str],
    tags: &[(&str, &str)],
) -> String {
    let mut req = iam.create_open_id_connect_provider().url(url);
    for c in client_ids {
        req = req.client_id_list(*c);
    }
    for t in thumbprints {
        req = req.thumbprint_list(*t);
    }
    for (k, v) in tags {
        req = req.tags(Tag::builder().key(*k).value(*v).build().expect("tag"));
    }
    req.send()
        .await
        .expect("CreateOpenIDConnectProvider")
        .open_id_connect_provider_arn
        .expect("provider ARN")
}

/// The provider's thumbprint list as IAM holds it now.
pub async fn thumbprints(iam: &aws_sdk_iam::Client, arn: &str) -> Vec<String> {
    iam.get_open_id_connect_provider()
        .open_id_connect_provider_arn(arn)
        .send()
        .await
        .expect("GetOpenIDConnectProvider")
        .thumbprint_list
        .unwrap_or_default()
}

/// Creates the organization (moto's default account becomes its management account) and
/// returns its id.
/// Creates EKS cluster `name` in moto, whose cluster role is `role_arn` (moto does not check it),
/// and returns what CreateCluster answered (its ARN and OIDC issuer among it).
pub async fn create_eks_cluster(
    eks: &aws_sdk_eks::Client,
    name: &str,
    role_arn: &str,
) -> Result<aws_sdk_eks::types::Cluster, String> {
    eks.create_cluster()
        .name(name)
        .role_arn(role_arn)
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .subnet_ids("subnet-0123456789abcdef0")
                .build(),
        )
        .send()
        .await
        .map_err(|e| format!("CreateCluster {name} in moto: {e}"))?
        .cluster
        .ok_or_else(|| format!("CreateCluster {name} in moto answered without the cluster"))
}

pub async fn create_organization(sdk: &SdkConfig) -> String {
    aws_sdk_organizations::Client::new(sdk)
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("CreateOrganization")
        .organization
        .and_then(|o| o.id)
        .expect("organization id")
}

/// Creates a member account (ACTIVE at once in moto) and returns its 12-digit id.
pub async fn create_account(sdk: &SdkConfig, name: &str) -> String {
    aws_sdk_organizations::Client::new(sdk)
        .create_account()
        .account_name(name)
        .email(format!("{name}@example.com"))
        .send()
        .await
        .expect("CreateAccount")
        .create_account_status
        .and_then(|s| s.account_id)
        .expect("new account id")
}

/// Closes a member account (moto marks it SUSPENDED).
pub async fn close_account(sdk: &SdkConfig, account_id: &str) {
    aws_sdk_organizations::Client::new(sdk)
        .close_account()
        .account_id(account_id)
        .send()
        .await
        .expect("CloseAccount");
}

/// SDK configuration acting inside `account_id`: moto serves credentials assumed into any role
/// ARN of an account from that account's own backend.
pub async fn member_sdk_config(moto: &Moto, region: &str, account_id: &str) -> SdkConfig {
    let central = moto.sdk_config(region).await;
    let credentials = aws_sdk_sts::Client::new(&central)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account_id}:role/test-setup"))
        .role_session_name("test-setup")
        .send()
        .await
        .expect("AssumeRole in moto")
        .credentials
        .expect("assumed credentials");
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(&moto.endpoint)
        .credentials_provider(aws_sdk_iam::config::Credentials::new(
            credentials.access_key_id,
            credentials.secret_access_key,
            Some(credentials.session_token),
            None,
            "moto-member",
        ))
        .load()
        .await
}

/// Creates the state table `name` (DESIGN: partition key `account_id`, on demand).
pub async fn create_state_table(dynamodb: &aws_sdk_dynamodb::Client, name: &str) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    dynamodb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("account_id")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("account_id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("create the state table");
}

/// Security Hub's findings as `client` reads them: (Id, RecordState), sorted.
pub async fn security_hub_findings(client: &aws_sdk_securityhub::Client) -> Vec<(String, String)> {
    let out = client.get_findings().send().await.expect("GetFindings");
    let mut rows: Vec<(String, String)> = out
        .findings()
        .iter()
        .map(|f| {
            (
                f.id().unwrap_or_default().to_string(),
                f.record_state()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    rows.sort();
    rows
}
