//! Trust-policy audit of roles that federate to OIDC providers (pure).
//!
//! A role is assumable with a web identity token through every `Allow` statement of its trust policy
//! that grants `sts:AssumeRoleWithWebIdentity` to a `Principal.Federated` OIDC provider ARN. For each
//! such (statement, provider) pair the audit reports:
//! - ROLE_TRUSTS_MISSING_PROVIDER when the provider ARN is not in the account;
//! - TRUST_POLICY_NO_SUB when no positive string condition restricts `<provider path>:sub`;
//! - TRUST_POLICY_NO_AUD when none restricts `<provider path>:aud`;
//! - TRUST_POLICY_BROAD_SUB when the `:sub` condition admits workloads beyond a named one: under
//!   `StringLike`, a wildcard before the namespace's closing `:` of `system:serviceaccount:NS:SA`,
//!   before the `/` of `repo:OWNER/REPO`, inside those fixed prefixes, or a value made only of
//!   wildcards (`*` is BROAD_SUB, not NO_SUB). A list is broad if any value is;
//! - TRUST_POLICY_FOREIGN_CONDITION, instead of NO_SUB/NO_AUD, when a condition key
//!   (`HOST/PATH:sub`, `:aud`) names another issuer than the statement's provider: IAM denies every
//!   request through that statement.
//!
//! Every trust finding carries [`Discriminator::Statement`] with the statement's index.
//!
//! The three checks are independent: a role that trusts a deleted provider without a `sub` condition
//! gets both findings, since recreating the provider would make it assumable by anyone again.
//!
//! Reading of the policy language (decided here, so the checks are predictable):
//! - `Action` / `NotAction` (string or list) are matched case-insensitively with IAM's `*` and `?`
//!   wildcards, so `sts:*`, `sts:AssumeRole*` and `*` grant web-identity assumption, and so does a
//!   `NotAction` that does not exclude it.
//! - `Deny` statements grant nothing and are not credited as restrictions: the audit looks at each
//!   `Allow` statement on its own (a Deny-based `sub` restriction is reported as missing).
//! - Conditions count when their operator is `StringEquals`, `StringEqualsIgnoreCase` or `StringLike`,
//!   with or without a `ForAnyValue:` / `ForAllValues:` prefix and an `IfExists` suffix (a web
//!   identity token always carries `sub` and `aud`, so `IfExists` still restricts). Negative operators
//!   (`StringNotEquals`, `StringNotLike`) and `Null` do not restrict to anything and do not count.
//! - Condition keys and operator names compare case-insensitively, as IAM does.
//! - A `StringLike` value made only of wildcards (`*`, `?`) matches every token, so it does not count.
//! - A document that cannot be decoded yields one INVENTORY_INCOMPLETE finding for the role rather than
//!   a silent skip: an unaudited role in a security audit should be visible.

use std::collections::BTreeSet;

use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Value};

use crate::inventory::Role;
use crate::report::{Discriminator, Finding, FindingCode};

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

/// Audits one role's trust policy against the providers that exist in the account.
pub fn audit_role(role: &Role, existing_provider_arns: &BTreeSet<String>) -> Vec<Finding> {
    let document = match decode_document(&role.trust_policy) {
        Ok(document) => document,
        Err(e) => {
            tracing::warn!(role = %role.arn, error = %e, "trust policy not audited");
            return vec![Finding::new(
                FindingCode::InventoryIncomplete,
                &role.arn,
                format!(
                    "The trust policy of role {} could not be read, so it was not audited: {e}.",
                    role.arn
                ),
            )
            .with_details(json!({ "role_arn": role.arn, "error": e.to_string() }))];
        }
    };
    let statements: Vec<&Value> = match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let mut findings = Vec::new();
    for (index, statement) in statements.into_iter().enumerate() {
        if statement.get("Effect").and_then(Value::as_str) != Some("Allow")
            || !grants_web_identity(statement)
        {
            continue;
        }
        let sid = statement
            .get("Sid")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let label = match sid {
            Some(sid) => format!("statement \"{sid}\""),
            None => format!("statement #{index}"),
        };
        let conditions = statement.get("Condition").and_then(Value::as_object);
        let mut seen = BTreeSet::new();
        for provider_arn in federated_principals(statement) {
            let Some(path) = oidc_provider_path(provider_arn) else {
                continue;
            };
            if !seen.insert(provider_arn) {
                continue;
            }
            let details = |key: Option<String>| {
                let mut details = json!({
                    "provider_arn": provider_arn,
                    "statement": sid.map_or_else(|| format!("#{index}"), str::to_string),
                    "statement_index": index,
                    "sid": sid,
                });
                if let Some(key) = key {
                    details["condition_key"] = Value::String(key);
                }
                details
            };
            if !existing_provider_arns.contains(provider_arn) {
                findings.push(
                    Finding::new(
                        FindingCode::RoleTrustsMissingProvider,
                        &role.arn,
                        format!(
                            "Role {} trusts OIDC provider {provider_arn} ({label}), which does not exist in this account: \
                             AssumeRoleWithWebIdentity fails with \"No OpenIDConnect provider found in your account\". \
                             Create the provider for https://{path} or point the trust policy at an existing one.",
                            role.arn
                        ),
                    )
                    .with_discriminator(Discriminator::Statement(index))
                    .with_details(details(None)),
                );
            }
            if let Some(foreign_key) = foreign_condition_key(conditions, path) {
                findings.push(
                    Finding::new(
                        FindingCode::TrustPolicyForeignCondition,
                        &role.arn,
                        format!(
                            "Role {} trusts OIDC provider {provider_arn} ({label}) but its condition key \"{foreign_key}\" \
                             names another issuer: IAM denies every AssumeRoleWithWebIdentity through this statement. \
                             Use condition keys that start with \"{path}:\".",
                            role.arn
                        ),
                    )
                    .with_discriminator(Discriminator::Statement(index))
                    .with_details(details(Some(foreign_key))),
                );
                continue;
            }
            let sub_key = format!("{path}:sub");
            match sub_verdict(conditions, &sub_key) {
                SubVerdict::Specific => {}
                SubVerdict::Missing => findings.push(
                    Finding::new(
                        FindingCode::TrustPolicyNoSub,
                        &role.arn,
                        format!(
                            "Role {} trusts OIDC provider {provider_arn} ({label}) without a condition on \"{sub_key}\": {}. \
                             Add a StringEquals condition on \"{sub_key}\" naming the one identity that needs the role.",
                            role.arn,
                            who_could_assume(path)
                        ),
                    )
                    .with_discriminator(Discriminator::Statement(index))
                    .with_details(details(Some(sub_key))),
                ),
                SubVerdict::Broad(pattern) => {
                    let mut broad_details = details(Some(sub_key.clone()));
                    broad_details["pattern"] = Value::String(pattern.clone());
                    findings.push(
                        Finding::new(
                            FindingCode::TrustPolicyBroadSub,
                            &role.arn,
                            format!(
                                "Role {} trusts OIDC provider {provider_arn} ({label}) with \"{sub_key}\" like \"{pattern}\", \
                                 which admits more than one named workload (a wildcard in the namespace or the owner). \
                                 Name the namespace (system:serviceaccount:NS:SA) or the owner (repo:OWNER/REPO) literally.",
                                role.arn
                            ),
                        )
                        .with_discriminator(Discriminator::Statement(index))
                        .with_details(broad_details),
                    );
                }
            }
            let aud_key = format!("{path}:aud");
            if !restricts(conditions, &aud_key) {
                findings.push(
                    Finding::new(
                        FindingCode::TrustPolicyNoAud,
                        &role.arn,
                        format!(
                            "Role {} trusts OIDC provider {provider_arn} ({label}) without a condition on \"{aud_key}\": \
                             a token issued for any audience in the provider's client ID list is accepted. \
                             Add StringEquals \"{aud_key}\": \"sts.amazonaws.com\".",
                            role.arn
                        ),
                    )
                    .with_discriminator(Discriminator::Statement(index))
                    .with_details(details(Some(aud_key))),
                );
            }
        }
    }
    findings
}

/// Who could assume a role that has no `sub` condition, in the issuer's terms.
fn who_could_assume(path: &str) -> &'static str {
    if path.starts_with("oidc.eks.") {
        "any workload of the cluster (any pod, any namespace, any service account) could assume this role"
    } else if path.starts_with("token.actions.githubusercontent.com") {
        "any GitHub Actions workflow of any repository, including other people's, could assume this role"
    } else {
        "any identity this issuer issues tokens for could assume this role"
    }
}

/// The values of a string-or-list policy element; other JSON types yield nothing.
fn string_values(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// `Principal.Federated` values of a statement.
fn federated_principals(statement: &Value) -> Vec<&str> {
    string_values(
        statement
            .get("Principal")
            .and_then(Value::as_object)
            .and_then(|principal| principal.get("Federated")),
    )
}

/// Whether the statement's `Action` (or `NotAction`) allows `sts:AssumeRoleWithWebIdentity`.
fn grants_web_identity(statement: &Value) -> bool {
    let matches = |patterns: Vec<&str>| {
        patterns
            .into_iter()
            .any(|pattern| wildcard_match(pattern, WEB_IDENTITY_ACTION))
    };
    if statement.get("Action").is_some() {
        matches(string_values(statement.get("Action")))
    } else if statement.get("NotAction").is_some() {
        !matches(string_values(statement.get("NotAction")))
    } else {
        false
    }
}

/// IAM's action wildcards, case-insensitively: `*` is any run of characters, `?` one character.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let text: Vec<char> = text.to_ascii_lowercase().chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            backtrack = Some((p, t));
            p += 1;
        } else if let Some((star, matched)) = backtrack {
            p = star + 1;
            t = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// A condition operator that restricts a key to the listed values, and whether its values are
/// wildcard patterns (`StringLike`).
fn restricting_operator(operator: &str) -> Option<bool> {
    let lower = operator.to_ascii_lowercase();
    let base = lower
        .strip_prefix("foranyvalue:")
        .or_else(|| lower.strip_prefix("forallvalues:"))
        .unwrap_or(&lower);
    let base = base.strip_suffix("ifexists").unwrap_or(base);
    match base {
        "stringequals" | "stringequalsignorecase" => Some(false),
        "stringlike" => Some(true),
        _ => None,
    }
}

/// Whether some condition of the statement restricts `key` to something narrower than "anything".
///
/// IAM ANDs the operators of a statement's `Condition` but ORs the values listed for one key in
/// one operator block: a block restricts the key only when every one of its values does. A
/// `StringLike` value made of wildcards alone (`*`, `?`) matches every token, so a single such
/// value opens the key (`["*", "system:serviceaccount:ns:sa"]` admits any workload). Under
/// `StringEquals` the same `*` is a literal and restricts.
fn restricts(conditions: Option<&Map<String, Value>>, key: &str) -> bool {
    let Some(conditions) = conditions else {
        return false;
    };
    conditions.iter().any(|(operator, block)| {
        let Some(is_pattern) = restricting_operator(operator) else {
            return false;
        };
        let Some(block) = block.as_object() else {
            return false;
        };
        block
            .iter()
            .filter(|(condition_key, _)| condition_key.eq_ignore_ascii_case(key))
            .any(|(_, values)| {
                let values: Vec<&Value> = match values {
                    Value::Array(list) => list.iter().collect(),
                    one => vec![one],
                };
                !values.is_empty()
                    && values.into_iter().all(|value| match value {
                        Value::String(s) => {
                            !(is_pattern && s.chars().all(|c| c == '*' || c == '?'))
                        }
                        Value::Null | Value::Array(_) | Value::Object(_) => false,
                        Value::Bool(_) | Value::Number(_) => true,
                    })
            })
    })
}

/// What the `:sub` conditions of a statement admit.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SubVerdict {
    /// No positive condition restricts the key.
    Missing,
    /// The only restricting conditions admit workloads beyond a named one (the broad pattern).
    Broad(String),
    /// Some condition restricts the key to named workloads.
    Specific,
}

/// Judges the `:sub` key: one specific block suffices (IAM ANDs blocks); otherwise a block whose
/// values include a broad `StringLike` pattern makes the key broad.
fn sub_verdict(conditions: Option<&Map<String, Value>>, key: &str) -> SubVerdict {
    let mut broad = None;
    for (is_pattern, values) in restricting_blocks(conditions, key) {
        let Some(values) = values else { continue };
        match values
            .iter()
            .find(|value| is_pattern && is_broad_sub_pattern(value))
        {
            Some(pattern) => {
                broad.get_or_insert_with(|| (*pattern).to_string());
            }
            None => return SubVerdict::Specific,
        }
    }
    broad.map_or(SubVerdict::Missing, SubVerdict::Broad)
}

/// The value blocks of restricting operators for `key`: (is a `StringLike` pattern, the values as
/// text, or `None` when the block cannot restrict: empty, null or nested values).
fn restricting_blocks<'a>(
    conditions: Option<&'a Map<String, Value>>,
    key: &'a str,
) -> impl Iterator<Item = (bool, Option<Vec<String>>)> + 'a {
    conditions
        .into_iter()
        .flat_map(|conditions| conditions.iter())
        .filter_map(|(operator, block)| Some((restricting_operator(operator)?, block.as_object()?)))
        .flat_map(move |(is_pattern, block)| {
            block
                .iter()
                .filter(move |(condition_key, _)| condition_key.eq_ignore_ascii_case(key))
                .map(move |(_, values)| {
                    let list: Vec<&Value> = match values {
                        Value::Array(list) => list.iter().collect(),
                        one => vec![one],
                    };
                    let texts: Option<Vec<String>> = list
                        .into_iter()
                        .map(|value| match value {
                            Value::String(s) => Some(s.clone()),
                            Value::Bool(b) => Some(b.to_string()),
                            Value::Number(n) => Some(n.to_string()),
                            Value::Null | Value::Array(_) | Value::Object(_) => None,
                        })
                        .collect();
                    (is_pattern, texts.filter(|texts| !texts.is_empty()))
                })
        })
}

/// Whether a `StringLike` `:sub` value admits workloads beyond a named one (DESIGN's BROAD_SUB rule).
fn is_broad_sub_pattern(value: &str) -> bool {
    let is_wildcard = |c: char| c == '*' || c == '?';
    if !value.contains(is_wildcard) {
        return false;
    }
    if value.chars().all(is_wildcard) {
        return true;
    }
    for (prefix, separator) in [("system:serviceaccount:", ':'), ("repo:", '/')] {
        if let Some(rest) = value.strip_prefix(prefix) {
            let named = rest.split(separator).next().unwrap_or(rest);
            return named.contains(is_wildcard) || !rest.contains(separator);
        }
        // A wildcard inside the fixed prefix itself (`system:service*`, `rep*`) spans the namespace.
        let head = &value[..value.find(is_wildcard).unwrap_or(value.len())];
        if prefix.starts_with(head) && !head.is_empty() {
            return true;
        }
    }
    false
}

/// A condition key of a restricting operator that names another issuer's `:sub` or `:aud` than
/// `path` (case-insensitively): such a key is absent from the token, so IAM denies the request.
fn foreign_condition_key(conditions: Option<&Map<String, Value>>, path: &str) -> Option<String> {
    conditions?
        .iter()
        .filter(|(operator, _)| restricting_operator(operator).is_some())
        .filter_map(|(_, block)| block.as_object())
        .flat_map(|block| block.keys())
        .find(|key| {
            let lower = key.to_ascii_lowercase();
            let issuer = lower
                .strip_suffix(":sub")
                .or_else(|| lower.strip_suffix(":aud"));
            issuer.is_some_and(|issuer| {
                (issuer.contains('.') || issuer.contains('/')) && !issuer.eq_ignore_ascii_case(path)
            })
        })
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

    const ACCOUNT: &str = "111122223333";
    const EKS_PATH: &str = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
    const GITHUB_PATH: &str = "token.actions.githubusercontent.com";

    fn provider_arn(path: &str) -> String {
        format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{path}")
    }

    fn role(document: &str) -> Role {
        Role {
            arn: format!("arn:aws:iam::{ACCOUNT}:role/test-role"),
            trust_policy: document.to_string(),
        }
    }

    fn existing(paths: &[&str]) -> BTreeSet<String> {
        paths.iter().map(|p| provider_arn(p)).collect()
    }

    fn codes(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|f| f.code.as_str()).collect()
    }

    /// The trust policy AWS documents for IRSA (EKS user guide, "Assign IAM roles to service accounts").
    fn irsa_document() -> String {
        format!(
            r#"{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Effect": "Allow",
      "Principal": {{
        "Federated": "arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"
      }},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {{
        "StringEquals": {{
          "{EKS_PATH}:sub": "system:serviceaccount:default:my-service-account",
          "{EKS_PATH}:aud": "sts.amazonaws.com"
        }}
      }}
    }}
  ]
}}"#
        )
    }

    #[test]
    fn eks_irsa_document_is_clean() {
        let findings = audit_role(&role(&irsa_document()), &existing(&[EKS_PATH]));
        assert!(findings.is_empty(), "{findings:#?}");
    }

    #[test]
    fn percent_encoded_document_is_decoded_like_real_iam_returns_it() {
        let encoded = utf8_percent_encode(&irsa_document(), NON_ALPHANUMERIC).to_string();
        assert!(
            encoded.starts_with("%7B%0A%20%20%22Version%22"),
            "{encoded}"
        );
        assert_eq!(
            decode_document(&encoded).unwrap(),
            decode_document(&irsa_document()).unwrap()
        );
        assert!(mentions_oidc_provider(&encoded));
        assert!(audit_role(&role(&encoded), &existing(&[EKS_PATH])).is_empty());

        // The same document without its sub condition, encoded: the finding survives encoding.
        let no_sub = irsa_document().replace(
            &format!("\"{EKS_PATH}:sub\": \"system:serviceaccount:default:my-service-account\",\n"),
            "",
        );
        let encoded = utf8_percent_encode(&no_sub, NON_ALPHANUMERIC).to_string();
        let findings = audit_role(&role(&encoded), &existing(&[EKS_PATH]));
        assert_eq!(codes(&findings), ["TRUST_POLICY_NO_SUB"]);
    }

    #[test]
    fn form_encoded_spaces_are_decoded() {
        let document = r#"{"Version": "2012-10-17", "Statement": []}"#;
        let encoded = utf8_percent_encode(document, NON_ALPHANUMERIC)
            .to_string()
            .replace("%20", "+");
        assert_eq!(
            decode_document(&encoded).unwrap(),
            decode_document(document).unwrap()
        );
    }

    #[test]
    fn github_actions_with_repo_pattern_is_clean() {
        // GitHub's documented trust policy for "Configuring OpenID Connect in Amazon Web Services".
        let document = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{
              "StringEquals":{{"{GITHUB_PATH}:aud":"sts.amazonaws.com"}},
              "StringLike":{{"{GITHUB_PATH}:sub":"repo:octo-org/*"}}}}}}]}}"#
        );
        assert!(audit_role(&role(&document), &existing(&[GITHUB_PATH])).is_empty());
    }

    #[test]
    fn github_actions_without_sub_names_the_risk() {
        let document = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Sid":"GitHubDeploy","Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{"StringEquals":{{"{GITHUB_PATH}:aud":"sts.amazonaws.com"}}}}}}}}"#
        );
        let findings = audit_role(&role(&document), &existing(&[GITHUB_PATH]));
        assert_eq!(codes(&findings), ["TRUST_POLICY_NO_SUB"]);
        let finding = &findings[0];
        assert_eq!(finding.severity, crate::report::Severity::Critical);
        assert_eq!(
            finding.resource,
            format!("arn:aws:iam::{ACCOUNT}:role/test-role")
        );
        assert!(
            finding.message.contains("\"GitHubDeploy\""),
            "{}",
            finding.message
        );
        assert!(
            finding.message.contains("any repository"),
            "{}",
            finding.message
        );
        assert_eq!(finding.details["provider_arn"], provider_arn(GITHUB_PATH));
        assert_eq!(finding.details["statement"], "GitHubDeploy");
        assert_eq!(
            finding.details["condition_key"],
            format!("{GITHUB_PATH}:sub")
        );
    }

    #[test]
    fn missing_provider_and_missing_conditions_are_all_reported() {
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity"}}]}}"#
        );
        let findings = audit_role(&role(&document), &existing(&[GITHUB_PATH]));
        assert_eq!(
            codes(&findings),
            [
                "ROLE_TRUSTS_MISSING_PROVIDER",
                "TRUST_POLICY_NO_SUB",
                "TRUST_POLICY_NO_AUD"
            ]
        );
        assert!(
            findings[0].message.contains("statement #0"),
            "{}",
            findings[0].message
        );
        assert!(findings[1].message.contains("any workload of the cluster"));
        assert_eq!(findings[0].details["statement"], "#0");
        assert_eq!(findings[2].severity, crate::report::Severity::Warning);
    }

    #[test]
    fn principal_list_and_action_list_check_each_provider() {
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":["arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}",
                                       "arn:aws:iam::{ACCOUNT}:saml-provider/corp",
                                       "cognito-identity.amazonaws.com"]}},
            "Action":["sts:TagSession","sts:AssumeRoleWithWebIdentity"],
            "Condition":{{"StringEquals":{{"{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
        );
        let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
        assert_eq!(codes(&findings), ["TRUST_POLICY_NO_SUB"]);
        assert_eq!(findings[0].details["provider_arn"], provider_arn(EKS_PATH));
    }

    #[test]
    fn bare_wildcard_sub_is_broad_sub() {
        for sub in [r#""*""#, r#"["*"]"#, r#"["*", "**"]"#] {
            let document = format!(
                r#"{{"Statement":[{{"Effect":"Allow",
                "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
                "Action":"sts:AssumeRoleWithWebIdentity",
                "Condition":{{"StringLike":{{"{EKS_PATH}:sub":{sub},"{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
            );
            let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
            assert_eq!(codes(&findings), ["TRUST_POLICY_BROAD_SUB"], "sub = {sub}");
        }
    }

    #[test]
    fn service_account_pattern_in_string_like_restricts() {
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{"StringLike":{{"{EKS_PATH}:sub":["system:serviceaccount:app:api","system:serviceaccount:kube-system:*"]}},
                          "StringEquals":{{"{EKS_PATH}:aud":["sts.amazonaws.com"]}}}}}}]}}"#
        );
        assert!(audit_role(&role(&document), &existing(&[EKS_PATH])).is_empty());
    }

    /// IAM ORs the values of one key: a wildcard-only value beside a narrow one still matches
    /// every token, so the key is open.
    #[test]
    fn wildcard_value_in_a_mixed_string_like_list_opens_the_key() {
        for operator in ["StringLike", "ForAnyValue:StringLike", "StringLikeIfExists"] {
            let document = format!(
                r#"{{"Statement":[{{"Effect":"Allow",
                "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
                "Action":"sts:AssumeRoleWithWebIdentity",
                "Condition":{{"{operator}":{{"{EKS_PATH}:sub":["*","system:serviceaccount:ns:sa"],
                                            "{EKS_PATH}:aud":["sts.amazonaws.com","?*"]}}}}}}]}}"#
            );
            let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
            assert_eq!(
                codes(&findings),
                ["TRUST_POLICY_BROAD_SUB", "TRUST_POLICY_NO_AUD"],
                "operator {operator}"
            );
        }

        // Another operator on the same key still narrows it: operators are ANDed.
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{"StringLike":{{"{EKS_PATH}:sub":["*","system:serviceaccount:ns:sa"],
                                         "{EKS_PATH}:aud":["*","sts.amazonaws.com"]}},
                          "StringEquals":{{"{EKS_PATH}:sub":"system:serviceaccount:ns:sa",
                                           "{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
        );
        assert!(audit_role(&role(&document), &existing(&[EKS_PATH])).is_empty());
    }

    /// Under StringEquals `*` is a literal: a mixed list restricts (only the literal `*` or the
    /// named account matches).
    #[test]
    fn wildcard_literal_in_a_string_equals_list_restricts() {
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{"StringEquals":{{"{EKS_PATH}:sub":["*","system:serviceaccount:ns:sa"],
                                           "{EKS_PATH}:aud":["*","sts.amazonaws.com"]}}}}}}]}}"#
        );
        assert!(audit_role(&role(&document), &existing(&[EKS_PATH])).is_empty());
    }

    #[test]
    fn empty_or_null_value_lists_do_not_restrict() {
        for sub in ["[]", "null", r#"["system:serviceaccount:ns:sa", null]"#] {
            let document = format!(
                r#"{{"Statement":[{{"Effect":"Allow",
                "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
                "Action":"sts:AssumeRoleWithWebIdentity",
                "Condition":{{"StringEquals":{{"{EKS_PATH}:sub":{sub},"{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
            );
            let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
            assert_eq!(codes(&findings), ["TRUST_POLICY_NO_SUB"], "sub = {sub}");
        }
    }

    #[test]
    fn set_operators_and_if_exists_count_keys_compare_case_insensitively() {
        let upper_path = EKS_PATH.to_uppercase();
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{"ForAnyValue:StringLike":{{"{upper_path}:SUB":"system:serviceaccount:app:*"}},
                          "stringequalsifexists":{{"{EKS_PATH}:Aud":"sts.amazonaws.com"}}}}}}]}}"#
        );
        assert!(audit_role(&role(&document), &existing(&[EKS_PATH])).is_empty());
    }

    #[test]
    fn string_equals_if_exists_on_sub_restricts() {
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{"StringEqualsIfExists":{{"{EKS_PATH}:sub":"system:serviceaccount:app:api"}},
                          "ForAllValues:StringEquals":{{"{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
        );
        assert!(audit_role(&role(&document), &existing(&[EKS_PATH])).is_empty());
    }

    #[test]
    fn negative_operators_do_not_restrict() {
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{"StringNotEquals":{{"{EKS_PATH}:sub":"system:serviceaccount:default:default"}},
                          "Null":{{"{EKS_PATH}:aud":"false"}}}}}}]}}"#
        );
        let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
        assert_eq!(
            codes(&findings),
            ["TRUST_POLICY_NO_SUB", "TRUST_POLICY_NO_AUD"]
        );
    }

    #[test]
    fn deny_statements_are_not_grants() {
        let document = format!(
            r#"{{"Statement":[{{"Sid":"NoOne","Effect":"Deny",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity"}}]}}"#
        );
        assert!(audit_role(&role(&document), &existing(&[])).is_empty());
    }

    #[test]
    fn wildcard_actions_and_not_action_grant_web_identity() {
        for action in [
            r#""Action":"sts:*""#,
            r#""Action":"*""#,
            r#""Action":"STS:AssumeRole*""#,
            r#""Action":"sts:AssumeRoleWith?ebIdentity""#,
            r#""NotAction":"sts:AssumeRole""#,
        ] {
            let document = format!(
                r#"{{"Statement":[{{"Effect":"Allow",
                "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
                {action},
                "Condition":{{"StringEquals":{{"{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
            );
            let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
            assert_eq!(codes(&findings), ["TRUST_POLICY_NO_SUB"], "{action}");
        }
        for action in [
            r#""Action":"sts:AssumeRole""#,
            r#""Action":["sts:TagSession"]"#,
            r#""NotAction":"sts:*""#,
        ] {
            let document = format!(
                r#"{{"Statement":[{{"Effect":"Allow",
                "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
                {action}}}]}}"#
            );
            assert!(
                audit_role(&role(&document), &existing(&[])).is_empty(),
                "{action}"
            );
        }
    }

    #[test]
    fn other_principals_are_ignored() {
        let document = r#"{"Statement":[
            {"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},
            {"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},
             "Action":"sts:AssumeRoleWithWebIdentity"},
            {"Effect":"Allow","Principal":"*","Action":"sts:AssumeRoleWithWebIdentity"}]}"#;
        assert!(audit_role(&role(document), &existing(&[])).is_empty());
        assert!(!mentions_oidc_provider(document));
    }

    #[test]
    fn each_statement_is_judged_alone() {
        let document = format!(
            r#"{{"Statement":[
            {{"Sid":"Good","Effect":"Allow",
              "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
              "Action":"sts:AssumeRoleWithWebIdentity",
              "Condition":{{"StringEquals":{{"{EKS_PATH}:sub":"system:serviceaccount:a:b","{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}},
            {{"Sid":"Loose","Effect":"Allow",
              "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
              "Action":"sts:AssumeRoleWithWebIdentity",
              "Condition":{{"StringEquals":{{"{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
        );
        let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
        assert_eq!(codes(&findings), ["TRUST_POLICY_NO_SUB"]);
        assert_eq!(findings[0].details["statement"], "Loose");
        assert_eq!(findings[0].details["statement_index"], 1);
    }

    #[test]
    fn condition_of_another_provider_is_foreign_condition() {
        let other = "oidc.eks.eu-west-1.amazonaws.com/id/OTHER";
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{"StringEquals":{{"{other}:sub":"system:serviceaccount:a:b","{other}:aud":"sts.amazonaws.com"}}}}}}]}}"#
        );
        let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
        assert_eq!(codes(&findings), ["TRUST_POLICY_FOREIGN_CONDITION"]);
        assert_eq!(findings[0].discriminator, Discriminator::Statement(0));
    }

    fn sub_document(operator: &str, sub: &str) -> String {
        format!(
            r#"{{"Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{"{operator}":{{"{GITHUB_PATH}:sub":{sub}}},
                          "StringEquals":{{"{GITHUB_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
        )
    }

    #[test]
    fn broad_sub_examples_from_design() {
        for value in [
            "repo:*",
            "repo:myOrg*",
            "system:serviceaccount:*",
            "system:serviceaccount:*:*",
            "system:serviceaccount:prod*:app",
            "*",
            "?*",
        ] {
            let document = sub_document("StringLike", &format!("\"{value}\""));
            let findings = audit_role(&role(&document), &existing(&[GITHUB_PATH]));
            assert_eq!(codes(&findings), ["TRUST_POLICY_BROAD_SUB"], "{value}");
            assert_eq!(findings[0].severity, crate::report::Severity::Critical);
            assert_eq!(findings[0].details["pattern"], value);
            assert_eq!(findings[0].details["statement_index"], 0);
        }
    }

    #[test]
    fn specific_sub_values_are_clean() {
        for value in [
            "system:serviceaccount:ns:*",
            "system:serviceaccount:ns:app",
            "repo:org/*",
            "repo:org/repo:ref:refs/heads/main",
        ] {
            let document = sub_document("StringLike", &format!("\"{value}\""));
            let findings = audit_role(&role(&document), &existing(&[GITHUB_PATH]));
            assert!(findings.is_empty(), "{value}: {findings:#?}");
        }
        for value in ["repo:*", "*", "system:serviceaccount:*:*"] {
            // (the aud condition already holds the plain StringEquals block)
            let document = sub_document("StringEqualsIfExists", &format!("\"{value}\""));
            let findings = audit_role(&role(&document), &existing(&[GITHUB_PATH]));
            assert!(findings.is_empty(), "StringEquals {value}: {findings:#?}");
        }
    }

    #[test]
    fn a_list_is_broad_if_any_value_is() {
        let document = sub_document("StringLike", r#"["repo:org/app:*","repo:org*"]"#);
        let findings = audit_role(&role(&document), &existing(&[GITHUB_PATH]));
        assert_eq!(codes(&findings), ["TRUST_POLICY_BROAD_SUB"]);
        assert_eq!(findings[0].details["pattern"], "repo:org*");
    }

    #[test]
    fn foreign_condition_with_mixed_and_case_insensitive_keys() {
        let other = "oidc.eks.eu-west-1.amazonaws.com/id/OTHER";
        let own_upper = EKS_PATH.to_ascii_uppercase();
        // Own keys spelt in another case are not foreign.
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{"StringEquals":{{"{own_upper}:SUB":"system:serviceaccount:a:b","{own_upper}:Aud":"sts.amazonaws.com"}}}}}}]}}"#
        );
        assert!(audit_role(&role(&document), &existing(&[EKS_PATH])).is_empty());
        // Own sub beside a foreign aud (any case): the statement is unusable.
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Sid":"ci",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity"}},
            {{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{"StringEquals":{{"{EKS_PATH}:sub":"system:serviceaccount:a:b","{}:AUD":"sts.amazonaws.com"}}}}}}]}}"#,
            other.to_ascii_uppercase()
        );
        let findings = audit_role(&role(&document), &existing(&[EKS_PATH]));
        assert_eq!(
            codes(&findings),
            [
                "TRUST_POLICY_NO_SUB",
                "TRUST_POLICY_NO_AUD",
                "TRUST_POLICY_FOREIGN_CONDITION"
            ]
        );
        assert_eq!(findings[0].discriminator, Discriminator::Statement(0));
        assert_eq!(findings[2].discriminator, Discriminator::Statement(1));
        // Global keys (aws:, sts:) are not issuer keys.
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_PATH}"}},
            "Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{"StringEquals":{{"aws:sub":"x","{EKS_PATH}:sub":"system:serviceaccount:a:b","{EKS_PATH}:aud":"sts.amazonaws.com"}}}}}}]}}"#
        );
        assert!(audit_role(&role(&document), &existing(&[EKS_PATH])).is_empty());
    }

    #[test]
    fn undecodable_document_is_reported_not_skipped() {
        let findings = audit_role(&role("%7B%22Statement oidc-provider/"), &existing(&[]));
        assert_eq!(codes(&findings), ["INVENTORY_INCOMPLETE"]);
        assert!(mentions_oidc_provider("%7B%22Statement oidc-provider/"));
        assert!(decode_document("[1,2]").is_err());
    }

    #[test]
    fn provider_paths_come_from_oidc_provider_arns_only() {
        assert_eq!(oidc_provider_path(&provider_arn(EKS_PATH)), Some(EKS_PATH));
        assert_eq!(
            oidc_provider_path("arn:aws-cn:iam::123456789012:oidc-provider/127.0.0.1:8443/id/X"),
            Some("127.0.0.1:8443/id/X")
        );
        assert_eq!(
            oidc_provider_path("arn:aws:iam::123456789012:saml-provider/corp"),
            None
        );
        assert_eq!(
            oidc_provider_path("arn:aws:iam::123456789012:oidc-provider/"),
            None
        );
        assert_eq!(oidc_provider_path("accounts.google.com"), None);
    }

    #[test]
    fn wildcards_match_like_iam() {
        assert!(wildcard_match("*", "sts:AssumeRoleWithWebIdentity"));
        assert!(wildcard_match("sts:*Web*", "sts:AssumeRoleWithWebIdentity"));
        assert!(!wildcard_match(
            "sts:AssumeRole",
            "sts:AssumeRoleWithWebIdentity"
        ));
        assert!(!wildcard_match("iam:*", "sts:AssumeRoleWithWebIdentity"));
        assert!(wildcard_match("a*b*c", "aXbYbZc"));
    }
}
