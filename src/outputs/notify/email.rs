//! The `default`/`email` text of one part (pure): the account, the verdict, what changed since
//! the last run when a state table remembers it, then every finding, most urgent first.

use std::fmt::Write as _;

use crate::report::{
    count, escape, Finding, FindingCode, FindingStatus, Report, ResolvedFinding, Severity,
};

use super::finding::finding_block;
use super::message::MessageContext;
use super::part::Part;
use super::text::{account_label, resource_kind, rfc3339, verdict};

/// How urgent a finding is in a message: critical first, and within a severity the findings that
/// break pods now (a mismatch IAM enforces, a missing provider) before those with the same cause.
fn urgency(finding: &Finding) -> (std::cmp::Reverse<Severity>, u8) {
    let rank = match finding.code {
        FindingCode::ThumbprintMismatch | FindingCode::ThumbprintListFull => 0,
        FindingCode::RoleTrustsMissingProvider | FindingCode::ClusterWithoutProvider => 1,
        FindingCode::IssuerUnreachable
        | FindingCode::ChainUntrusted
        | FindingCode::ChainOrder
        | FindingCode::CertExpired => 2,
        _ => 3,
    };
    (std::cmp::Reverse(finding.severity), rank)
}

/// The findings of a part in message order (stable: report order within equal urgency).
pub(crate) fn in_message_order(findings: &[Finding]) -> Vec<&Finding> {
    let mut ordered: Vec<&Finding> = findings.iter().collect();
    ordered.sort_by_key(|f| (f.muted, urgency(f)));
    ordered
}

/// The `default`/`email` text of one part.
pub(crate) fn email(report: &Report, part: &Part, context: &MessageContext) -> String {
    let mut out = String::new();
    header(&mut out, report, context);
    notes(&mut out, report, part, context);
    let _ = writeln!(
        out,
        "Checked {} and {}; remediation mode: {}.",
        count(
            report.providers.len(),
            "IAM OIDC provider",
            "IAM OIDC providers"
        ),
        count(report.clusters.len(), "EKS cluster", "EKS clusters"),
        report.remediation_mode
    );
    let findings = in_message_order(&part.report.findings);
    let remembered = findings.iter().any(|f| f.status.is_some())
        || (!report.resolved.is_empty() && context.state_unavailable.is_none());
    let resolved = if part.index == 1 {
        report.resolved.as_slice()
    } else {
        &[]
    };
    if remembered {
        since_last_run(&mut out, report, &findings, resolved);
    } else if !findings.is_empty() {
        let _ = writeln!(out);
        for (i, finding) in findings.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}",
                finding_block(report, finding, i + 1, findings.len())
            );
        }
    }
    let _ = writeln!(
        out,
        "Re-check after a fix: thumbprint-guard sweep (or thumbprint-guard inspect ISSUER_URL for one issuer)."
    );
    out
}

/// The first lines: the account, the time of the sweep and the verdict.
fn header(out: &mut String, report: &Report, context: &MessageContext) {
    let _ = writeln!(
        out,
        "thumbprint-guard: {}, sweep of {}",
        account_label(&report.account_id, context.account_alias.as_deref()),
        rfc3339(report.generated_at)
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", verdict(report));
    let _ = writeln!(out);
}

/// The notes on this message: the state table not used, the part condensed, one part of several.
fn notes(out: &mut String, report: &Report, part: &Part, context: &MessageContext) {
    if let Some(why) = &context.state_unavailable {
        let _ = writeln!(
            out,
            "The state table could not be used this run ({}): findings are not marked new or open, nothing is listed as resolved, and this message was sent by the findings rule.",
            escape(why)
        );
        let _ = writeln!(out);
    }
    if part.condensed {
        let _ = writeln!(
            out,
            "This message is condensed to fit SNS's size limit: certificate chains and finding details are left out. The full report is in the function's logs (and `thumbprint-guard sweep --json`)."
        );
        let _ = writeln!(out);
    }
    if part.count > 1 {
        let _ = writeln!(
            out,
            "This is part {} of {}: it carries {} of the run's {} ({} of {}). The other parts arrive as separate messages with the same subject and \"(part N/{})\".",
            part.index,
            part.count,
            part.report.findings.len(),
            count(report.findings.len(), "finding", "findings"),
            part.report.providers.len(),
            count(report.providers.len(), "provider", "providers"),
            part.count
        );
        let _ = writeln!(out);
    }
}

/// The findings when a state table remembers the last run: the counts, then the new findings,
/// the resolved ones and those still open.
fn since_last_run(
    out: &mut String,
    report: &Report,
    findings: &[&Finding],
    resolved: &[ResolvedFinding],
) {
    let new: Vec<&Finding> = findings
        .iter()
        .copied()
        .filter(|f| f.status == Some(FindingStatus::New))
        .collect();
    let open: Vec<&Finding> = findings
        .iter()
        .copied()
        .filter(|f| f.status != Some(FindingStatus::New))
        .collect();
    let _ = writeln!(
        out,
        "Since the last run: {} new, {} resolved; {} still open.",
        new.len(),
        resolved.len(),
        open.len()
    );
    let total = findings.len();
    if !new.is_empty() {
        let _ = writeln!(out, "\nNEW SINCE THE LAST RUN ({})\n", new.len());
        for (i, finding) in new.iter().enumerate() {
            let _ = writeln!(out, "{}", finding_block(report, finding, i + 1, total));
        }
    }
    if !resolved.is_empty() {
        resolved_section(out, resolved);
    }
    if !open.is_empty() {
        let _ = writeln!(out, "\nSTILL OPEN ({})\n", open.len());
        for (i, finding) in open.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}",
                finding_block(report, finding, new.len() + i + 1, total)
            );
        }
    }
}

/// The findings resolved since the last run, one line each.
fn resolved_section(out: &mut String, resolved: &[ResolvedFinding]) {
    let _ = writeln!(out, "\nRESOLVED SINCE THE LAST RUN ({})\n", resolved.len());
    for gone in resolved {
        let since = gone
            .first_seen
            .map(|at| format!(", open since {}", rfc3339(at)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "- {} {}: {}{since}",
            gone.code,
            resource_kind(&gone.resource).to_lowercase(),
            escape(&gone.resource)
        );
    }
    let _ = writeln!(out);
}
