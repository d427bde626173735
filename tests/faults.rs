//! AWS faults the emulator cannot produce, injected with aws-smithy-mocks: throttled listing, a
//! provider that can never be read, a listing that always fails, and SNS refusing the report.

use std::collections::HashMap;
use std::time::Duration;

use aws_smithy_mocks::{create_mock_http_client, mock, MockResponseInterceptor, Rule, RuleMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;
use thumbprint_guard::aws::AwsClients;
use thumbprint_guard::config::{Config, EksRegions};
use thumbprint_guard::handler::{self, HandlerError, Runtime};
use thumbprint_guard::inventory::{self, InventoryError};
use thumbprint_guard::probe::ProbeContext;
use thumbprint_guard::report::FindingCode;

const ACCOUNT: &str = "123456789012";
const GOOD: &str =
    "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/GOOD";
const BAD: &str = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/BAD";

fn interceptor(rules: &[&Rule]) -> MockResponseInterceptor {
    rules.iter().fold(
        MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny),
        |i, rule| i.with_rule(rule),
    )
}

/// Standard retries (3 attempts) without waiting between them.
fn retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(2))
}

macro_rules! client {
    ($krate:ident, $rules:expr) => {{
        let config = $krate::Config::builder()
            .behavior_version($krate::config::BehaviorVersion::latest())
            .region($krate::config::Region::new("us-east-1"))
            .credentials_provider($krate::config::Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            ))
            .http_client(create_mock_http_client())
            .interceptor(interceptor($rules))
            .retry_config(retries())
            .build();
        $krate::Client::from_conf(config)
    }};
}

fn status(code: u16, body: &str) -> HttpResponse {
    HttpResponse::new(
        StatusCode::try_from(code).expect("status"),
        SdkBody::from(body.to_string()),
    )
}

fn iam_error(code: u16, error: &str, message: &str) -> HttpResponse {
    status(
        code,
        &format!("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>{error}</Code><Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"),
    )
}

fn sts() -> aws_sdk_sts::Client {
    let identity = mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
        aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput::builder()
            .account(ACCOUNT)
            .arn(format!("arn:aws:iam::{ACCOUNT}:user/test"))
            .build()
    });
    client!(aws_sdk_sts, &[&identity])
}

fn listing(
    arns: &[&str],
) -> aws_sdk_iam::operation::list_open_id_connect_providers::ListOpenIdConnectProvidersOutput {
    aws_sdk_iam::operation::list_open_id_connect_providers::ListOpenIdConnectProvidersOutput::builder()
        .set_open_id_connect_provider_list(Some(
            arns.iter()
                .map(|arn| {
                    aws_sdk_iam::types::OpenIdConnectProviderListEntry::builder()
                        .arn(*arn)
                        .build()
                })
                .collect(),
        ))
        .build()
}

fn provider_output(
) -> aws_sdk_iam::operation::get_open_id_connect_provider::GetOpenIdConnectProviderOutput {
    aws_sdk_iam::operation::get_open_id_connect_provider::GetOpenIdConnectProviderOutput::builder()
        .url("oidc.eks.us-east-1.amazonaws.com/id/GOOD")
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list("9e99a48a9960b14926bb7f3b02e22da2b0ab7280")
        .build()
}

fn aws(iam: aws_sdk_iam::Client, sns: aws_sdk_sns::Client) -> AwsClients {
    AwsClients {
        sdk: aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build(),
        region: "us-east-1".to_string(),
        sts: sts(),
        iam,
        sns,
        securityhub: client!(aws_sdk_securityhub, &[]),
        dynamodb: client!(aws_sdk_dynamodb, &[]),
        eks: Vec::new(),
    }
}

fn no_sns() -> aws_sdk_sns::Client {
    client!(aws_sdk_sns, &[])
}

fn config() -> Config {
    Config {
        eks_regions: EksRegions::Disabled,
        audit_trust_policies: false,
        ..Config::default()
    }
}

/// One Lambda invocation with `aws` and the environment `env` (EKS and role audit always off):
/// the handler's result and every line it emitted.
async fn invoke(
    aws: AwsClients,
    env: &[(&str, &str)],
) -> (
    Result<thumbprint_guard::report::Report, HandlerError>,
    Vec<String>,
) {
    let mut variables = HashMap::from([
        ("EKS_REGIONS".to_string(), "none".to_string()),
        ("AUDIT_TRUST_POLICIES".to_string(), "false".to_string()),
    ]);
    variables.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let runtime = Runtime {
        aws,
        probe: ProbeContext::new(&config()).expect("probe context"),
        env: variables,
        organization: None,
    };
    let emitted = std::sync::Mutex::new(Vec::<String>::new());
    let emit = |line: &str| emitted.lock().unwrap().push(line.to_string());
    let result = handler::handle_event(
        &runtime,
        &serde_json::json!({}),
        time::OffsetDateTime::now_utc(),
        None,
        &emit,
    )
    .await
    .map(|report| report.into_account().expect("a single-account run"));
    (result, emitted.into_inner().unwrap())
}

#[tokio::test]
async fn a_throttled_listing_is_retried_and_the_sweep_goes_on() {
    let throttled = mock!(aws_sdk_iam::Client::list_open_id_connect_providers)
        .sequence()
        .http_response(|| iam_error(400, "Throttling", "Rate exceeded"))
        .output(|| listing(&[GOOD]))
        .build();
    let get = mock!(aws_sdk_iam::Client::get_open_id_connect_provider).then_output(provider_output);
    let aws = aws(client!(aws_sdk_iam, &[&throttled, &get]), no_sns());
    let inventory = inventory::collect(&aws, &config())
        .await
        .expect("the retry succeeds");
    assert_eq!(
        throttled.num_calls(),
        2,
        "one throttled attempt, one success"
    );
    assert_eq!(inventory.providers.len(), 1);
    assert_eq!(inventory.providers[0].arn, GOOD);
    assert!(inventory.problems.is_empty(), "{:?}", inventory.problems);
}

#[tokio::test]
async fn a_provider_that_cannot_be_read_is_incomplete_and_the_rest_is_assessed() {
    let list = mock!(aws_sdk_iam::Client::list_open_id_connect_providers)
        .then_output(|| listing(&[GOOD, BAD]));
    let denied = mock!(aws_sdk_iam::Client::get_open_id_connect_provider)
        .match_requests(|r| r.open_id_connect_provider_arn() == Some(BAD))
        .then_http_response(|| {
            iam_error(
                403,
                "AccessDenied",
                "User is not authorized to perform: iam:GetOpenIDConnectProvider",
            )
        });
    let good = mock!(aws_sdk_iam::Client::get_open_id_connect_provider)
        .match_requests(|r| r.open_id_connect_provider_arn() == Some(GOOD))
        .then_output(provider_output);
    let aws = aws(client!(aws_sdk_iam, &[&list, &denied, &good]), no_sns());
    let inventory = inventory::collect(&aws, &config())
        .await
        .expect("one unreadable provider does not stop the sweep");
    assert_eq!(
        inventory
            .providers
            .iter()
            .map(|p| p.arn.as_str())
            .collect::<Vec<_>>(),
        [GOOD]
    );
    assert_eq!(inventory.unreadable_providers, [BAD]);
    assert_eq!(inventory.problems.len(), 1);
    let problem = &inventory.problems[0];
    assert_eq!(problem.code, FindingCode::InventoryIncomplete);
    assert_eq!(problem.resource, BAD);
    assert!(
        problem
            .message
            .contains("iam:GetOpenIDConnectProvider: AccessDenied"),
        "{}",
        problem.message
    );
    assert_eq!(denied.num_calls(), 1, "AccessDenied is not retried");
}

#[tokio::test]
async fn a_listing_that_always_fails_is_an_error_not_a_clean_report() {
    let throttled = mock!(aws_sdk_iam::Client::list_open_id_connect_providers)
        .then_http_response(|| iam_error(400, "Throttling", "Rate exceeded"));
    let aws = aws(client!(aws_sdk_iam, &[&throttled]), no_sns());
    let error = inventory::collect(&aws, &config())
        .await
        .expect_err("no provider list, no report");
    assert!(
        matches!(error, InventoryError::ListProviders(_)),
        "{error:?}"
    );
    let text = error.to_string();
    assert_eq!(
        text,
        "cannot list IAM OIDC providers: iam:ListOpenIDConnectProviders: Throttling: Rate exceeded"
    );
    assert_eq!(throttled.num_calls(), 3, "every retry attempt was made");

    // Through the Lambda handler: the invocation fails with SweepFailed and nothing is reported.
    let (result, emitted) = invoke(aws, &[]).await;
    let error = result.expect_err("the sweep cannot run");
    assert_eq!(error.error_type(), "SweepFailed");
    assert!(emitted.is_empty(), "no partial report claims all is well");
}

#[tokio::test]
async fn sns_failing_fails_the_invocation_after_the_report_is_logged() {
    let list =
        mock!(aws_sdk_iam::Client::list_open_id_connect_providers).then_output(|| listing(&[]));
    let publish = mock!(aws_sdk_sns::Client::publish).then_http_response(|| {
        status(
            500,
            "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>boom</Message></Error><RequestId>r-2</RequestId></ErrorResponse>",
        )
    });
    // The alias is best effort: a denied ListAccountAliases costs the message nothing.
    let alias = mock!(aws_sdk_iam::Client::list_account_aliases)
        .then_http_response(|| iam_error(403, "AccessDenied", "not allowed"));
    let aws = aws(
        client!(aws_sdk_iam, &[&list, &alias]),
        client!(aws_sdk_sns, &[&publish]),
    );
    let (result, lines) = invoke(
        aws,
        &[
            (
                "SNS_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:thumbprint-guard",
            ),
            ("NOTIFY", "always"),
        ],
    )
    .await;
    let error = result.expect_err("SNS refuses");
    assert_eq!(error.error_type(), "NotifyFailed");
    assert!(matches!(error, HandlerError::Notify { .. }));
    let text = error.to_string();
    assert!(
        text.contains("0 providers, 0 clusters: 0 critical, 0 warning, 0 info"),
        "the error carries the summary: {text}"
    );
    assert_eq!(publish.num_calls(), 3, "the SDK retried the 500");
    let report_line = lines
        .iter()
        .find(|l| l.contains("thumbprint-guard report"))
        .expect("the report was logged before publishing");
    let logged: serde_json::Value = serde_json::from_str(report_line).expect("JSON log line");
    assert_eq!(logged["report"]["account_id"], ACCOUNT);
}
