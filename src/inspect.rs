//! `thumbprint-guard inspect URL`: probe one issuer without AWS and render the result.
//!
//! The same probe and assessment as a sweep, for one issuer URL, with no IAM provider to compare
//! against: it shows what each address of the JWKS host serves and which thumbprint IAM needs.
//! Pure: [`issuer_url`] checks the argument, [`build_report`] turns a probe into a typed
//! [`InspectReport`], [`render_text`] renders it and [`exit_code`] picks the exit code; the binary
//! runs the probe and prints.
//!
//! # Exit codes (for the CLI)
//! 0 when no finding is critical, 1 otherwise; 2 for an [`InspectError`] (a bad URL or a bad
//! configuration).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use url::Url;

use crate::assess::chain::issuer_findings;
use crate::config::ConfigError;
use crate::fix::{manual_fix, FixContext};
use crate::probe::{
    served_thumbprints, thumbprint_enforcement, ChainBreak, Enforcement, IssuerProbe,
};
use crate::render::count;
use crate::report::{days_left, escape, rfc3339, sort_findings, Endpoint, Finding, Severity};

/// A problem with what the person asked for (exit code 2), as opposed to a problem of the issuer
/// (a finding, exit code 1).
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The URL argument is unusable.
    #[error("{0}")]
    Usage(String),
    /// The configuration (environment) is unusable, e.g. `EXTRA_TRUST_ANCHORS_PEM`.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl InspectError {
    /// Exit code for usage and configuration errors (DESIGN: 2).
    pub const EXIT_CODE: i32 = 2;
}

/// What `inspect --json` prints: a provider entry of DESIGN's report without the IAM-only fields
/// (arn, client_ids, configured_thumbprints, remediation), plus the issuer's findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectReport {
    /// The issuer URL probed.
    pub url: String,
    /// `jwks_uri` from the discovery document; null when discovery failed.
    pub jwks_uri: Option<String>,
    /// One entry per probed address of the JWKS host (of the issuer host when discovery failed on
    /// its certificate).
    pub endpoints: Vec<Endpoint>,
    /// Distinct top thumbprints served, in first-seen order.
    pub served_thumbprints: Vec<String>,
    /// True when IAM relies on the thumbprint: a served chain does not anchor in Mozilla's roots,
    /// an address accepts only TLS 1.3, or no address served a chain.
    pub thumbprint_enforced: bool,
    /// Findings about the issuer, most severe first.
    pub findings: Vec<Finding>,
    /// Why the thumbprint is enforced, for the text (the JSON carries `thumbprint_enforced`, each
    /// endpoint's `tls13_only` and the findings).
    #[serde(skip)]
    pub enforcement: Enforcement,
    /// Each endpoint's chain order, in `endpoints` order, for the text (the JSON carries the
    /// CHAIN_ORDER findings).
    #[serde(skip)]
    pub chain_order: Vec<Option<ChainBreak>>,
}

/// An example of what `inspect` takes, for usage errors.
const EXAMPLE_ISSUER: &str = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE";

/// The issuer URL to probe: `https://` is added when the argument has no scheme (IAM shows URLs
/// without it); any other scheme, no host, a query or a fragment is a usage error, explained in
/// the words a person typed (not the URL parser's).
pub fn issuer_url(argument: &str) -> Result<String, InspectError> {
    let argument = argument.trim();
    let usage = |why: &str| {
        InspectError::Usage(format!(
            "\"{argument}\" {why}: give the issuer URL, e.g. {EXAMPLE_ISSUER}"
        ))
    };
    if argument.is_empty() {
        return Err(InspectError::Usage(format!(
            "no issuer URL given: give the issuer URL, e.g. {EXAMPLE_ISSUER}"
        )));
    }
    let url = if argument.contains("://") {
        argument.to_string()
    } else {
        format!("https://{argument}")
    };
    if argument.chars().any(char::is_whitespace) {
        return Err(usage("is not an https URL (a URL has no spaces)"));
    }
    let Ok(parsed) = Url::parse(&url) else {
        return Err(usage("is not an https URL"));
    };
    if parsed.scheme() != "https" {
        return Err(usage(&format!(
            "uses {}: an issuer URL must use https",
            parsed.scheme()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(usage("has no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(usage(
            "has a query or fragment, which an issuer URL never has",
        ));
    }
    Ok(url)
}

/// The report of one probe, findings assessed at `now` and sorted.
pub fn build_report(
    url: &str,
    probe: &IssuerProbe,
    expiry_warning_days: u32,
    now: OffsetDateTime,
) -> InspectReport {
    let mut findings = issuer_findings(url, probe, expiry_warning_days, now);
    sort_findings(&mut findings);
    let enforcement = thumbprint_enforcement(probe);
    InspectReport {
        url: url.to_string(),
        jwks_uri: probe.jwks_uri.clone(),
        endpoints: probe.report_endpoints(),
        served_thumbprints: served_thumbprints(probe),
        thumbprint_enforced: enforcement.enforced(),
        findings,
        enforcement,
        chain_order: probe.endpoints().map(|(_, e)| e.order_break()).collect(),
    }
}

/// 1 when a finding is critical, else 0.
pub fn exit_code(report: &InspectReport) -> i32 {
    let critical = report
        .findings
        .iter()
        .any(|f| f.severity == Severity::Critical);
    i32::from(critical)
}

/// The report for a terminal: each endpoint's TLS version, chain order and chain, the thumbprint
/// to configure and why IAM needs it, the findings with their fix.
pub fn render_text(report: &InspectReport, now: OffsetDateTime) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Issuer     {}", escape(&report.url));
    let _ = writeln!(
        out,
        "JWKS       {}",
        escape(
            report
                .jwks_uri
                .as_deref()
                .unwrap_or("(unknown: discovery failed)")
        )
    );
    for (index, endpoint) in report.endpoints.iter().enumerate() {
        let verdict = if endpoint.trusted {
            "trusted".to_string()
        } else if endpoint.chain.is_empty() {
            "no chain received".to_string()
        } else {
            "NOT TRUSTED".to_string()
        };
        let _ = writeln!(out, "\nEndpoint   {}  {verdict}", endpoint.address);
        if let Some(error) = &endpoint.error {
            let _ = writeln!(out, "  problem  {}", escape(error));
        }
        if !endpoint.chain.is_empty() {
            let tls = if endpoint.tls13_only {
                "TLS 1.3 only: refused a TLS 1.2 handshake, so IAM falls back to the thumbprint"
            } else {
                "TLS 1.2 (as IAM's certificate retrieval speaks it)"
            };
            let _ = writeln!(out, "  tls      {tls}");
            if let Some(order_break) = report.chain_order.get(index) {
                let order = match order_break {
                    Some(chain_break) => format!(
                        "NOT CONTIGUOUS: {chain_break}; STS fails on this chain (CHAIN_ORDER)"
                    ),
                    None if endpoint.chain.len() == 1 => {
                        "the host's certificate alone (well-formed)".to_string()
                    }
                    None => "in order: each certificate issued by the next, none repeated or extra"
                        .to_string(),
                };
                let _ = writeln!(out, "  order    {order}");
            }
        }
        let last = endpoint.chain.len().saturating_sub(1);
        for (index, cert) in endpoint.chain.iter().enumerate() {
            let role = match (index, index == last) {
                (0, true) => "leaf, top",
                (0, false) => "leaf",
                (_, true) => "top",
                _ => "intermediate",
            };
            let left = match cert.not_after {
                None => "dates unknown: the certificate cannot be parsed".to_string(),
                Some(not_after) if not_after <= now => {
                    format!(
                        "EXPIRED {} ago",
                        count(-days_left(not_after, now), "day", "days")
                    )
                }
                Some(not_after) => {
                    format!("{} left", count(days_left(not_after, now), "day", "days"))
                }
            };
            let date =
                |at: Option<OffsetDateTime>| at.map_or_else(|| "unknown".to_string(), rfc3339);
            let _ = writeln!(out, "  [{index}] {role}");
            let _ = writeln!(out, "      subject  {}", escape(&cert.subject));
            let _ = writeln!(out, "      issuer   {}", escape(&cert.issuer));
            let _ = writeln!(out, "      sha1     {}", cert.sha1);
            let _ = writeln!(
                out,
                "      valid    {} .. {} ({left})",
                date(cert.not_before),
                date(cert.not_after)
            );
        }
    }

    out.push('\n');
    let unverified = report
        .endpoints
        .iter()
        .any(|e| !e.trusted && !e.chain.is_empty());
    // The top of a chain out of order is never to be configured: STS fails on that chain anyway.
    let withheld = crate::fix::chain_order_tops(&report.findings, &report.url);
    let configurable: Vec<&str> = report
        .served_thumbprints
        .iter()
        .map(String::as_str)
        .filter(|t| !withheld.contains(t))
        .collect();
    match configurable.as_slice() {
        [] if withheld.is_empty() => {
            let _ = writeln!(
                out,
                "Thumbprint to configure in IAM: none (no address served a chain)"
            );
        }
        [] => {
            let _ = writeln!(
                out,
                "Thumbprint to configure in IAM: none until the issuer serves its chain in order"
            );
        }
        [one] => {
            let _ = writeln!(out, "Thumbprint to configure in IAM: {one}");
        }
        many => {
            let _ = writeln!(
                out,
                "Thumbprints to configure in IAM (addresses serve different chains; configure all): {}",
                many.join(" ")
            );
        }
    }
    if unverified {
        let _ = writeln!(
            out,
            "  WARNING: a served chain does not validate; do not configure its thumbprint until it does \
             (an unverified chain may be a man in the middle)."
        );
    }
    if !withheld.is_empty() {
        let _ = writeln!(
            out,
            "  WARNING: {} tops a served chain that is not contiguous (CHAIN_ORDER): STS fails on that chain \
             whatever the list holds; have the issuer serve its chain in order, and do not configure it.",
            withheld.join(" ")
        );
    }
    if !report.served_thumbprints.is_empty() {
        let why = if !report.thumbprint_enforced {
            "The chain anchors in a public root CA and every address takes TLS 1.2, so IAM verifies it without the thumbprint; configure it anyway.".to_string()
        } else if report.enforcement.enforced() {
            format!("IAM relies on the thumbprint: {}.", report.enforcement)
        } else {
            "IAM relies on the thumbprint.".to_string()
        };
        let _ = writeln!(out, "  {}", escape(&why));
    }

    out.push('\n');
    if report.findings.is_empty() {
        let _ = writeln!(out, "Findings   none");
    } else {
        let _ = writeln!(out, "Findings");
        for finding in &report.findings {
            let _ = writeln!(
                out,
                "  {:<8} {}  {}",
                finding.severity.as_str().to_uppercase(),
                finding.code,
                escape(&finding.message)
            );
            let context = FixContext {
                issuer: Some(&report.url),
                provider: None,
                clusters: &[],
                chain_untrusted: unverified,
                findings: &report.findings,
            };
            if let Some(fix) = manual_fix(finding, context) {
                let _ = writeln!(out, "           fix: {}", escape(&fix));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{ChainVerdict, EndpointProbe, HostProbe, ProbeIssue};
    use crate::report::CertificateInfo;
    use crate::report::FindingCode;
    use serde_json::json;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 10:00 UTC);
    const URL: &str = "https://oidc.example/id/X";

    fn cert(sha1: &str, subject: &str, not_after: OffsetDateTime) -> CertificateInfo {
        CertificateInfo {
            subject: subject.into(),
            issuer: "CN=Example Root".into(),
            sha1: sha1.into(),
            not_before: Some(datetime!(2026-01-01 0:00 UTC)),
            not_after: Some(not_after),
        }
    }

    fn probe(verdict: ChainVerdict, leaf_expiry: OffsetDateTime) -> IssuerProbe {
        IssuerProbe {
            issuer: URL.into(),
            jwks_uri: Some(format!("{URL}/keys")),
            hosts: vec![HostProbe {
                serves: vec![crate::report::Fetch::Discovery, crate::report::Fetch::Jwks],
                authority: "oidc.example:443".into(),
                endpoints: vec![EndpointProbe {
                    address: "192.0.2.10:443".parse().unwrap(),
                    chain: vec![
                        cert("aaaa", "CN=oidc.example", leaf_expiry),
                        cert(
                            "9e99a48a9960b14926bb7f3b02e22da2b0ab7280",
                            "CN=Example CA",
                            datetime!(2030-01-01 0:00 UTC),
                        ),
                    ],
                    verdict,
                    publicly_anchored: false,
                    contiguity: Ok(()),
                    tls13_only: false,
                    error: None,
                }],
                issues: vec![],
            }],
            jwks_keys: Some(1),
            issues: vec![],
        }
    }

    #[test]
    fn urls_get_https_and_bad_ones_are_usage_errors() {
        assert_eq!(issuer_url("oidc.example/id/X").unwrap(), URL);
        assert_eq!(issuer_url(" https://oidc.example/id/X ").unwrap(), URL);
        for bad in [
            "http://oidc.example",
            "https://",
            "https://a.example/?q=1",
            "ftp://x",
        ] {
            let err = issuer_url(bad).unwrap_err();
            assert!(matches!(err, InspectError::Usage(_)), "{bad}");
        }
    }

    #[test]
    fn a_bad_url_is_explained_in_the_words_typed() {
        let err = issuer_url("not a url").unwrap_err().to_string();
        assert_eq!(
            err,
            "\"not a url\" is not an https URL (a URL has no spaces): give the issuer URL, e.g. https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"
        );
        let err = issuer_url("http://oidc.example/id/X")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("\"http://oidc.example/id/X\" uses http: an issuer URL must use https"),
            "{err}"
        );
        for bad in ["https://", "https://[::1", "https://a b/c"] {
            let err = issuer_url(bad).unwrap_err().to_string();
            assert!(!err.contains("international"), "{bad}: {err}");
            assert!(err.contains("e.g. https://oidc.eks."), "{bad}: {err}");
        }
    }

    #[test]
    fn healthy_issuer_prints_the_top_thumbprint_and_exits_0() {
        let report = build_report(
            URL,
            &probe(ChainVerdict::Trusted, datetime!(2027-01-01 0:00 UTC)),
            30,
            NOW,
        );
        assert_eq!(exit_code(&report), 0);
        let text = render_text(&report, NOW);
        assert!(
            text.contains(
                "Thumbprint to configure in IAM: 9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
            ),
            "{text}"
        );
        assert!(
            text.contains("Endpoint   192.0.2.10:443  trusted"),
            "{text}"
        );
        assert!(text.contains("(39 days left)"), "{text}");
        assert!(text.contains("Findings   none"), "{text}");
        assert!(
            text.contains("  IAM relies on the thumbprint: the chain served at 192.0.2.10:443 does not anchor in a public root CA"),
            "{text}"
        );
    }

    #[test]
    fn json_has_the_provider_shape_without_iam_fields() {
        let report = build_report(
            URL,
            &probe(ChainVerdict::Trusted, datetime!(2027-01-01 0:00 UTC)),
            30,
            NOW,
        );
        let value = serde_json::to_value(&report).unwrap();
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "endpoints",
                "findings",
                "jwks_uri",
                "served_thumbprints",
                "thumbprint_enforced",
                "url"
            ]
        );
        assert_eq!(
            value["endpoints"][0]["top_thumbprint"],
            "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
        );
        assert_eq!(
            value["endpoints"][0]["chain"][0]["not_after"],
            "2027-01-01T00:00:00Z"
        );
        assert_eq!(
            value["served_thumbprints"],
            json!(["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])
        );
    }

    #[test]
    fn untrusted_chain_warns_and_exits_1() {
        let untrusted = ChainVerdict::Untrusted("unknown issuer".into());
        let report = build_report(
            URL,
            &probe(untrusted, datetime!(2027-01-01 0:00 UTC)),
            30,
            NOW,
        );
        assert_eq!(exit_code(&report), 1);
        let text = render_text(&report, NOW);
        assert!(text.contains("NOT TRUSTED"), "{text}");
        assert!(text.contains("do not configure its thumbprint"), "{text}");
        assert!(text.contains("CRITICAL CHAIN_UNTRUSTED"), "{text}");
        assert!(text.contains("fix: serve a chain"), "{text}");
    }

    #[test]
    fn each_address_shows_its_tls_version_and_chain_order_and_why_iam_relies_on_the_thumbprint() {
        let mut probe = probe(ChainVerdict::Trusted, datetime!(2027-01-01 0:00 UTC));
        let first = probe.hosts[0].endpoints[0].clone();
        probe.hosts[0].endpoints[0].publicly_anchored = true;
        probe.hosts[0].endpoints.push(EndpointProbe {
            address: "192.0.2.11:443".parse().unwrap(),
            publicly_anchored: true,
            tls13_only: true,
            contiguity: Err(crate::probe::ChainBreak {
                index: 1,
                reason: crate::probe::BreakReason::Extra,
            }),
            ..first
        });
        let report = build_report(URL, &probe, 30, NOW);
        assert!(report.thumbprint_enforced);
        assert_eq!(exit_code(&report), 1);
        let text = render_text(&report, NOW);
        let second = text
            .find("Endpoint   192.0.2.11:443")
            .expect("second endpoint");
        let (first, second) = text.split_at(second);
        assert!(
            first.contains("  tls      TLS 1.2 (as IAM's certificate retrieval speaks it)"),
            "{text}"
        );
        assert!(
            first.contains(
                "  order    in order: each certificate issued by the next, none repeated or extra"
            ),
            "{text}"
        );
        assert!(
            second.contains("  tls      TLS 1.3 only: refused a TLS 1.2 handshake"),
            "{text}"
        );
        assert!(
            second.contains("  order    NOT CONTIGUOUS: served certificate #2 is not on the path"),
            "{text}"
        );
        assert!(
            text.contains("  IAM relies on the thumbprint: 192.0.2.11:443 accepts only TLS 1.3"),
            "{text}"
        );
        assert!(
            text.contains(
                "Thumbprint to configure in IAM: none until the issuer serves its chain in order"
            ),
            "{text}"
        );
        assert!(
            text.contains("  WARNING: 9e99a48a9960b14926bb7f3b02e22da2b0ab7280 tops a served chain that is not contiguous (CHAIN_ORDER)"),
            "{text}"
        );
        assert!(text.contains("CRITICAL CHAIN_ORDER"), "{text}");
        assert!(text.contains("fix: on the issuer's server, serve the chain in order"));
    }

    #[test]
    fn expiring_leaf_is_a_warning_only() {
        let report = build_report(
            URL,
            &probe(ChainVerdict::Trusted, NOW + time::Duration::days(10)),
            30,
            NOW,
        );
        assert_eq!(exit_code(&report), 0);
        assert_eq!(report.findings[0].code, FindingCode::CertExpiring);
        assert!(render_text(&report, NOW).contains("WARNING  CERT_EXPIRING"));
    }

    #[test]
    fn failed_discovery_has_no_thumbprint() {
        let mut failed = IssuerProbe {
            issuer: URL.into(),
            ..IssuerProbe::default()
        };
        failed.issues.push(ProbeIssue {
            failure: crate::probe::ProbeFailure::DiscoveryInvalid {
                problem: crate::probe::DiscoveryProblem::IssuerMismatch,
            },
            message: "HTTP 404".into(),
            details: json!({}),
        });
        let report = build_report(URL, &failed, 30, NOW);
        assert_eq!(exit_code(&report), 1);
        let text = render_text(&report, NOW);
        assert!(text.contains("none (no address served a chain)"), "{text}");
        assert!(text.contains("(unknown: discovery failed)"), "{text}");
        assert!(
            text.contains("/id/X/.well-known/openid-configuration directly"),
            "{text}"
        );
    }
}
