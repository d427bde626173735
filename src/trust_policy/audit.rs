//! The audit of one role: every Allow statement that grants web-identity assumption to an OIDC
//! provider, checked for a missing provider and for what its `:sub`/`:aud` conditions admit.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::conditions::*;
use super::document::{decode_document, oidc_provider_path, Role};
use crate::report::{Discriminator, Finding, FindingCode};

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
