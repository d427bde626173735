//! An organization's report as a table: its accounts, the unreachable ones, then each account.

use comfy_table::Cell;
use time::OffsetDateTime;

use super::account;
use super::cells::Terminal;
use super::cells::{finding_text, finish, new_table, status_cell};
use crate::fix;
use crate::report::count;
use crate::report::{rfc3339, OrganizationReport, Report};

/// An organization report for `terminal`: one line per account (most severe first), the accounts
/// that could not be swept with their fix, then each account's table, then the counts.
pub(super) fn table(
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
    out.push_str(&accounts_table(&accounts, terminal));
    out.push_str(&unreachable(report, terminal));
    for account in &accounts {
        out.push_str(&format!("\n=== account {} ===\n", account.account_id));
        out.push_str(&account::table(account, now, terminal));
    }
    let s = &report.summary;
    out.push_str(&format!(
        "\n{} ({} unreachable), {}\n",
        count(s.accounts, "account", "accounts"),
        s.accounts_unreachable,
        account::counts_line(
            s.providers,
            s.clusters,
            [s.critical, s.warning, s.info],
            s.thumbprints_added,
        ),
    ));
    out
}

/// One line per account: its status and its counts.
fn accounts_table(accounts: &[&Report], terminal: Terminal) -> String {
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
    for account in accounts {
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
    finish(table)
}

/// The accounts that could not be swept, each with its fix; empty when every account was swept.
fn unreachable(report: &OrganizationReport, terminal: Terminal) -> String {
    let mut out = String::new();
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
    out
}
