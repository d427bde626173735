//! Role ARNs and the roles of the swept accounts, by account and role name, with each trust
//! policy read once: what the in-cluster checks look an annotated or associated role up in.

use std::collections::BTreeMap;

use super::document::{Role, TrustPolicyError};
use super::statement::Policy;

/// The parts of an IAM role ARN (`arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleArn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`…
    pub partition: &'a str,
    /// The 12-digit account id.
    pub account: &'a str,
    /// `/` or `/a/b/`.
    pub path: &'a str,
    /// The role name (unique per account, case-insensitively).
    pub name: &'a str,
}

/// Why a text is not an IAM role ARN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleArnError {
    /// Spaces, tabs or line breaks (often a YAML block scalar's trailing newline).
    #[error("it holds white space or a line break")]
    WhiteSpace,
    /// Not `arn:…` with six `:`-separated fields.
    #[error("it is not an ARN (arn:PARTITION:iam::ACCOUNT:role/NAME)")]
    NotArn,
    /// An ARN of something else (a user, an assumed-role session, a policy…).
    #[error("it names `{0}`, not an IAM role")]
    NotRole(String),
    /// The account field is not 12 digits.
    #[error("its account id `{0}` is not 12 digits")]
    Account(String),
    /// A role name outside IAM's 1–64 characters of letters, digits and `+=,.@_-`.
    #[error("its role name is not a valid IAM role name (1 to 64 letters, digits and +=,.@_-)")]
    Name,
    /// A path that is not `/` or `/…/` of printable ASCII.
    #[error("its role path is not a valid IAM path")]
    Path,
}

/// Reads an IAM role ARN strictly, as STS would.
pub fn parse_role_arn(text: &str) -> Result<RoleArn<'_>, RoleArnError> {
    if text.chars().any(char::is_whitespace) {
        return Err(RoleArnError::WhiteSpace);
    }
    let fields: Vec<&str> = text.splitn(6, ':').collect();
    let ["arn", partition, service, region, account, resource] = fields.as_slice() else {
        return Err(RoleArnError::NotArn);
    };
    let partition_ok = *partition == "aws"
        || partition.strip_prefix("aws-").is_some_and(|rest| {
            !rest.is_empty() && rest.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        });
    if !partition_ok {
        return Err(RoleArnError::NotArn);
    }
    let kind = resource.split('/').next().unwrap_or_default();
    if *service != "iam" || !region.is_empty() || kind != "role" {
        return Err(RoleArnError::NotRole(format!("{service}:{kind}")));
    }
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err(RoleArnError::Account((*account).to_string()));
    }
    let path_and_name = &resource["role".len()..];
    let Some((path, name)) = path_and_name.rsplit_once('/') else {
        return Err(RoleArnError::Name);
    };
    let name_ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if !name_ok {
        return Err(RoleArnError::Name);
    }
    let path = &path_and_name[..path.len() + 1];
    if path.len() > 512 || path.contains("//") || !path.chars().all(|c| c.is_ascii_graphic()) {
        return Err(RoleArnError::Path);
    }
    Ok(RoleArn {
        partition,
        account,
        path,
        name,
    })
}

/// A role of a swept account and its trust policy, read once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryRole {
    /// The role as the inventory listed it.
    pub role: Role,
    /// Its trust policy, or why it could not be decoded (the audit reports that).
    pub policy: Result<Policy, TrustPolicyError>,
}

/// Every role of every account swept in this run, by account and role name. An account absent
/// from the directory was not swept (or its roles could not be listed): nothing is said about its
/// roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleDirectory {
    accounts: BTreeMap<String, BTreeMap<String, DirectoryRole>>,
}

impl RoleDirectory {
    /// An empty directory.
    pub fn new() -> RoleDirectory {
        RoleDirectory::default()
    }

    /// Records every role of `account_id` (as `iam:ListRoles` returned them), replacing what the
    /// directory held for it. Roles are keyed by name, case-insensitively, as IAM keeps them
    /// unique; the ARN's path is not part of the key.
    pub fn insert_account(&mut self, account_id: &str, roles: impl IntoIterator<Item = Role>) {
        let by_name = roles
            .into_iter()
            .map(|role| {
                let name = role.arn.rsplit('/').next().unwrap_or_default();
                let key = name.to_ascii_lowercase();
                let policy = Policy::parse(&role.trust_policy);
                (key, DirectoryRole { role, policy })
            })
            .collect();
        self.accounts.insert(account_id.to_string(), by_name);
    }

    /// Whether the account's roles were listed in this run.
    pub fn has_account(&self, account_id: &str) -> bool {
        self.accounts.contains_key(account_id)
    }

    /// The role named `name` (case-insensitively) of `account_id`, if the account was swept and
    /// has it.
    pub fn find(&self, account_id: &str, name: &str) -> Option<&DirectoryRole> {
        self.accounts
            .get(account_id)?
            .get(&name.to_ascii_lowercase())
    }

    /// Every role of `account_id`, by name (none when the account was not swept).
    pub fn roles_of(&self, account_id: &str) -> impl Iterator<Item = &DirectoryRole> {
        self.accounts
            .get(account_id)
            .into_iter()
            .flat_map(|roles| roles.values())
    }
}
