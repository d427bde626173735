//! One AWS call that failed, as a person reads it: which service and operation, what kind of
//! failure, AWS's error code and message, and what to do about it.
//!
//! The SDK's own error is a nested chain (`DispatchFailure(DispatchFailure { source: ConnectorError
//! {…`); [`AwsError::from_sdk`] reduces it to one line and keeps the whole chain for
//! `RUST_LOG=debug` (it is logged there when the error is made).

use std::error::Error as StdError;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What kind of failure an AWS call met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsFailure {
    /// No usable credentials (none found, expired, or the profile does not exist).
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
                let credentials =
                    chain(other).any(|e| e.downcast_ref::<CredentialsError>().is_some());
                let failure = if credentials {
                    AwsFailure::Credentials
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
            AwsFailure::Credentials => write!(
                f,
                "{call}: unable to locate usable AWS credentials ({}). Configure them with `aws configure`, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                self.message
            ),
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
