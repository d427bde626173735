//! The units a report is cut into: a provider with every finding about it and the clusters that
//! use it; a cluster without a provider with its findings; any other finding (a role) alone.

use std::collections::HashMap;

use crate::report::account::Report;

/// Indices into the report's lists that travel together.
#[derive(Debug, Clone, Default)]
pub struct Unit {
    /// Indices into `providers`.
    pub providers: Vec<usize>,
    /// Indices into `clusters`.
    pub clusters: Vec<usize>,
    /// Indices into `findings`.
    pub findings: Vec<usize>,
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
pub(super) fn units(report: &Report) -> Vec<Unit> {
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
pub(super) fn part_report(report: &Report, units: &[&Unit]) -> Report {
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
