//! Human rendering of a report: the terminal table and the manual fix for each finding.
//!
//! Pure functions of the report (and `now` for "days left"), shared by the CLI and the e-mail text.

use std::fmt::Write as _;

use time::OffsetDateTime;

use crate::fix;
use crate::report::{
    days_left, escape, nearest_expiry, rfc3339, ProviderReport, RemediationOutcome, Report,
    Severity,
};

fn provider_status(report: &Report, provider: &ProviderReport) -> &'static str {
    match report
        .findings
        .iter()
        .filter(|f| f.resource == provider.arn)
        .map(|f| f.severity)
        .max()
    {
        Some(Severity::Critical) => "CRITICAL",
        Some(Severity::Warning) => "WARNING",
        _ => "OK",
    }
}

fn short(thumbprint: &str) -> &str {
    thumbprint.get(..8).unwrap_or(thumbprint)
}

/// The report as a person reads it in a terminal: one line per provider, then the clusters, then
/// each finding with its manual fix.
pub fn table(report: &Report, now: OffsetDateTime) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "thumbprint-guard sweep of account {} at {} (remediation: {})",
        report.account_id,
        rfc3339(report.generated_at),
        report.remediation_mode
    );
    let _ = writeln!(out);
    if report.providers.is_empty() {
        let _ = writeln!(out, "No IAM OIDC providers in this account.");
    } else {
        let _ = writeln!(
            out,
            "{:<9} {:<58} {:<20} {:<20} NEAREST EXPIRY",
            "STATUS", "PROVIDER", "CONFIGURED", "SERVED"
        );
        for p in &report.providers {
            let list = |l: &[String]| {
                if l.is_empty() {
                    "-".to_string()
                } else {
                    l.iter().map(|t| short(t)).collect::<Vec<_>>().join(",")
                }
            };
            let expiry = nearest_expiry(p)
                .map(|at| format!("{} ({}d)", at.date(), days_left(at, now)))
                .unwrap_or_else(|| "-".to_string());
            let remediation = match &p.remediation {
                Some(r) if r.outcome == RemediationOutcome::Applied => {
                    format!("  [added {}]", r.added.join(","))
                }
                Some(r) if r.outcome == RemediationOutcome::Planned => {
                    format!("  [would add {}]", r.added.join(","))
                }
                Some(r) if r.outcome == RemediationOutcome::Failed => {
                    "  [remediation failed]".to_string()
                }
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "{:<9} {:<58} {:<20} {:<20} {}{}",
                provider_status(report, p),
                escape(p.url.trim_start_matches("https://")),
                list(&p.configured_thumbprints),
                list(&p.served_thumbprints),
                expiry,
                remediation
            );
        }
    }
    if !report.clusters.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{:<24} {:<16} PROVIDER", "CLUSTER", "REGION");
        for c in &report.clusters {
            let _ = writeln!(
                out,
                "{:<24} {:<16} {}",
                c.name,
                c.region,
                c.provider_arn.as_deref().unwrap_or("(none)")
            );
        }
    }
    let _ = writeln!(out);
    if report.findings.is_empty() {
        let _ = writeln!(
            out,
            "No findings: every provider matches what its issuer serves."
        );
    } else {
        let _ = writeln!(out, "Findings:");
        for f in &report.findings {
            let _ = writeln!(
                out,
                "  {:<8} {}  {}",
                f.severity.as_str().to_uppercase(),
                f.code,
                escape(&f.resource)
            );
            let _ = writeln!(out, "           {}", escape(&f.message));
            if let Some(fix) = fix::for_report(f, report) {
                let _ = writeln!(out, "           fix: {}", escape(&fix));
            }
        }
    }
    let s = &report.summary;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} providers, {} clusters: {} critical, {} warning, {} info; {} thumbprints added",
        s.providers, s.clusters, s.critical, s.warning, s.info, s.thumbprints_added
    );
    out
}

/// An organization report for a terminal: one summary line per account, then each account's
/// table (findings grouped by account), then the organization-level findings.
pub fn organization_table(
    report: &crate::organization::OrganizationReport,
    now: OffsetDateTime,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "thumbprint-guard sweep of organization {} at {}",
        report.organization_id.as_deref().unwrap_or("(none)"),
        rfc3339(report.generated_at)
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<14} {:>9} {:>8} {:>8} {:>8} {:>6}",
        "ACCOUNT", "PROVIDERS", "CRITICAL", "WARNING", "INFO", "ADDED"
    );
    for account in &report.accounts {
        let s = &account.summary;
        let _ = writeln!(
            out,
            "{:<14} {:>9} {:>8} {:>8} {:>8} {:>6}",
            account.account_id, s.providers, s.critical, s.warning, s.info, s.thumbprints_added
        );
    }
    for finding in &report.findings {
        let _ = writeln!(out, "{:<14} UNREACHABLE  {}", "-", escape(&finding.message));
    }
    for account in &report.accounts {
        let _ = writeln!(out);
        let _ = writeln!(out, "=== account {} ===", account.account_id);
        out.push_str(&table(account, now));
    }
    let s = &report.summary;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} accounts ({} unreachable), {} providers, {} clusters: {} critical, {} warning, {} info; {} thumbprints added",
        s.accounts, s.accounts_unreachable, s.providers, s.clusters, s.critical, s.warning, s.info, s.thumbprints_added
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{provider, report};
    use crate::report::{Finding, FindingCode};
    use time::macros::datetime;

    #[test]
    fn table_names_status_thumbprints_and_fix() {
        let p = provider(&["1111111111"], &["2222222222"]);
        let f = Finding::new(
            FindingCode::ThumbprintMismatch,
            p.arn.clone(),
            "served 2222 is not configured",
        )
        .with_details(serde_json::json!({"thumbprint": "2222222222"}));
        let r = report(p, vec![f]);
        let text = table(&r, datetime!(2026-11-22 10:00:00 UTC));
        assert!(
            text.contains("CRITICAL  oidc.eks.us-east-1.amazonaws.com/id/A"),
            "{text}"
        );
        assert!(text.contains("11111111"), "{text}");
        assert!(
            text.contains("fix: aws iam update-open-id-connect-provider-thumbprint"),
            "{text}"
        );
        assert!(
            text.contains("1 providers, 0 clusters: 1 critical"),
            "{text}"
        );
    }
}
