//! IAM roles and their trust policies (ListRoles, paginated). Owned by the EKS/roles work.

use aws_sdk_iam::error::DisplayErrorContext;

use crate::trust_policy::Role;

/// Every role of the account with its trust policy as IAM returned it (percent-encoded from real
/// IAM), in ARN order. `Err` says why ListRoles failed.
pub async fn list_roles(iam: &aws_sdk_iam::Client) -> Result<Vec<Role>, String> {
    let mut pages = iam.list_roles().into_paginator().items().send();
    let mut roles = Vec::new();
    while let Some(role) = pages
        .try_next()
        .await
        .map_err(|e| DisplayErrorContext(&e).to_string())?
    {
        let Some(trust_policy) = role.assume_role_policy_document() else {
            continue;
        };
        roles.push(Role {
            arn: role.arn().to_string(),
            trust_policy: trust_policy.to_string(),
        });
    }
    roles.sort_by(|a, b| a.arn.cmp(&b.arn));
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_iam::operation::list_roles::ListRolesOutput;
    use aws_sdk_iam::types::Role as IamRole;
    use aws_sdk_iam::Client;
    use aws_smithy_mocks::{
        create_mock_http_client, mock, MockResponseInterceptor, Rule, RuleMode,
    };
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::DateTime;

    fn client(rules: &[&Rule]) -> Client {
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        let config = aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .http_client(create_mock_http_client())
            .interceptor(interceptor)
            .retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled())
            .build();
        Client::from_conf(config)
    }

    fn role(name: &str, document: &str) -> IamRole {
        IamRole::builder()
            .path("/")
            .role_name(name)
            .role_id(format!("AROA{}", name.to_uppercase()))
            .arn(format!("arn:aws:iam::123456789012:role/{name}"))
            .create_date(DateTime::from_secs(0))
            .assume_role_policy_document(document)
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn pages_are_followed_and_every_role_kept_with_its_document() {
        // Real IAM percent-encodes the document.
        let irsa = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Federated%22%3A%22arn%3Aaws%3Aiam%3A%3A123456789012%3Aoidc-provider%2Foidc.eks.us-east-1.amazonaws.com%2Fid%2FA%22%7D%2C%22Action%22%3A%22sts%3AAssumeRoleWithWebIdentity%22%7D%5D%7D";
        let ec2 = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let github = r#"{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#;
        let first = mock!(Client::list_roles)
            .match_requests(|req| req.marker().is_none())
            .then_output(move || {
                ListRolesOutput::builder()
                    .roles(role("web", irsa))
                    .roles(role("ec2", ec2))
                    .is_truncated(true)
                    .marker("m1")
                    .build()
                    .unwrap()
            });
        let second = mock!(Client::list_roles)
            .match_requests(|req| req.marker() == Some("m1"))
            .then_output(move || {
                ListRolesOutput::builder()
                    .roles(role("deploy", github))
                    .is_truncated(false)
                    .build()
                    .unwrap()
            });
        let roles = list_roles(&client(&[&first, &second])).await.unwrap();
        let arns: Vec<&str> = roles.iter().map(|r| r.arn.as_str()).collect();
        assert_eq!(
            arns,
            [
                "arn:aws:iam::123456789012:role/deploy",
                "arn:aws:iam::123456789012:role/ec2",
                "arn:aws:iam::123456789012:role/web"
            ]
        );
        assert_eq!(
            roles[2].trust_policy, irsa,
            "the document is kept as IAM returned it"
        );
        // The audit keeps only the roles that federate to an OIDC provider.
        let audited: Vec<&str> = roles
            .iter()
            .filter(|r| crate::trust_policy::mentions_oidc_provider(&r.trust_policy))
            .map(|r| r.arn.as_str())
            .collect();
        assert_eq!(
            audited,
            [
                "arn:aws:iam::123456789012:role/deploy",
                "arn:aws:iam::123456789012:role/web"
            ]
        );
    }

    #[tokio::test]
    async fn a_failed_listing_says_why() {
        let denied = mock!(Client::list_roles).then_http_response(|| {
            HttpResponse::new(
                StatusCode::try_from(403).unwrap(),
                SdkBody::from(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                     <Message>not authorized to perform: iam:ListRoles</Message></Error></ErrorResponse>",
                ),
            )
        });
        let error = list_roles(&client(&[&denied])).await.unwrap_err();
        assert!(
            error.contains("AccessDenied") && error.contains("iam:ListRoles"),
            "{error}"
        );
    }
}
