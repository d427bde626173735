//! Trust policies (pure): one reading of the policy language, shared by the audit of roles that
//! federate to OIDC providers and by the evaluation of whether a role admits a given workload.
//!
//! # The model and the evaluator
//! A document is decoded once ([`decode_document`]: raw or percent-encoded JSON) and read into a
//! [`Policy`] of typed [`Statement`]s: effect, `Action`/`NotAction`, principals by kind, and
//! conditions whose operators are parsed ([`Operator`]). [`evaluate`] decides a [`Request`] as IAM
//! does, and keeps each statement's gaps so a message can name the nearest statement and what
//! differs:
//! - an `Allow` statement applies when its `Action` (or `NotAction`) covers the request's action
//!   (case-insensitive, `*`/`?` wildcards), its `Principal` names the caller (`Federated` provider
//!   ARN or `Service` name, string or list; `"*"` names everyone; `NotPrincipal` inverts), and
//!   every condition holds: operators and keys are ANDed, the values of one key ORed;
//! - `StringEquals`/`StringLike` are case-sensitive, `StringEqualsIgnoreCase` is not, `*`/`?` are
//!   wildcards in `StringLike` (and `ArnLike`, per ARN field) only; `ForAnyValue:`/`ForAllValues:`
//!   test any/every value of the key; `…IfExists` holds when the key is absent; negated operators
//!   (`StringNotEquals`, `StringNotLike`, …) hold when no value matches, and when the key is
//!   absent, as IAM's documentation states; `Null` tests presence; keys and operator names compare
//!   case-insensitively;
//! - a `Deny` statement that applies wins over every `Allow`.
//!
//! A condition the evaluator cannot decide **fails closed**: a key the request may carry with a
//! value unknown here (`aws:SourceIp`, `aws:SourceArn`, another claim of the same issuer), an
//! operator it does not evaluate (numeric, date, IP, binary), a policy variable (`${…}`) or a
//! malformed value list. Such a condition keeps an `Allow` statement from admitting and lets a
//! `Deny` statement apply, so the evaluator never claims access it cannot prove: a role reported
//! as admitting a workload does admit it. The price is a finding on a role whose extra condition
//! would in fact hold; its message names that condition, so a person can check it. Keys a request
//! surely lacks are not undecidable: a web-identity token carries only its own issuer's claims
//! (another issuer's `…:sub` is absent), and Pod Identity sets exactly its six session tags.
//!
//! # The audit
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
//! Every trust finding carries [`crate::report::Discriminator::Statement`] with the statement's
//! index.
//!
//! The three checks are independent: a role that trusts a deleted provider without a `sub` condition
//! gets both findings, since recreating the provider would make it assumable by anyone again.
//!
//! The audit asks what a statement's conditions *could* admit, not whether one request passes:
//! - `Deny` statements grant nothing and are not credited as restrictions: the audit looks at each
//!   `Allow` statement on its own (a Deny-based `sub` restriction is reported as missing).
//! - Conditions count when their operator is `StringEquals`, `StringEqualsIgnoreCase` or `StringLike`,
//!   with or without a `ForAnyValue:` / `ForAllValues:` prefix and an `IfExists` suffix (a web
//!   identity token always carries `sub` and `aud`, so `IfExists` still restricts). Negative operators
//!   (`StringNotEquals`, `StringNotLike`) and `Null` do not restrict to anything and do not count.
//! - A `StringLike` value made only of wildcards (`*`, `?`) matches every token, so it does not count.
//! - A document that cannot be decoded yields one INVENTORY_INCOMPLETE finding for the role rather than
//!   a silent skip: an unaudited role in a security audit should be visible.
//!
//! # Roles of the swept accounts
//! [`RoleDirectory`] holds every role of every account swept in the run, by account and role name
//! (IAM role names are unique per account; the ARN's path may differ), each policy read once.

mod audit;
mod conditions;
mod directory;
mod document;
mod evaluate;
mod request;
mod statement;
#[cfg(test)]
mod tests;

pub use audit::audit_role;
pub use directory::{parse_role_arn, DirectoryRole, RoleArn, RoleArnError, RoleDirectory};
pub use document::{
    decode_document, mentions_oidc_provider, oidc_provider_path, Role, TrustPolicyError,
    WEB_IDENTITY_ACTION,
};
pub use evaluate::{
    check_statement, evaluate, evaluate_condition, Access, Evaluation, Gap, Outcome, StatementCheck,
};
pub use request::{
    Caller, KeyState, Request, RequestContext, ASSUME_ROLE_ACTION, POD_IDENTITY_SERVICE,
    POD_IDENTITY_TAGS, TAG_SESSION_ACTION,
};
pub use statement::{
    glob_match, wildcard_match, Actions, Condition, Effect, Operator, Policy, Principals,
    SetQualifier, Statement, Test,
};
