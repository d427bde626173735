//! One account's report as a table.

use comfy_table::{Cell, Color, Table};
use time::OffsetDateTime;

use super::cells::Terminal;
use super::cells::{
    finding_text, new_table, paragraph, severity_of, short, status_cell, thumbprint_lines,
    url_text, with_url_column,
};
use crate::fix;
use crate::report::count;
use crate::report::{
    days_left, escape, nearest_expiry, rfc3339, ClusterReport, ProviderReport, RemediationOutcome,
    Report, Severity,
};

fn remediation_text(provider: &ProviderReport) -> Option<String> {
    let r = provider.remediation.as_ref()?;
    let added = || {
        r.added
            .iter()
            .map(|t| short(t))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match r.outcome {
        RemediationOutcome::Applied => Some(format!("added {}", added())),
        RemediationOutcome::Planned => Some(format!("would add {}", added())),
        RemediationOutcome::Failed => Some("remediation failed".to_string()),
        RemediationOutcome::Skipped => None,
    }
}

/// Providers, most severe first, then by URL.
fn providers_table(
    report: &Report,
    now: OffsetDateTime,
    terminal: Terminal,
    split_urls: bool,
) -> Table {
    let mut providers: Vec<(Option<Severity>, &ProviderReport)> = report
        .providers
        .iter()
        .map(|p| (severity_of(&report.findings, &p.arn), p))
        .collect();
    providers.sort_by(|(a, pa), (b, pb)| b.cmp(a).then_with(|| pa.url.cmp(&pb.url)));
    let remediation = providers.iter().any(|(_, p)| remediation_text(p).is_some());
    let mut header = vec!["STATUS", "PROVIDER", "IN IAM", "SERVED", "EXPIRES"];
    if remediation {
        header.push("REMEDIATION");
    }
    let mut table = new_table(terminal, &header);
    for (severity, p) in providers {
        let expiry = nearest_expiry(p)
            .map(|at| format!("{} ({}d)", at.date(), days_left(at, now)))
            .unwrap_or_else(|| "-".to_string());
        let mut row = vec![
            status_cell(severity),
            Cell::new(url_text(&p.url, split_urls)),
            Cell::new(thumbprint_lines(&p.configured_thumbprints)),
            Cell::new(thumbprint_lines(&p.served_thumbprints)),
            Cell::new(expiry),
        ];
        if remediation {
            row.push(Cell::new(remediation_text(p).unwrap_or_default()));
        }
        table.add_row(row);
    }
    table
}

/// The providers' table for `terminal` (see [`with_url_column`]).
fn providers_text(report: &Report, now: OffsetDateTime, terminal: Terminal) -> String {
    with_url_column(terminal, |terminal, split| {
        providers_table(report, now, terminal, split)
    })
}

/// Clusters without an IAM provider first (a warning), then by name and region.
fn clusters_table(clusters: &[ClusterReport], terminal: Terminal, split_urls: bool) -> Table {
    let mut sorted: Vec<&ClusterReport> = clusters.iter().collect();
    sorted.sort_by_key(|c| (c.provider_arn.is_some(), &c.name, &c.region));
    let mut table = new_table(terminal, &["CLUSTER", "REGION", "IAM PROVIDER", "ISSUER"]);
    for c in sorted {
        let issuer = c
            .issuer
            .as_deref()
            .map(|i| url_text(i, split_urls))
            .unwrap_or_else(|| "(none)".to_string());
        let provider = match &c.provider_arn {
            Some(_) => Cell::new("yes").fg(Color::Green),
            None => Cell::new("MISSING").fg(Color::Yellow),
        };
        table.add_row(vec![
            Cell::new(escape(&c.name)),
            Cell::new(&c.region),
            provider,
            Cell::new(issuer),
        ]);
    }
    table
}

/// The clusters' table for `terminal` (see [`with_url_column`]).
fn clusters_text(clusters: &[ClusterReport], terminal: Terminal) -> String {
    with_url_column(terminal, |terminal, split| {
        clusters_table(clusters, terminal, split)
    })
}

/// `3 providers, 1 cluster: 1 critical, 2 warnings, 0 info; 1 thumbprint added`: the counts of
/// an account's or an organization's summary line, with their nouns in the right number.
pub(super) fn counts_line(
    providers: usize,
    clusters: usize,
    [critical, warning, info]: [usize; 3],
    added: usize,
) -> String {
    format!(
        "{}, {}: {critical} critical, {}, {info} info; {} added",
        count(providers, "provider", "providers"),
        count(clusters, "cluster", "clusters"),
        count(warning, "warning", "warnings"),
        count(added, "thumbprint", "thumbprints"),
    )
}

/// The summary line: counts with their nouns in the right number.
fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    let mut line = counts_line(
        s.providers,
        s.clusters,
        [s.critical, s.warning, s.info],
        s.thumbprints_added,
    );
    if s.muted > 0 {
        line.push_str(&format!(" ({} muted)", s.muted));
    }
    line
}

/// The report as a person reads it in `terminal`: one row per provider (most severe first), then
/// the clusters, then each finding with its manual fix, then the counts.
pub(super) fn table(report: &Report, now: OffsetDateTime, terminal: Terminal) -> String {
    let title = format!(
        "thumbprint-guard sweep of account {} at {} (remediation: {})",
        report.account_id,
        rfc3339(report.generated_at),
        report.remediation_mode
    );
    let mut out = paragraph(&title, terminal);
    out.push('\n');
    if report.providers.is_empty() {
        out.push_str("No IAM OIDC providers in this account.\n");
    } else {
        out.push_str(&providers_text(report, now, terminal));
    }
    if !report.clusters.is_empty() {
        out.push('\n');
        out.push_str(&clusters_text(&report.clusters, terminal));
    }
    out.push('\n');
    if report.findings.is_empty() {
        out.push_str("No findings: every provider matches what its issuer serves.\n");
    } else {
        out.push_str("Findings:\n");
        for f in &report.findings {
            out.push_str(&finding_text(f, fix::for_report(f, report), terminal));
        }
    }
    out.push('\n');
    out.push_str(&paragraph(&summary_line(report), terminal));
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
        let text = table(&r, datetime!(2026-11-22 10:00:00 UTC), Terminal::default());
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
            text.contains(
                "1 provider, 0 clusters: 1 critical, 0 warnings, 0 info; 0 thumbprints added"
            ),
            "{text}"
        );
    }

    #[test]
    fn counts_agree_with_their_number() {
        assert_eq!(count(0, "cluster", "clusters"), "0 clusters");
        assert_eq!(count(1, "cluster", "clusters"), "1 cluster");
        assert_eq!(count(2usize, "cluster", "clusters"), "2 clusters");
        assert_eq!(count(-1i64, "day", "days"), "-1 day");
        let mut r = report(provider(&["aa"], &["aa"]), vec![]);
        r.summary.warning = 1;
        r.summary.thumbprints_added = 2;
        r.summary.muted = 1;
        assert_eq!(
            summary_line(&r),
            "1 provider, 0 clusters: 0 critical, 1 warning, 0 info; 2 thumbprints added (1 muted)"
        );
    }
}
