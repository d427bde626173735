//! The audit of one role: every Allow statement that grants web-identity assumption to an OIDC
//! provider, checked for a missing provider and for what its `:sub`/`:aud` conditions admit.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::conditions::{foreign_condition_key, restricts, sub_verdict, SubVerdict};
use super::document::{oidc_provider_path, Role, TrustPolicyError, WEB_IDENTITY_ACTION};
use super::statement::{Effect, Policy, Statement};
use crate::report::{Discriminator, Finding, FindingCode};

/// Audits one role's trust policy against the providers that exist in the account.
pub fn audit_role(role: &Role, existing_provider_arns: &BTreeSet<String>) -> Vec<Finding> {
    match Policy::parse(&role.trust_policy) {
        Ok(policy) => audit_policy(&role.arn, &policy, existing_provider_arns),
        Err(e) => {
            tracing::warn!(role = %role.arn, error = %e, "trust policy not audited");
            vec![unreadable(&role.arn, &e)]
        }
    }
}

/// INVENTORY_INCOMPLETE for a role whose trust policy cannot be decoded.
fn unreadable(role_arn: &str, error: &TrustPolicyError) -> Finding {
    Finding::new(
        FindingCode::InventoryIncomplete,
        role_arn,
        format!("The trust policy of role {role_arn} could not be read, so it was not audited: {error}."),
    )
    .with_details(json!({ "role_arn": role_arn, "error": error.to_string() }))
}

/// The audit of a decoded policy: each (Allow statement, OIDC provider) pair that grants
/// web-identity assumption, once per distinct provider of a statement.
fn audit_policy(role_arn: &str, policy: &Policy, existing: &BTreeSet<String>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for statement in &policy.statements {
        if statement.effect != Effect::Allow
            || statement.principals.negated
            || !statement.actions.cover(WEB_IDENTITY_ACTION)
        {
            continue;
        }
        let mut seen = BTreeSet::new();
        for provider_arn in &statement.principals.federated {
            let Some(path) = oidc_provider_path(provider_arn) else {
                continue;
            };
            if seen.insert(provider_arn.as_str()) {
                let grant = Grant {
                    role_arn,
                    statement,
                    provider_arn,
                    path,
                };
                findings.extend(grant.findings(existing));
            }
        }
    }
    findings
}

/// One statement's grant of web-identity assumption to one OIDC provider.
struct Grant<'a> {
    role_arn: &'a str,
    statement: &'a Statement,
    provider_arn: &'a str,
    path: &'a str,
}

impl Grant<'_> {
    /// Missing provider, then either a foreign condition key or the `:sub`/`:aud` checks.
    fn findings(&self, existing: &BTreeSet<String>) -> Vec<Finding> {
        let mut findings = Vec::new();
        if !existing.contains(self.provider_arn) {
            findings.push(self.missing_provider());
        }
        if let Some(foreign_key) = foreign_condition_key(&self.statement.conditions, self.path) {
            findings.push(self.foreign_condition(foreign_key));
            return findings;
        }
        findings.extend(self.sub_finding());
        findings.extend(self.aud_finding());
        findings
    }

    /// `Role R trusts OIDC provider P (statement "S")`: how every message starts.
    fn subject(&self) -> String {
        format!(
            "Role {} trusts OIDC provider {} ({})",
            self.role_arn,
            self.provider_arn,
            self.statement.label()
        )
    }

    /// A finding of this grant: the statement's index is its discriminator; details name the
    /// provider, the statement and, when given, the condition key.
    fn finding(&self, code: FindingCode, message: String, key: Option<String>) -> Finding {
        let index = self.statement.index;
        let sid = self.statement.sid.as_deref();
        let mut details = json!({
            "provider_arn": self.provider_arn,
            "statement": sid.map_or_else(|| format!("#{index}"), str::to_string),
            "statement_index": index,
            "sid": sid,
        });
        if let Some(key) = key {
            details["condition_key"] = Value::String(key);
        }
        Finding::new(code, self.role_arn, message)
            .with_discriminator(Discriminator::Statement(index))
            .with_details(details)
    }

    fn missing_provider(&self) -> Finding {
        self.finding(
            FindingCode::RoleTrustsMissingProvider,
            format!(
                "{}, which does not exist in this account: AssumeRoleWithWebIdentity fails with \"No OpenIDConnect \
                 provider found in your account\". Create the provider for https://{} or point the trust policy at an \
                 existing one.",
                self.subject(),
                self.path
            ),
            None,
        )
    }

    fn foreign_condition(&self, foreign_key: String) -> Finding {
        self.finding(
            FindingCode::TrustPolicyForeignCondition,
            format!(
                "{} but its condition key \"{foreign_key}\" names another issuer: IAM denies every \
                 AssumeRoleWithWebIdentity through this statement. Use condition keys that start with \"{}:\".",
                self.subject(),
                self.path
            ),
            Some(foreign_key),
        )
    }

    fn sub_finding(&self) -> Option<Finding> {
        let sub_key = format!("{}:sub", self.path);
        match sub_verdict(&self.statement.conditions, &sub_key) {
            SubVerdict::Specific => None,
            SubVerdict::Missing => Some(self.finding(
                FindingCode::TrustPolicyNoSub,
                format!(
                    "{} without a condition on \"{sub_key}\": {}. Add a StringEquals condition on \"{sub_key}\" naming \
                     the one identity that needs the role.",
                    self.subject(),
                    who_could_assume(self.path)
                ),
                Some(sub_key),
            )),
            SubVerdict::Broad(pattern) => {
                let mut finding = self.finding(
                    FindingCode::TrustPolicyBroadSub,
                    format!(
                        "{} with \"{sub_key}\" like \"{pattern}\", which admits more than one named workload (a wildcard \
                         in the namespace or the owner). Name the namespace (system:serviceaccount:NS:SA) or the owner \
                         (repo:OWNER/REPO) literally.",
                        self.subject()
                    ),
                    Some(sub_key),
                );
                finding.details["pattern"] = Value::String(pattern);
                Some(finding)
            }
        }
    }

    fn aud_finding(&self) -> Option<Finding> {
        let aud_key = format!("{}:aud", self.path);
        (!restricts(&self.statement.conditions, &aud_key)).then(|| {
            self.finding(
                FindingCode::TrustPolicyNoAud,
                format!(
                    "{} without a condition on \"{aud_key}\": a token issued for any audience in the provider's client \
                     ID list is accepted. Add StringEquals \"{aud_key}\": \"sts.amazonaws.com\".",
                    self.subject()
                ),
                Some(aud_key),
            )
        })
    }
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
