//! Reading statements: principals, actions, condition operators and what their values admit.

use serde_json::{Map, Value};

use super::document::WEB_IDENTITY_ACTION;

/// The values of a string-or-list policy element; other JSON types yield nothing.
pub(super) fn string_values(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// `Principal.Federated` values of a statement.
pub(super) fn federated_principals(statement: &Value) -> Vec<&str> {
    string_values(
        statement
            .get("Principal")
            .and_then(Value::as_object)
            .and_then(|principal| principal.get("Federated")),
    )
}

/// Whether the statement's `Action` (or `NotAction`) allows `sts:AssumeRoleWithWebIdentity`.
pub(super) fn grants_web_identity(statement: &Value) -> bool {
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
pub(super) fn wildcard_match(pattern: &str, text: &str) -> bool {
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
pub(super) fn restricting_operator(operator: &str) -> Option<bool> {
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
pub(super) fn restricts(conditions: Option<&Map<String, Value>>, key: &str) -> bool {
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
pub(super) fn sub_verdict(conditions: Option<&Map<String, Value>>, key: &str) -> SubVerdict {
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
pub(super) fn restricting_blocks<'a>(
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

/// A condition key of a restricting operator that names another issuer's `:sub` or `:aud` than
/// `path` (case-insensitively): such a key is absent from the token, so IAM denies the request.
pub(super) fn foreign_condition_key(
    conditions: Option<&Map<String, Value>>,
    path: &str,
) -> Option<String> {
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
