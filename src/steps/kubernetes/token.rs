//! The EKS bearer token, made the way `aws eks get-token` makes it: `k8s-aws-v1.` followed by the
//! unpadded base64url of a presigned `sts:GetCallerIdentity` URL on the cluster region's STS
//! endpoint, valid for 60 seconds, whose signed headers include `x-k8s-aws-id: CLUSTER_NAME`.
//! The API server's authenticator sends that request to STS and maps the caller it names to the
//! cluster's access entries.
//!
//! The token is a credential: anyone holding it can read the cluster as the caller for a minute.
//! [`BearerToken`] never prints it (its `Debug` says `<redacted>`), and the header built from it is
//! marked sensitive.

use std::fmt;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;
use futures::FutureExt as _;
use http::HeaderValue;
use tokio::sync::Mutex;

/// The prefix of every EKS token.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// The header naming the cluster in the signed request.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// How long a token's presigned URL is valid (`X-Amz-Expires`), as `aws eks get-token` makes it.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// Credentials expiring sooner than this are fetched again before signing.
const CREDENTIALS_MARGIN: Duration = Duration::from_secs(300);

/// A bearer token for one cluster. Its text is reachable only through [`BearerToken::header`].
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(String);

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

impl BearerToken {
    /// The `Authorization` header value `Bearer k8s-aws-v1.…`, marked sensitive (never logged).
    pub fn header(&self) -> Result<HeaderValue, http::header::InvalidHeaderValue> {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.0))?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// The token's text, for tests that decode it.
    #[cfg(test)]
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

/// Why no token could be made. Carries no secret: the signing input is not in the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TokenError(String);

impl TokenError {
    fn new(what: impl fmt::Display) -> Self {
        TokenError(what.to_string())
    }
}

/// Presigns `GetCallerIdentity` on `sts_endpoint` (its base URL, e.g.
/// `https://sts.us-east-1.amazonaws.com`) for `cluster`, signed for `region` at `now`.
pub fn presign(
    credentials: &Credentials,
    sts_endpoint: &str,
    region: &str,
    cluster: &str,
    now: SystemTime,
) -> Result<BearerToken, TokenError> {
    let url = format!(
        "{}/?Action=GetCallerIdentity&Version=2011-06-15",
        sts_endpoint.trim_end_matches('/')
    );
    let identity: Identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(TOKEN_LIFETIME);
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(TokenError::new)?
        .into();
    let signable = SignableRequest::new(
        "GET",
        url.as_str(),
        std::iter::once((CLUSTER_ID_HEADER, cluster)),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| TokenError::new(format!("the STS URL {url} cannot be signed: {e}")))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| TokenError::new(format!("signing failed: {e}")))?
        .into_parts();
    let mut request = http::Request::get(url.as_str())
        .body(())
        .map_err(|e| TokenError::new(format!("the STS URL {url} is not a valid URI: {e}")))?;
    instructions.apply_to_request_http1x(&mut request);
    let presigned = request.uri().to_string();
    Ok(BearerToken(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(presigned)
    )))
}

/// The base URL of STS for `region`, resolved by the SDK's own endpoint rules: `endpoint_override`
/// when set (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`), else the regional endpoint
/// (`https://sts.REGION.amazonaws.com`, `.amazonaws.com.cn` in China), FIPS or dual-stack when asked.
pub fn sts_endpoint(
    region: &str,
    endpoint_override: Option<&str>,
    use_fips: bool,
    use_dual_stack: bool,
) -> Result<String, TokenError> {
    use aws_sdk_sts::config::endpoint::{DefaultResolver, Params, ResolveEndpoint as _};
    let mut params = Params::builder()
        .region(region)
        .use_fips(use_fips)
        .use_dual_stack(use_dual_stack)
        .use_global_endpoint(false);
    if let Some(url) = endpoint_override {
        params = params.endpoint(url);
    }
    let params = params
        .build()
        .map_err(|e| TokenError::new(format!("no STS endpoint for region {region}: {e}")))?;
    let resolved = DefaultResolver::new()
        .resolve_endpoint(&params)
        .now_or_never()
        .ok_or_else(|| TokenError::new("the STS endpoint resolver did not answer at once"))?
        .map_err(|e| TokenError::new(format!("no STS endpoint for region {region}: {e}")))?;
    Ok(resolved.url().to_string())
}

/// The STS endpoint override the SDK's STS client would use for `sdk`: `AWS_ENDPOINT_URL_STS` (or
/// the profile's `sts` service section) unless an endpoint was set in code, else the global
/// `AWS_ENDPOINT_URL`. The same precedence as `aws_sdk_sts::config::Builder::from(&SdkConfig)`.
fn sts_endpoint_override(sdk: &SdkConfig) -> Option<String> {
    if sdk.get_origin("endpoint_url").is_client_config() {
        return sdk.endpoint_url().map(str::to_owned);
    }
    let key = aws_types::service_config::ServiceConfigKey::builder()
        .service_id("STS")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok()?;
    sdk.service_config()
        .and_then(|config| config.load_config(key))
        .or_else(|| sdk.endpoint_url().map(str::to_owned))
}

/// Makes the tokens of one set of credentials (the run's, or a member account's): fetches the
/// credentials once and again only when they near expiry, and signs a fresh token for each request.
pub struct TokenSigner {
    provider: SharedCredentialsProvider,
    endpoint_override: Option<String>,
    use_fips: bool,
    use_dual_stack: bool,
    credentials: Mutex<Option<Credentials>>,
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("endpoint_override", &self.endpoint_override)
            .finish_non_exhaustive()
    }
}

impl TokenSigner {
    /// Signs with `sdk`'s credentials, reaching STS where `sdk`'s STS client would (its endpoint
    /// override, FIPS and dual-stack settings). `None` when `sdk` has no credentials provider.
    pub fn from_sdk(sdk: &SdkConfig) -> Option<Self> {
        Some(TokenSigner {
            provider: sdk.credentials_provider()?,
            endpoint_override: sts_endpoint_override(sdk),
            use_fips: sdk.use_fips().unwrap_or(false),
            use_dual_stack: sdk.use_dual_stack().unwrap_or(false),
            credentials: Mutex::new(None),
        })
    }

    /// Signs with `provider`'s credentials on the regional STS endpoint, or on `endpoint_override`.
    pub fn new(provider: SharedCredentialsProvider, endpoint_override: Option<String>) -> Self {
        TokenSigner {
            provider,
            endpoint_override,
            use_fips: false,
            use_dual_stack: false,
            credentials: Mutex::new(None),
        }
    }

    /// A fresh token for `cluster` of `region`, signed now.
    pub async fn token(&self, cluster: &str, region: &str) -> Result<BearerToken, TokenError> {
        let now = SystemTime::now();
        let credentials = self.credentials(now).await?;
        let endpoint = sts_endpoint(
            region,
            self.endpoint_override.as_deref(),
            self.use_fips,
            self.use_dual_stack,
        )?;
        presign(&credentials, &endpoint, region, cluster, now)
    }

    async fn credentials(&self, now: SystemTime) -> Result<Credentials, TokenError> {
        let mut cached = self.credentials.lock().await;
        let fresh = |c: &Credentials| {
            c.expiry()
                .is_none_or(|expiry| expiry > now + CREDENTIALS_MARGIN)
        };
        if let Some(credentials) = cached.as_ref().filter(|c| fresh(c)) {
            return Ok(credentials.clone());
        }
        let credentials = self.provider.provide_credentials().await.map_err(|e| {
            TokenError::new(format!(
                "no credentials to sign the token with: {}",
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            ))
        })?;
        *cached = Some(credentials.clone());
        Ok(credentials)
    }
}

#[cfg(test)]
mod tests;
