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

mod audit;
mod conditions;
mod document;
mod statement;
#[cfg(test)]
mod tests;

pub use audit::audit_role;
pub use document::{
    decode_document, mentions_oidc_provider, oidc_provider_path, Role, TrustPolicyError,
    WEB_IDENTITY_ACTION,
};
pub use statement::{
    glob_match, wildcard_match, Actions, Condition, Effect, Operator, Policy, Principals,
    SetQualifier, Statement, Test,
};
