//! Assess: pure functions from (inventory, probe results, configuration, now) to findings.
//!
//! Nothing here does I/O or reads the clock: the sweep passes `now`, so every rule is unit-tested
//! with plain values.

use time::OffsetDateTime;

use crate::config::Config;
use crate::inventory::OidcProvider;
use crate::probe::{self, IssuerProbe};
use crate::report::{Discriminator, Finding, FindingCode, ProviderReport, Severity, STS_AUDIENCE};

pub mod chain;
pub mod eks;
pub mod kubernetes;

/// A served top thumbprint the provider does not list: the fact remediation and the report share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingThumbprint {
    /// Lowercase hex SHA-1 of the top certificate.
    pub thumbprint: String,
    /// Every address (`IP:PORT`) that served it.
    pub addresses: Vec<String>,
    /// The `host:port`s whose addresses served it.
    pub hosts: Vec<String>,
    /// Whether and why IAM relies on the thumbprint (a private anchor, an address that accepts
    /// only TLS 1.3, no chain at all): the mismatch is critical when it does.
    pub enforcement: probe::Enforcement,
    /// It tops a served chain that is not contiguous (CHAIN_ORDER): STS fails on that chain
    /// whatever the list holds, so it is never to be added.
    pub tops_broken_chain: bool,
}

/// What assess concludes about one provider before remediation: its report entry, its findings
/// (all but the thumbprint mismatches, which depend on what remediation adds) and the thumbprints
/// its issuer serves that it does not list.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderAssessment {
    /// The provider's report entry (remediation still null).
    pub entry: ProviderReport,
    /// Audience, probe, chain and expiry findings.
    pub findings: Vec<Finding>,
    /// Served top thumbprints missing from the provider's list, in first-served order.
    pub missing: Vec<MissingThumbprint>,
}

/// Served top thumbprints that the provider does not list, with where they were served.
pub fn missing_thumbprints(provider: &OidcProvider, probe: &IssuerProbe) -> Vec<MissingThumbprint> {
    let enforcement = probe::thumbprint_enforcement(probe);
    probe::served_thumbprints(probe)
        .into_iter()
        .filter(|t| {
            !provider
                .thumbprints
                .iter()
                .any(|c| c.eq_ignore_ascii_case(t))
        })
        .map(|thumbprint| {
            let serving: Vec<_> = probe
                .endpoints()
                .filter(|(_, e)| {
                    e.top_thumbprint()
                        .is_some_and(|t| t.eq_ignore_ascii_case(&thumbprint))
                })
                .collect();
            let addresses = serving.iter().map(|(_, e)| e.address.to_string()).collect();
            let mut hosts: Vec<String> = Vec::new();
            for (host, _) in &serving {
                if !hosts.contains(&host.authority) {
                    hosts.push(host.authority.clone());
                }
            }
            if hosts.is_empty() {
                hosts.push(authority(probe).to_string());
            }
            let tops_broken_chain = serving.iter().any(|(_, e)| e.order_break().is_some());
            MissingThumbprint {
                thumbprint,
                addresses,
                hosts,
                enforcement: enforcement.clone(),
                tops_broken_chain,
            }
        })
        .collect()
}

/// The provider's entry of the report (remediation is filled in by the sweep's assembly).
pub(crate) fn provider_report(
    provider: &OidcProvider,
    probe: Option<&IssuerProbe>,
) -> ProviderReport {
    ProviderReport {
        arn: provider.arn.clone(),
        url: provider.url.clone(),
        client_ids: provider.client_ids.clone(),
        configured_thumbprints: provider.thumbprints.clone(),
        jwks_uri: probe.and_then(|p| p.jwks_uri.clone()),
        endpoints: probe.map(|p| p.report_endpoints()).unwrap_or_default(),
        served_thumbprints: probe.map(probe::served_thumbprints).unwrap_or_default(),
        thumbprint_enforced: probe.map(probe::thumbprint_enforced).unwrap_or(true),
        remediation: None,
    }
}

/// Assesses one provider: its report entry, its findings but the mismatches, and what is missing.
/// `probe` is `None` when the run's deadline came first (PROBE_SKIPPED).
pub fn assess_provider(
    provider: &OidcProvider,
    probe: Option<&IssuerProbe>,
    config: &Config,
    now: OffsetDateTime,
) -> ProviderAssessment {
    ProviderAssessment {
        entry: provider_report(provider, probe),
        findings: provider_findings(provider, probe, config, now),
        missing: probe
            .map(|p| missing_thumbprints(provider, p))
            .unwrap_or_default(),
    }
}

/// Audience and probe findings of one provider (no thumbprint mismatch: see [`mismatch_findings`]).
pub(crate) fn provider_findings(
    provider: &OidcProvider,
    probe: Option<&IssuerProbe>,
    config: &Config,
    now: OffsetDateTime,
) -> Vec<Finding> {
    let arn = provider.arn.as_str();
    let mut findings = Vec::new();
    if !provider.client_ids.iter().any(|c| c == STS_AUDIENCE) {
        findings.push(
            Finding::new(
                FindingCode::AudienceMissing,
                arn,
                format!(
                    "{STS_AUDIENCE} is not in the provider's audiences ({}); IRSA pods fail with \"Incorrect token audience\"",
                    if provider.client_ids.is_empty() { "none".to_string() } else { provider.client_ids.join(", ") }
                ),
            )
            .with_details(serde_json::json!({"client_ids": provider.client_ids})),
        );
    }
    let Some(probe) = probe else {
        findings.push(Finding::new(
            FindingCode::ProbeSkipped,
            arn,
            format!(
                "the run's deadline came before {} was probed; it was not checked this run",
                provider.url
            ),
        ));
        return findings;
    };
    findings.extend(chain::issuer_findings(
        arn,
        probe,
        config.expiry_warning_days,
        now,
    ));
    findings
}

/// One THUMBPRINT_MISMATCH per missing thumbprint that remediation did not add this run (critical
/// when IAM enforces the thumbprint, warning otherwise). The message says why IAM relies on the
/// thumbprint, or that it does not; for the top of a chain that is not contiguous it says not to
/// add it (CHAIN_ORDER reports the chain).
pub fn mismatch_findings(
    provider: &OidcProvider,
    missing: &[MissingThumbprint],
    added: &[String],
) -> Vec<Finding> {
    missing
        .iter()
        .filter(|m| !added.iter().any(|a| a.eq_ignore_ascii_case(&m.thumbprint)))
        .map(|m| {
            let enforced = m.enforcement.enforced();
            let mut consequence = if enforced {
                format!(
                    "AssumeRoleWithWebIdentity fails with InvalidIdentityToken, because IAM relies on the thumbprint here: {}",
                    m.enforcement
                )
            } else {
                "the chain anchors in a public root and every address takes TLS 1.2, so IAM does not rely on the thumbprint today, but it is the fallback".to_string()
            };
            if m.tops_broken_chain {
                consequence.push_str(
                    "; it tops a chain that is not contiguous (see CHAIN_ORDER), which STS rejects whatever the list holds: do not add it, fix the served order",
                );
            }
            Finding::new(
                FindingCode::ThumbprintMismatch,
                &provider.arn,
                format!(
                    "the JWKS host {} serves top certificate {} (at {}), which is not among the configured thumbprints; {consequence}",
                    m.hosts.join(", "),
                    m.thumbprint,
                    m.addresses.join(", ")
                ),
            )
            .with_severity(if enforced { Severity::Critical } else { Severity::Warning })
            .with_discriminator(Discriminator::Thumbprint(m.thumbprint.clone()))
            .with_details(serde_json::json!({
                "thumbprint": m.thumbprint,
                "configured_thumbprints": provider.thumbprints,
                "addresses": m.addresses,
                "hosts": m.hosts,
                "thumbprint_enforced": enforced,
            }))
        })
        .collect()
}

fn authority(probe: &IssuerProbe) -> &str {
    match probe.host_serving(crate::report::Fetch::Jwks) {
        Some(host) if !host.authority.is_empty() => host.authority.as_str(),
        _ => probe.issuer.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{ChainVerdict, EndpointProbe, HostProbe};
    use crate::report::CertificateInfo;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);
    const OLD: &str = "1111111111111111111111111111111111111111";
    const NEW: &str = "2222222222222222222222222222222222222222";

    fn provider(client_ids: &[&str], thumbprints: &[&str]) -> OidcProvider {
        OidcProvider {
            arn: "arn:aws:iam::123456789012:oidc-provider/127.0.0.1:8443/id/A".into(),
            url: "https://127.0.0.1:8443/id/A".into(),
            client_ids: client_ids.iter().map(|s| s.to_string()).collect(),
            thumbprints: thumbprints.iter().map(|s| s.to_string()).collect(),
            tags: Default::default(),
        }
    }

    fn endpoint(port: u16, top: &str, publicly_anchored: bool) -> EndpointProbe {
        let cert = |sha1: &str| CertificateInfo {
            subject: "CN=x".into(),
            issuer: "CN=y".into(),
            sha1: sha1.into(),
            not_before: Some(NOW - time::Duration::days(10)),
            not_after: Some(NOW + time::Duration::days(300)),
        };
        EndpointProbe {
            address: format!("127.0.0.1:{port}").parse().unwrap(),
            chain: vec![cert("ab".repeat(20).as_str()), cert(top)],
            verdict: ChainVerdict::Trusted,
            publicly_anchored,
            contiguity: Ok(()),
            tls13_only: false,
            error: None,
        }
    }

    fn probe(endpoints: Vec<EndpointProbe>) -> IssuerProbe {
        IssuerProbe {
            issuer: "https://127.0.0.1:8443/id/A".into(),
            jwks_uri: Some("https://127.0.0.1:8443/id/A/keys".into()),
            hosts: vec![HostProbe {
                serves: vec![crate::report::Fetch::Discovery, crate::report::Fetch::Jwks],
                authority: "127.0.0.1:8443".into(),
                endpoints,
                issues: vec![],
            }],
            jwks_keys: Some(1),
            issues: vec![],
        }
    }

    /// Every finding of a provider when remediation adds nothing.
    fn all_findings(
        p: &OidcProvider,
        probe: Option<&IssuerProbe>,
        config: &Config,
        now: OffsetDateTime,
    ) -> Vec<Finding> {
        let assessment = assess_provider(p, probe, config, now);
        let mut findings = assessment.findings;
        findings.extend(mismatch_findings(p, &assessment.missing, &[]));
        findings
    }

    fn codes(findings: &[Finding]) -> Vec<(FindingCode, Severity)> {
        findings.iter().map(|f| (f.code, f.severity)).collect()
    }

    #[test]
    fn healthy_provider_has_no_findings() {
        let p = provider(&["sts.amazonaws.com"], &[OLD]);
        let findings = all_findings(
            &p,
            Some(&probe(vec![endpoint(1, OLD, false)])),
            &Config::default(),
            NOW,
        );
        assert!(findings.is_empty(), "{findings:?}");
    }

    #[test]
    fn rotated_private_chain_is_a_critical_mismatch_per_missing_thumbprint() {
        let p = provider(&["sts.amazonaws.com"], &[OLD]);
        let probe = probe(vec![
            endpoint(1, NEW, false),
            endpoint(2, OLD, false),
            endpoint(3, NEW, false),
        ]);
        let findings = all_findings(&p, Some(&probe), &Config::default(), NOW);
        assert_eq!(
            codes(&findings),
            [(FindingCode::ThumbprintMismatch, Severity::Critical)]
        );
        assert_eq!(findings[0].details["thumbprint"], NEW);
        assert_eq!(
            findings[0].details["addresses"],
            serde_json::json!(["127.0.0.1:1", "127.0.0.1:3"])
        );
    }

    #[test]
    fn publicly_anchored_mismatch_is_a_warning() {
        let p = provider(&["sts.amazonaws.com"], &[OLD.to_uppercase().as_str()]);
        let probe = probe(vec![endpoint(1, NEW, true), endpoint(2, OLD, true)]);
        let findings = all_findings(&p, Some(&probe), &Config::default(), NOW);
        assert_eq!(
            codes(&findings),
            [(FindingCode::ThumbprintMismatch, Severity::Warning)]
        );
        assert!(!provider_report(&p, Some(&probe)).thumbprint_enforced);
    }

    #[test]
    fn a_mismatch_says_in_words_why_the_thumbprint_is_enforced() {
        let p = provider(&["sts.amazonaws.com"], &[OLD]);
        let private = probe(vec![endpoint(1, NEW, false)]);
        let findings = all_findings(&p, Some(&private), &Config::default(), NOW);
        assert!(
            findings[0].message.ends_with("because IAM relies on the thumbprint here: the chain served at 127.0.0.1:1 does not anchor in a public root CA (IAM's library of trusted root CAs)"),
            "{}",
            findings[0].message
        );
        // A public chain behind a TLS 1.3-only address: critical, and the message says why.
        let tls13 = probe(vec![
            endpoint(1, NEW, true),
            EndpointProbe {
                tls13_only: true,
                ..endpoint(2, NEW, true)
            },
        ]);
        let findings = all_findings(&p, Some(&tls13), &Config::default(), NOW);
        assert_eq!(
            codes(&findings),
            [(FindingCode::ThumbprintMismatch, Severity::Critical)]
        );
        let message = &findings[0].message;
        assert!(
            message.contains("127.0.0.1:2 accepts only TLS 1.3"),
            "{message}"
        );
        assert!(!message.contains("public root"), "{message}");
        assert_eq!(findings[0].details["thumbprint_enforced"], true);
        assert!(provider_report(&p, Some(&tls13)).thumbprint_enforced);
        assert!(provider_report(&p, Some(&tls13)).endpoints[1].tls13_only);
    }

    #[test]
    fn a_mismatch_for_the_top_of_a_chain_out_of_order_says_not_to_add_it() {
        let p = provider(&["sts.amazonaws.com"], &[OLD]);
        let probe = probe(vec![EndpointProbe {
            contiguity: Err(crate::probe::ChainBreak {
                index: 1,
                reason: crate::probe::BreakReason::Extra,
            }),
            ..endpoint(1, NEW, false)
        }]);
        let assessment = assess_provider(&p, Some(&probe), &Config::default(), NOW);
        assert!(assessment.missing[0].tops_broken_chain);
        assert_eq!(
            codes(&assessment.findings),
            [(FindingCode::ChainOrder, Severity::Critical)]
        );
        let mismatch = &mismatch_findings(&p, &assessment.missing, &[])[0];
        assert!(
            mismatch
                .message
                .ends_with("do not add it, fix the served order"),
            "{}",
            mismatch.message
        );
    }

    #[test]
    fn missing_audience_is_a_warning() {
        let p = provider(&["my-app"], &[OLD]);
        let findings = all_findings(
            &p,
            Some(&probe(vec![endpoint(1, OLD, false)])),
            &Config::default(),
            NOW,
        );
        assert_eq!(
            codes(&findings),
            [(FindingCode::AudienceMissing, Severity::Warning)]
        );
        assert!(findings[0].message.contains("my-app"));
    }

    #[test]
    fn unprobed_provider_is_skipped_not_healthy() {
        let p = provider(&["sts.amazonaws.com"], &[OLD]);
        let findings = all_findings(&p, None, &Config::default(), NOW);
        assert_eq!(
            codes(&findings),
            [(FindingCode::ProbeSkipped, Severity::Warning)]
        );
        let entry = provider_report(&p, None);
        assert!(
            entry.endpoints.is_empty() && entry.thumbprint_enforced && entry.jwks_uri.is_none()
        );
    }

    #[test]
    fn report_entry_lists_served_thumbprints_once_in_order() {
        let p = provider(&["sts.amazonaws.com"], &[OLD]);
        let entry = provider_report(
            &p,
            Some(&probe(vec![
                endpoint(1, NEW, false),
                endpoint(2, OLD, false),
                endpoint(3, NEW, false),
            ])),
        );
        assert_eq!(entry.served_thumbprints, [NEW, OLD]);
        assert_eq!(entry.endpoints.len(), 3);
        assert_eq!(entry.endpoints[0].top_thumbprint.as_deref(), Some(NEW));
        assert_eq!(entry.configured_thumbprints, [OLD]);
    }
}
