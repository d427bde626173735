//! Splitting a report into parts that each fit one SNS publish (pure).
//!
//! The report is cut into units that belong together: a provider with every finding about it and
//! the clusters that use it; a cluster without a provider with its findings; any other finding
//! (a role) alone. Units keep the report's order (most severe first), are packed greedily by their
//! measured size, and each part is then rendered and measured for real; a part that is still too
//! large is halved. Every provider, cluster and finding lands in exactly one part.

use std::collections::HashMap;

use crate::report::Report;

use super::message::SnsMessage;
use super::part::Part;
use super::text::finding_block;

/// Indices into the report's lists that travel together.
#[derive(Debug, Clone, Default)]
struct Unit {
    providers: Vec<usize>,
    clusters: Vec<usize>,
    findings: Vec<usize>,
}

/// The cluster a resource ARN (`arn:aws:eks:REGION:ACCOUNT:cluster/NAME`) names, if listed.
fn cluster_of(report: &Report, resource: &str) -> Option<usize> {
    let fields: Vec<&str> = resource.splitn(6, ':').collect();
    if fields.len() != 6 || fields[2] != "eks" {
        return None;
    }
    let name = fields[5].strip_prefix("cluster/")?;
    report
        .clusters
        .iter()
        .position(|c| c.name == name && c.region == fields[3])
}

/// The report cut into units, in the order the findings name them, then the rest.
fn units(report: &Report) -> Vec<Unit> {
    let provider_by_arn: HashMap<&str, usize> = report
        .providers
        .iter()
        .enumerate()
        .map(|(i, p)| (p.arn.as_str(), i))
        .collect();
    let cluster_provider = |c: usize| {
        report.clusters[c]
            .provider_arn
            .as_deref()
            .and_then(|arn| provider_by_arn.get(arn).copied())
    };
    let mut units: Vec<Unit> = Vec::new();
    let mut unit_of_provider: HashMap<usize, usize> = HashMap::new();
    let mut unit_of_cluster: HashMap<usize, usize> = HashMap::new();
    let mut provider_unit = |units: &mut Vec<Unit>, p: usize| {
        *unit_of_provider.entry(p).or_insert_with(|| {
            units.push(Unit {
                providers: vec![p],
                ..Unit::default()
            });
            units.len() - 1
        })
    };
    for (i, finding) in report.findings.iter().enumerate() {
        let resource = finding.resource.as_str();
        let unit = if let Some(&p) = provider_by_arn.get(resource) {
            provider_unit(&mut units, p)
        } else if let Some(c) = cluster_of(report, resource) {
            match cluster_provider(c) {
                Some(p) => provider_unit(&mut units, p),
                None => *unit_of_cluster.entry(c).or_insert_with(|| {
                    units.push(Unit {
                        clusters: vec![c],
                        ..Unit::default()
                    });
                    units.len() - 1
                }),
            }
        } else {
            units.push(Unit::default());
            units.len() - 1
        };
        units[unit].findings.push(i);
    }
    for p in 0..report.providers.len() {
        provider_unit(&mut units, p);
    }
    for c in 0..report.clusters.len() {
        if unit_of_cluster.contains_key(&c) {
            continue;
        }
        match cluster_provider(c) {
            Some(p) => {
                let unit = provider_unit(&mut units, p);
                units[unit].clusters.push(c);
            }
            None => units.push(Unit {
                clusters: vec![c],
                ..Unit::default()
            }),
        }
    }
    units
}

/// The valid report made of `units` (lists in the original order, summary recounted).
fn part_report(report: &Report, units: &[&Unit]) -> Report {
    let mut providers: Vec<usize> = units
        .iter()
        .flat_map(|u| u.providers.iter().copied())
        .collect();
    let mut clusters: Vec<usize> = units
        .iter()
        .flat_map(|u| u.clusters.iter().copied())
        .collect();
    let mut findings: Vec<usize> = units
        .iter()
        .flat_map(|u| u.findings.iter().copied())
        .collect();
    providers.sort_unstable();
    clusters.sort_unstable();
    findings.sort_unstable();
    let mut part = Report {
        resolved: report.resolved.clone(),
        schema_version: report.schema_version,
        account_id: report.account_id.clone(),
        generated_at: report.generated_at,
        remediation_mode: report.remediation_mode,
        providers: providers
            .iter()
            .map(|&i| report.providers[i].clone())
            .collect(),
        clusters: clusters
            .iter()
            .map(|&i| report.clusters[i].clone())
            .collect(),
        findings: findings
            .iter()
            .map(|&i| report.findings[i].clone())
            .collect(),
        summary: Default::default(),
    };
    part.recount();
    part
}

/// Length of `s` once written as a JSON string (quotes excluded).
fn escaped_len(s: &str) -> usize {
    serde_json::to_string(s).map_or(s.len() * 2, |e| e.len().saturating_sub(2))
}

/// Length of a value's compact JSON once written as a JSON string.
fn json_len<T: serde::Serialize>(value: &T) -> usize {
    serde_json::to_string(value).map_or(0, |json| escaped_len(&json) + 1)
}

/// How much a unit weighs in what the parts are rendered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    /// An SNS message: the unit's text twice and its JSON twice (see [`unit_size`]).
    Sns,
    /// A log line: the unit's JSON once.
    Json,
}

/// What a unit adds to a publish: its text twice (`default`, `email`) and its JSON twice (`sqs`,
/// `lambda`), each escaped inside the message document.
fn unit_size(report: &Report, unit: &Unit) -> usize {
    let text: usize = unit
        .findings
        .iter()
        .map(|&i| escaped_len(&finding_block(report, &report.findings[i], 9999, 9999)))
        .sum();
    let json: usize = unit
        .providers
        .iter()
        .map(|&i| json_len(&report.providers[i]))
        .sum::<usize>()
        + unit
            .clusters
            .iter()
            .map(|&i| json_len(&report.clusters[i]))
            .sum::<usize>()
        + unit
            .findings
            .iter()
            .map(|&i| json_len(&report.findings[i]))
            .sum::<usize>();
    2 * text + 2 * json
}

/// The unit's JSON alone (a log line carries the report once).
fn unit_json_size(report: &Report, unit: &Unit) -> usize {
    unit.providers
        .iter()
        .map(|&i| json_len(&report.providers[i]))
        .chain(unit.clusters.iter().map(|&i| json_len(&report.clusters[i])))
        .chain(unit.findings.iter().map(|&i| json_len(&report.findings[i])))
        .sum()
}

/// Room kept in every part for the Chatbot document, whose description is capped but escaped
/// twice (once in its own JSON, once in the message document).
const CHATBOT_RESERVE: usize = 20 * 1024;

/// Splits `report` into messages of at most `budget` bytes each (see [`SnsMessage::publish_size`]),
/// rendering each part with `compose`. A single unit larger than the budget still gets a part of
/// its own (SNS will refuse it; the report is in the logs).
pub(crate) fn split(
    report: &Report,
    budget: usize,
    compose: impl Fn(&Part) -> SnsMessage,
) -> Vec<SnsMessage> {
    split_with(
        report,
        budget,
        CHATBOT_RESERVE,
        Weight::Sns,
        compose,
        SnsMessage::publish_size,
    )
}

/// Splits `report` into parts rendered by `compose`, each at most `budget` bytes as `size`
/// measures it (keeping `reserve` free), every provider, cluster and finding in exactly one part;
/// the whole report as one part when it fits. Used for SNS messages and for the report's log lines.
/// A single unit larger than the budget still gets a part of its own.
pub(crate) fn split_with<T>(
    report: &Report,
    budget: usize,
    reserve: usize,
    weight: Weight,
    compose: impl Fn(&Part) -> T,
    size: impl Fn(&T) -> usize,
) -> Vec<T> {
    let whole = Part {
        index: 1,
        count: 1,
        report: report.clone(),
        condensed: false,
    };
    let single = compose(&whole);
    if size(&single) <= budget {
        return vec![single];
    }

    let units = units(report);
    let empty = compose(&Part {
        index: 9999,
        count: 9999,
        report: part_report(report, &[]),
        condensed: false,
    });
    let overhead = size(&empty) + reserve;
    let mut groups: Vec<Vec<&Unit>> = Vec::new();
    let mut current: Vec<&Unit> = Vec::new();
    let mut current_size = overhead;
    for unit in &units {
        let unit_bytes = match weight {
            Weight::Sns => unit_size(report, unit),
            Weight::Json => unit_json_size(report, unit),
        };
        if !current.is_empty() && current_size + unit_bytes > budget {
            groups.push(std::mem::take(&mut current));
            current_size = overhead;
        }
        current.push(unit);
        current_size += unit_bytes;
    }
    if !current.is_empty() || groups.is_empty() {
        groups.push(current);
    }

    loop {
        let count = groups.len();
        let messages: Vec<T> = groups
            .iter()
            .enumerate()
            .map(|(i, group)| {
                compose(&Part {
                    index: i + 1,
                    count,
                    report: part_report(report, group),
                    condensed: false,
                })
            })
            .collect();
        let oversized = messages
            .iter()
            .zip(&groups)
            .position(|(m, group)| size(m) > budget && group.len() > 1);
        match oversized {
            None => {
                return messages
                    .into_iter()
                    .zip(&groups)
                    .enumerate()
                    .map(|(i, (message, group))| {
                        // Log lines stay whole: only an SNS part is condensed.
                        if size(&message) <= budget || weight == Weight::Json {
                            return message;
                        }
                        condensed_to_fit(report, group, i + 1, count, budget, &compose, &size)
                            .unwrap_or(message)
                    })
                    .collect();
            }
            Some(i) => {
                let half = groups[i].len() / 2;
                let second = groups[i].split_off(half);
                groups.insert(i + 1, second);
            }
        }
    }
}

/// One unit too large for a part on its own (a provider whose issuer serves many long
/// certificates on many addresses), rendered condensed: first without certificate chains below the
/// top one and without finding details, then without endpoints and with messages shortened. `None`
/// when even that does not fit (logged).
fn condensed_to_fit<T>(
    report: &Report,
    group: &[&Unit],
    index: usize,
    count: usize,
    budget: usize,
    compose: &impl Fn(&Part) -> T,
    size: &impl Fn(&T) -> usize,
) -> Option<T> {
    for level in [Condense::Chains, Condense::Endpoints] {
        let message = compose(&Part {
            index,
            count,
            report: condense(part_report(report, group), level),
            condensed: true,
        });
        if size(&message) <= budget {
            return Some(message);
        }
    }
    tracing::warn!(
        budget,
        "one provider's findings exceed a part even condensed; the part may be refused"
    );
    None
}

/// How much [`condense`] leaves out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Condense {
    /// Each endpoint keeps only its top certificate; findings lose their details.
    Chains,
    /// Endpoints are left out; messages are shortened to 300 characters.
    Endpoints,
}

fn condense(mut part: Report, level: Condense) -> Report {
    let message_max = match level {
        Condense::Chains => 1024,
        Condense::Endpoints => 300,
    };
    for provider in &mut part.providers {
        match level {
            Condense::Chains => {
                for endpoint in &mut provider.endpoints {
                    let top = endpoint.chain.pop();
                    endpoint.chain = top.into_iter().collect();
                    endpoint.error = endpoint
                        .error
                        .as_deref()
                        .map(|e| e.chars().take(message_max).collect());
                }
            }
            Condense::Endpoints => provider.endpoints.clear(),
        }
    }
    for finding in &mut part.findings {
        finding.details = serde_json::Value::Object(serde_json::Map::new());
        if finding.message.chars().count() > message_max {
            finding.message = finding
                .message
                .chars()
                .take(message_max)
                .collect::<String>()
                + "…";
        }
    }
    part
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::RemediationMode;
    use crate::report::{ClusterReport, Finding, FindingCode, ProviderReport, Summary};

    fn provider(n: usize) -> ProviderReport {
        ProviderReport {
            arn: format!("arn:aws:iam::123456789012:oidc-provider/oidc.example/id/{n}"),
            url: format!("https://oidc.example/id/{n}"),
            client_ids: vec![],
            configured_thumbprints: vec![],
            jwks_uri: None,
            endpoints: vec![],
            served_thumbprints: vec![],
            thumbprint_enforced: false,
            remediation: None,
        }
    }

    #[test]
    fn units_group_provider_findings_and_clusters() {
        let mut report = Report {
            resolved: Vec::new(),
            schema_version: 1,
            account_id: "123456789012".into(),
            generated_at: time::macros::datetime!(2026-11-22 10:00:00 UTC),
            remediation_mode: RemediationMode::Off,
            providers: vec![provider(0), provider(1)],
            clusters: vec![
                ClusterReport {
                    arn: String::new(),
                    name: "a".into(),
                    region: "us-east-1".into(),
                    issuer: None,
                    provider_arn: Some(provider(1).arn),
                    kubernetes: None,
                },
                ClusterReport {
                    arn: String::new(),
                    name: "b".into(),
                    region: "eu-west-1".into(),
                    issuer: None,
                    provider_arn: None,
                    kubernetes: None,
                },
            ],
            findings: vec![
                Finding::new(FindingCode::CertExpired, provider(1).arn, "x"),
                Finding::new(
                    FindingCode::TrustPolicyNoSub,
                    "arn:aws:iam::123456789012:role/r",
                    "x",
                ),
                Finding::new(
                    FindingCode::ClusterWithoutProvider,
                    "arn:aws:eks:eu-west-1:123456789012:cluster/b",
                    "x",
                ),
                Finding::new(FindingCode::OrphanProvider, provider(1).arn, "x"),
            ],
            summary: Summary::default(),
        };
        report.recount();
        let units = units(&report);
        let shape: Vec<(Vec<usize>, Vec<usize>, Vec<usize>)> = units
            .iter()
            .map(|u| (u.providers.clone(), u.clusters.clone(), u.findings.clone()))
            .collect();
        assert_eq!(
            shape,
            vec![
                (vec![1], vec![0], vec![0, 3]),
                (vec![], vec![], vec![1]),
                (vec![], vec![1], vec![2]),
                (vec![0], vec![], vec![]),
            ]
        );
        let part = part_report(&report, &[&units[2], &units[0]]);
        assert_eq!(part.providers.len(), 1);
        assert_eq!(part.clusters.len(), 2);
        assert_eq!(part.findings.len(), 3);
        assert_eq!(part.summary.critical, 1);
        assert_eq!(part.findings[0].code, FindingCode::CertExpired);
    }
}
