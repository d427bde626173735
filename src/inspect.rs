//! `thumbprint-guard inspect URL`: probe one issuer without AWS and render the result.
//!
//! The same probe and assessment as a sweep, for one issuer URL, with no IAM provider to compare
//! against: it shows what each address of the JWKS host serves and which thumbprint IAM needs.
//! [`run`] does the I/O; [`build_report`], [`render_text`] and [`exit_code`] are pure.
//!
//! # Exit codes (for the CLI)
//! `run` returns `Ok(0)` when no finding is critical and `Ok(1)` otherwise. A bad URL or a bad
//! configuration is an `Err` holding an [`InspectError`]; [`InspectError::exit_code_of`] maps any
//! error `run` returns to the process exit code (2 for those, 3 for anything else).

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use url::Url;

use crate::assess::chain::issuer_findings;
use crate::config::{Config, ConfigError};
use crate::probe::{
    probe_issuer, served_thumbprints, thumbprint_enforced, HostCache, IssuerProbe, ProbeContext,
};
use crate::report::{sort_findings, Endpoint, Finding, FindingCode, Severity};

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

    /// The exit code for an error returned by [`run`]: 2 when it is an [`InspectError`], else 3.
    pub fn exit_code_of(error: &anyhow::Error) -> i32 {
        if error.downcast_ref::<InspectError>().is_some() {
            Self::EXIT_CODE
        } else {
            3
        }
    }
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
    /// True when the served chain does not anchor in Mozilla's roots, so IAM relies on the thumbprint.
    pub thumbprint_enforced: bool,
    /// Findings about the issuer, most severe first.
    pub findings: Vec<Finding>,
}

/// The issuer URL to probe: `https://` is added when the argument has no scheme (IAM shows URLs
/// without it); any other scheme, no host, a query or a fragment is a usage error.
pub fn issuer_url(argument: &str) -> Result<String, InspectError> {
    let argument = argument.trim();
    let url = if argument.contains("://") {
        argument.to_string()
    } else {
        format!("https://{argument}")
    };
    let parsed = Url::parse(&url)
        .map_err(|e| InspectError::Usage(format!("'{argument}' is not a URL: {e}")))?;
    if parsed.scheme() != "https" {
        return Err(InspectError::Usage(format!(
            "the issuer URL must use https; got '{argument}'"
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(InspectError::Usage(format!("'{argument}' has no host")));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(InspectError::Usage(format!(
            "an issuer URL has no query or fragment; got '{argument}'"
        )));
    }
    Ok(url)
}

/// Probes `url` and prints the result (text, or JSON with `json`); returns the exit code.
pub async fn run(config: &Config, url: &str, json: bool) -> anyhow::Result<i32> {
    let issuer = issuer_url(url)?;
    let ctx = ProbeContext::new(config).map_err(InspectError::Config)?;
    let probe = probe_issuer(&ctx, &issuer, &HostCache::new()).await;
    let now = OffsetDateTime::now_utc();
    let report = build_report(&issuer, &probe, config.expiry_warning_days, now);
    let output = if json {
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        render_text(&report, now)
    };
    std::io::stdout()
        .lock()
        .write_all(output.as_bytes())
        .context("writing the result to stdout")?;
    Ok(exit_code(&report))
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
    InspectReport {
        url: url.to_string(),
        jwks_uri: probe.jwks_uri.clone(),
        endpoints: probe.report_endpoints(),
        served_thumbprints: served_thumbprints(probe),
        thumbprint_enforced: thumbprint_enforced(probe),
        findings,
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

fn rfc3339(t: OffsetDateTime) -> String {
    crate::report::whole_seconds(t)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// The report for a terminal: each endpoint's chain, the thumbprint to configure, the findings
/// with their fix.
pub fn render_text(report: &InspectReport, now: OffsetDateTime) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Issuer     {}", report.url);
    let _ = writeln!(
        out,
        "JWKS       {}",
        report
            .jwks_uri
            .as_deref()
            .unwrap_or("(unknown: discovery failed)")
    );
    for endpoint in &report.endpoints {
        let verdict = if endpoint.trusted {
            "trusted".to_string()
        } else if endpoint.chain.is_empty() {
            "no chain received".to_string()
        } else {
            "NOT TRUSTED".to_string()
        };
        let _ = writeln!(out, "\nEndpoint   {}  {verdict}", endpoint.address);
        if let Some(error) = &endpoint.error {
            let _ = writeln!(out, "  problem  {error}");
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
                        "EXPIRED {} day(s) ago",
                        -crate::render::days_left(not_after, now)
                    )
                }
                Some(not_after) => {
                    format!("{} day(s) left", crate::render::days_left(not_after, now))
                }
            };
            let date =
                |at: Option<OffsetDateTime>| at.map_or_else(|| "unknown".to_string(), rfc3339);
            let _ = writeln!(out, "  [{index}] {role}");
            let _ = writeln!(out, "      subject  {}", cert.subject);
            let _ = writeln!(out, "      issuer   {}", cert.issuer);
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
    match report.served_thumbprints.as_slice() {
        [] => {
            let _ = writeln!(
                out,
                "Thumbprint to configure in IAM: none (no address served a chain)"
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
    if !report.served_thumbprints.is_empty() {
        let why = if report.thumbprint_enforced {
            "IAM relies on it: the chain does not anchor in a public root CA"
        } else {
            "the chain anchors in a public root CA, so IAM verifies it without the thumbprint; configure it anyway"
        };
        let _ = writeln!(out, "  ({why})");
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
                finding.message
            );
            if let Some(fix) = fix(finding, &report.url) {
                let _ = writeln!(out, "           fix: {fix}");
            }
        }
    }
    out
}

/// The fix for a finding `inspect` can produce (there is no IAM provider in this context).
fn fix(finding: &Finding, url: &str) -> Option<String> {
    let issuer = url.trim_end_matches('/');
    Some(match finding.code {
        FindingCode::ChainUntrusted => "serve a chain that validates for the host name: the leaf must name the host \
            and the served intermediates must lead to a trusted root; for a private CA add its root to \
            EXTRA_TRUST_ANCHORS_PEM"
            .to_string(),
        FindingCode::CertExpired => "renew the expired certificate, then run inspect again and add the new \
            thumbprint to the provider (keep the old one until every address serves the new chain)"
            .to_string(),
        FindingCode::CertExpiring => "renew it before it expires; once the new chain is served, add its \
            thumbprint to the provider before removing the old one (IAM keeps up to 5)"
            .to_string(),
        FindingCode::IssuerUnreachable => "check DNS, routing and firewalls between here and the host, and that it \
            serves HTTPS on that port; raise PROBE_TIMEOUT_SECS if it is only slow"
            .to_string(),
        FindingCode::DiscoveryInvalid if finding.details["cause"] == "certificate_rejected" => {
            "fix the served chain first (see the chain finding); discovery is checked once it validates"
                .to_string()
        }
        FindingCode::DiscoveryInvalid => format!(
            "serve {issuer}/.well-known/openid-configuration directly (HTTP 200, no redirect, JSON under 64 KiB) \
             with \"issuer\" exactly \"{url}\" and an https \"jwks_uri\""
        ),
        FindingCode::JwksInvalid => "serve the JWKS at jwks_uri (HTTP 200, JSON under 64 KiB) with at least one \
            signing key: RSA (n, e), EC (crv, x, y) or OKP (crv, x), with \"use\" absent or \"sig\""
            .to_string(),
        FindingCode::AddressRefused => "the host resolves to a loopback, private, link-local or metadata address: \
            fix its DNS, or set ALLOW_PRIVATE_ADDRESSES=true for a genuinely private issuer (link-local and \
            instance-metadata addresses are never probed)"
            .to_string(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{ChainVerdict, EndpointProbe, HostProbe, ProbeIssue};
    use crate::report::CertificateInfo;
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
            let any = anyhow::Error::from(err);
            assert_eq!(InspectError::exit_code_of(&any), 2);
        }
        assert_eq!(InspectError::exit_code_of(&anyhow::anyhow!("io")), 3);
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
        assert!(text.contains("(39 day(s) left)"), "{text}");
        assert!(text.contains("Findings   none"), "{text}");
        assert!(text.contains("IAM relies on it"), "{text}");
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
