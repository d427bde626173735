//! Reaching one member account: `sts:AssumeRole` into its role (which also says why not), then
//! clients whose credentials refresh themselves for as long as the run lasts.

use std::time::{Duration, SystemTime};

use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::{self, ProvideCredentials};
use aws_credential_types::Credentials;
use aws_sdk_sts::config::SharedCredentialsProvider;
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata};
use serde::Serialize;
use serde_json::json;

use super::accounts::{AccountList, MEMBER_SESSION_NAME};
use super::settings::{OrganizationClients, OrganizationSettings};
use crate::aws::AwsClients;
use crate::config::Config;
use crate::report::{Finding, FindingCode};

/// Why an account could not be swept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnreachableReason {
    /// STS denied AssumeRole: the role is missing, does not trust the central role, or the
    /// external id differs (STS does not say which).
    AccessDenied,
    /// STS is not activated in this region for the member account.
    RegionDisabled,
    /// AssumeRole failed otherwise (throttling, network, malformed request).
    AssumeRoleFailed,
    /// The role was assumed but the account's sweep could not run (identity or provider listing).
    SweepFailed,
    /// The run's deadline came before the account's sweep started.
    DeadlinePassed,
}

impl UnreachableReason {
    /// The reason as it appears in the finding's details.
    pub fn as_str(self) -> &'static str {
        match self {
            UnreachableReason::AccessDenied => "access_denied",
            UnreachableReason::RegionDisabled => "region_disabled",
            UnreachableReason::AssumeRoleFailed => "assume_role_failed",
            UnreachableReason::SweepFailed => "sweep_failed",
            UnreachableReason::DeadlinePassed => "deadline_passed",
        }
    }

    /// What a person should check, in one phrase.
    fn explanation(self) -> &'static str {
        match self {
            UnreachableReason::AccessDenied => {
                "AccessDenied: the member role is missing, does not trust this function's role, or the external id differs"
            }
            UnreachableReason::RegionDisabled => {
                "RegionDisabledException: STS is not activated in this region for the member account"
            }
            UnreachableReason::AssumeRoleFailed => "sts:AssumeRole failed",
            UnreachableReason::SweepFailed => "the role was assumed but the account could not be swept",
            UnreachableReason::DeadlinePassed => {
                "the run's deadline came before this account was started; it is swept next run"
            }
        }
    }
}

/// One account that could not be swept, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable {
    /// The member account id.
    pub account_id: String,
    /// The member role ARN (the finding's resource).
    pub role_arn: String,
    /// Why, as a fact.
    pub reason: UnreachableReason,
    /// The AWS error text, when there was one.
    pub error: Option<String>,
}

impl Unreachable {
    /// The ACCOUNT_UNREACHABLE finding for this account, identified under the member's id.
    pub fn finding(&self) -> Finding {
        let mut message = format!(
            "account {} was not swept: {}",
            self.account_id,
            self.reason.explanation()
        );
        if let Some(error) = &self.error {
            message.push_str(&format!(" ({error})"));
        }
        let mut finding = Finding::new(FindingCode::AccountUnreachable, &self.role_arn, message)
            .with_details(json!({
                "account_id": self.account_id,
                "role_arn": self.role_arn,
                "reason": self.reason.as_str(),
                "error": self.error,
            }));
        finding.identify(&self.account_id);
        finding
    }
}

/// Clients for `account_id` through its member role. The one AssumeRole proves the role can be
/// assumed (and says why not) and its credentials serve every client of the member; the role is
/// assumed again only when they near expiry, so a long run never uses expired ones.
pub async fn member_clients(
    clients: &OrganizationClients,
    accounts: &AccountList,
    settings: &OrganizationSettings,
    config: &Config,
    account_id: &str,
) -> Result<AwsClients, Unreachable> {
    let role_arn = accounts.role_arn(account_id, &settings.role_name);
    let unreachable = |reason, error: Option<String>| Unreachable {
        account_id: account_id.to_string(),
        role_arn: role_arn.clone(),
        reason,
        error,
    };
    let assumed = clients
        .assume_sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name(MEMBER_SESSION_NAME)
        .set_external_id(settings.external_id.clone())
        .send()
        .await;
    let assumed = match assumed {
        Ok(assumed) => assumed,
        Err(error) => {
            let reason = match error.code() {
                Some("AccessDenied") => UnreachableReason::AccessDenied,
                Some("RegionDisabledException") => UnreachableReason::RegionDisabled,
                _ => UnreachableReason::AssumeRoleFailed,
            };
            return Err(unreachable(
                reason,
                Some(DisplayErrorContext(error).to_string()),
            ));
        }
    };
    let Some(first) = assumed.credentials().map(member_credentials) else {
        return Err(unreachable(
            UnreachableReason::AssumeRoleFailed,
            Some("sts:AssumeRole returned no credentials".to_string()),
        ));
    };

    let mut provider = AssumeRoleProvider::builder(&role_arn).session_name(MEMBER_SESSION_NAME);
    if let Some(external_id) = &settings.external_id {
        provider = provider.external_id(external_id);
    }
    let refresh = provider.configure(&clients.sdk).build().await;
    let provider = MemberCredentials {
        current: tokio::sync::Mutex::new(first),
        refresh,
    };
    let member_sdk = clients
        .sdk
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build();
    Ok(AwsClients::new(&member_sdk, config))
}

/// Credentials are assumed again this long before they expire.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// A member's credentials: those of the AssumeRole that proved the role, shared by every client of
/// the member, and assumed again (one call, however many clients ask at once) only when they near
/// expiry.
#[derive(Debug)]
struct MemberCredentials {
    current: tokio::sync::Mutex<Credentials>,
    refresh: AssumeRoleProvider,
}

impl ProvideCredentials for MemberCredentials {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(async move {
            let mut current = self.current.lock().await;
            let fresh = current
                .expiry()
                .is_none_or(|expiry| expiry > SystemTime::now() + REFRESH_BEFORE_EXPIRY);
            if !fresh {
                *current = self.refresh.provide_credentials().await?;
            }
            Ok(current.clone())
        })
    }
}

/// STS's credentials as the SDK's credential type.
fn member_credentials(sts: &aws_sdk_sts::types::Credentials) -> Credentials {
    Credentials::new(
        sts.access_key_id(),
        sts.secret_access_key(),
        Some(sts.session_token().to_string()),
        SystemTime::try_from(*sts.expiration()).ok(),
        "thumbprint-guard-member-role",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Severity;

    #[test]
    fn finding_names_the_role_and_the_reason() {
        let unreachable = Unreachable {
            account_id: "222222222222".into(),
            role_arn: "arn:aws:iam::222222222222:role/tg".into(),
            reason: UnreachableReason::AccessDenied,
            error: Some("not authorized to perform: sts:AssumeRole".into()),
        };
        let finding = unreachable.finding();
        assert_eq!(finding.code, FindingCode::AccountUnreachable);
        assert_eq!(finding.severity, Severity::Critical);
        assert_eq!(finding.resource, "arn:aws:iam::222222222222:role/tg");
        assert!(
            finding.message.contains("AccessDenied"),
            "{}",
            finding.message
        );
        assert!(
            finding.message.contains("not authorized"),
            "{}",
            finding.message
        );
        assert_eq!(finding.details["reason"], "access_denied");
        assert!(finding.id.starts_with("tg-"));
        assert_eq!(finding.id, unreachable.finding().id, "stable id");
    }
}
