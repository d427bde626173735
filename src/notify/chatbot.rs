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

use super::message::severity_label;
use super::part::Part;
use super::text::{resource_kind, rfc3339, verdict, RunCounts};

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
    keywords: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    thread_id: Option<String>,
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
    let _ = writeln!(
        out,
        "*{}* `{}` {}",
        finding.severity.as_str().to_uppercase(),
        finding.code,
        escape(&short_resource(&finding.resource))
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
pub(crate) fn notification(report: &Report, part: &Part, subject: &str) -> String {
    let counts = RunCounts::of(report);
    let severity = severity_label(report);
    let title = truncate(format!("{} {subject}", emoji(report)), CHATBOT_TITLE_MAX);

    let mut description = String::new();
    let _ = writeln!(
        description,
        "*Account* `{}` · sweep {}{}",
        report.account_id,
        rfc3339(report.generated_at),
        if part.count > 1 {
            format!(" · part {} of {}", part.index, part.count)
        } else {
            String::new()
        }
    );
    let _ = writeln!(description, "{}", verdict(report));
    let findings = &part.report.findings;
    let reserve = 200;
    for (i, finding) in findings.iter().enumerate() {
        let entry = finding_entry(report, finding);
        if description.len() + 1 + entry.len() + reserve > CHATBOT_DESCRIPTION_MAX {
            let _ = write!(
                description,
                "\n…and {} more finding(s) in this message: see the e-mail or the JSON report.",
                findings.len() - i
            );
            break;
        }
        let _ = write!(description, "\n{entry}");
    }
    let description = truncate(description, CHATBOT_DESCRIPTION_MAX);

    let mut related: Vec<String> = Vec::new();
    for finding in findings {
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
            keywords: vec![
                "thumbprint-guard".to_string(),
                severity.to_string(),
                report.account_id.clone(),
            ],
        },
        metadata: Metadata {
            thread_id: (part.count > 1)
                .then(|| format!("thumbprint-guard-{}-{run}", report.account_id)),
            summary: subject.to_string(),
            event_type: "thumbprint-guard-sweep",
            related_resources: related,
            additional_context,
        },
    };
    serde_json::to_string(&document).unwrap_or_default()
}
