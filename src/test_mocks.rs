//! The one builder of SDK clients answered by aws-smithy-mocks rules, for unit tests of the
//! paths an emulator cannot produce (throttling, refused parts, writes that do not stick).

/// A `$sdk::Client` (e.g. `aws_sdk_iam`) answered only by `$rules` (an iterable of `&Rule`,
/// matched in any order; any other call fails), with test credentials in `us-east-1` and the
/// standard retry mode making `$attempts` attempts with a 1 ms initial backoff.
macro_rules! mock_client {
    ($sdk:ident, $rules:expr, $attempts:expr) => {{
        let mut interceptor = ::aws_smithy_mocks::MockResponseInterceptor::new()
            .rule_mode(::aws_smithy_mocks::RuleMode::MatchAny);
        for rule in $rules {
            interceptor = interceptor.with_rule(rule);
        }
        let config = $sdk::Config::builder()
            .behavior_version($sdk::config::BehaviorVersion::latest())
            .region($sdk::config::Region::new("us-east-1"))
            .credentials_provider($sdk::config::Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            ))
            .http_client(::aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor)
            .retry_config(
                $sdk::config::retry::RetryConfig::standard()
                    .with_max_attempts($attempts)
                    .with_initial_backoff(::std::time::Duration::from_millis(1)),
            )
            .build();
        $sdk::Client::from_conf(config)
    }};
}

pub(crate) use mock_client;
