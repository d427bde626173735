//! The pieces of a Chatbot notification: the severity icon, a finding in Slack mrkdwn, a resource
//! named for chat, and truncation on a character boundary.

use std::fmt::Write as _;

use crate::fix;
use crate::report::{escape, Finding, Report, Severity};

use super::super::text::{resource_kind, rfc3339};

/// Slack emoji for a run's severity.
pub(super) fn icon(severity: Option<Severity>) -> &'static str {
    match severity {
        Some(Severity::Critical) => ":rotating_light:",
        Some(Severity::Warning) => ":warning:",
        Some(Severity::Info) => ":information_source:",
        None => ":white_check_mark:",
    }
}

/// A resource ARN shortened for chat: the provider's issuer path, the role or cluster name.
pub(super) fn short_resource(arn: &str) -> String {
    let kind = resource_kind(arn);
    let name = match kind {
        "Provider" => arn
            .split_once(":oidc-provider/")
            .map_or(arn, |(_, path)| path),
        "Role" | "Cluster" => arn.rsplit('/').next().unwrap_or(arn),
        _ => arn,
    };
    format!("{} `{}`", kind.to_lowercase(), name.replace('`', "'"))
}

/// Truncates to at most `max` bytes on a character boundary.
pub(super) fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// One finding in Slack mrkdwn.
pub(super) fn finding_entry(report: &Report, finding: &Finding) -> String {
    let mut out = String::new();
    let status = match (finding.status, finding.first_seen) {
        (Some(crate::report::FindingStatus::New), _) => " · *new*".to_string(),
        (Some(crate::report::FindingStatus::Open), Some(since)) => {
            format!(" · open since {}", rfc3339(since))
        }
        (Some(crate::report::FindingStatus::Open), None) => " · still open".to_string(),
        (None, _) => String::new(),
    };
    let _ = writeln!(
        out,
        "*{}* `{}` {}{status}{}",
        finding.severity.as_str().to_uppercase(),
        finding.code,
        escape(&short_resource(&finding.resource)),
        if finding.muted { " · muted" } else { "" }
    );
    let _ = writeln!(out, "{}", escape(&finding.message));
    match fix::for_report(finding, report) {
        Some(fix) if fix.starts_with("aws ") || fix.starts_with("eksctl ") => {
            let _ = writeln!(out, "Fix: `{}`", escape(&fix.replace('`', "'")));
        }
        Some(fix) => {
            let _ = writeln!(out, "Fix: {}", escape(&fix));
        }
        None => {}
    }
    out
}
