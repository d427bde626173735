//! The account list: every page, ACTIVE only, and an unreadable list (mocked Organizations).

use aws_sdk_organizations::operation::list_accounts::ListAccountsOutput;
use aws_sdk_organizations::types::{Account, AccountState, AccountStatus};
use aws_smithy_mocks::{create_mock_http_client, mock, MockResponseInterceptor, RuleMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

use super::support::issuer::{ChainSpec, IssuerServer};
use super::support::moto::{self, ACCOUNT_ID};
use super::{settings, Env, REGION, STS};
use thumbprint_guard::organization::OrganizationError;
use thumbprint_guard::report::RunReport;

fn listed(id: &str, state: AccountState, status: AccountStatus) -> Account {
    Account::builder()
        .id(id)
        .arn(format!(
            "arn:aws:organizations::{ACCOUNT_ID}:account/o-mocked1234/{id}"
        ))
        .name(id)
        .state(state)
        .status(status)
        .build()
}

fn organizations_mock(rules: &[&aws_smithy_mocks::Rule]) -> aws_sdk_organizations::Client {
    let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    aws_sdk_organizations::Client::from_conf(
        aws_sdk_organizations::config::Builder::new()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .credentials_provider(aws_sdk_iam::config::Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            ))
            .http_client(create_mock_http_client())
            .interceptor(interceptor)
            .build(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_is_read_and_only_active_accounts_are_swept() {
    let env = Env::new().await;
    let member = moto::member_sdk_config(&env.moto, REGION, "210987654321").await;
    let chain = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(chain.clone()).await;
    moto::create_provider(
        &aws_sdk_iam::Client::new(&member),
        &server.issuer_url("/id/PAGED"),
        &[STS],
        &[&chain.top_sha1()],
        &[],
    )
    .await;
    let first = mock!(aws_sdk_organizations::Client::list_accounts)
        .match_requests(|r| r.next_token().is_none())
        .then_output(|| {
            ListAccountsOutput::builder()
                .accounts(listed(
                    ACCOUNT_ID,
                    AccountState::Active,
                    AccountStatus::Active,
                ))
                .accounts(listed(
                    "333333333333",
                    AccountState::Suspended,
                    AccountStatus::Suspended,
                ))
                .next_token("page-2")
                .build()
        });
    let second = mock!(aws_sdk_organizations::Client::list_accounts)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| {
            ListAccountsOutput::builder()
                .accounts(listed(
                    "210987654321",
                    AccountState::Active,
                    AccountStatus::Active,
                ))
                .accounts(listed(
                    "444444444444",
                    AccountState::PendingClosure,
                    AccountStatus::PendingClosure,
                ))
                .build()
        });
    let clients = env
        .clients()
        .with_organizations(organizations_mock(&[&first, &second]));

    let report = env.run(&clients, &settings(None)).await.expect("run");

    assert_eq!(report.organization_id.as_deref(), Some("o-mocked1234"));
    let swept: Vec<&str> = report
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    assert_eq!(
        swept,
        vec![ACCOUNT_ID, "210987654321"],
        "both pages, ACTIVE only"
    );
    assert_eq!(report.summary.accounts, 2);
    let member_report = report.account("210987654321").expect("second page swept");
    assert_eq!(member_report.providers.len(), 1);
    assert!(
        member_report.findings.is_empty(),
        "{:?}",
        member_report.findings
    );
    assert_eq!(RunReport::Organization(report.clone()).exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_account_list_is_an_error_with_exit_code_3() {
    let env = Env::new().await;
    let refuse = mock!(aws_sdk_organizations::Client::list_accounts).then_http_response(|| {
        HttpResponse::new(
            StatusCode::try_from(400).expect("status"),
            SdkBody::from(
                r#"{"__type":"AccessDeniedException","message":"not the management account"}"#,
            ),
        )
    });
    let clients = env
        .clients()
        .with_organizations(organizations_mock(&[&refuse]));

    let error = env
        .run(&clients, &settings(None))
        .await
        .expect_err("no account list");

    assert!(
        matches!(error, OrganizationError::ListAccounts(_)),
        "{error}"
    );
    assert!(
        error.to_string().contains("ORGANIZATION_ACCOUNTS"),
        "{error}"
    );
    assert_eq!(error.exit_code(), 3);
}
