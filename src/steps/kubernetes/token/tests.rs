//! Unit tests of the EKS bearer token: its decoded URL, signed headers, expiry and redaction.

use super::*;
use std::collections::BTreeMap;

const EAST: &str = "https://sts.us-east-1.amazonaws.com";

fn credentials(session: Option<&str>) -> Credentials {
    Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session.map(str::to_owned),
        None,
        "test",
    )
}

/// 2026-11-22T10:00:00Z.
fn noon() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_341_600)
}

/// The presigned URL inside `token`: (scheme://host/path, query parameters).
fn decode(token: &BearerToken) -> (url::Url, BTreeMap<String, String>) {
    let text = token.expose();
    let encoded = text.strip_prefix(TOKEN_PREFIX).expect("the prefix");
    assert!(!encoded.contains('='), "unpadded: {encoded}");
    assert!(
        !encoded.contains('+') && !encoded.contains('/'),
        "base64url: {encoded}"
    );
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .expect("base64url");
    let url = url::Url::parse(std::str::from_utf8(&bytes).expect("UTF-8")).expect("a URL");
    let query = url.query_pairs().into_owned().collect();
    (url, query)
}

#[test]
fn the_token_is_a_presigned_get_caller_identity_naming_the_cluster() {
    let token = presign(&credentials(None), EAST, "us-east-1", "prod", noon()).unwrap();
    let (url, query) = decode(&token);
    assert_eq!(url.scheme(), "https");
    assert_eq!(url.host_str(), Some("sts.us-east-1.amazonaws.com"));
    assert_eq!(url.port(), None);
    assert_eq!(url.path(), "/");
    assert_eq!(query["Action"], "GetCallerIdentity");
    assert_eq!(query["Version"], "2011-06-15");
    assert_eq!(query["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
    assert_eq!(query["X-Amz-Expires"], "60");
    assert_eq!(query["X-Amz-Date"], "20261122T100000Z");
    assert_eq!(
        query["X-Amz-Credential"],
        "AKIDEXAMPLE/20261122/us-east-1/sts/aws4_request"
    );
    let signed: Vec<&str> = query["X-Amz-SignedHeaders"].split(';').collect();
    assert_eq!(signed, ["host", "x-k8s-aws-id"]);
    assert_eq!(query["X-Amz-Signature"].len(), 64, "hex SHA-256");
    assert!(!query.contains_key("X-Amz-Security-Token"));
}

#[test]
fn the_signature_depends_on_the_cluster_the_time_and_the_region() {
    let sign = |cluster: &str, region: &str, at: SystemTime| {
        let token = presign(&credentials(None), EAST, region, cluster, at).unwrap();
        decode(&token).1["X-Amz-Signature"].clone()
    };
    let prod = sign("prod", "us-east-1", noon());
    assert_eq!(prod, sign("prod", "us-east-1", noon()), "deterministic");
    assert_ne!(prod, sign("staging", "us-east-1", noon()));
    assert_ne!(
        prod,
        sign("prod", "us-east-1", noon() + Duration::from_secs(1))
    );
    assert_ne!(prod, sign("prod", "eu-west-1", noon()));
}

#[test]
fn a_session_token_travels_signed_in_the_query() {
    let token = presign(
        &credentials(Some("SESSION/TOKEN+=")),
        EAST,
        "us-east-1",
        "prod",
        noon(),
    )
    .unwrap();
    let (_, query) = decode(&token);
    assert_eq!(query["X-Amz-Security-Token"], "SESSION/TOKEN+=");
    let without = presign(&credentials(None), EAST, "us-east-1", "prod", noon()).unwrap();
    assert_ne!(
        query["X-Amz-Signature"],
        decode(&without).1["X-Amz-Signature"],
        "the session token is part of what is signed"
    );
}

#[test]
fn the_token_expires_sixty_seconds_after_it_is_signed() {
    let at = noon();
    let token = presign(&credentials(None), EAST, "us-east-1", "prod", at).unwrap();
    let (_, query) = decode(&token);
    let date = time::PrimitiveDateTime::parse(
        &query["X-Amz-Date"],
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .unwrap()
    .assume_utc();
    let expires: u64 = query["X-Amz-Expires"].parse().unwrap();
    let expiry = SystemTime::from(date) + Duration::from_secs(expires);
    assert_eq!(expiry, at + TOKEN_LIFETIME);
}

#[test]
fn the_regional_endpoint_is_resolved_by_the_sdk_rules() {
    assert_eq!(
        sts_endpoint("us-east-1", None, false, false).unwrap(),
        "https://sts.us-east-1.amazonaws.com"
    );
    assert_eq!(
        sts_endpoint("cn-north-1", None, false, false).unwrap(),
        "https://sts.cn-north-1.amazonaws.com.cn"
    );
    assert_eq!(
        sts_endpoint("us-east-1", Some("http://127.0.0.1:5000"), false, false).unwrap(),
        "http://127.0.0.1:5000"
    );
    let (url, _) = decode(
        &presign(
            &credentials(None),
            "http://127.0.0.1:5000/",
            "us-east-1",
            "prod",
            noon(),
        )
        .unwrap(),
    );
    assert_eq!(
        url.as_str().split('?').next(),
        Some("http://127.0.0.1:5000/")
    );
}

/// An environment holding only `AWS_ENDPOINT_URL_STS` (or the profile's `sts` section).
#[derive(Debug)]
struct StsEndpointOnly(&'static str);

impl aws_types::service_config::LoadServiceConfig for StsEndpointOnly {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        (key.service_id() == "STS" && key.env() == "AWS_ENDPOINT_URL").then(|| self.0.to_string())
    }
}

fn sdk(endpoint_url: Option<&str>, sts_only: Option<&'static str>) -> SdkConfig {
    let mut builder = SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .credentials_provider(SharedCredentialsProvider::new(credentials(None)));
    if let Some(url) = endpoint_url {
        builder = builder.endpoint_url(url);
    }
    if let Some(url) = sts_only {
        builder = builder.service_config(StsEndpointOnly(url));
    }
    builder.build()
}

#[tokio::test]
async fn the_sts_endpoint_follows_the_sdk_overrides() {
    let host_of = |sdk: SdkConfig| async move {
        let signer = TokenSigner::from_sdk(&sdk).expect("credentials");
        let token = signer.token("prod", "eu-west-1").await.unwrap();
        let (url, query) = decode(&token);
        assert!(query["X-Amz-Credential"].ends_with("/eu-west-1/sts/aws4_request"));
        format!("{}://{}", url.scheme(), url.authority())
    };
    assert_eq!(
        host_of(sdk(None, None)).await,
        "https://sts.eu-west-1.amazonaws.com"
    );
    assert_eq!(
        host_of(sdk(Some("http://127.0.0.1:5000"), None)).await,
        "http://127.0.0.1:5000"
    );
    assert_eq!(
        host_of(sdk(
            Some("http://127.0.0.1:5000"),
            Some("http://127.0.0.1:6000")
        ))
        .await,
        "http://127.0.0.1:6000",
        "AWS_ENDPOINT_URL_STS wins over AWS_ENDPOINT_URL"
    );
    assert!(TokenSigner::from_sdk(&SdkConfig::builder().build()).is_none());
}

#[test]
fn the_token_never_prints() {
    let token = presign(&credentials(None), EAST, "us-east-1", "prod", noon()).unwrap();
    let shown = format!("{token:?} {:?}", token.header().unwrap());
    assert!(!shown.contains(TOKEN_PREFIX), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
    assert!(shown.contains("Sensitive"), "{shown}");
}

#[tokio::test]
async fn the_signer_reuses_credentials_until_they_near_expiry() {
    use aws_credential_types::provider::future;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[derive(Debug)]
    struct Counting(Arc<AtomicUsize>, Option<SystemTime>);
    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.0.fetch_add(1, Ordering::SeqCst);
            future::ProvideCredentials::ready(Ok(Credentials::new(
                "AKID", "secret", None, self.1, "counting",
            )))
        }
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let lasting = TokenSigner::new(
        SharedCredentialsProvider::new(Counting(calls.clone(), None)),
        None,
    );
    let first = lasting.token("prod", "us-east-1").await.unwrap();
    let second = lasting.token("prod", "us-east-1").await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let _ = (first, second);

    let expiring = Arc::new(AtomicUsize::new(0));
    let soon = SystemTime::now() + Duration::from_secs(60);
    let signer = TokenSigner::new(
        SharedCredentialsProvider::new(Counting(expiring.clone(), Some(soon))),
        None,
    );
    signer.token("prod", "us-east-1").await.unwrap();
    signer.token("prod", "us-east-1").await.unwrap();
    assert_eq!(
        expiring.load(Ordering::SeqCst),
        2,
        "fetched again each time"
    );
}
