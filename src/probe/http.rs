//! The two HTTPS fetches of a probe (discovery document, JWKS) and the checks on what they return.
//!
//! Fetches go through the context's reqwest client: verified TLS on the full trust store, no
//! redirect followed, the address policy in its resolver, bounded time, and bodies read in chunks
//! up to [`MAX_BODY_BYTES`]. Failures are classified so the caller can pick the finding code.

use std::error::Error as StdError;

use serde_json::{json, Value};
use url::Url;

use super::address::AddressRefused;
use super::verifier::verdict;
use super::{ChainVerdict, ProbeContext, MAX_BODY_BYTES};

/// Why a fetch gave no usable JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchError {
    /// The host resolved to an address the policy refuses (no connection was made).
    Refused(String),
    /// The TLS handshake failed because the server's certificate was rejected.
    CertificateRejected(String),
    /// DNS, TCP, TLS or timeout failure.
    Unreachable(String),
    /// The server answered, but not with a JSON document we accept.
    Invalid {
        /// What is wrong.
        problem: String,
        /// Facts for the finding (status, location, size).
        details: Value,
    },
}

/// GETs `url` and parses the body as JSON.
pub async fn fetch_json(ctx: &ProbeContext, url: &Url) -> Result<Value, FetchError> {
    let mut response = ctx
        .http
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .timeout(ctx.timeout * 2)
        .send()
        .await
        .map_err(classify)?;
    let status = response.status();
    if status.is_redirection() {
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("(no Location header)")
            .to_string();
        return Err(FetchError::Invalid {
            problem: format!("{url} answered HTTP {status} redirecting to {location}; redirects are not followed (IAM does not follow them either)"),
            details: json!({"url": url.as_str(), "status": status.as_u16(), "location": location}),
        });
    }
    if !status.is_success() {
        return Err(FetchError::Invalid {
            problem: format!("{url} answered HTTP {status}"),
            details: json!({"url": url.as_str(), "status": status.as_u16()}),
        });
    }
    let too_large = |size: String| FetchError::Invalid {
        problem: format!("{url} returned more than {MAX_BODY_BYTES} bytes ({size})"),
        details: json!({"url": url.as_str(), "status": status.as_u16(), "limit_bytes": MAX_BODY_BYTES}),
    };
    if let Some(length) = response.content_length() {
        if length > MAX_BODY_BYTES as u64 {
            return Err(too_large(format!("Content-Length {length}")));
        }
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large("body cut off at the limit".to_string()));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| FetchError::Invalid {
        problem: format!("{url} did not return JSON ({e})"),
        details: json!({"url": url.as_str(), "status": status.as_u16()}),
    })
}

/// Classifies a reqwest error by what is in its source chain.
fn classify(error: reqwest::Error) -> FetchError {
    let text = describe(&error);
    if let Some(refused) = find_in_chain::<AddressRefused>(&error) {
        return FetchError::Refused(refused.to_string());
    }
    if let Some(rustls::Error::InvalidCertificate(e)) = find_in_chain::<rustls::Error>(&error) {
        let why = match verdict(&Err(rustls::Error::InvalidCertificate(e.clone()))) {
            ChainVerdict::Expired(why) | ChainVerdict::Untrusted(why) => why,
            ChainVerdict::Trusted | ChainVerdict::NotReceived => e.to_string(),
        };
        return FetchError::CertificateRejected(format!(
            "the server's certificate was rejected: {why}"
        ));
    }
    if error.is_timeout() {
        return FetchError::Unreachable(format!("timed out ({text})"));
    }
    FetchError::Unreachable(text)
}

/// The error and its sources on one line (reqwest's top-level message alone says little).
pub fn describe(error: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut next = source_of(error);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = source_of(e);
    }
    parts.join(": ")
}

/// The next error in the chain, looking inside `io::Error` (whose `source()` skips the wrapped error).
fn source_of<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a (dyn StdError + 'static)> {
    if let Some(io) = error.downcast_ref::<std::io::Error>() {
        if let Some(inner) = io.get_ref() {
            return Some(inner as &(dyn StdError + 'static));
        }
    }
    error.source()
}

fn find_in_chain<'a, T: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        next = source_of(e);
    }
    None
}

/// `{issuer}/.well-known/openid-configuration`, without a double slash when the issuer ends in `/`.
pub fn discovery_url(issuer: &str) -> Result<Url, String> {
    let joined = if issuer.ends_with('/') {
        format!("{issuer}.well-known/openid-configuration")
    } else {
        format!("{issuer}/.well-known/openid-configuration")
    };
    Url::parse(&joined).map_err(|e| format!("'{joined}' is not a valid URL ({e})"))
}

/// Checks a parsed issuer URL: https, a host, no query or fragment (OpenID Connect Discovery 1.0).
pub fn check_issuer_url(issuer: &str) -> Result<Url, String> {
    let url = Url::parse(issuer).map_err(|e| format!("'{issuer}' is not a valid URL ({e})"))?;
    if url.scheme() != "https" {
        return Err(format!("'{issuer}' is not an https URL"));
    }
    if url.host().is_none() {
        return Err(format!("'{issuer}' has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "'{issuer}' has a query or fragment, which an issuer must not have"
        ));
    }
    Ok(url)
}

/// The `jwks_uri` of a discovery document, after checking its `issuer` is exactly `issuer`.
pub fn check_discovery(issuer: &str, document: &Value) -> Result<Url, (String, Value)> {
    let Some(object) = document.as_object() else {
        return Err((
            "the discovery document is not a JSON object".to_string(),
            json!({"issuer": issuer}),
        ));
    };
    match object.get("issuer").and_then(Value::as_str) {
        Some(served) if served == issuer => {}
        Some(served) => {
            return Err((
                format!("the discovery document's issuer is '{served}', not '{issuer}'; STS rejects tokens when they differ"),
                json!({"expected_issuer": issuer, "served_issuer": served}),
            ))
        }
        None => {
            return Err((
                "the discovery document has no 'issuer' string".to_string(),
                json!({"expected_issuer": issuer}),
            ))
        }
    }
    let Some(jwks_uri) = object.get("jwks_uri").and_then(Value::as_str) else {
        return Err((
            "the discovery document has no 'jwks_uri' string".to_string(),
            json!({"issuer": issuer}),
        ));
    };
    match Url::parse(jwks_uri) {
        Ok(url) if url.scheme() == "https" && url.host().is_some() => Ok(url),
        Ok(_) => Err((
            format!("jwks_uri '{jwks_uri}' is not an https URL with a host"),
            json!({"issuer": issuer, "jwks_uri": jwks_uri}),
        )),
        Err(e) => Err((
            format!("jwks_uri '{jwks_uri}' is not a valid URL ({e})"),
            json!({"issuer": issuer, "jwks_uri": jwks_uri}),
        )),
    }
}

/// Number of usable signing keys in a JWKS, or why it has none.
///
/// Usable: `kty` RSA with `n` and `e`, EC with `crv`, `x` and `y`, or OKP with `crv` and `x`; and
/// `use` absent or `sig`.
pub fn usable_signing_keys(jwks: &Value) -> Result<usize, String> {
    let Some(keys) = jwks.get("keys").and_then(Value::as_array) else {
        return Err("the JWKS has no 'keys' array".to_string());
    };
    let has = |key: &Value, field: &str| {
        key.get(field)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    };
    let usable = keys
        .iter()
        .filter(|key| {
            let signing = match key.get("use") {
                None => true,
                Some(u) => u.as_str() == Some("sig"),
            };
            let complete = match key.get("kty").and_then(Value::as_str) {
                Some("RSA") => has(key, "n") && has(key, "e"),
                Some("EC") => has(key, "crv") && has(key, "x") && has(key, "y"),
                Some("OKP") => has(key, "crv") && has(key, "x"),
                _ => false,
            };
            signing && complete
        })
        .count();
    if usable == 0 {
        return Err(format!(
            "the JWKS has no usable signing key ({} key(s) present, none RSA/EC/OKP with its parameters and use 'sig')",
            keys.len()
        ));
    }
    Ok(usable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_url_has_no_double_slash() {
        assert_eq!(
            discovery_url("https://a.example/id/X").unwrap().as_str(),
            "https://a.example/id/X/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://a.example/").unwrap().as_str(),
            "https://a.example/.well-known/openid-configuration"
        );
    }

    #[test]
    fn issuer_urls_are_checked() {
        assert!(check_issuer_url("https://a.example/id/X").is_ok());
        assert!(check_issuer_url("http://a.example").is_err());
        assert!(check_issuer_url("https://a.example/?x=1").is_err());
        assert!(check_issuer_url("not a url").is_err());
    }

    #[test]
    fn discovery_needs_exact_issuer_and_https_jwks_uri() {
        let issuer = "https://a.example/id/X";
        let ok = json!({"issuer": issuer, "jwks_uri": "https://keys.example/k"});
        assert_eq!(
            check_discovery(issuer, &ok).unwrap().as_str(),
            "https://keys.example/k"
        );
        let slash = json!({"issuer": "https://a.example/id/X/", "jwks_uri": "https://k.example"});
        let (why, details) = check_discovery(issuer, &slash).unwrap_err();
        assert!(why.contains("https://a.example/id/X/"), "{why}");
        assert_eq!(details["served_issuer"], "https://a.example/id/X/");
        let http = json!({"issuer": issuer, "jwks_uri": "http://keys.example/k"});
        assert!(check_discovery(issuer, &http)
            .unwrap_err()
            .0
            .contains("https"));
        let missing = json!({"issuer": issuer});
        assert!(check_discovery(issuer, &missing)
            .unwrap_err()
            .0
            .contains("jwks_uri"));
        assert!(check_discovery(issuer, &json!([1])).is_err());
    }

    #[test]
    fn jwks_needs_a_usable_signing_key() {
        let rsa = json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "use": "sig"}]});
        assert_eq!(usable_signing_keys(&rsa), Ok(1));
        let ec = json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}, {"kty": "OKP", "crv": "Ed25519", "x": "c"}]});
        assert_eq!(usable_signing_keys(&ec), Ok(2));
        assert!(usable_signing_keys(&json!({"keys": []})).is_err());
        assert!(usable_signing_keys(&json!({})).is_err());
        let enc = json!({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "use": "enc"}]});
        assert!(usable_signing_keys(&enc).is_err());
        let partial =
            json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "a"}, {"kty": "oct", "k": "x"}]});
        assert!(usable_signing_keys(&partial)
            .unwrap_err()
            .contains("2 key(s)"));
    }
}
