//! Trust documents as IAM returns them: decoding, the OIDC prefilter, provider paths.

use percent_encoding::percent_decode_str;
use serde_json::Value;

/// The STS action that web-identity federation (IRSA, GitHub Actions…) needs.
pub const WEB_IDENTITY_ACTION: &str = "sts:AssumeRoleWithWebIdentity";

/// Why a trust policy document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustPolicyError {
    /// Neither the raw text nor its percent-decoded form is a JSON object.
    #[error("the trust policy is neither JSON nor percent-encoded JSON: {0}")]
    Undecodable(String),
}

/// Decodes a trust policy as IAM returns it: raw JSON (moto) or percent-encoded JSON (real IAM).
pub fn decode_document(raw: &str) -> Result<Value, TrustPolicyError> {
    let as_object = |text: &str| match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err("the document is not a JSON object".to_string()),
        Err(e) => Err(e.to_string()),
    };
    let raw_error = match as_object(raw.trim()) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    let decoded = percent_decode_str(raw.trim()).decode_utf8().map_err(|e| {
        TrustPolicyError::Undecodable(format!("percent-decoded text is not UTF-8: {e}"))
    })?;
    match as_object(&decoded) {
        Ok(value) => Ok(value),
        // Form-style encoding writes spaces as '+'; a JSON '+' outside strings is never valid.
        Err(_) if raw.contains('+') => {
            let spaced = raw.trim().replace('+', " ");
            let decoded = percent_decode_str(&spaced)
                .decode_utf8()
                .map_err(|e| TrustPolicyError::Undecodable(e.to_string()))?;
            as_object(&decoded).map_err(|_| TrustPolicyError::Undecodable(raw_error))
        }
        Err(_) => Err(TrustPolicyError::Undecodable(raw_error)),
    }
}

/// Whether the trust policy mentions an `oidc-provider/` ARN (after decoding): the roles worth auditing.
/// An undecodable document that mentions one is kept, so the audit can report it.
pub fn mentions_oidc_provider(raw: &str) -> bool {
    match decode_document(raw) {
        Ok(document) => document.to_string().contains(":oidc-provider/"),
        Err(_) => raw.contains("oidc-provider"),
    }
}

/// The provider path of an OIDC provider ARN (`arn:PARTITION:iam::ACCOUNT:oidc-provider/PATH`): the
/// prefix of its condition keys. `None` for any other principal (SAML, Cognito, accounts.google.com).
pub fn oidc_provider_path(principal: &str) -> Option<&str> {
    let mut parts = principal.splitn(6, ':');
    let (arn, _partition, service, region, _account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if arn != "arn" || service != "iam" || !region.is_empty() {
        return None;
    }
    resource
        .strip_prefix("oidc-provider/")
        .filter(|path| !path.is_empty())
}

/// One IAM role and its trust policy, as the inventory hands it to the audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Role ARN.
    pub arn: String,
    /// The trust policy as IAM returned it (percent-encoded from real IAM, raw JSON from moto).
    pub trust_policy: String,
}
