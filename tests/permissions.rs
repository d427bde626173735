//! The function's permissions are the ones `template.yaml` grants, and they are enough: sweeps run
//! under a moto IAM user that holds exactly the statements of the function's role, read from the
//! template as the SAM transform expands it (`scripts/sam-expand.py`) and resolved here for one
//! `RemediationMode` (partition `aws`, account 123456789012, region us-east-1, the moto topic).
//!
//! What the emulator enforces, as measured here (moto 5.2.5, `POST /moto-api/reset-auth` `0`):
//! - IAM and SNS: the action of every request against the caller's policies (an action no
//!   statement allows is `AccessDenied` / `AuthorizationError`).
//! - STS: `sts:GetCallerIdentity` is always allowed, as in AWS (it needs no permission).
//! - EKS: nothing can be tested: with enforcement on, every EKS request fails with
//!   `SignatureDoesNotMatch` (moto's EKS handler passes the request headers where the body belongs,
//!   so its recomputed signature hashes them; boto3 gets the same 403). The sweeps here therefore
//!   run with `EKS_REGIONS=none`; the EKS statements are checked on the template only.
//! - Resources are not checked: every request is evaluated against `Resource: "*"`, so a statement
//!   scoped to an ARN would never match. The moto user gets the template's statements with
//!   `Resource: "*"`, and [`allows`] checks here that each statement's resources cover the ARNs the
//!   sweep touches.
//! - SigV4 of query-protocol bodies: moto re-encodes the form body it parsed (as botocore would:
//!   space as `+`) before recomputing the signature, so a Rust SDK request whose body differs in
//!   encoding (`sns:Publish` of a text, `iam:TagOpenIDConnectProvider` of a value with a space:
//!   space as `%20`) is `SignatureDoesNotMatch`. The test's SNS and IAM clients therefore also sign an
//!   `x-amz-content-sha256` header (valid SigV4, which moto's verifier takes as the payload hash):
//!   [`SignPayloadHash`]. The code under test (sweep, remediation, notify) is unchanged.
//! - KMS (called by SNS on the publisher's behalf) and CloudWatch Logs (written by Lambda) are not
//!   called by the code: for those only the template's wiring is checked.

mod support;

use std::collections::BTreeMap;
use std::process::Command;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::{json, Value};
use support::issuer::{probe_config, ChainSpec, IssuerServer, TestCa, TrustFile};
use support::moto::{self, Moto};
use thumbprint_guard::config::{Config, EksRegions, HostGlobs, NotifyRule, RemediationMode};
use thumbprint_guard::inventory::AwsClients;
use thumbprint_guard::notify::{self, NotifyOutcome};
use thumbprint_guard::probe::ProbeContext;
use thumbprint_guard::report::{FindingCode, RemediationOutcome, Report};
use thumbprint_guard::sweep;

const PARTITION: &str = "aws";
const ACCOUNT: &str = moto::ACCOUNT_ID;
const REGION: &str = "us-east-1";
const STS: &str = "sts.amazonaws.com";
/// The logical id of the function's execution role in the template.
const ROLE: &str = "FunctionRole";
/// What `GetAtt TopicKey.Arn` stands for (moto's SNS does not use KMS).
const KEY_ARN: &str = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000";
/// The actions that change IAM, granted only in `add` mode.
const WRITE_ACTIONS: [&str; 2] = [
    "iam:UpdateOpenIDConnectProviderThumbprint",
    "iam:TagOpenIDConnectProvider",
];

/// Whether moto can enforce `action` (see the module comment: not EKS).
fn moto_enforces(action: &str) -> bool {
    !action.starts_with("eks:")
}

/// `template.yaml` after the SAM transform, as CloudFormation would deploy it.
fn expanded_template() -> Value {
    moto::ensure_venv();
    let root = moto::root();
    let out = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("scripts/sam-expand.py"))
        .arg(root.join("template.yaml"))
        .args([
            "--placeholder-code",
            "--region",
            REGION,
            "--account",
            ACCOUNT,
        ])
        .args(["--partition", PARTITION])
        .output()
        .expect("run scripts/sam-expand.py");
    assert!(
        out.status.success(),
        "scripts/sam-expand.py template.yaml failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("sam-expand prints JSON")
}

/// The expanded template with values for its parameters and resources: resolves `Ref`, `Fn::Sub`,
/// `Fn::GetAtt`, `Fn::If` and conditions the way CloudFormation would for one deployment.
struct Stack {
    template: Value,
    parameters: BTreeMap<String, String>,
    topic_arn: String,
}

impl Stack {
    /// The stack deployed with `RemediationMode=mode` (other parameters at their defaults) whose
    /// topic is `topic_arn`.
    fn new(template: &Value, mode: &str, topic_arn: &str) -> Stack {
        let mut parameters = BTreeMap::new();
        for (name, spec) in template["Parameters"].as_object().expect("Parameters") {
            let default = match &spec["Default"] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            parameters.insert(name.clone(), default);
        }
        let allowed = &template["Parameters"]["RemediationMode"]["AllowedValues"];
        assert!(
            allowed.as_array().is_some_and(|v| v.contains(&json!(mode))),
            "RemediationMode {mode} is not in the template's AllowedValues {allowed}"
        );
        parameters.insert("RemediationMode".into(), mode.into());
        Stack {
            template: template.clone(),
            parameters,
            topic_arn: topic_arn.to_string(),
        }
    }

    fn function_name(&self) -> &str {
        &self.parameters["FunctionName"]
    }

    fn resource(&self, logical_id: &str) -> &Value {
        let resource = &self.template["Resources"][logical_id];
        assert!(resource.is_object(), "no resource {logical_id}");
        resource
    }

    /// `Ref name`: a parameter, a pseudo parameter or a resource's physical id.
    fn reference(&self, name: &str) -> Option<Value> {
        if name == "AWS::NoValue" {
            return None;
        }
        let fname = self.function_name();
        let value = match name {
            "AWS::Partition" => PARTITION.to_string(),
            "AWS::AccountId" => ACCOUNT.to_string(),
            "AWS::Region" => REGION.to_string(),
            "AWS::StackName" => "thumbprint-guard".to_string(),
            "Topic" => self.topic_arn.clone(),
            "TopicKey" => KEY_ARN.rsplit('/').next().unwrap_or_default().to_string(),
            "FunctionRole" => format!("{fname}-role"),
            "LogGroup" => format!("/aws/lambda/{fname}"),
            "Function" => fname.to_string(),
            other => match self.parameters.get(other) {
                Some(v) => v.clone(),
                None => panic!("this test cannot resolve Ref {other}: add it to Stack::reference"),
            },
        };
        Some(Value::String(value))
    }

    /// `Fn::GetAtt [resource, attribute]`.
    fn attribute(&self, resource: &str, attribute: &str) -> String {
        let fname = self.function_name();
        match (resource, attribute) {
            ("TopicKey", "Arn") => KEY_ARN.to_string(),
            ("LogGroup", "Arn") => {
                format!("arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{fname}:*")
            }
            ("FunctionRole", "Arn") => format!("arn:{PARTITION}:iam::{ACCOUNT}:role/{fname}-role"),
            ("Function", "Arn") => {
                format!("arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{fname}")
            }
            ("Topic", "TopicArn") => self.topic_arn.clone(),
            _ => panic!("this test cannot resolve GetAtt {resource}.{attribute}"),
        }
    }

    fn sub(&self, text: &str, variables: &serde_json::Map<String, Value>) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').expect("unterminated ${ in Fn::Sub");
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str(&format!("${{{literal}}}"));
            } else if let Some(value) = variables.get(name) {
                let value = self.resolve(value).expect("a Fn::Sub variable has a value");
                out.push_str(value.as_str().expect("a Fn::Sub variable is a string"));
            } else if let Some((resource, attribute)) = name.split_once('.') {
                out.push_str(&self.attribute(resource, attribute));
            } else {
                let value = self.reference(name).expect("Fn::Sub of AWS::NoValue");
                out.push_str(value.as_str().unwrap_or_default());
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    fn condition(&self, name: &str) -> bool {
        let expression = &self.template["Conditions"][name];
        assert!(!expression.is_null(), "no condition {name}");
        self.evaluate(expression)
    }

    fn evaluate(&self, expression: &Value) -> bool {
        let (function, arguments) = single_key(expression).expect("a condition function");
        let args = arguments.as_array();
        match function {
            "Fn::Equals" => {
                let args = args.expect("Fn::Equals takes a list");
                self.resolve(&args[0]) == self.resolve(&args[1])
            }
            "Fn::Not" => !self.evaluate(&args.expect("Fn::Not takes a list")[0]),
            "Fn::And" => args.expect("Fn::And").iter().all(|c| self.evaluate(c)),
            "Fn::Or" => args.expect("Fn::Or").iter().any(|c| self.evaluate(c)),
            "Condition" => self.condition(arguments.as_str().expect("condition name")),
            other => panic!("this test cannot evaluate condition function {other}"),
        }
    }

    /// The value CloudFormation would use; `None` for `AWS::NoValue`.
    fn resolve(&self, value: &Value) -> Option<Value> {
        if let Some((function, arguments)) = single_key(value) {
            match function {
                "Ref" => return self.reference(arguments.as_str().expect("Ref name")),
                "Fn::GetAtt" => {
                    let (resource, attribute) = match arguments {
                        Value::Array(parts) => (
                            parts[0].as_str().unwrap_or_default().to_string(),
                            parts[1].as_str().unwrap_or_default().to_string(),
                        ),
                        Value::String(dotted) => {
                            let (r, a) = dotted.split_once('.').expect("GetAtt Resource.Attribute");
                            (r.to_string(), a.to_string())
                        }
                        other => panic!("GetAtt {other}"),
                    };
                    return Some(Value::String(self.attribute(&resource, &attribute)));
                }
                "Fn::Sub" => {
                    let (text, variables) = match arguments {
                        Value::String(text) => (text.clone(), serde_json::Map::new()),
                        Value::Array(parts) => (
                            parts[0].as_str().expect("Fn::Sub text").to_string(),
                            parts[1].as_object().cloned().unwrap_or_default(),
                        ),
                        other => panic!("Fn::Sub {other}"),
                    };
                    return Some(Value::String(self.sub(&text, &variables)));
                }
                "Fn::If" => {
                    let parts = arguments.as_array().expect("Fn::If takes a list");
                    let name = parts[0].as_str().expect("Fn::If condition name");
                    let chosen = if self.condition(name) {
                        &parts[1]
                    } else {
                        &parts[2]
                    };
                    return self.resolve(chosen);
                }
                other if other.starts_with("Fn::") => {
                    panic!("this test cannot resolve {other}: add it to Stack::resolve")
                }
                _ => {}
            }
        }
        Some(match value {
            Value::Array(items) => {
                Value::Array(items.iter().filter_map(|v| self.resolve(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter_map(|(k, v)| self.resolve(v).map(|v| (k.clone(), v)))
                    .collect(),
            ),
            other => other.clone(),
        })
    }

    /// Whether a resource exists in this deployment (its `Condition`, if any, holds).
    fn deployed(&self, resource: &Value) -> bool {
        resource["Condition"]
            .as_str()
            .is_none_or(|name| self.condition(name))
    }

    /// Every statement of every policy attached to the function's role: the role's inline
    /// `Policies` and each `AWS::IAM::Policy` / `AWS::IAM::ManagedPolicy` naming it in `Roles`.
    /// Fails when the role gets permissions another way (AWS managed policies, a boundary).
    fn role_statements(&self) -> Vec<Value> {
        let role_ref = json!({ "Ref": ROLE });
        let role = self.resource(ROLE);
        assert_eq!(role["Type"], "AWS::IAM::Role");
        for unchecked in ["ManagedPolicyArns", "PermissionsBoundary"] {
            assert!(
                role["Properties"][unchecked].is_null(),
                "{ROLE} has {unchecked}: this test cannot vouch for those permissions"
            );
        }
        let mut documents: Vec<Value> = role["Properties"]["Policies"]
            .as_array()
            .map(|policies| {
                policies
                    .iter()
                    .map(|p| p["PolicyDocument"].clone())
                    .collect()
            })
            .unwrap_or_default();
        for resource in self.template["Resources"]
            .as_object()
            .expect("Resources")
            .values()
        {
            let kind = resource["Type"].as_str().unwrap_or_default();
            let attached = resource["Properties"]["Roles"]
                .as_array()
                .is_some_and(|roles| roles.contains(&role_ref));
            if matches!(kind, "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy")
                && attached
                && self.deployed(resource)
            {
                documents.push(resource["Properties"]["PolicyDocument"].clone());
            }
        }
        assert!(!documents.is_empty(), "no policy is attached to {ROLE}");
        documents
            .iter()
            .filter_map(|document| self.resolve(document))
            .flat_map(|document| one_or_many(&document["Statement"]))
            .collect()
    }
}

/// `{"Fn::X": args}` → `("Fn::X", args)`.
fn single_key(value: &Value) -> Option<(&str, &Value)> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let (key, arguments) = map.iter().next()?;
    (key == "Ref" || key == "Condition" || key.starts_with("Fn::"))
        .then_some((key.as_str(), arguments))
}

/// A policy element that may be a string or a list, as a list.
fn one_or_many(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => vec![],
        other => vec![other.clone()],
    }
}

/// IAM wildcard matching: `*` any run of characters, `?` one character.
fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let fold = |s: &str| {
        if ignore_case {
            s.to_ascii_lowercase()
        } else {
            s.to_string()
        }
    };
    let (pattern, text): (Vec<char>, Vec<char>) = (
        fold(pattern).chars().collect(),
        fold(text).chars().collect(),
    );
    let (mut p, mut t, mut star, mut mark) = (0, 0, None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// Whether an `Allow` statement without conditions grants `action` on `resource` (and no `Deny`
/// statement refuses it). Actions match case-insensitively, resources case-sensitively.
fn allows(statements: &[Value], action: &str, resource: &str) -> bool {
    let matches = |statement: &Value| {
        one_or_many(&statement["Action"])
            .iter()
            .any(|a| glob(a.as_str().unwrap_or_default(), action, true))
            && one_or_many(&statement["Resource"])
                .iter()
                .any(|r| glob(r.as_str().unwrap_or_default(), resource, false))
    };
    let denied = statements
        .iter()
        .any(|s| s["Effect"] == "Deny" && matches(s));
    let allowed = statements
        .iter()
        .any(|s| s["Effect"] == "Allow" && s["Condition"].is_null() && matches(s));
    allowed && !denied
}

/// Every action a statement names.
fn actions(statement: &Value) -> Vec<String> {
    one_or_many(&statement["Action"])
        .iter()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect()
}

/// The statements as moto can evaluate them: every resource `*` (see the module comment).
fn for_moto(statements: &[Value]) -> Value {
    let statements: Vec<Value> = statements
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s["Resource"] = json!("*");
            s
        })
        .collect();
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// moto with a healthy and a rotated local issuer registered as OIDC providers, an EKS cluster, a
/// topic, an administrator for the test's own reads, and users created before enforcement is on.
struct Account {
    moto: Moto,
    _servers: Vec<IssuerServer>,
    trust: TrustFile,
    admin: AccessKey,
    topic_arn: String,
    cluster_arn: String,
    healthy: String,
    rotated: String,
    rotated_old: String,
    rotated_new: String,
}

/// Adds `x-amz-content-sha256` (the body's SHA-256) before signing, so that moto verifies the
/// signature against the body as sent rather than its own re-encoding (see the module comment).
#[derive(Debug)]
struct SignPayloadHash;

impl Intercept for SignPayloadHash {
    fn name(&self) -> &'static str {
        "SignPayloadHash"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let hash = sha256_hex(request.body().bytes().unwrap_or_default());
        request.headers_mut().insert("x-amz-content-sha256", hash);
        Ok(())
    }
}

/// Lowercase hex SHA-256, with the hash of aws-lc-rs as rustls exposes it.
fn sha256_hex(bytes: &[u8]) -> String {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let suite = provider
        .cipher_suites
        .iter()
        .filter_map(|suite| suite.tls13())
        .find(|suite| suite.common.suite == rustls::CipherSuite::TLS13_AES_128_GCM_SHA256)
        .expect("aws-lc-rs offers TLS13_AES_128_GCM_SHA256");
    hex::encode(suite.common.hash_provider.hash(bytes).as_ref())
}

/// An access key of a moto IAM user.
struct AccessKey {
    key: String,
    secret: String,
}

impl Account {
    async fn new() -> Account {
        let moto = Moto::start().await;
        let setup = moto.sdk_config(REGION).await;
        let iam = aws_sdk_iam::Client::new(&setup);
        let ca = TestCa::new("permissions");
        let trust = TrustFile::new(&[&ca]);

        let healthy_chain = ca.chain(ChainSpec::default());
        let healthy_server = IssuerServer::start(healthy_chain.clone()).await;
        let healthy = moto::create_provider(
            &iam,
            &healthy_server.issuer_url("/id/HEALTHY"),
            &[STS],
            &[&healthy_chain.top_sha1()],
            &[],
        )
        .await;
        let old = ca.chain(ChainSpec::default());
        let rotated_server = IssuerServer::start(old.clone()).await;
        let rotated = moto::create_provider(
            &iam,
            &rotated_server.issuer_url("/id/ROTATED"),
            &[STS],
            &[&old.top_sha1()],
            &[],
        )
        .await;
        let new = ca.chain(ChainSpec::default());
        rotated_server.rotate(new.clone());

        let eks = aws_sdk_eks::Client::new(&setup);
        let cluster_arn = eks
            .create_cluster()
            .name("prod")
            .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/eks"))
            .resources_vpc_config(
                aws_sdk_eks::types::VpcConfigRequest::builder()
                    .subnet_ids("subnet-1")
                    .build(),
            )
            .send()
            .await
            .expect("CreateCluster")
            .cluster
            .and_then(|c| c.arn)
            .expect("cluster ARN");
        let topic_arn = aws_sdk_sns::Client::new(&setup)
            .create_topic()
            .name("thumbprint-guard")
            .send()
            .await
            .expect("CreateTopic")
            .topic_arn
            .expect("topic ARN");
        let admin = create_user(
            &iam,
            "admin",
            &json!({
                "Version": "2012-10-17",
                "Statement": [{ "Effect": "Allow", "Action": "*", "Resource": "*" }]
            }),
        )
        .await;
        Account {
            moto,
            _servers: vec![healthy_server, rotated_server],
            trust,
            admin,
            topic_arn,
            cluster_arn,
            healthy,
            rotated,
            rotated_old: old.top_sha1(),
            rotated_new: new.top_sha1(),
        }
    }

    /// The IAM client of the setup credentials (valid until enforcement is turned on).
    async fn setup_iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.moto.sdk_config(REGION).await)
    }

    async fn admin_iam(&self) -> aws_sdk_iam::Client {
        let sdk = self
            .moto
            .sdk_config_with(REGION, &self.admin.key, &self.admin.secret)
            .await;
        aws_sdk_iam::Client::new(&sdk)
    }

    /// The configuration of the function as the template sets it, pointed at the local issuers;
    /// no EKS cross-check (moto cannot authenticate EKS requests, see the module comment).
    fn config(&self, mode: RemediationMode) -> Config {
        Config {
            remediation_mode: mode,
            remediation_allowed_hosts: HostGlobs::parse("127.0.0.1").expect("glob"),
            sns_topic_arn: Some(self.topic_arn.clone()),
            notify: NotifyRule::Always,
            eks_regions: EksRegions::Disabled,
            audit_trust_policies: true,
            ..probe_config(&self.trust)
        }
    }

    /// One sweep and its notification, as the Lambda handler runs them, under `user`'s key.
    async fn sweep_as(
        &self,
        user: &AccessKey,
        mode: RemediationMode,
    ) -> (Result<Report, String>, Result<NotifyOutcome, String>) {
        let config = self.config(mode);
        let sdk = self
            .moto
            .sdk_config_with(REGION, &user.key, &user.secret)
            .await;
        let mut aws = AwsClients::new(&sdk, &config);
        aws.sns = aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::config::Builder::from(&sdk)
                .interceptor(SignPayloadHash)
                .build(),
        );
        aws.iam = aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&sdk)
                .interceptor(SignPayloadHash)
                .build(),
        );
        let ctx = ProbeContext::new(&config).expect("probe context");
        let report = sweep::run(&aws, &ctx, &config, time::OffsetDateTime::now_utc(), None)
            .await
            .map_err(|e| e.to_string());
        let published = match &report {
            Ok(report) => notify::publish_if_needed(&aws.sns, &config, report, None)
                .await
                .map_err(|e| e.to_string()),
            Err(_) => Err("no report to publish".to_string()),
        };
        (report, published)
    }

    /// How many notifications moto holds for the topic.
    async fn notifications(&self) -> usize {
        let data = self.moto.data_json().await;
        data["sns"]["Topic"]
            .as_array()
            .and_then(|topics| topics.iter().find(|t| t["arn"] == self.topic_arn.as_str()))
            .and_then(|t| t["sent_notifications"].as_array().map(Vec::len))
            .unwrap_or(0)
    }
}

/// Creates a moto IAM user with `policy` inline and returns its access key.
async fn create_user(iam: &aws_sdk_iam::Client, name: &str, policy: &Value) -> AccessKey {
    iam.create_user()
        .user_name(name)
        .send()
        .await
        .expect("CreateUser");
    iam.put_user_policy()
        .user_name(name)
        .policy_name("policy")
        .policy_document(policy.to_string())
        .send()
        .await
        .expect("PutUserPolicy");
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .expect("CreateAccessKey")
        .access_key
        .expect("access key");
    AccessKey {
        key: key.access_key_id().to_string(),
        secret: key.secret_access_key().to_string(),
    }
}

fn codes(report: &Report) -> Vec<(FindingCode, String)> {
    report
        .findings
        .iter()
        .map(|f| (f.code, f.resource.clone()))
        .collect()
}

fn incomplete(report: &Report) -> Vec<String> {
    report
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::InventoryIncomplete)
        .map(|f| f.message.clone())
        .collect()
}

fn outcome_of(report: &Report, arn: &str) -> Option<(RemediationOutcome, String)> {
    report
        .providers
        .iter()
        .find(|p| p.arn == arn)
        .and_then(|p| p.remediation.as_ref())
        .map(|r| (r.outcome, r.reason.clone()))
}

/// The calls a sweep makes and the resource each is authorized on (Service Authorization
/// Reference: the list calls support no resource, the others the provider, cluster or topic).
fn calls(account: &Account, mode: &str) -> Vec<(&'static str, String)> {
    let mut calls = vec![
        ("iam:ListOpenIDConnectProviders", "*".to_string()),
        ("iam:GetOpenIDConnectProvider", account.healthy.clone()),
        ("iam:GetOpenIDConnectProvider", account.rotated.clone()),
        ("iam:ListRoles", "*".to_string()),
        ("eks:ListClusters", "*".to_string()),
        ("eks:DescribeCluster", account.cluster_arn.clone()),
        ("sns:Publish", account.topic_arn.clone()),
    ];
    if mode == "add" {
        for action in WRITE_ACTIONS {
            calls.push((action, account.rotated.clone()));
        }
    }
    calls
}

#[tokio::test]
async fn template_grants_each_call_on_its_resource_and_nothing_broader() {
    let template = expanded_template();
    let account = Account::new().await;
    for mode in ["off", "dry-run", "add"] {
        let stack = Stack::new(&template, mode, &account.topic_arn);
        let statements = stack.role_statements();
        for (action, resource) in calls(&account, mode) {
            assert!(
                allows(&statements, action, &resource),
                "RemediationMode={mode}: the role cannot {action} on {resource}:\n{statements:#?}"
            );
        }
        for action in WRITE_ACTIONS {
            assert_eq!(
                allows(&statements, action, &account.rotated),
                mode == "add",
                "RemediationMode={mode}: {action} granted = {}",
                mode != "add"
            );
            if mode == "add" {
                assert!(
                    !allows(&statements, action, "*"),
                    "{action} must be scoped to oidc-provider/*"
                );
            }
        }
        for statement in &statements {
            assert_eq!(statement["Effect"], "Allow", "{statement}");
            for action in actions(statement) {
                let (service, name) = action.split_once(':').expect("service:Action");
                assert!(
                    !name.contains('*') || action == "kms:GenerateDataKey*",
                    "wildcard action {action} in {statement}"
                );
                assert!(
                    ["iam", "eks", "sns", "kms", "logs"].contains(&service),
                    "unexpected service {service} in {statement}"
                );
            }
            let wildcard = one_or_many(&statement["Resource"]).contains(&json!("*"));
            let list_only = actions(statement).iter().all(|a| {
                [
                    "iam:ListOpenIDConnectProviders",
                    "iam:ListRoles",
                    "eks:ListClusters",
                ]
                .contains(&a.as_str())
            });
            assert!(!wildcard || list_only, "Resource \"*\" on {statement}");
        }
        // KMS: only the topic's key, only through SNS; logs: only the function's own log group.
        assert!(allows_with_condition(
            &statements,
            "kms:GenerateDataKey",
            KEY_ARN
        ));
        assert!(allows_with_condition(&statements, "kms:Decrypt", KEY_ARN));
        let log_stream = format!(
            "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{}:log-stream:x",
            stack.function_name()
        );
        assert!(allows(&statements, "logs:PutLogEvents", &log_stream));
        assert!(!allows(
            &statements,
            "logs:PutLogEvents",
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/other:log-stream:x"
        ));
        assert!(!allows(
            &statements,
            "sns:Publish",
            "arn:aws:sns:us-east-1:123456789012:other"
        ));
    }
}

/// Like [`allows`], counting statements with a condition (the KMS statement's kms:ViaService).
fn allows_with_condition(statements: &[Value], action: &str, resource: &str) -> bool {
    let unconditioned: Vec<Value> = statements
        .iter()
        .map(|s| {
            let mut s = s.clone();
            if let Some(map) = s.as_object_mut() {
                map.remove("Condition");
            }
            s
        })
        .collect();
    allows(&unconditioned, action, resource)
}

#[tokio::test]
async fn topic_key_and_failure_destination_are_wired_for_alarms_and_the_role() {
    let template = expanded_template();
    let stack = Stack::new(
        &template,
        "off",
        "arn:aws:sns:us-east-1:123456789012:thumbprint-guard",
    );
    let topic = stack
        .resolve(&stack.resource("Topic")["Properties"])
        .expect("topic");
    assert_eq!(
        topic["KmsMasterKeyId"], KEY_ARN,
        "the topic uses the stack's own key"
    );
    let key = stack
        .resolve(&stack.resource("TopicKey")["Properties"])
        .expect("key");
    assert_eq!(key["EnableKeyRotation"], true);
    let key_statements = one_or_many(&key["KeyPolicy"]["Statement"]);
    let grants = |principal: &Value| {
        key_statements.iter().any(|s| {
            s["Effect"] == "Allow"
                && &s["Principal"] == principal
                && ["kms:GenerateDataKey", "kms:Decrypt"]
                    .iter()
                    .all(|a| allows_with_condition(std::slice::from_ref(s), a, "*"))
        })
    };
    assert!(
        grants(&json!({"Service": "cloudwatch.amazonaws.com"})),
        "{key_statements:#?}"
    );
    assert!(
        grants(&json!({"AWS": stack.attribute("FunctionRole", "Arn")})),
        "{key_statements:#?}"
    );

    // Failed asynchronous invocations go to the topic, with the role's sns:Publish and kms.
    let invoke = stack
        .resolve(&stack.resource("FunctionEventInvokeConfig")["Properties"])
        .expect("EventInvokeConfig");
    assert_eq!(
        invoke["DestinationConfig"]["OnFailure"]["Destination"],
        stack.topic_arn
    );
    assert!(allows(
        &stack.role_statements(),
        "sns:Publish",
        &stack.topic_arn
    ));

    // Every alarm notifies the topic, and the topic policy lets this stack's alarms publish.
    let policy = stack
        .resolve(&stack.resource("TopicPolicy")["Properties"])
        .expect("policy");
    let alarm_arn = format!(
        "arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{}-errors",
        stack.function_name()
    );
    assert!(allows_with_condition(
        &one_or_many(&policy["PolicyDocument"]["Statement"])
            .into_iter()
            .filter(|s| s["Principal"] == json!({"Service": "cloudwatch.amazonaws.com"}))
            .collect::<Vec<_>>(),
        "sns:Publish",
        &stack.topic_arn
    ));
    let mut alarms = 0;
    for (id, resource) in template["Resources"].as_object().expect("Resources") {
        if resource["Type"] == "AWS::CloudWatch::Alarm" {
            alarms += 1;
            let props = stack.resolve(&resource["Properties"]).expect("alarm");
            assert_eq!(props["AlarmActions"], json!([stack.topic_arn]), "{id}");
            let name = props["AlarmName"].as_str().unwrap_or_default();
            assert!(
                glob(&format!("{}-*", stack.function_name()), name, false),
                "{id}: alarm {name} is outside the topic policy's alarm:{}-* (and {alarm_arn})",
                stack.function_name()
            );
        }
    }
    assert!(alarms >= 2, "errors and critical-findings alarms at least");
}

#[tokio::test]
async fn off_and_add_policies_run_a_full_sweep_with_nothing_denied() {
    let template = expanded_template();
    let account = Account::new().await;
    let iam = account.setup_iam().await;
    let off = Stack::new(&template, "off", &account.topic_arn).role_statements();
    let add = Stack::new(&template, "add", &account.topic_arn).role_statements();
    let off_user = create_user(&iam, "guard-off", &for_moto(&off)).await;
    let add_user = create_user(&iam, "guard-add", &for_moto(&add)).await;
    account.moto.enable_auth().await;

    // off: everything read, the mismatch reported, nothing written, published.
    let (report, published) = account.sweep_as(&off_user, RemediationMode::Off).await;
    let report = report.expect("the sweep runs under the off policy");
    assert!(incomplete(&report).is_empty(), "{:#?}", incomplete(&report));
    assert!(
        matches!(published, Ok(NotifyOutcome::Published { .. })),
        "{published:?}"
    );
    assert_eq!(report.summary.providers, 2);
    assert!(codes(&report).contains(&(FindingCode::ThumbprintMismatch, account.rotated.clone())));
    assert!(
        matches!(
            outcome_of(&report, &account.rotated),
            Some((RemediationOutcome::Skipped, _))
        ),
        "{:?}",
        outcome_of(&report, &account.rotated)
    );
    assert_eq!(
        moto::thumbprints(&account.admin_iam().await, &account.rotated).await,
        [account.rotated_old.as_str()]
    );
    assert_eq!(account.notifications().await, 1);

    // add: the rotated provider gets the new thumbprint, and the tag is set.
    let (report, published) = account.sweep_as(&add_user, RemediationMode::Add).await;
    let report = report.expect("the sweep runs under the add policy");
    assert!(incomplete(&report).is_empty(), "{:#?}", incomplete(&report));
    assert!(
        matches!(published, Ok(NotifyOutcome::Published { .. })),
        "{published:?}"
    );
    let (outcome, reason) = outcome_of(&report, &account.rotated).expect("remediation");
    assert_eq!(outcome, RemediationOutcome::Applied, "{reason}");
    assert!(
        !reason.contains("could not be set"),
        "the tag failed: {reason}"
    );
    let admin = account.admin_iam().await;
    assert_eq!(
        moto::thumbprints(&admin, &account.rotated).await,
        [account.rotated_old.clone(), account.rotated_new.clone()]
    );
    let tags = admin
        .list_open_id_connect_provider_tags()
        .open_id_connect_provider_arn(&account.rotated)
        .send()
        .await
        .expect("ListOpenIDConnectProviderTags");
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == "thumbprint-guard/last-added"),
        "{tags:?}"
    );
    assert_eq!(outcome_of(&report, &account.healthy), None);
    assert_eq!(account.notifications().await, 2);
}

#[tokio::test]
async fn add_mode_under_the_off_policy_fails_only_the_remediation() {
    let template = expanded_template();
    let account = Account::new().await;
    let iam = account.setup_iam().await;
    let off = Stack::new(&template, "off", &account.topic_arn).role_statements();
    let user = create_user(&iam, "guard-off", &for_moto(&off)).await;
    account.moto.enable_auth().await;

    let (report, published) = account.sweep_as(&user, RemediationMode::Add).await;
    let report = report.expect("the sweep runs");
    let (outcome, reason) = outcome_of(&report, &account.rotated).expect("remediation");
    assert_eq!(outcome, RemediationOutcome::Failed, "{reason}");
    assert!(
        reason.contains("UpdateOpenIDConnectProviderThumbprint") && reason.contains("AccessDenied"),
        "{reason}"
    );
    // The rest of the sweep is intact: every read worked, the finding stays, the report went out.
    assert!(incomplete(&report).is_empty(), "{:#?}", incomplete(&report));
    assert!(codes(&report).contains(&(FindingCode::ThumbprintMismatch, account.rotated.clone())));
    assert_eq!(report.summary.thumbprints_added, 0);
    assert!(
        matches!(published, Ok(NotifyOutcome::Published { .. })),
        "{published:?}"
    );
    assert_eq!(
        moto::thumbprints(&account.admin_iam().await, &account.rotated).await,
        [account.rotated_old.as_str()]
    );
}

#[tokio::test]
async fn every_statement_the_code_exercises_is_needed() {
    // Without any one statement of the off policy, the sweep says so: this shows both that moto
    // enforces each action and that the template grants nothing the code does not use. (Without the
    // add-mode statement, remediation fails: add_mode_under_the_off_policy_fails_only_the_remediation.)
    let template = expanded_template();
    let account = Account::new().await;
    let iam = account.setup_iam().await;
    let off = Stack::new(&template, "off", &account.topic_arn).role_statements();
    let exercised: Vec<&str> = calls(&account, "off")
        .iter()
        .map(|(a, _)| *a)
        .filter(|a| moto_enforces(a))
        .collect();
    let mut users = Vec::new();
    for (index, statement) in off.iter().enumerate() {
        let used: Vec<String> = actions(statement)
            .into_iter()
            .filter(|a| exercised.contains(&a.as_str()))
            .collect();
        if used.is_empty() {
            // kms (SNS calls KMS for the publisher) and logs (Lambda writes the function's output)
            // are not the code's calls; eks is the code's, but moto cannot enforce it.
            assert!(
                actions(statement)
                    .iter()
                    .all(|a| a.starts_with("kms:") || a.starts_with("logs:") || !moto_enforces(a)),
                "a statement no call needs: {statement}"
            );
            continue;
        }
        let mut without = off.clone();
        without.remove(index);
        let user = create_user(&iam, &format!("without-{index}"), &for_moto(&without)).await;
        users.push((statement.clone(), used, user));
    }
    assert!(users.len() >= 4, "{} statements exercised", users.len());
    account.moto.enable_auth().await;

    for (statement, used, user) in &users {
        let (report, published) = account.sweep_as(user, RemediationMode::Off).await;
        let noticed = match &report {
            Err(error) => error.contains("ListOpenIDConnectProviders"),
            Ok(report) => !incomplete(report).is_empty() || published.is_err(),
        };
        assert!(
            noticed,
            "without {statement} (needed for {used:?}) the sweep noticed nothing: {report:#?} {published:?}"
        );
    }
}
