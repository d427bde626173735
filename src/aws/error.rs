//! One AWS call that failed, as a person reads it: which service and operation, what kind of
//! failure, AWS's error code and message, and what to do about it.
//!
//! The SDK's own error is a nested chain (`DispatchFailure(DispatchFailure { source: ConnectorError
//! {…`); [`AwsError::from_sdk`] reduces it to one line and keeps the whole chain for
//! `RUST_LOG=debug` (it is logged there when the error is made). [`AwsError::explain`] adds where
//! the call went ([`AwsTarget`]: profile, region, endpoint) and what to do, for the one line a
//! person reads when the sweep cannot run.

use std::error::Error as StdError;
use std::fmt;

use aws_config::SdkConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::FutureExt as _;

/// What kind of failure an AWS call met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsFailure {
    /// No provider of the credential chain found any credentials.
    NoCredentials,
    /// A credential provider failed (a broken profile, an expired SSO session, a timeout).
    Credentials,
    /// The endpoint could not be reached (DNS, connection refused, TLS).
    Unreachable,
    /// The call or an attempt timed out.
    Timeout,
    /// AWS answered with an error (AccessDenied, Throttling, NoSuchEntity…).
    Service,
    /// The request could not be built, or the answer not read.
    Other,
}

/// A failed AWS call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// `iam`, `sts`, `eks`, `sns`…
    pub service: &'static str,
    /// `ListOpenIDConnectProviders`…
    pub operation: &'static str,
    /// What kind of failure.
    pub failure: AwsFailure,
    /// AWS's error code, when it answered.
    pub code: Option<String>,
    /// AWS's message, or the innermost cause.
    pub message: String,
}

impl AwsError {
    /// Reduces an SDK error to its kind, code and message.
    pub fn from_sdk<E, R>(
        service: &'static str,
        operation: &'static str,
        error: &SdkError<E, R>,
    ) -> Self
    where
        E: ProvideErrorMetadata + StdError + 'static,
        R: fmt::Debug + 'static,
    {
        tracing::debug!(service, operation, error = %DisplayErrorContext(error), "AWS call failed");
        let (failure, code, message) = match error {
            SdkError::ServiceError(context) => {
                let e = context.err();
                (
                    AwsFailure::Service,
                    e.code().map(str::to_owned),
                    e.message().unwrap_or("(no message)").to_string(),
                )
            }
            SdkError::TimeoutError(_) => {
                (AwsFailure::Timeout, None, "the call timed out".to_string())
            }
            other => {
                let credentials = chain(other).find_map(|e| e.downcast_ref::<CredentialsError>());
                let failure = if let Some(credentials) = credentials {
                    if matches!(credentials, CredentialsError::CredentialsNotLoaded(_)) {
                        AwsFailure::NoCredentials
                    } else {
                        AwsFailure::Credentials
                    }
                } else if matches!(other, SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout())
                {
                    if matches!(other, SdkError::DispatchFailure(d) if d.is_timeout()) {
                        AwsFailure::Timeout
                    } else {
                        AwsFailure::Unreachable
                    }
                } else {
                    AwsFailure::Other
                };
                (failure, None, innermost(other))
            }
        };
        AwsError {
            service,
            operation,
            failure,
            code,
            message,
        }
    }

    /// True for AccessDenied-like answers (the caller lacks a permission).
    pub fn is_access_denied(&self) -> bool {
        self.code.as_deref().is_some_and(|c| {
            c.contains("AccessDenied") || c == "UnauthorizedOperation" || c == "AuthorizationError"
        })
    }
}

fn chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |e: &&'a (dyn StdError + 'static)| {
        let e: &'a (dyn StdError + 'static) = *e;
        e.source()
    })
}

/// The innermost cause's text: what actually went wrong, without the wrappers.
fn innermost(error: &(dyn StdError + 'static)) -> String {
    let last = chain(error).last().unwrap_or(error);
    let text = last.to_string();
    let text = text.lines().next().unwrap_or_default().trim().to_string();
    if text.chars().count() > 300 {
        text.chars().take(300).collect::<String>() + "…"
    } else {
        text
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let call = format!("{}:{}", self.service, self.operation);
        match self.failure {
            AwsFailure::NoCredentials => write!(f, "{call}: {CREDENTIALS_HINT}"),
            AwsFailure::Credentials => write!(f, "{call}: {CREDENTIALS_HINT} ({})", self.message),
            AwsFailure::Unreachable => write!(
                f,
                "{call}: cannot reach the {} endpoint ({}); check AWS_REGION and, if set, AWS_ENDPOINT_URL",
                self.service, self.message
            ),
            AwsFailure::Timeout => write!(f, "{call}: timed out ({})", self.message),
            AwsFailure::Service => match &self.code {
                Some(code) => write!(f, "{call}: {code}: {}", self.message),
                None => write!(f, "{call}: {}", self.message),
            },
            AwsFailure::Other => write!(f, "{call}: {}", self.message),
        }
    }
}

impl StdError for AwsError {}

/// What the aws CLI says when it finds no credentials, and how to give some.
const CREDENTIALS_HINT: &str = "Unable to locate credentials. You can configure credentials by running \"aws configure\", or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";

/// Where the SDK's calls go, as a person checks it: the profile, the region and the endpoint
/// override in use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsTarget {
    /// The profile asked for (`--profile` or `AWS_PROFILE`); `None`: the default chain.
    pub profile: Option<String>,
    /// The region in use.
    pub region: Option<String>,
    /// The endpoint every service is sent to instead of AWS (`AWS_ENDPOINT_URL`), when set.
    pub endpoint_url: Option<String>,
}

impl AwsTarget {
    /// The target of `sdk`, loaded for `profile` (the one asked for, if any).
    pub fn of(sdk: &SdkConfig, profile: Option<&str>) -> Self {
        AwsTarget {
            profile: profile.map(str::to_owned),
            region: sdk.region().map(|r| r.to_string()),
            endpoint_url: sdk.endpoint_url().map(str::to_owned),
        }
    }

    /// The URL `service` is called at: the override, or what the SDK resolves for the region.
    pub fn endpoint_of(&self, service: &str) -> Option<String> {
        if let Some(url) = &self.endpoint_url {
            return Some(url.clone());
        }
        default_endpoint(service, self.region.as_deref()?)
    }

    /// "profile P, region R, endpoint E": what was in use, for the end of an error line; the
    /// endpoint is `service`'s (resolved for the region) or the override.
    fn describe(&self, service: Option<&str>) -> String {
        let mut parts = vec![format!(
            "profile {}",
            self.profile.as_deref().unwrap_or("default")
        )];
        if let Some(region) = &self.region {
            parts.push(format!("region {region}"));
        }
        let endpoint = match service {
            Some(service) => self.endpoint_of(service),
            None => self.endpoint_url.clone(),
        };
        if let Some(url) = endpoint {
            parts.push(format!("endpoint {url}"));
        }
        parts.join(", ")
    }
}

impl fmt::Display for AwsTarget {
    /// "profile P, region R[, endpoint E]" (the endpoint only when overridden).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(None))
    }
}

/// The URL the SDK would call for `service` in `region` (its own endpoint rules), or `None` for a
/// service this crate does not call or a region that is not a host label.
fn default_endpoint(service: &str, region: &str) -> Option<String> {
    macro_rules! resolve {
        ($sdk:ident) => {{
            use $sdk::config::endpoint::{DefaultResolver, Params, ResolveEndpoint as _};
            let params = Params::builder().region(region).build().ok()?;
            let endpoint = DefaultResolver::new()
                .resolve_endpoint(&params)
                .now_or_never()?
                .ok()?;
            Some(endpoint.url().to_string())
        }};
    }
    match service {
        "sts" => resolve!(aws_sdk_sts),
        "iam" => resolve!(aws_sdk_iam),
        "eks" => resolve!(aws_sdk_eks),
        "sns" => resolve!(aws_sdk_sns),
        "organizations" => resolve!(aws_sdk_organizations),
        "securityhub" => resolve!(aws_sdk_securityhub),
        "dynamodb" => resolve!(aws_sdk_dynamodb),
        _ => None,
    }
}

impl AwsError {
    /// One line for a person: the call, what failed with AWS's code and message, where the call
    /// went (profile, region, endpoint) and what to do about it.
    pub fn explain(&self, target: &AwsTarget) -> String {
        let call = format!("{}:{}", self.service, self.operation);
        let place = target.describe(Some(self.service));
        match self.failure {
            AwsFailure::NoCredentials => format!("{call}: {CREDENTIALS_HINT} ({target})"),
            AwsFailure::Credentials => format!(
                "{call}: the credentials could not be loaded: {}. {CREDENTIALS_HINT} ({target})",
                self.message
            ),
            AwsFailure::Unreachable | AwsFailure::Timeout => {
                let what = if self.failure == AwsFailure::Timeout {
                    "timed out calling"
                } else {
                    "cannot connect to"
                };
                let endpoint = target
                    .endpoint_of(self.service)
                    .unwrap_or_else(|| format!("the {} endpoint", self.service));
                match (&target.endpoint_url, &target.region) {
                    (Some(_), _) => format!(
                        "{call}: {what} {endpoint} ({}), the endpoint AWS_ENDPOINT_URL names; start the service there or unset AWS_ENDPOINT_URL ({target})",
                        self.message
                    ),
                    (None, Some(region)) => format!(
                        "{call}: {what} {endpoint} ({}); check that \"{region}\" is a region (--region, AWS_REGION or the profile's region) and that this machine can reach AWS ({target})",
                        self.message
                    ),
                    (None, None) => format!(
                        "{call}: {what} {endpoint} ({}); set a region with --region or AWS_REGION ({target})",
                        self.message
                    ),
                }
            }
            AwsFailure::Service => {
                let code = self.code.as_deref().unwrap_or("error");
                let hint = if self.is_access_denied() {
                    format!(
                        "; these credentials need {}:{} (see docs/deploying.md, \"Permissions\")",
                        self.service, self.operation
                    )
                } else if code.contains("ExpiredToken") || code.contains("InvalidClientTokenId") {
                    "; the credentials are expired or unknown to AWS: refresh them (e.g. \"aws sso login\") or configure others with \"aws configure\"".to_string()
                } else {
                    String::new()
                };
                format!("{call}: {code}: {}{hint} ({place})", self.message)
            }
            AwsFailure::Other => format!("{call}: {} ({place})", self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::provider::error::CredentialsError;
    use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::client::result::ConnectorError;

    type StsError = SdkError<GetCallerIdentityError, HttpResponse>;

    fn unreachable(service: &'static str, operation: &'static str) -> AwsError {
        AwsError {
            service,
            operation,
            failure: AwsFailure::Unreachable,
            code: None,
            message: "failed to lookup address information: Name or service not known".into(),
        }
    }

    fn target(region: &str) -> AwsTarget {
        AwsTarget {
            profile: None,
            region: Some(region.into()),
            endpoint_url: None,
        }
    }

    #[test]
    fn a_bad_region_is_named_with_the_host_tried() {
        let line = unreachable("sts", "GetCallerIdentity").explain(&target("us-esat-1"));
        assert!(
            line.starts_with("sts:GetCallerIdentity: cannot connect to https://sts.us-esat-1.amazonaws.com (failed to lookup address information"),
            "{line}"
        );
        assert!(
            line.contains("check that \"us-esat-1\" is a region"),
            "{line}"
        );
        assert!(
            line.ends_with("(profile default, region us-esat-1)"),
            "{line}"
        );
        // IAM is global: its host does not carry the region.
        let line = unreachable("iam", "ListOpenIDConnectProviders").explain(&target("eu-west-1"));
        assert!(line.contains("https://iam.amazonaws.com"), "{line}");
    }

    #[test]
    fn an_endpoint_override_is_named_instead_of_the_region() {
        let target = AwsTarget {
            profile: Some("ci".into()),
            region: Some("us-east-1".into()),
            endpoint_url: Some("http://127.0.0.1:1".into()),
        };
        let line = unreachable("iam", "ListOpenIDConnectProviders").explain(&target);
        assert!(
            line.contains("cannot connect to http://127.0.0.1:1"),
            "{line}"
        );
        assert!(line.contains("AWS_ENDPOINT_URL"), "{line}");
        assert!(
            line.ends_with("(profile ci, region us-east-1, endpoint http://127.0.0.1:1)"),
            "{line}"
        );
    }

    #[test]
    fn access_denied_names_the_permission_to_grant() {
        let error = AwsError {
            service: "iam",
            operation: "ListOpenIDConnectProviders",
            failure: AwsFailure::Service,
            code: Some("AccessDenied".into()),
            message: "User: arn:aws:iam::1:user/x is not authorized".into(),
        };
        let line = error.explain(&target("us-east-1"));
        assert!(
            line.starts_with("iam:ListOpenIDConnectProviders: AccessDenied: User: arn:aws:iam::1:user/x is not authorized; these credentials need iam:ListOpenIDConnectProviders"),
            "{line}"
        );
        assert!(
            line.ends_with(
                "(profile default, region us-east-1, endpoint https://iam.amazonaws.com)"
            ),
            "{line}"
        );
    }

    #[test]
    fn no_credentials_and_a_failed_provider_are_told_apart() {
        let none: StsError = SdkError::dispatch_failure(ConnectorError::other(
            Box::new(CredentialsError::not_loaded("no providers in chain")),
            None,
        ));
        let error = AwsError::from_sdk("sts", "GetCallerIdentity", &none);
        assert_eq!(error.failure, AwsFailure::NoCredentials);
        assert_eq!(
            error.explain(&target("us-east-1")),
            "sts:GetCallerIdentity: Unable to locate credentials. You can configure credentials by running \"aws configure\", or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (profile default, region us-east-1)"
        );
        let broken: StsError = SdkError::dispatch_failure(ConnectorError::other(
            Box::new(CredentialsError::provider_error(
                "the SSO session has expired",
            )),
            None,
        ));
        let error = AwsError::from_sdk("sts", "GetCallerIdentity", &broken);
        assert_eq!(error.failure, AwsFailure::Credentials);
        assert!(
            error
                .explain(&target("us-east-1"))
                .contains("the credentials could not be loaded: the SSO session has expired"),
            "{error}"
        );
    }

    #[test]
    fn a_refused_connection_is_unreachable() {
        let refused: StsError = SdkError::dispatch_failure(ConnectorError::io(Box::new(
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused"),
        )));
        let error = AwsError::from_sdk("sts", "GetCallerIdentity", &refused);
        assert_eq!(error.failure, AwsFailure::Unreachable);
        assert_eq!(error.message, "Connection refused");
    }
}
