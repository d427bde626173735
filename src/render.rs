//! Human rendering of a report: the terminal table and the manual fix for each finding.
//!
//! Pure functions of the report, `now` (for "days left") and the [`Terminal`] it goes to. Layout
//! is comfy-table's: without a width (a pipe, a file) columns are as wide as their content; at a
//! width, a URL that does not fit goes on two lines (host, then path), other cells wrap at spaces,
//! and no column is cut inside a word. Rows go by severity, then name. A finding's resource ARN
//! and its fix command are never wrapped: a person copies them as one line.

pub use crate::report::count;
use comfy_table::presets::NOTHING;
use comfy_table::{Attribute, Cell, Color, ColumnConstraint, ContentArrangement, Table, Width};
use time::OffsetDateTime;

use crate::fix;
use crate::organization::OrganizationReport;
use crate::report::{
    days_left, escape, nearest_expiry, rfc3339, ClusterReport, Finding, ProviderReport,
    RemediationOutcome, Report, Severity,
};

/// What the table is rendered for: the terminal's width and whether it shows colour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Terminal {
    /// Columns available; `None` (not a terminal): every line as long as its content.
    pub width: Option<u16>,
    /// Colour the severities (only for a terminal that wants it: never with `NO_COLOR`).
    pub colour: bool,
}

/// The highest severity among the unmuted findings about `resource`.
fn severity_of(findings: &[Finding], resource: &str) -> Option<Severity> {
    findings
        .iter()
        .filter(|f| f.resource == resource && f.counts())
        .map(|f| f.severity)
        .max()
}

fn status_label(severity: Option<Severity>) -> &'static str {
    match severity {
        Some(Severity::Critical) => "CRITICAL",
        Some(Severity::Warning) => "WARNING",
        Some(Severity::Info) => "INFO",
        None => "OK",
    }
}

/// A severity cell: the label, coloured when the terminal shows colour (comfy-table styles only
/// tables that enforce styling, see [`new_table`]).
fn status_cell(severity: Option<Severity>) -> Cell {
    let cell = Cell::new(status_label(severity)).fg(match severity {
        Some(Severity::Critical) => Color::Red,
        Some(Severity::Warning) => Color::Yellow,
        Some(Severity::Info) => Color::Cyan,
        None => Color::Green,
    });
    if severity == Some(Severity::Critical) {
        cell.add_attribute(Attribute::Bold)
    } else {
        cell
    }
}

/// A table without borders, columns two spaces apart, laid out for `terminal`.
fn new_table(terminal: Terminal, header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_style(NOTHING).force_no_tty();
    table.style_text_only();
    if terminal.colour {
        table.enforce_styling();
    }
    match terminal.width {
        Some(width) => {
            table
                .set_width(width)
                .set_content_arrangement(ContentArrangement::Dynamic);
        }
        None => {
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    if !header.is_empty() {
        table.set_header(header.iter().copied());
    }
    table
}

/// The rendered table: columns two spaces apart (none after the last), no column narrower than
/// its longest word (so a thumbprint, a date or a URL's host is never cut: past that, the table
/// is wider than the terminal, which wraps it), trailing spaces trimmed, one `\n` each.
fn finish(mut table: Table) -> String {
    let last = table.column_count().saturating_sub(1);
    let longest_words: Vec<usize> = (0..=last)
        .map(|index| {
            table
                .column_cells_with_header_iter(index)
                .flatten()
                .flat_map(|cell| {
                    cell.content()
                        .split_whitespace()
                        .map(|word| word.chars().count())
                        .collect::<Vec<_>>()
                })
                .max()
                .unwrap_or(0)
        })
        .collect();
    for column in table.column_iter_mut() {
        let padding = if column.index == last { 0 } else { 2 };
        column.set_padding((0, padding));
        let least = longest_words.get(column.index).copied().unwrap_or(0) + usize::from(padding);
        column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(
            u16::try_from(least).unwrap_or(u16::MAX),
        )));
    }
    trimmed(&table)
}

fn trimmed(table: &Table) -> String {
    let mut out = table.trim_fmt();
    out.push('\n');
    out
}

/// A URL without `https://`, escaped; `split` puts its path on a line of its own, under the host.
fn url_text(url: &str, split: bool) -> String {
    let url = escape(url.trim_start_matches("https://")).into_owned();
    match url.find('/') {
        Some(at) if split && at > 0 => format!("{}\n{}", &url[..at], &url[at..]),
        _ => url,
    }
}

/// A table with a URL column, for `terminal`: every URL on one line when the table fits the
/// width as wide as its content, else each URL's path under its host. `build(split)` makes the
/// table.
fn with_url_column(terminal: Terminal, build: impl Fn(Terminal, bool) -> Table) -> String {
    let Some(width) = terminal.width else {
        return finish(build(terminal, false));
    };
    let plain = Terminal {
        width: None,
        colour: false,
    };
    let fits = finish(build(plain, false))
        .lines()
        .all(|line| line.chars().count() <= usize::from(width));
    finish(build(terminal, !fits))
}

fn short(thumbprint: &str) -> &str {
    thumbprint.get(..8).unwrap_or(thumbprint)
}

/// Thumbprints, eight hex digits each, one per line; `-` for none.
fn thumbprint_lines(list: &[String]) -> String {
    if list.is_empty() {
        "-".to_string()
    } else {
        list.iter().map(|t| short(t)).collect::<Vec<_>>().join("\n")
    }
}

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

/// One finding: severity, code and resource on its first line, the message below it wrapped to
/// the terminal, then the fix. The resource ARN and the fix stay whole (a person copies them).
fn finding_text(finding: &Finding, fix: Option<String>, terminal: Terminal) -> String {
    let mut label = Table::new();
    label.load_style(NOTHING).force_no_tty();
    label.style_text_only();
    if terminal.colour {
        label.enforce_styling();
    }
    label.add_row(vec![status_cell(Some(finding.severity))]);
    if let Some(column) = label.column_mut(0) {
        column.set_padding((0, 0));
        column.set_constraint(ColumnConstraint::Absolute(Width::Fixed(8)));
    }
    let muted = if finding.muted { "  (muted)" } else { "" };
    let mut out = format!(
        "  {}  {}  {}{muted}\n",
        label.to_string().trim_end_matches('\n'),
        finding.code,
        escape(&finding.resource)
    );
    for line in paragraph(
        &escape(&finding.message),
        indented(terminal, MESSAGE_INDENT),
    )
    .lines()
    {
        out.push_str(&format!(
            "{:width$}{line}\n",
            "",
            width = usize::from(MESSAGE_INDENT)
        ));
    }
    if let Some(fix) = fix {
        out.push_str(&format!(
            "{:width$}fix: {}\n",
            "",
            escape(&fix),
            width = usize::from(MESSAGE_INDENT)
        ));
    }
    out
}

/// `text` wrapped at word boundaries to the terminal's width (comfy-table's wrapping, one cell).
fn paragraph(text: &str, terminal: Terminal) -> String {
    let mut table = new_table(terminal, &[]);
    table.add_row(vec![Cell::new(text)]);
    if let Some(column) = table.column_mut(0) {
        column.set_padding((0, 0));
    }
    trimmed(&table)
}

/// Where a finding's message and fix start: under its code.
const MESSAGE_INDENT: u16 = 12;

/// The terminal's view of `width`: the columns left after an indent of `indent` (at least 20).
fn indented(terminal: Terminal, indent: u16) -> Terminal {
    Terminal {
        width: terminal.width.map(|w| w.saturating_sub(indent).max(20)),
        ..terminal
    }
}

/// The summary line: counts with their nouns in the right number.
fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    let mut line = format!(
        "{}, {}: {} critical, {}, {} info; {} added",
        count(s.providers, "provider", "providers"),
        count(s.clusters, "cluster", "clusters"),
        s.critical,
        count(s.warning, "warning", "warnings"),
        s.info,
        count(s.thumbprints_added, "thumbprint", "thumbprints"),
    );
    if s.muted > 0 {
        line.push_str(&format!(" ({} muted)", s.muted));
    }
    line
}

/// The report as a person reads it, as wide as its content and without colour (files, pipes,
/// e-mail): see [`table_for`].
pub fn table(report: &Report, now: OffsetDateTime) -> String {
    table_for(report, now, Terminal::default())
}

/// The report as a person reads it in `terminal`: one row per provider (most severe first), then
/// the clusters, then each finding with its manual fix, then the counts.
pub fn table_for(report: &Report, now: OffsetDateTime, terminal: Terminal) -> String {
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

/// An organization report for a terminal: see [`organization_table_for`].
pub fn organization_table(report: &OrganizationReport, now: OffsetDateTime) -> String {
    organization_table_for(report, now, Terminal::default())
}

/// An organization report for `terminal`: one line per account (most severe first), the accounts
/// that could not be swept with their fix, then each account's table, then the counts.
pub fn organization_table_for(
    report: &OrganizationReport,
    now: OffsetDateTime,
    terminal: Terminal,
) -> String {
    let mut out = format!(
        "thumbprint-guard sweep of organization {} at {}\n\n",
        report.organization_id.as_deref().unwrap_or("(none)"),
        rfc3339(report.generated_at)
    );
    let mut accounts: Vec<&Report> = report.accounts.iter().collect();
    accounts.sort_by(|a, b| {
        b.highest_severity()
            .cmp(&a.highest_severity())
            .then_with(|| a.account_id.cmp(&b.account_id))
    });
    let mut table = new_table(
        terminal,
        &[
            "STATUS",
            "ACCOUNT",
            "PROVIDERS",
            "CRITICAL",
            "WARNING",
            "INFO",
            "ADDED",
        ],
    );
    for account in &accounts {
        let s = &account.summary;
        table.add_row(vec![
            status_cell(account.highest_severity()),
            Cell::new(&account.account_id),
            Cell::new(s.providers),
            Cell::new(s.critical),
            Cell::new(s.warning),
            Cell::new(s.info),
            Cell::new(s.thumbprints_added),
        ]);
    }
    out.push_str(&finish(table));
    if !report.findings.is_empty() {
        out.push_str(&format!(
            "\n{}:\n",
            if report.findings.len() == 1 {
                "Unreachable account"
            } else {
                "Unreachable accounts"
            }
        ));
        for f in &report.findings {
            let fix = fix::manual_fix(
                f,
                fix::FixContext {
                    issuer: None,
                    provider: None,
                    clusters: &[],
                    chain_untrusted: false,
                    findings: &report.findings,
                },
            );
            out.push_str(&finding_text(f, fix, terminal));
        }
    }
    for account in &accounts {
        out.push_str(&format!("\n=== account {} ===\n", account.account_id));
        out.push_str(&table_for(account, now, terminal));
    }
    let s = &report.summary;
    out.push_str(&format!(
        "\n{} ({} unreachable), {}, {}: {} critical, {}, {} info; {} added\n",
        count(s.accounts, "account", "accounts"),
        s.accounts_unreachable,
        count(s.providers, "provider", "providers"),
        count(s.clusters, "cluster", "clusters"),
        s.critical,
        count(s.warning, "warning", "warnings"),
        s.info,
        count(s.thumbprints_added, "thumbprint", "thumbprints"),
    ));
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
