//! A member whose role cannot be assumed: STS is mocked for that role only, moto serves the rest.

use aws_sdk_sts::error::ErrorMetadata;
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_smithy_mocks::{mock, MockResponseInterceptor, RuleMode};
use std::collections::BTreeSet;

use super::support::issuer::{ChainSpec, IssuerServer};
use super::support::moto::{self, ACCOUNT_ID};
use super::{settings, Env, ROLE, STS};
use thumbprint_guard::report::{FindingCode, RunReport, Severity};

/// AccessDenied as STS reports it for a role that is missing or does not trust the caller.
fn access_denied() -> AssumeRoleError {
    AssumeRoleError::generic(
        ErrorMetadata::builder()
            .code("AccessDenied")
            .message("User: arn:aws:sts::123456789012:assumed-role/central/tg is not authorized to perform: sts:AssumeRole")
            .build(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_cannot_be_assumed_is_unreachable_and_the_rest_is_reported() {
    let env = Env::new().await;
    moto::create_organization(&env.sdk).await;
    let denied_id = moto::create_account(&env.sdk, "denied").await;
    let open_id = moto::create_account(&env.sdk, "open").await;
    let chain = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    for account in [&denied_id, &open_id] {
        let iam = env.iam(account).await;
        moto::create_provider(
            &iam,
            &server.issuer_url("/id/X"),
            &[STS],
            &[&chain.top_sha1()],
            &[],
        )
        .await;
    }

    let denied_role = format!("arn:aws:iam::{denied_id}:role/{ROLE}");
    let matched = denied_role.clone();
    let deny = mock!(aws_sdk_sts::Client::assume_role)
        .match_requests(move |r| r.role_arn() == Some(matched.as_str()))
        .then_error(access_denied);
    let interceptor = MockResponseInterceptor::new()
        .rule_mode(RuleMode::MatchAny)
        .with_rule(&deny)
        .allow_passthrough();
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&env.sdk)
            .interceptor(interceptor)
            .build(),
    );
    let clients = env.clients().with_assume_sts(sts);

    let report = env.run(&clients, &settings(None)).await.expect("run");

    assert_eq!(deny.num_calls(), 1, "the denied role was asked once");
    assert_eq!(report.summary.accounts, 3);
    assert_eq!(report.summary.accounts_unreachable, 1);
    let swept: BTreeSet<&str> = report
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    assert_eq!(swept, BTreeSet::from([ACCOUNT_ID, open_id.as_str()]));
    assert_eq!(
        report
            .account(&open_id)
            .expect("open swept")
            .providers
            .len(),
        1
    );
    let [unreachable] = report.findings.as_slice() else {
        panic!("one organization-level finding: {:?}", report.findings);
    };
    assert_eq!(unreachable.code, FindingCode::AccountUnreachable);
    assert_eq!(unreachable.severity, Severity::Critical);
    assert_eq!(unreachable.resource, denied_role);
    assert!(
        unreachable.message.contains("AccessDenied"),
        "{}",
        unreachable.message
    );
    assert_eq!(unreachable.details["reason"], "access_denied");
    assert_eq!(report.summary.critical, 1);
    assert_eq!(
        RunReport::Organization(report.clone()).exit_code(),
        1,
        "an unreachable account is critical"
    );
}
