//! Organization mode on SNS: one message per run covering every account, split into parts by
//! account when large (pure, but for [`publish_organization_if_needed`]).
//!
//! Each part's `sqs`/`lambda` payload is a valid organization report holding whole accounts (or,
//! for an account too large for one message, one part of it, cut as a single-account report is);
//! the organization-level findings (ACCOUNT_UNREACHABLE) travel in part 1. Every account's findings
//! keep their own `account_id`; the message attributes add `organization_id`.

use std::fmt::Write as _;

use crate::report::{count, escape, Finding, OrganizationReport, Report, Severity};

use super::chatbot;
use super::compose::protocol_document;
use super::message::{MessageAttributes, MessageContext, RunNotes, SnsMessage};
use super::part::Part;
use super::parts::sns_weight;
use super::text::{self, rfc3339};
use crate::report::cut::{cut, Cut};

/// Room kept in every organization part for its header, the Chatbot document and the
/// organization-level findings.
const ORGANIZATION_RESERVE: usize = 32 * 1024;

/// One account's share of a message: the account (by index) and one part of its report.
struct Piece {
    account: usize,
    part: Part,
    bytes: usize,
}

/// The messages of an organization run, each at most `budget` bytes (an account part too large on
/// its own still gets a message, as for one account).
pub(super) fn render_organization(
    report: &OrganizationReport,
    notes: &RunNotes,
    budget: usize,
) -> Vec<SnsMessage> {
    let context = |index: usize| notes.account(index).context;
    // Every account as pieces that fit a message of their own (most accounts: one piece).
    let account_budget = budget.saturating_sub(ORGANIZATION_RESERVE).max(budget / 2);
    let sns = Cut {
        budget: account_budget,
        reserve: 0,
        weight: sns_weight,
        condense: true,
    };
    let mut pieces: Vec<Piece> = Vec::new();
    for (index, account) in report.accounts.iter().enumerate() {
        let ctx = context(index);
        // Each candidate part is measured once, when it is composed.
        for (part, bytes) in cut(
            account,
            &sns,
            |part| (part.clone(), piece_bytes(account, part, ctx)),
            |(_, bytes)| *bytes,
        ) {
            pieces.push(Piece {
                account: index,
                part,
                bytes,
            });
        }
    }
    // Greedy packing in account order, then halving any group a real rendering shows too large.
    let mut groups: Vec<Vec<&Piece>> = Vec::new();
    let mut current: Vec<&Piece> = Vec::new();
    let mut used = ORGANIZATION_RESERVE;
    for piece in &pieces {
        if !current.is_empty() && used + piece.bytes > budget {
            groups.push(std::mem::take(&mut current));
            used = ORGANIZATION_RESERVE;
        }
        used += piece.bytes;
        current.push(piece);
    }
    if !current.is_empty() || groups.is_empty() {
        groups.push(current);
    }
    loop {
        let total = groups.len();
        let messages: Vec<SnsMessage> = groups
            .iter()
            .enumerate()
            .map(|(i, group)| compose_organization(report, notes, group, i + 1, total))
            .collect();
        let oversized = messages
            .iter()
            .zip(&groups)
            .position(|(m, group)| m.publish_size() > budget && group.len() > 1);
        match oversized {
            None => return messages,
            Some(i) => {
                let half = groups[i].len() / 2;
                let second = groups[i].split_off(half);
                groups.insert(i + 1, second);
            }
        }
    }
}

/// What one account part adds to a message: its text and its JSON, each twice and escaped.
fn piece_bytes(account: &Report, part: &Part, context: &MessageContext) -> usize {
    let text = account_section(account, part, context);
    let json = serde_json::to_string(&part.report).map_or(0, |j| j.len());
    2 * serde_json::to_string(&text).map_or(text.len(), |t| t.len()) + 2 * (json + json / 8)
}

/// The e-mail section of one account part: the single-account text for an account with something
/// to say, one line for a clean one.
fn account_section(account: &Report, part: &Part, context: &MessageContext) -> String {
    if account.findings.is_empty() && account.resolved.is_empty() {
        return format!(
            "{}: OK, {} and {} checked, no findings.\n",
            text::account_label(&account.account_id, context.account_alias.as_deref()),
            count(
                account.providers.len(),
                "IAM OIDC provider",
                "IAM OIDC providers"
            ),
            count(account.clusters.len(), "EKS cluster", "EKS clusters"),
        );
    }
    super::email::email(account, part, context)
}

/// `organization o-abc123 (12 accounts)` (`org` when `short`, for the subject) or `12 accounts`
/// without Organizations.
fn organization_label(report: &OrganizationReport, short: bool) -> String {
    let accounts = count(report.summary.accounts, "account", "accounts");
    let word = if short { "org" } else { "organization" };
    match &report.organization_id {
        Some(id) => format!("{word} {} ({accounts})", escape(id)),
        None => accounts,
    }
}

/// `[CRITICAL] thumbprint-guard org o-abc (12 accounts): 2 critical, 1 warning (part 1/2)`.
fn organization_subject(
    report: &OrganizationReport,
    severity: &str,
    index: usize,
    total: usize,
) -> String {
    let s = &report.summary;
    let mut counts = Vec::new();
    if s.critical + s.warning > 0 {
        counts.push(format!("{} critical", s.critical));
        counts.push(format!("{} warning", s.warning));
    }
    if s.accounts_unreachable > 0 {
        counts.push(format!("{} unreachable", s.accounts_unreachable));
    }
    if s.thumbprints_added > 0 {
        counts.push(count(s.thumbprints_added, "thumbprint", "thumbprints") + " added");
    }
    if counts.is_empty() {
        counts.push(format!(
            "no findings, {} checked",
            count(s.providers, "provider", "providers")
        ));
    }
    text::subject(
        severity,
        &organization_label(report, true),
        &counts,
        index,
        total,
    )
}

/// One organization message for `group` (part `index` of `total`).
fn compose_organization(
    report: &OrganizationReport,
    notes: &RunNotes,
    group: &[&Piece],
    index: usize,
    total: usize,
) -> SnsMessage {
    let context = |index: usize| notes.account(index).context;
    let severity = report.highest_severity().map_or("ok", Severity::as_str);
    let subject = organization_subject(report, severity, index, total);
    let org_findings = if index == 1 {
        report.findings.as_slice()
    } else {
        &[]
    };
    let email = organization_email(report, notes, group, org_findings, index, total);
    let payload = organization_payload(report, group, org_findings, total);

    let accounts: Vec<(&Report, &Part, &MessageContext)> = group
        .iter()
        .map(|piece| {
            let account = &report.accounts[piece.account];
            (account, &piece.part, context(piece.account))
        })
        .collect();
    let chatbot =
        chatbot::organization_notification(report, &accounts, org_findings, &subject, index, total);

    SnsMessage {
        subject,
        message: protocol_document(email, chatbot, payload),
        attributes: MessageAttributes {
            severity,
            account_id: notes.central_account.to_string(),
            organization_id: report.organization_id.clone(),
            part: index,
            parts: total,
        },
        providers: group
            .iter()
            .flat_map(|piece| piece.part.report.providers.iter().map(|p| p.arn.clone()))
            .collect(),
    }
}

/// The `default`/`email` text of one organization message: the organization, its counts, the
/// accounts not swept (part 1), then every account part of `group`.
fn organization_email(
    report: &OrganizationReport,
    notes: &RunNotes,
    group: &[&Piece],
    org_findings: &[Finding],
    index: usize,
    total: usize,
) -> String {
    let s = &report.summary;
    let mut email = String::new();
    let _ = writeln!(
        email,
        "thumbprint-guard: {}, sweep of {}",
        organization_label(report, false),
        rfc3339(report.generated_at)
    );
    let _ = writeln!(email);
    let _ = writeln!(
        email,
        "{} swept, {} unreachable; {} and {} checked: {} critical, {} warning, {} info, {} added.",
        count(s.accounts - s.accounts_unreachable, "account", "accounts"),
        s.accounts_unreachable,
        count(s.providers, "IAM OIDC provider", "IAM OIDC providers"),
        count(s.clusters, "EKS cluster", "EKS clusters"),
        s.critical,
        s.warning,
        s.info,
        count(s.thumbprints_added, "thumbprint", "thumbprints"),
    );
    if total > 1 {
        let _ = writeln!(
            email,
            "\nThis is part {index} of {total}: the other parts arrive as separate messages with the same subject and \"(part N/{total})\"."
        );
    }
    if !org_findings.is_empty() {
        let _ = writeln!(email, "\nACCOUNTS NOT SWEPT ({})\n", org_findings.len());
        for finding in org_findings {
            let _ = writeln!(email, "- {}", escape(&finding.message));
            let _ = writeln!(email, "  Role: {}", escape(&finding.resource));
        }
    }
    for piece in group {
        let account = &report.accounts[piece.account];
        let _ = writeln!(
            email,
            "\n==================== AWS account {} ====================\n",
            account.account_id
        );
        email.push_str(&account_section(
            account,
            &piece.part,
            notes.account(piece.account).context,
        ));
    }
    email
}

/// The `sqs`/`lambda` payload of one organization message: a valid organization report of the
/// group's account parts (and `org_findings`), counted over them when the run has several parts.
fn organization_payload(
    report: &OrganizationReport,
    group: &[&Piece],
    org_findings: &[Finding],
    total: usize,
) -> String {
    let mut payload =
        OrganizationReport::empty(report.organization_id.clone(), report.generated_at);
    payload.findings = org_findings.to_vec();
    let mut seen: Vec<&str> = Vec::new();
    for piece in group {
        payload.accounts.push(piece.part.report.clone());
        let id = report.accounts[piece.account].account_id.as_str();
        if !seen.contains(&id) {
            seen.push(id);
        }
    }
    if total == 1 {
        payload.summary = report.summary.clone();
    } else {
        payload.recount(seen.len() + payload.findings.len());
    }
    serde_json::to_string(&payload).unwrap_or_else(|e| {
        serde_json::json!({"schema_version": report.schema_version, "error": format!("the report could not be serialized: {e}")}).to_string()
    })
}
