//! The subject and the plain text of `default` and `email` (pure).

use crate::report::{escape, Report, Severity};

use super::message::severity_label;

/// SNS's limit on a subject, in characters (ASCII here).
pub const SUBJECT_MAX: usize = 100;

/// Counts over the whole run (not one part), from the lists themselves.
pub(crate) struct RunCounts {
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
    pub thumbprints_added: usize,
}

impl RunCounts {
    pub fn of(report: &Report) -> Self {
        let summary = report.summarize();
        RunCounts {
            critical: summary.critical,
            warning: summary.warning,
            info: summary.info,
            thumbprints_added: summary.thumbprints_added,
        }
    }

    /// "2 critical, 1 warning, 1 thumbprint added": the non-zero counts (critical and warning
    /// always once either is non-zero).
    pub fn phrase(&self) -> String {
        let items = self.items();
        if items.is_empty() {
            "no findings".to_string()
        } else {
            items.join(", ")
        }
    }

    /// The phrases of [`RunCounts::phrase`], one per count.
    pub fn items(&self) -> Vec<String> {
        let mut items = Vec::new();
        if self.critical + self.warning > 0 {
            items.push(format!("{} critical", self.critical));
            items.push(format!("{} warning", self.warning));
        }
        if self.info > 0 {
            items.push(format!("{} info", self.info));
        }
        if self.thumbprints_added > 0 {
            let s = if self.thumbprints_added == 1 { "" } else { "s" };
            items.push(format!("{} thumbprint{s} added", self.thumbprints_added));
        }
        items
    }
}

pub(crate) use crate::report::rfc3339;

/// Keeps printable ASCII, replacing anything else (line breaks, non-ASCII) with `?`.
pub(crate) fn printable_ascii(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// `[CRITICAL] thumbprint-guard WHO: 2 critical, 1 warning (part 1/3)`: at most [`SUBJECT_MAX`]
/// printable ASCII characters, starting with `[`. `who` is the account (with its alias) or the
/// organization; `counts` are whole phrases, as many as fit; `label` the run's severity.
pub(crate) fn subject(
    label: &str,
    who: &str,
    counts: &[String],
    part: usize,
    parts: usize,
) -> String {
    let suffix = if parts > 1 {
        format!(" (part {part}/{parts})")
    } else {
        String::new()
    };
    let room = SUBJECT_MAX.saturating_sub(suffix.len());
    let mut base = printable_ascii(&format!(
        "[{}] thumbprint-guard {who}:",
        label.to_ascii_uppercase()
    ));
    for (i, item) in counts.iter().enumerate() {
        let separator = if i == 0 { " " } else { ", " };
        if base.len() + separator.len() + item.len() > room {
            break;
        }
        base.push_str(separator);
        base.push_str(&printable_ascii(item));
    }
    base.truncate(room);
    base + &suffix
}

/// The subject of one part of an account's message: its counts, or how many providers were checked.
pub(crate) fn account_subject(
    report: &Report,
    part: usize,
    parts: usize,
    alias: Option<&str>,
) -> String {
    let counts = RunCounts::of(report);
    let items = if counts.critical + counts.warning + counts.info + counts.thumbprints_added == 0 {
        vec![format!(
            "no findings, {}",
            crate::report::count(report.providers.len(), "provider", "providers") + " checked"
        )]
    } else {
        counts.items()
    };
    let who = match alias {
        Some(alias) => format!("{} ({alias})", report.account_id),
        None => report.account_id.clone(),
    };
    subject(severity_label(report), &who, &items, part, parts)
}

/// The one-line verdict under the heading.
pub(crate) fn verdict(report: &Report) -> String {
    let counts = RunCounts::of(report);
    match report.highest_severity() {
        Some(Severity::Critical) => format!(
            "CRITICAL ({}): IRSA is failing or will fail for the workloads below, or a role lets the wrong workload in. Fix the critical findings now.",
            counts.phrase()
        ),
        Some(Severity::Warning) => format!(
            "WARNING ({}): nothing is broken yet; fix these before they become an outage.",
            counts.phrase()
        ),
        Some(Severity::Info) => format!(
            "OK ({}): nothing needs fixing; the findings below are for information.",
            counts.phrase()
        ),
        None => "OK: no findings; every provider matches what its issuer serves.".to_string(),
    }
}

/// What kind of resource an ARN names, for the label in front of it.
pub(crate) fn resource_kind(arn: &str) -> &'static str {
    if arn.contains(":oidc-provider/") {
        "Provider"
    } else if arn.contains(":role/") {
        "Role"
    } else if arn.contains(":cluster/") {
        "Cluster"
    } else if arn.starts_with("https://") {
        "Issuer"
    } else {
        "Resource"
    }
}

/// "AWS account 123456789012 (prod)".
pub(crate) fn account_label(account_id: &str, alias: Option<&str>) -> String {
    match alias {
        Some(alias) => format!("AWS account {account_id} ({})", escape(alias)),
        None => format!("AWS account {account_id}"),
    }
}
