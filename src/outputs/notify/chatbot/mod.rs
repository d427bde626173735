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
use crate::report::{escape, Finding, OrganizationReport, Report, Severity};

use super::email::in_message_order;
use super::message::{severity_label, MessageContext};
use super::part::Part;
use super::text::{account_label, rfc3339, verdict, RunCounts};

mod entries;

use entries::{finding_entry, icon, short_resource, truncate};

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

/// A manual fix as one of `nextSteps`: whole when it fits; else cut before a JSON document it
/// carries (a trust statement, which a cut would leave unusable) or at a word, saying where the
/// whole fix is.
fn next_step(fix: &str) -> String {
    let fix = escape(fix).into_owned();
    if fix.len() <= NEXT_STEP_MAX_BYTES {
        return fix;
    }
    const MORE: &str = " … (the whole fix is in the e-mail and in the JSON report)";
    let room = NEXT_STEP_MAX_BYTES - MORE.len();
    let cut = match fix.find('{') {
        Some(json) if json <= room => json,
        _ => {
            let head = truncate(fix.clone(), room);
            head.rfind(' ').unwrap_or(head.len())
        }
    };
    format!("{}{MORE}", fix[..cut].trim_end())
}

/// What tells one notification from another: an account's or an organization's. The rest of the
/// document (the findings, the fixes, the related resources, the budget) is built the same way.
struct Frame<'a> {
    subject: &'a str,
    /// The highest severity (the title's icon).
    severity: Option<Severity>,
    /// The first lines of the description.
    heading: String,
    /// One thread per account, or per organization.
    thread_id: String,
    id: String,
    /// The account id or the organization, after `thumbprint-guard` and the severity.
    keyword: String,
    additional_context: BTreeMap<&'static str, String>,
}

/// One account's findings in a notification; `heading` names the account in an organization's.
struct Section<'a> {
    report: &'a Report,
    heading: Option<String>,
    findings: Vec<&'a Finding>,
}

/// Room kept free at the end of the description for the "…and N more" line.
const DESCRIPTION_RESERVE: usize = 200;

/// The document of `frame` over `organization_findings` then every section's findings, most
/// urgent first: as many entries as fit the description (the rest counted in one line), the first
/// fixes in `nextSteps`, the first resources in the metadata.
fn document(
    frame: Frame<'_>,
    sections: &[Section<'_>],
    organization_findings: &[Finding],
) -> String {
    let title = truncate(
        format!("{} {}", icon(frame.severity), frame.subject),
        CHATBOT_TITLE_MAX,
    );
    let description = description(frame.heading, sections, organization_findings);
    let next_steps = next_steps(sections);
    let related = related_resources(sections, organization_findings);

    let document = Notification {
        version: "1.0",
        source: "custom",
        id: frame.id,
        content: Content {
            text_type: "client-markdown",
            title,
            description,
            next_steps,
            keywords: vec![
                "thumbprint-guard".to_string(),
                frame.severity.map_or("ok", Severity::as_str).to_string(),
                frame.keyword,
            ],
        },
        metadata: Metadata {
            thread_id: frame.thread_id,
            summary: frame.subject.to_string(),
            event_type: "thumbprint-guard-sweep",
            related_resources: related,
            additional_context: frame.additional_context,
        },
    };
    serde_json::to_string(&document).unwrap_or_default()
}

/// The description: `heading`, then `organization_findings` and every section's entries while
/// they fit, the rest counted in one line.
fn description(
    heading: String,
    sections: &[Section<'_>],
    organization_findings: &[Finding],
) -> String {
    let mut description = heading;
    let fits = |description: &String, entry: &str| {
        description.len() + entry.len() + DESCRIPTION_RESERVE <= CHATBOT_DESCRIPTION_MAX
    };
    // Once one entry does not fit, the rest are counted, not shown.
    let mut omitted = 0usize;
    for finding in organization_findings {
        let entry = format!(
            "\n*CRITICAL* `{}` {}\n",
            finding.code,
            escape(&finding.message)
        );
        if omitted == 0 && fits(&description, &entry) {
            description.push_str(&entry);
        } else {
            omitted += 1;
        }
    }
    for section in sections.iter().filter(|s| !s.findings.is_empty()) {
        if let Some(heading) = &section.heading {
            if omitted == 0 && fits(&description, heading) {
                description.push_str(heading);
            } else {
                omitted += section.findings.len();
                continue;
            }
        }
        for finding in &section.findings {
            let entry = format!("\n{}", finding_entry(section.report, finding));
            if omitted == 0 && fits(&description, &entry) {
                description.push_str(&entry);
            } else {
                omitted += 1;
            }
        }
    }
    if omitted > 0 {
        let _ = write!(
            description,
            "\n…and {} more in this message: see the e-mail or the JSON report.",
            crate::report::count(omitted, "finding", "findings")
        );
    }
    truncate(description, CHATBOT_DESCRIPTION_MAX)
}

/// The first distinct manual fixes of the sections' findings, most urgent first.
fn next_steps(sections: &[Section<'_>]) -> Vec<String> {
    let mut next_steps: Vec<String> = Vec::new();
    for section in sections {
        for finding in &section.findings {
            if next_steps.len() < NEXT_STEPS_MAX {
                if let Some(fix) = fix::for_report(finding, section.report) {
                    let step = next_step(&fix);
                    if !next_steps.contains(&step) {
                        next_steps.push(step);
                    }
                }
            }
        }
    }
    next_steps
}

/// The first distinct resources of the sections' findings, then of `organization_findings`.
fn related_resources(sections: &[Section<'_>], organization_findings: &[Finding]) -> Vec<String> {
    let mut related: Vec<String> = Vec::new();
    let resources = sections
        .iter()
        .flat_map(|s| s.findings.iter().map(|f| &f.resource))
        .chain(organization_findings.iter().map(|f| &f.resource));
    for resource in resources {
        if related.len() == RELATED_RESOURCES_MAX {
            break;
        }
        if !related.contains(resource) {
            related.push(resource.clone());
        }
    }
    related
}

/// The Chatbot document of one part of an account's message: the account, the verdict, what
/// changed since the last run, then the findings; one thread per account.
pub(crate) fn notification(
    report: &Report,
    part: &Part,
    subject: &str,
    context: &MessageContext,
) -> String {
    let counts = RunCounts::of(report);
    let mut heading = String::new();
    let _ = writeln!(
        heading,
        "*{}* · sweep {}{}",
        account_label(&report.account_id, context.account_alias.as_deref()),
        rfc3339(report.generated_at),
        if part.count > 1 {
            format!(" · part {} of {}", part.index, part.count)
        } else {
            String::new()
        }
    );
    let _ = writeln!(heading, "{}", verdict(report));
    if context.state_unavailable.is_some() {
        let _ = writeln!(
            heading,
            "_The state table could not be used this run: nothing is marked new or resolved._"
        );
    }
    let findings = in_message_order(&part.report.findings);
    since_last_run(&mut heading, report, part, &findings);
    let run = report.generated_at.unix_timestamp();
    let frame = Frame {
        subject,
        severity: report.highest_severity(),
        heading,
        thread_id: format!("thumbprint-guard-{}", report.account_id),
        id: format!(
            "thumbprint-guard-{}-{run}-{}",
            report.account_id, part.index
        ),
        keyword: report.account_id.clone(),
        additional_context: BTreeMap::from([
            ("account_id", report.account_id.clone()),
            ("severity", severity_label(report).to_string()),
            ("critical", counts.critical.to_string()),
            ("warning", counts.warning.to_string()),
            ("info", counts.info.to_string()),
            ("thumbprints_added", counts.thumbprints_added.to_string()),
            ("generated_at", rfc3339(report.generated_at)),
            ("part", part.index.to_string()),
            ("parts", part.count.to_string()),
        ]),
    };
    let section = Section {
        report,
        heading: None,
        findings,
    };
    document(frame, &[section], &[])
}

/// "Since the last run": new, resolved (in part 1) and still open, when the state table was read.
fn since_last_run(out: &mut String, report: &Report, part: &Part, findings: &[&Finding]) {
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
            out,
            "*Since the last run:* {new} new, {} resolved, {} still open",
            resolved.len(),
            findings.len() - new
        );
        for gone in resolved.iter().take(5) {
            let _ = writeln!(
                out,
                ":white_check_mark: resolved `{}` {}",
                gone.code,
                escape(&short_resource(&gone.resource))
            );
        }
    }
}

/// The Chatbot document of one organization message: the organization's counts, the accounts not
/// swept, then per account its findings; one thread per organization.
pub(crate) fn organization_notification(
    report: &OrganizationReport,
    accounts: &[(&Report, &Part, &MessageContext)],
    organization_findings: &[Finding],
    subject: &str,
    index: usize,
    total: usize,
) -> String {
    let severity = report.highest_severity();
    let organization = report.organization_id.as_deref().unwrap_or("accounts");
    let s = &report.summary;
    let mut heading = String::new();
    let _ = writeln!(
        heading,
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
        heading,
        "{} critical, {} warning, {} info, {} added",
        s.critical,
        s.warning,
        s.info,
        crate::report::count(s.thumbprints_added, "thumbprint", "thumbprints")
    );
    let sections: Vec<Section<'_>> = accounts
        .iter()
        .map(|(account, part, context)| Section {
            report: account,
            heading: Some(format!(
                "\n*{}*: {}\n",
                account_label(&account.account_id, context.account_alias.as_deref()),
                RunCounts::of(account).phrase()
            )),
            findings: in_message_order(&part.report.findings),
        })
        .collect();
    let run = report.generated_at.unix_timestamp();
    let thread_id = format!("thumbprint-guard-{organization}");
    let frame = Frame {
        subject,
        severity,
        heading,
        id: format!("{thread_id}-{run}-{index}"),
        thread_id,
        keyword: organization.to_string(),
        additional_context: BTreeMap::from([
            ("organization_id", organization.to_string()),
            (
                "severity",
                severity.map_or("ok", Severity::as_str).to_string(),
            ),
            ("accounts", s.accounts.to_string()),
            ("accounts_unreachable", s.accounts_unreachable.to_string()),
            ("critical", s.critical.to_string()),
            ("warning", s.warning.to_string()),
            ("info", s.info.to_string()),
            ("thumbprints_added", s.thumbprints_added.to_string()),
            ("generated_at", rfc3339(report.generated_at)),
            ("part", index.to_string()),
            ("parts", total.to_string()),
        ]),
    };
    document(frame, &sections, organization_findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_fix_is_cut_before_its_json_and_says_where_the_rest_is() {
        let short = "kubectl rollout restart deployment/api -n payments";
        assert_eq!(next_step(short), short);
        let statement = format!(
            r#"{{"Effect":"Allow","Condition":{{"StringEquals":{{"k":"{}"}}}}}}"#,
            "v".repeat(700)
        );
        let fix = format!("Add this statement to the role's trust policy: {statement}");
        let step = next_step(&fix);
        assert!(step.len() <= NEXT_STEP_MAX_BYTES, "{}", step.len());
        assert!(
            step.starts_with("Add this statement to the role's trust policy: …"),
            "{step}"
        );
        assert!(!step.contains('{'), "no half statement: {step}");
        let words = format!("aws iam do-something {}", "--flag value ".repeat(80));
        let step = next_step(&words);
        assert!(step.len() <= NEXT_STEP_MAX_BYTES);
        assert!(step.ends_with("(the whole fix is in the e-mail and in the JSON report)"));
        let kept = step.split(" …").next().unwrap();
        assert!(
            words.starts_with(kept) && words[kept.len()..].starts_with(' '),
            "cut at a word: {step}"
        );
    }
}
