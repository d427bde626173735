//! The discovery and JWKS documents: the issuer URL's shape, the discovery document's checks and
//! the JWKS's usable signing keys. Pure: values in, typed answers out.

use serde_json::{json, Value};
use url::Url;

use super::facts::{capped, DiscoveryProblem};

/// Why an issuer URL cannot be probed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerUrlError {
    /// Not a URL at all.
    #[error("'{url}' is not a valid URL ({reason})")]
    Invalid {
        /// The text given.
        url: String,
        /// The parser's reason.
        reason: String,
    },
    /// Another scheme than https.
    #[error("'{0}' is not an https URL")]
    NotHttps(String),
    /// No host.
    #[error("'{0}' has no host")]
    NoHost(String),
    /// User information in the URL (never echoed: it may hold a password).
    #[error("the issuer URL for {0} carries credentials (user information), which an issuer must not have; IAM never sends them")]
    Credentials(String),
    /// A query or a fragment.
    #[error("'{0}' has a query or fragment, which an issuer must not have")]
    QueryOrFragment(String),
}

/// Why a JWKS has no usable signing key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksKeysError {
    /// No `keys` array.
    #[error("the JWKS has no 'keys' array")]
    NoKeys,
    /// Keys, none usable.
    #[error("the JWKS has no usable signing key ({} present, none RSA/EC/OKP with its parameters and use 'sig')", crate::report::count(.0, "key", "keys"))]
    NoUsableKey(usize),
}

/// `{issuer}/.well-known/openid-configuration`, without a double slash when the issuer ends in `/`.
pub(crate) fn discovery_url(issuer: &str) -> Result<Url, IssuerUrlError> {
    let joined = if issuer.ends_with('/') {
        format!("{issuer}.well-known/openid-configuration")
    } else {
        format!("{issuer}/.well-known/openid-configuration")
    };
    Url::parse(&joined).map_err(|e| IssuerUrlError::Invalid {
        url: joined.clone(),
        reason: e.to_string(),
    })
}

/// Checks an issuer URL: https, a host, no userinfo, query or fragment (OpenID Connect Discovery
/// 1.0; IAM would never send credentials from a URL).
pub fn check_issuer_url(issuer: &str) -> Result<Url, IssuerUrlError> {
    let url = Url::parse(issuer).map_err(|e| IssuerUrlError::Invalid {
        url: issuer.to_string(),
        reason: e.to_string(),
    })?;
    if url.scheme() != "https" {
        return Err(IssuerUrlError::NotHttps(issuer.to_string()));
    }
    if url.host().is_none() {
        return Err(IssuerUrlError::NoHost(issuer.to_string()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(IssuerUrlError::Credentials(
            url.host_str().unwrap_or_default().to_string(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(IssuerUrlError::QueryOrFragment(issuer.to_string()));
    }
    Ok(url)
}

/// The `jwks_uri` of a discovery document, after checking its `issuer` is exactly `issuer`.
pub fn check_discovery(
    issuer: &str,
    document: &Value,
) -> Result<Url, (DiscoveryProblem, String, Value)> {
    let Some(object) = document.as_object() else {
        return Err((
            DiscoveryProblem::NotJson,
            "the discovery document is not a JSON object".to_string(),
            json!({"issuer": issuer}),
        ));
    };
    match object.get("issuer").and_then(Value::as_str) {
        Some(served) if served == issuer => {}
        Some(served) => {
            let served = capped(served);
            return Err((
                DiscoveryProblem::IssuerMismatch,
                format!("the discovery document's issuer is '{served}', not '{issuer}'; STS rejects tokens when they differ"),
                json!({"expected_issuer": issuer, "served_issuer": served}),
            ));
        }
        None => {
            return Err((
                DiscoveryProblem::IssuerMismatch,
                "the discovery document has no 'issuer' string".to_string(),
                json!({"expected_issuer": issuer}),
            ))
        }
    }
    let Some(jwks_uri) = object.get("jwks_uri").and_then(Value::as_str) else {
        return Err((
            DiscoveryProblem::BadJwksUri,
            "the discovery document has no 'jwks_uri' string".to_string(),
            json!({"issuer": issuer}),
        ));
    };
    let shown = capped(jwks_uri);
    match Url::parse(jwks_uri) {
        Ok(url) if url.scheme() == "https" && url.host().is_some() => Ok(url),
        Ok(_) => Err((
            DiscoveryProblem::BadJwksUri,
            format!("jwks_uri '{shown}' is not an https URL with a host"),
            json!({"issuer": issuer, "jwks_uri": shown}),
        )),
        Err(e) => Err((
            DiscoveryProblem::BadJwksUri,
            format!("jwks_uri '{shown}' is not a valid URL ({e})"),
            json!({"issuer": issuer, "jwks_uri": shown}),
        )),
    }
}

/// Number of usable signing keys in a JWKS, or why it has none.
///
/// Usable: `kty` RSA with `n` and `e`, EC with `crv`, `x` and `y`, or OKP with `crv` and `x`; and
/// `use` absent or `sig`.
pub fn usable_signing_keys(jwks: &Value) -> Result<usize, JwksKeysError> {
    let Some(keys) = jwks.get("keys").and_then(Value::as_array) else {
        return Err(JwksKeysError::NoKeys);
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
        return Err(JwksKeysError::NoUsableKey(keys.len()));
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
        for bad in [
            "https://user:secret@a.example/id/X",
            "https://user@a.example/id/X",
            "https://a.example/id/X?",
            "https://a.example/id/X#",
            "https://a.example/id/X#frag",
        ] {
            assert!(check_issuer_url(bad).is_err(), "{bad}");
        }
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
        let (problem, why, details) = check_discovery(issuer, &slash).unwrap_err();
        assert_eq!(problem, DiscoveryProblem::IssuerMismatch);
        assert!(why.contains("https://a.example/id/X/"), "{why}");
        assert_eq!(details["served_issuer"], "https://a.example/id/X/");
        let http = json!({"issuer": issuer, "jwks_uri": "http://keys.example/k"});
        assert!(check_discovery(issuer, &http)
            .unwrap_err()
            .1
            .contains("https"));
        let missing = json!({"issuer": issuer});
        assert!(check_discovery(issuer, &missing)
            .unwrap_err()
            .1
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
            .to_string()
            .contains("2 keys present"));
    }
}
