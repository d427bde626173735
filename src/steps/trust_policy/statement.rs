//! A trust policy read once into typed statements: effect, actions, principals and conditions with
//! their operators parsed. The audit and the evaluator both read this model, so the policy language
//! is interpreted in one place.

use serde_json::Value;

use super::document::{decode_document, TrustPolicyError};

/// A trust policy's statements, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Every entry of `Statement` (a lone object counts as a list of one); entries that are not
    /// objects keep their place with [`Effect::Other`], so indices match the document.
    pub statements: Vec<Statement>,
}

impl Policy {
    /// Reads a decoded policy document.
    pub fn from_document(document: &Value) -> Policy {
        let entries: Vec<&Value> = match document.get("Statement") {
            Some(Value::Array(list)) => list.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            _ => Vec::new(),
        };
        Policy {
            statements: entries
                .into_iter()
                .enumerate()
                .map(|(index, entry)| Statement::read(index, entry))
                .collect(),
        }
    }

    /// Decodes a trust policy as IAM returns it (raw or percent-encoded JSON) and reads it.
    pub fn parse(raw: &str) -> Result<Policy, TrustPolicyError> {
        decode_document(raw).map(|document| Policy::from_document(&document))
    }
}

/// `Allow`, `Deny`, or anything else (which IAM rejects; such a statement grants nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `"Effect": "Allow"`.
    Allow,
    /// `"Effect": "Deny"`.
    Deny,
    /// Missing or misspelt.
    Other,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Position in the document's `Statement` list.
    pub index: usize,
    /// `Sid`, when present and not empty.
    pub sid: Option<String>,
    /// `Effect`.
    pub effect: Effect,
    /// `Action` or `NotAction`.
    pub actions: Actions,
    /// `Principal` or `NotPrincipal`.
    pub principals: Principals,
    /// Every (operator, key) pair of `Condition`, in document order.
    pub conditions: Vec<Condition>,
}

impl Statement {
    fn read(index: usize, entry: &Value) -> Statement {
        let effect = match entry.get("Effect").and_then(Value::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            _ => Effect::Other,
        };
        let actions = if entry.get("Action").is_some() {
            Actions::Action(strings(entry.get("Action")))
        } else if entry.get("NotAction").is_some() {
            Actions::NotAction(strings(entry.get("NotAction")))
        } else {
            Actions::Missing
        };
        let principals = match (entry.get("Principal"), entry.get("NotPrincipal")) {
            (Some(principal), _) => Principals::read(principal, false),
            (None, Some(principal)) => Principals::read(principal, true),
            (None, None) => Principals::default(),
        };
        Statement {
            index,
            sid: entry
                .get("Sid")
                .and_then(Value::as_str)
                .filter(|sid| !sid.is_empty())
                .map(str::to_string),
            effect,
            actions,
            principals,
            conditions: read_conditions(entry.get("Condition")),
        }
    }

    /// How a message names the statement: `statement "Sid"` or `statement #INDEX`.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) => format!("statement \"{sid}\""),
            None => format!("statement #{}", self.index),
        }
    }
}

/// The values of a string-or-list policy element; other JSON types yield nothing.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// `Action` or `NotAction`, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actions {
    /// The statement covers these actions (IAM wildcards).
    Action(Vec<String>),
    /// The statement covers every action but these.
    NotAction(Vec<String>),
    /// Neither element: the statement covers nothing.
    Missing,
}

impl Actions {
    /// Whether the statement covers `action` (case-insensitive, `*` and `?` wildcards).
    pub fn cover(&self, action: &str) -> bool {
        let listed = |patterns: &[String]| {
            patterns
                .iter()
                .any(|pattern| wildcard_match(pattern, action))
        };
        match self {
            Actions::Action(patterns) => listed(patterns),
            Actions::NotAction(patterns) => !listed(patterns),
            Actions::Missing => false,
        }
    }
}

/// `Principal` (or `NotPrincipal`) by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principals {
    /// The element was `NotPrincipal`: it names who is *not* covered.
    pub negated: bool,
    /// `"*"` or `{"AWS": "*"}`: every principal.
    pub everyone: bool,
    /// `Federated` values (OIDC/SAML provider ARNs, web identity providers).
    pub federated: Vec<String>,
    /// `Service` values (`pods.eks.amazonaws.com`…).
    pub service: Vec<String>,
    /// `AWS` values (accounts, roles, users).
    pub aws: Vec<String>,
}

impl Principals {
    fn read(value: &Value, negated: bool) -> Principals {
        let mut principals = Principals {
            negated,
            ..Principals::default()
        };
        match value {
            Value::String(s) if s == "*" => principals.everyone = true,
            Value::Object(map) => {
                principals.federated = strings(map.get("Federated"));
                principals.service = strings(map.get("Service"));
                principals.aws = strings(map.get("AWS"));
                principals.everyone = principals.aws.iter().any(|p| p == "*");
            }
            _ => {}
        }
        principals
    }
}

/// One key of one operator block of `Condition`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The operator, parsed.
    pub operator: Operator,
    /// The condition key as written (compare case-insensitively).
    pub key: String,
    /// The listed values as text (numbers and booleans as JSON writes them).
    pub values: Vec<String>,
    /// The value list was empty or held `null`, a list or an object: IAM would not accept it.
    pub malformed: bool,
}

fn read_conditions(value: Option<&Value>) -> Vec<Condition> {
    let Some(Value::Object(blocks)) = value else {
        return Vec::new();
    };
    let mut conditions = Vec::new();
    for (operator, block) in blocks {
        let Some(block) = block.as_object() else {
            continue;
        };
        let operator = Operator::parse(operator);
        for (key, values) in block {
            let listed: Vec<&Value> = match values {
                Value::Array(list) => list.iter().collect(),
                one => vec![one],
            };
            let texts: Vec<String> = listed
                .iter()
                .filter_map(|value| match value {
                    Value::String(s) => Some(s.clone()),
                    Value::Bool(b) => Some(b.to_string()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Null | Value::Array(_) | Value::Object(_) => None,
                })
                .collect();
            conditions.push(Condition {
                operator: operator.clone(),
                key: key.clone(),
                malformed: texts.is_empty() || texts.len() != listed.len(),
                values: texts,
            });
        }
    }
    conditions
}

/// `ForAnyValue:` / `ForAllValues:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    /// At least one value of the request's key must satisfy the test.
    ForAnyValue,
    /// Every value of the request's key must satisfy it (true when the key is absent).
    ForAllValues,
}

/// What an operator compares, without its negation, qualifier or `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    /// `StringEquals`: exact, case-sensitive.
    Equals,
    /// `StringEqualsIgnoreCase`.
    EqualsIgnoreCase,
    /// `StringLike`: case-sensitive, `*` and `?` wildcards.
    Like,
    /// `ArnEquals`/`ArnLike`: each of the six `:` fields matched with wildcards.
    Arn,
    /// `Bool`.
    Bool,
    /// `Null`: whether the key is absent.
    Null,
    /// Numeric, date, IP address and binary operators, and unknown names: not evaluated.
    Unsupported,
}

/// A condition operator, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// As written (`ForAnyValue:StringLike`).
    pub name: String,
    /// `ForAnyValue:`/`ForAllValues:`, when present.
    pub qualifier: Option<SetQualifier>,
    /// The comparison.
    pub test: Test,
    /// `StringNotEquals`, `StringNotLike`, `ArnNotLike`…: true when no value matches.
    pub negated: bool,
    /// `…IfExists`: true when the key is absent.
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name case-insensitively, as IAM does.
    pub fn parse(name: &str) -> Operator {
        let lower = name.to_ascii_lowercase();
        let (qualifier, rest) = if let Some(rest) = lower.strip_prefix("foranyvalue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else if let Some(rest) = lower.strip_prefix("forallvalues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else {
            (None, lower.as_str())
        };
        let (base, if_exists) = match rest.strip_suffix("ifexists") {
            Some(base) if base != "null" => (base, true),
            _ => (rest, false),
        };
        let (test, negated) = match base {
            "stringequals" => (Test::Equals, false),
            "stringnotequals" => (Test::Equals, true),
            "stringequalsignorecase" => (Test::EqualsIgnoreCase, false),
            "stringnotequalsignorecase" => (Test::EqualsIgnoreCase, true),
            "stringlike" => (Test::Like, false),
            "stringnotlike" => (Test::Like, true),
            "arnequals" | "arnlike" => (Test::Arn, false),
            "arnnotequals" | "arnnotlike" => (Test::Arn, true),
            "bool" => (Test::Bool, false),
            "null" => (Test::Null, false),
            other => (Test::Unsupported, other.contains("not")),
        };
        Operator {
            name: name.to_string(),
            qualifier,
            test,
            negated,
            if_exists,
        }
    }

    /// A positive string operator (`StringEquals`, `StringEqualsIgnoreCase`, `StringLike`, with or
    /// without a qualifier and `IfExists`): it restricts its key to the listed values. `Some(true)`
    /// when those values are wildcard patterns.
    pub fn restricting(&self) -> Option<bool> {
        match (self.test, self.negated) {
            (Test::Equals | Test::EqualsIgnoreCase, false) => Some(false),
            (Test::Like, false) => Some(true),
            _ => None,
        }
    }
}

/// IAM's action wildcards, case-insensitively: `*` is any run of characters, `?` one character.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    glob_match(&pattern.to_ascii_lowercase(), &text.to_ascii_lowercase())
}

/// `*`/`?` wildcard matching, case-sensitive (`StringLike`, `ArnLike`).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
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
