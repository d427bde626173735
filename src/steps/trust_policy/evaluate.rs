//! Evaluation of a trust policy against one request to assume the role, as IAM decides it: an
//! explicit Deny wins, otherwise an Allow statement that covers the action, names the caller and
//! whose conditions all hold admits the request. Each statement's gaps (what kept it from
//! applying) are kept, so a message can name the nearest statement and what differs.

use super::request::{Caller, KeyState, Request, RequestContext};
use super::statement::{
    glob_match, Condition, Effect, Policy, Principals, SetQualifier, Statement, Test,
};

/// Whether one condition holds for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It holds.
    Met,
    /// It does not hold.
    Unmet,
    /// It depends on a key or an operator this check cannot evaluate.
    Undecidable,
}

impl From<bool> for Outcome {
    fn from(met: bool) -> Outcome {
        if met {
            Outcome::Met
        } else {
            Outcome::Unmet
        }
    }
}

/// Evaluates one condition (one operator, one key, its values ORed) for `context`.
pub fn evaluate_condition(condition: &Condition, context: &RequestContext) -> Outcome {
    let operator = &condition.operator;
    if condition.malformed || condition.values.iter().any(|v| v.contains("${")) {
        return Outcome::Undecidable;
    }
    let state = context.lookup(&condition.key);
    if operator.test == Test::Null {
        let absent = match state {
            KeyState::Present(_) => false,
            KeyState::Absent => true,
            KeyState::Unknown => return Outcome::Undecidable,
        };
        let wanted = if absent { "true" } else { "false" };
        return condition
            .values
            .iter()
            .any(|v| v.eq_ignore_ascii_case(wanted))
            .into();
    }
    match state {
        KeyState::Unknown => Outcome::Undecidable,
        // IAM: an absent key fails a positive test and passes a negated one; IfExists passes;
        // ForAllValues holds over the empty set, ForAnyValue does not.
        KeyState::Absent => match (operator.if_exists, operator.qualifier) {
            (true, _) => Outcome::Met,
            (false, Some(SetQualifier::ForAllValues)) => Outcome::Met,
            (false, Some(SetQualifier::ForAnyValue)) => Outcome::Unmet,
            (false, None) => operator.negated.into(),
        },
        KeyState::Present(_) if operator.test == Test::Unsupported => Outcome::Undecidable,
        KeyState::Present(request) => {
            let matches = |value: &str| {
                condition
                    .values
                    .iter()
                    .any(|pattern| test(operator.test, pattern, value))
            };
            let satisfies = |value: &String| matches(value) != operator.negated;
            match operator.qualifier {
                Some(SetQualifier::ForAllValues) => request.iter().all(satisfies),
                Some(SetQualifier::ForAnyValue) => request.iter().any(satisfies),
                None if operator.negated => !request.iter().any(|v| matches(v)),
                None => request.iter().any(|v| matches(v)),
            }
            .into()
        }
    }
}

/// One policy value against one request value.
fn test(test: Test, pattern: &str, value: &str) -> bool {
    match test {
        Test::Equals => pattern == value,
        Test::EqualsIgnoreCase => pattern.to_lowercase() == value.to_lowercase(),
        Test::Like => glob_match(pattern, value),
        Test::Arn => arn_like(pattern, value),
        Test::Bool => pattern.eq_ignore_ascii_case(value),
        Test::Null | Test::Unsupported => false,
    }
}

/// `ArnLike`: each of the six `:`-separated fields matched on its own, with wildcards.
fn arn_like(pattern: &str, value: &str) -> bool {
    let pattern_fields: Vec<&str> = pattern.splitn(6, ':').collect();
    let value_fields: Vec<&str> = value.splitn(6, ':').collect();
    if pattern_fields.len() != 6 || value_fields.len() != 6 {
        return glob_match(pattern, value);
    }
    pattern_fields
        .iter()
        .zip(&value_fields)
        .all(|(p, v)| glob_match(p, v))
}

/// What kept a statement from applying to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap<'p> {
    /// Its `Action`/`NotAction` does not cover the request's action.
    Action,
    /// Its `Principal` does not name the caller.
    Principal,
    /// One of its conditions does not hold ([`Outcome::Unmet`]) or cannot be decided.
    Condition(&'p Condition, Outcome),
}

/// One statement judged against the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementCheck<'p> {
    /// The statement.
    pub statement: &'p Statement,
    /// Why it does not apply (empty when it does).
    pub gaps: Vec<Gap<'p>>,
}

impl StatementCheck<'_> {
    /// An Allow applies when nothing is missing. A Deny applies when it covers the action and
    /// the caller and none of its conditions surely fails: an undecidable condition counts as
    /// met, so the evaluator never claims access it cannot prove.
    pub fn applies(&self) -> bool {
        match self.statement.effect {
            Effect::Allow => self.gaps.is_empty(),
            Effect::Deny => self
                .gaps
                .iter()
                .all(|gap| matches!(gap, Gap::Condition(_, Outcome::Undecidable))),
            Effect::Other => false,
        }
    }

    /// The conditions that keep it from applying, with their outcome.
    pub fn condition_gaps(&self) -> impl Iterator<Item = (&Condition, Outcome)> + '_ {
        self.gaps.iter().filter_map(|gap| match gap {
            Gap::Condition(condition, outcome) => Some((*condition, *outcome)),
            _ => None,
        })
    }

    /// Its actions do not cover the request's.
    pub fn misses_action(&self) -> bool {
        self.gaps.contains(&Gap::Action)
    }

    /// Its principal does not name the caller.
    pub fn misses_principal(&self) -> bool {
        self.gaps.contains(&Gap::Principal)
    }
}

/// IAM's decision on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// An Allow statement (this index) admits it and no Deny applies.
    Allowed(usize),
    /// A Deny statement (this index) applies, or may (see [`StatementCheck::applies`]).
    Denied(usize),
    /// No Allow statement admits it.
    NotAllowed,
}

/// A policy evaluated against one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation<'p> {
    /// The decision.
    pub access: Access,
    /// Every statement, in document order.
    pub checks: Vec<StatementCheck<'p>>,
}

impl<'p> Evaluation<'p> {
    /// Whether the role may be assumed.
    pub fn admits(&self) -> bool {
        matches!(self.access, Access::Allowed(_))
    }

    /// The Allow statement closest to admitting the request: one that covers the action first,
    /// then one that names a principal of the caller's kind, then the named caller, then the
    /// fewest failing conditions; the first in the document among equals.
    pub fn nearest_allow(&self, caller: &Caller) -> Option<&StatementCheck<'p>> {
        self.checks
            .iter()
            .filter(|check| check.statement.effect == Effect::Allow)
            .min_by_key(|check| {
                let principals = &check.statement.principals;
                let same_kind = principals.everyone
                    || match caller {
                        Caller::Federated(_) => !principals.federated.is_empty(),
                        Caller::Service(_) => !principals.service.is_empty(),
                    };
                (
                    check.misses_action(),
                    !same_kind,
                    check.misses_principal(),
                    check.condition_gaps().count(),
                )
            })
    }
}

/// Whether the statement's principal element names `caller`.
fn names(principals: &Principals, caller: &Caller) -> bool {
    let listed = principals.everyone
        || match caller {
            Caller::Federated(arn) => principals.federated.iter().any(|p| p == arn),
            Caller::Service(name) => principals
                .service
                .iter()
                .any(|p| p.eq_ignore_ascii_case(name)),
        };
    listed != principals.negated
}

/// Judges one statement against the request.
pub fn check_statement<'p>(statement: &'p Statement, request: &Request) -> StatementCheck<'p> {
    let mut gaps = Vec::new();
    if !statement.actions.cover(&request.action) {
        gaps.push(Gap::Action);
    }
    if !names(&statement.principals, &request.caller) {
        gaps.push(Gap::Principal);
    }
    for condition in &statement.conditions {
        let outcome = evaluate_condition(condition, &request.context);
        if outcome != Outcome::Met {
            gaps.push(Gap::Condition(condition, outcome));
        }
    }
    StatementCheck { statement, gaps }
}

/// Evaluates `policy` for `request`: an applying Deny wins over any Allow.
pub fn evaluate<'p>(policy: &'p Policy, request: &Request) -> Evaluation<'p> {
    let checks: Vec<StatementCheck<'p>> = policy
        .statements
        .iter()
        .map(|statement| check_statement(statement, request))
        .collect();
    let applying = |effect: Effect| {
        checks
            .iter()
            .find(|check| check.statement.effect == effect && check.applies())
            .map(|check| check.statement.index)
    };
    let access = match (applying(Effect::Deny), applying(Effect::Allow)) {
        (Some(deny), _) => Access::Denied(deny),
        (None, Some(allow)) => Access::Allowed(allow),
        (None, None) => Access::NotAllowed,
    };
    Evaluation { access, checks }
}
