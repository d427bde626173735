//! The audit's reading of conditions: whether a key is restricted, how broadly `:sub` is, and
//! condition keys that name another issuer. Reads the typed [`Condition`]s of [`super::statement`].

use super::statement::Condition;

/// The restricting conditions (positive string operators) on `key`, compared case-insensitively.
fn restricting<'a>(
    conditions: &'a [Condition],
    key: &'a str,
) -> impl Iterator<Item = (bool, &'a Condition)> + 'a {
    conditions.iter().filter_map(move |condition| {
        let is_pattern = condition.operator.restricting()?;
        condition
            .key
            .eq_ignore_ascii_case(key)
            .then_some((is_pattern, condition))
    })
}

/// Whether some condition of the statement restricts `key` to something narrower than "anything".
///
/// IAM ANDs the operators of a statement's `Condition` but ORs the values listed for one key in
/// one operator block: a block restricts the key only when every one of its values does. A
/// `StringLike` value made of wildcards alone (`*`, `?`) matches every token, so a single such
/// value opens the key (`["*", "system:serviceaccount:ns:sa"]` admits any workload). Under
/// `StringEquals` the same `*` is a literal and restricts. An empty list or one holding `null`
/// or nested values restricts nothing.
pub(super) fn restricts(conditions: &[Condition], key: &str) -> bool {
    restricting(conditions, key).any(|(is_pattern, condition)| {
        !condition.malformed
            && condition
                .values
                .iter()
                .all(|value| !(is_pattern && value.chars().all(|c| c == '*' || c == '?')))
    })
}

/// What the `:sub` conditions of a statement admit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SubVerdict {
    /// No positive condition restricts the key.
    Missing,
    /// The only restricting conditions admit workloads beyond a named one (the broad pattern).
    Broad(String),
    /// Some condition restricts the key to named workloads.
    Specific,
}

/// Judges the `:sub` key: one specific block suffices (IAM ANDs blocks); otherwise a block whose
/// values include a broad `StringLike` pattern makes the key broad.
pub(super) fn sub_verdict(conditions: &[Condition], key: &str) -> SubVerdict {
    let mut broad = None;
    for (is_pattern, condition) in restricting(conditions, key) {
        if condition.malformed {
            continue;
        }
        match condition
            .values
            .iter()
            .find(|value| is_pattern && is_broad_sub_pattern(value))
        {
            Some(pattern) => {
                broad.get_or_insert_with(|| pattern.clone());
            }
            None => return SubVerdict::Specific,
        }
    }
    broad.map_or(SubVerdict::Missing, SubVerdict::Broad)
}

/// Whether a `StringLike` `:sub` value admits workloads beyond a named one (DESIGN's BROAD_SUB rule).
pub(super) fn is_broad_sub_pattern(value: &str) -> bool {
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

/// The issuer a condition key belongs to (`HOST/PATH` of `HOST/PATH:claim`), for keys that look
/// like an OIDC issuer's (a `.` or `/` before the claim); `None` for global keys (`aws:`, `sts:`).
pub(super) fn issuer_of_key(key: &str) -> Option<&str> {
    let (issuer, claim) = key.rsplit_once(':')?;
    (!claim.is_empty() && (issuer.contains('.') || issuer.contains('/'))).then_some(issuer)
}

/// A condition key of a restricting operator that names another issuer's `:sub` or `:aud` than
/// `path` (case-insensitively): such a key is absent from the token, so IAM denies the request.
pub(super) fn foreign_condition_key(conditions: &[Condition], path: &str) -> Option<String> {
    conditions
        .iter()
        .filter(|condition| condition.operator.restricting().is_some())
        .map(|condition| &condition.key)
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
