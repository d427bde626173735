//! Why a role's trust policy does not admit a workload, in the policy's own terms (the nearest
//! statement and what differs), and the statement that would admit it.

use serde_json::{json, Value};

use super::cluster::shown;
use crate::report::STS_AUDIENCE;
use crate::trust_policy::{
    glob_match, oidc_provider_path, Access, Actions, Caller, Condition, Evaluation, Operator,
    Outcome, Request, StatementCheck, Test, POD_IDENTITY_SERVICE,
};

/// Who asked, as the messages name it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Asker<'a> {
    /// IRSA: a token of the issuer at `path` for `system:serviceaccount:NAMESPACE:NAME`.
    Irsa {
        path: &'a str,
        namespace: &'a str,
        name: &'a str,
    },
    /// EKS Pod Identity for an association's service account.
    PodIdentity {
        namespace: &'a str,
        service_account: &'a str,
    },
}

/// The Allow statement that admits exactly the service account's token from the cluster's issuer,
/// with the provider of the role's account.
pub(super) fn irsa_statement(provider_arn: &str, path: &str, namespace: &str, name: &str) -> Value {
    json!({
        "Effect": "Allow",
        "Principal": { "Federated": provider_arn },
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": { "StringEquals": {
            format!("{path}:sub"): format!("system:serviceaccount:{namespace}:{name}"),
            format!("{path}:aud"): STS_AUDIENCE,
        }},
    })
}

/// AWS's Pod Identity trust statement, narrowed to the association's cluster, namespace and
/// service account by Pod Identity's session tags.
pub(super) fn pod_identity_statement(
    cluster_arn: &str,
    namespace: &str,
    service_account: &str,
) -> Value {
    json!({
        "Effect": "Allow",
        "Principal": { "Service": POD_IDENTITY_SERVICE },
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Condition": { "StringEquals": {
            "aws:RequestTag/eks-cluster-arn": cluster_arn,
            "aws:RequestTag/kubernetes-namespace": namespace,
            "aws:RequestTag/kubernetes-service-account": service_account,
        }},
    })
}

/// Why `evaluation` does not admit `request`: the Deny that applies, or the nearest Allow
/// statement and what differs (at most three differences).
pub(super) fn why_not(evaluation: &Evaluation<'_>, request: &Request, asker: Asker<'_>) -> String {
    match evaluation.access {
        Access::Denied(index) => {
            let Some(check) = evaluation
                .checks
                .iter()
                .find(|c| c.statement.index == index)
            else {
                return "a Deny statement applies".to_string();
            };
            let mut text = format!("{} (a Deny) applies to it", check.statement.label());
            if let Some((condition, _)) = check.condition_gaps().next() {
                text.push_str(&format!(
                    " (its condition on `{}` cannot be evaluated here, so it is taken to apply)",
                    shown(&condition.key)
                ));
            }
            text
        }
        Access::Allowed(_) => "it is admitted".to_string(),
        Access::NotAllowed => match evaluation.nearest_allow(&request.caller) {
            None => "the trust policy has no Allow statement".to_string(),
            Some(check) => nearest(check, request, asker),
        },
    }
}

fn nearest(check: &StatementCheck<'_>, request: &Request, asker: Asker<'_>) -> String {
    let label = check.statement.label();
    if check.misses_action() {
        return format!(
            "{label} {}",
            action_gap(&check.statement.actions, &request.action)
        );
    }
    if check.misses_principal() {
        return format!("{label} {}", principal_gap(check, request));
    }
    let phrases: Vec<String> = check
        .condition_gaps()
        .take(3)
        .map(|(condition, outcome)| condition_gap(condition, outcome, asker))
        .collect();
    format!("{label} {}", phrases.join("; it also "))
}

fn action_gap(actions: &Actions, action: &str) -> String {
    match actions {
        Actions::Action(listed) => format!("grants {}, not {action}", listing(listed)),
        Actions::NotAction(listed) => format!("excludes {action} (NotAction {})", listing(listed)),
        Actions::Missing => format!("has no Action, so it grants nothing (not {action})"),
    }
}

fn principal_gap(check: &StatementCheck<'_>, request: &Request) -> String {
    let principals = &check.statement.principals;
    match &request.caller {
        Caller::Federated(own_arn) => {
            let own_path = oidc_provider_path(own_arn).unwrap_or(own_arn);
            let other_issuer = principals
                .federated
                .iter()
                .filter_map(|arn| oidc_provider_path(arn))
                .find(|path| !path.eq_ignore_ascii_case(own_path));
            match (other_issuer, principals.federated.first()) {
                (Some(path), _) => format!(
                    "trusts provider `{}` (another cluster's issuer, or this cluster's before it was recreated) but this cluster's issuer is `{own_path}`",
                    shown(path)
                ),
                (None, Some(arn)) => format!(
                    "trusts `{}` but a role must trust its own account's provider for the cluster's issuer, `{own_arn}`",
                    shown(arn)
                ),
                (None, None) => format!("trusts no web identity provider (it must name `{own_arn}` as Federated)"),
            }
        }
        Caller::Service(service) => {
            let named: Vec<String> = principals
                .service
                .iter()
                .chain(&principals.aws)
                .cloned()
                .collect();
            if named.is_empty() {
                format!("does not name the service {service}")
            } else {
                format!("trusts {} but not the service {service}", listing(&named))
            }
        }
    }
}

fn condition_gap(condition: &Condition, outcome: Outcome, asker: Asker<'_>) -> String {
    let key = shown(&condition.key);
    let operator = shown(&condition.operator.name);
    if outcome == Outcome::Undecidable {
        return format!(
            "requires `{key}` ({operator}), which cannot be evaluated here, so it is not counted as admitting (check it by hand)"
        );
    }
    let lower = condition.key.to_ascii_lowercase();
    match asker {
        Asker::Irsa {
            path,
            namespace,
            name,
        } => {
            let own = path.to_ascii_lowercase();
            if lower == format!("{own}:sub") {
                sub_gap(condition, namespace, name)
            } else if lower == format!("{own}:aud") {
                format!(
                    "requires `{key}` {} but the cluster's tokens carry `{STS_AUDIENCE}`",
                    values_phrase(condition)
                )
            } else if lower.starts_with(&format!("{own}:")) {
                format!(
                    "requires `{key}` {}, which the cluster's tokens do not meet",
                    values_phrase(condition)
                )
            } else {
                format!("has a condition on `{key}` ({operator}), a key the cluster's tokens never carry")
            }
        }
        Asker::PodIdentity {
            namespace,
            service_account,
        } => {
            let actual = match lower.as_str() {
                "aws:requesttag/kubernetes-namespace" => Some(("namespace", namespace)),
                "aws:requesttag/kubernetes-service-account" => {
                    Some(("service account", service_account))
                }
                _ => None,
            };
            match actual {
                Some((what, value)) => format!(
                    "requires the {what} {} but the association's is `{}`",
                    values_phrase(condition),
                    shown(value)
                ),
                None => format!(
                    "requires `{key}` {} ({operator}), which this association does not meet",
                    values_phrase(condition)
                ),
            }
        }
    }
}

/// What differs between a `:sub` condition and `system:serviceaccount:NAMESPACE:NAME`.
fn sub_gap(condition: &Condition, namespace: &str, name: &str) -> String {
    let operator = &condition.operator;
    let subject = format!("system:serviceaccount:{namespace}:{name}");
    if operator.negated {
        return format!("excludes `{}` ({})", shown(&subject), shown(&operator.name));
    }
    for value in &condition.values {
        let Some((trusted_namespace, trusted_name)) = value
            .strip_prefix("system:serviceaccount:")
            .and_then(|rest| rest.split_once(':'))
        else {
            continue;
        };
        let same_namespace = part_matches(operator, trusted_namespace, namespace);
        let same_name = part_matches(operator, trusted_name, name);
        if same_name && !same_namespace {
            return format!(
                "names namespace `{}` but the service account is in `{}`",
                shown(trusted_namespace),
                shown(namespace)
            );
        }
        if same_namespace && !same_name {
            return format!(
                "names service account `{}` but this one is `{}`",
                shown(trusted_name),
                shown(name)
            );
        }
    }
    if let Some(value) = condition.values.iter().find(|value| {
        operator.test != Test::EqualsIgnoreCase && value.eq_ignore_ascii_case(&subject)
    }) {
        return format!(
            "names `{}`, which differs from `{}` only in case ({} is case-sensitive)",
            shown(value),
            shown(&subject),
            shown(&operator.name)
        );
    }
    format!(
        "admits {} but the service account's subject is `{}`",
        quoted_values(&condition.values),
        shown(&subject)
    )
}

/// Whether one part (namespace or name) of a trusted subject matches, under the operator.
fn part_matches(operator: &Operator, trusted: &str, actual: &str) -> bool {
    match operator.test {
        Test::Like => glob_match(trusted, actual),
        Test::EqualsIgnoreCase => trusted.to_lowercase() == actual.to_lowercase(),
        _ => trusted == actual,
    }
}

/// `= `a`` / `like `a*` or `b`` for a condition's values.
fn values_phrase(condition: &Condition) -> String {
    let verb = match (condition.operator.test, condition.operator.negated) {
        (_, true) => "to be none of",
        (Test::Like | Test::Arn, false) => "to be like",
        _ => "to be",
    };
    format!("{verb} {}", quoted_values(&condition.values))
}

/// At most three values, quoted, joined with "or".
fn quoted_values(values: &[String]) -> String {
    let mut shown_values: Vec<String> = values
        .iter()
        .take(3)
        .map(|v| format!("`{}`", shown(v)))
        .collect();
    if values.len() > 3 {
        shown_values.push(format!("{} more", values.len() - 3));
    }
    if shown_values.is_empty() {
        "nothing".to_string()
    } else {
        shown_values.join(" or ")
    }
}

/// A list of actions or principals, shown.
fn listing(items: &[String]) -> String {
    if items.is_empty() {
        return "nothing".to_string();
    }
    let mut listed: Vec<String> = items.iter().take(3).map(|item| shown(item)).collect();
    if items.len() > 3 {
        listed.push(format!("{} more", items.len() - 3));
    }
    listed.join(", ")
}
