//! The `https` body: an AWS Chatbot (Amazon Q Developer in chat applications) custom notification
//! for Slack (pure).
//!
//! Schema (AWS docs, "Custom notifications using Amazon Q Developer in chat applications"):
//! `version` "1.0" and `source` "custom" are required; `content` has `textType`
//! ("client-markdown", the only value), `title`, `description`, optional `nextSteps` and
//! `keywords`; optional `metadata` has `threadId`, `summary`, `eventType`, `relatedResources` and
//! `additionalContext` (string values). The title is limited to 250 characters and the description
//! to 8,000; Slack renders both as mrkdwn.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::fix;
use crate::report::{escape, Finding, Report, Severity};

use super::email::in_message_order;
use super::message::{severity_label, MessageContext};
use super::part::Part;
use super::text::{account_label, resource_kind, rfc3339, verdict, RunCounts};

/// Most fixes carried in `nextSteps`, and the longest one.
const NEXT_STEPS_MAX: usize = 5;
const NEXT_STEP_MAX_BYTES: usize = 600;

/// Longest title Chatbot accepts, in characters.
pub const CHATBOT_TITLE_MAX: usize = 250;

/// Longest description Chatbot accepts, in characters (we count bytes, which is stricter).
pub const CHATBOT_DESCRIPTION_MAX: usize = 8000;

/// Most related resources listed in the metadata.
const RELATED_RESOURCES_MAX: usize = 10;

/// A custom notification document.
#[derive(Debug, Serialize)]
struct Notification {
    version: &'static str,
    source: &'static str,
    id: String,
    content: Content,
    metadata: Metadata,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Content {
    text_type: &'static str,
    title: String,
    description: String,
    /// The manual fixes, most urgent first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    next_steps: Vec<String>,
    keywords: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    /// One thread per account: every run of an account lands in the same Slack thread.
    thread_id: String,
    summary: String,
    event_type: &'static str,
    related_resources: Vec<String>,
    additional_context: BTreeMap<&'static str, String>,
}

/// Slack emoji for the run's severity.
fn emoji(report: &Report) -> &'static str {
    match report.highest_severity() {
        Some(Severity::Critical) => ":rotating_light:",
        Some(Severity::Warning) => ":warning:",
        Some(Severity::Info) => ":information_source:",
        None => ":white_check_mark:",
    }
}

/// A resource ARN shortened for chat: the provider's issuer path, the role or cluster name.
fn short_resource(arn: &str) -> String {
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
fn truncate(mut s: String, max: usize) -> String {
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
fn finding_entry(report: &Report, finding: &Finding) -> String {
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

/// The Chatbot document of one part, as a JSON string.
pub(crate) fn notification(
    report: &Report,
    part: &Part,
    subject: &str,
    context: &MessageContext,
) -> String {
    let counts = RunCounts::of(report);
    let severity = severity_label(report);
    let title = truncate(format!("{} {subject}", emoji(report)), CHATBOT_TITLE_MAX);

    let mut description = String::new();
    let _ = writeln!(
        description,
        "*{}* · sweep {}{}",
        account_label(&report.account_id, context.account_alias.as_deref()),
        rfc3339(report.generated_at),
        if part.count > 1 {
            format!(" · part {} of {}", part.index, part.count)
        } else {
            String::new()
        }
    );
    let _ = writeln!(description, "{}", verdict(report));
    if context.state_unavailable.is_some() {
        let _ = writeln!(
            description,
            "_The state table could not be used this run: nothing is marked new or resolved._"
        );
    }
    let findings = in_message_order(&part.report.findings);
    let new = findings
        .iter()
        .filter(|f| f.status == Some(crate::report::FindingStatus::New))
        .count();
    let resolved = if part.index == 1 {
        report.resolved.as_slice()
    } else {
        &[]
    };
    if findings.iter().any(|f| f.status.is_some()) || !resolved.is_empty() {
        let _ = writeln!(
            description,
            "*Since the last run:* {new} new, {} resolved, {} still open",
            resolved.len(),
            findings.len() - new
        );
        for gone in resolved.iter().take(5) {
            let _ = writeln!(
                description,
                ":white_check_mark: resolved `{}` {}",
                gone.code,
                escape(&short_resource(&gone.resource))
            );
        }
    }
    let reserve = 200;
    for (i, finding) in findings.iter().enumerate() {
        let entry = finding_entry(report, finding);
        if description.len() + 1 + entry.len() + reserve > CHATBOT_DESCRIPTION_MAX {
            let _ = write!(
                description,
                "\n…and {} more in this message: see the e-mail or the JSON report.",
                crate::report::count(findings.len() - i, "finding", "findings")
            );
            break;
        }
        let _ = write!(description, "\n{entry}");
    }
    let description = truncate(description, CHATBOT_DESCRIPTION_MAX);

    let mut next_steps: Vec<String> = Vec::new();
    for finding in &findings {
        if next_steps.len() == NEXT_STEPS_MAX {
            break;
        }
        if let Some(fix) = fix::for_report(finding, report) {
            let step = truncate(escape(&fix).into_owned(), NEXT_STEP_MAX_BYTES);
            if !next_steps.contains(&step) {
                next_steps.push(step);
            }
        }
    }

    let mut related: Vec<String> = Vec::new();
    for finding in &findings {
        if related.len() == RELATED_RESOURCES_MAX {
            break;
        }
        if !related.contains(&finding.resource) {
            related.push(finding.resource.clone());
        }
    }

    let run = report.generated_at.unix_timestamp();
    let additional_context = BTreeMap::from([
        ("account_id", report.account_id.clone()),
        ("severity", severity.to_string()),
        ("critical", counts.critical.to_string()),
        ("warning", counts.warning.to_string()),
        ("info", counts.info.to_string()),
        ("thumbprints_added", counts.thumbprints_added.to_string()),
        ("generated_at", rfc3339(report.generated_at)),
        ("part", part.index.to_string()),
        ("parts", part.count.to_string()),
    ]);
    let document = Notification {
        version: "1.0",
        source: "custom",
        id: format!(
            "thumbprint-guard-{}-{run}-{}",
            report.account_id, part.index
        ),
        content: Content {
            text_type: "client-markdown",
            title,
            description,
            next_steps,
            keywords: vec![
                "thumbprint-guard".to_string(),
                severity.to_string(),
                report.account_id.clone(),
            ],
        },
        metadata: Metadata {
            thread_id: format!("thumbprint-guard-{}", report.account_id),
            summary: subject.to_string(),
            event_type: "thumbprint-guard-sweep",
            related_resources: related,
            additional_context,
        },
    };
    serde_json::to_string(&document).unwrap_or_default()
}

/// The Chatbot document of one organization message: the organization's counts, then per account
/// its findings, most urgent first (capped), the fixes in `nextSteps`, one thread per organization.
pub(crate) fn organization_notification(
    report: &crate::report::OrganizationReport,
    accounts: &[(&Report, &Part, &MessageContext)],
    organization_findings: &[Finding],
    subject: &str,
    index: usize,
    total: usize,
) -> String {
    let severity = report.highest_severity();
    let label = severity.map_or("ok", Severity::as_str);
    let icon = match severity {
        Some(Severity::Critical) => ":rotating_light:",
        Some(Severity::Warning) => ":warning:",
        Some(Severity::Info) => ":information_source:",
        None => ":white_check_mark:",
    };
    let title = truncate(format!("{icon} {subject}"), CHATBOT_TITLE_MAX);
    let organization = report.organization_id.as_deref().unwrap_or("accounts");
    let s = &report.summary;
    let mut description = String::new();
    let _ = writeln!(
        description,
        "*Organization* `{}` · {} accounts ({} unreachable) · sweep {}{}",
        escape(organization),
        s.accounts,
        s.accounts_unreachable,
        rfc3339(report.generated_at),
        if total > 1 {
            format!(" · part {index} of {total}")
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        description,
        "{} critical, {} warning, {} info, {} added",
        s.critical,
        s.warning,
        s.info,
        crate::report::count(s.thumbprints_added, "thumbprint", "thumbprints")
    );
    let reserve = 200;
    let mut omitted = 0usize;
    for finding in organization_findings {
        let entry = format!(
            "*CRITICAL* `{}` {}\n",
            finding.code,
            escape(&finding.message)
        );
        if description.len() + entry.len() + reserve > CHATBOT_DESCRIPTION_MAX {
            omitted += 1;
            continue;
        }
        description.push_str(&entry);
    }
    let mut next_steps: Vec<String> = Vec::new();
    for (account, part, context) in accounts {
        let findings = in_message_order(&part.report.findings);
        if findings.is_empty() {
            continue;
        }
        let heading = format!(
            "\n*{}*: {}\n",
            account_label(&account.account_id, context.account_alias.as_deref()),
            RunCounts::of(account).phrase()
        );
        if description.len() + heading.len() + reserve > CHATBOT_DESCRIPTION_MAX {
            omitted += findings.len();
            continue;
        }
        description.push_str(&heading);
        for finding in findings {
            if next_steps.len() < NEXT_STEPS_MAX {
                if let Some(fix) = fix::for_report(finding, account) {
                    let step = truncate(escape(&fix).into_owned(), NEXT_STEP_MAX_BYTES);
                    if !next_steps.contains(&step) {
                        next_steps.push(step);
                    }
                }
            }
            let entry = finding_entry(account, finding);
            if description.len() + 1 + entry.len() + reserve > CHATBOT_DESCRIPTION_MAX {
                omitted += 1;
                continue;
            }
            let _ = write!(description, "{entry}");
        }
    }
    if omitted > 0 {
        let _ = write!(
            description,
            "\n…and {} more in this message: see the e-mail or the JSON report.",
            crate::report::count(omitted, "finding", "findings")
        );
    }
    let description = truncate(description, CHATBOT_DESCRIPTION_MAX);
    let related: Vec<String> = accounts
        .iter()
        .flat_map(|(_, part, _)| part.report.findings.iter().map(|f| f.resource.clone()))
        .chain(organization_findings.iter().map(|f| f.resource.clone()))
        .fold(Vec::new(), |mut acc, r| {
            if acc.len() < RELATED_RESOURCES_MAX && !acc.contains(&r) {
                acc.push(r);
            }
            acc
        });
    let run = report.generated_at.unix_timestamp();
    let thread = format!("thumbprint-guard-{organization}");
    let additional_context = BTreeMap::from([
        ("organization_id", organization.to_string()),
        ("severity", label.to_string()),
        ("accounts", s.accounts.to_string()),
        ("accounts_unreachable", s.accounts_unreachable.to_string()),
        ("critical", s.critical.to_string()),
        ("warning", s.warning.to_string()),
        ("info", s.info.to_string()),
        ("thumbprints_added", s.thumbprints_added.to_string()),
        ("generated_at", rfc3339(report.generated_at)),
        ("part", index.to_string()),
        ("parts", total.to_string()),
    ]);
    let document = Notification {
        version: "1.0",
        source: "custom",
        id: format!("{thread}-{run}-{index}"),
        content: Content {
            text_type: "client-markdown",
            title,
            description,
            next_steps,
            keywords: vec![
                "thumbprint-guard".to_string(),
                label.to_string(),
                organization.to_string(),
            ],
        },
        metadata: Metadata {
            thread_id: thread,
            summary: subject.to_string(),
            event_type: "thumbprint-guard-sweep",
            related_resources: related,
            additional_context,
        },
    };
    serde_json::to_string(&document).unwrap_or_default()
}
