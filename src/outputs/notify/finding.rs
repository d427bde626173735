//! One finding in the plain text of `default` and `email` (pure): what, where, since or until
//! when, what was done about it, and the fix by hand.

use std::fmt::Write as _;

use time::OffsetDateTime;

use crate::fix;
use crate::report::{
    days_left, escape, nearest_expiry, Finding, FindingCode, FindingStatus, ProviderReport,
    RemediationOutcome, Report,
};

use super::console;
use super::text::{resource_kind, rfc3339};

/// "2026-12-01T00:00:00Z (in 9 days)" relative to the sweep's time.
fn when(at: OffsetDateTime, now: OffsetDateTime) -> String {
    let days = days_left(at, now);
    let relative = match days {
        0 if at >= now => "today".to_string(),
        0 => "earlier today".to_string(),
        1 => "in 1 day".to_string(),
        -1 => "1 day ago".to_string(),
        d if d > 0 => format!("in {d} days"),
        d => format!("{} days ago", -d),
    };
    format!("{} ({relative})", rfc3339(at))
}

/// A detail value as text: strings as they are, lists joined, anything else as compact JSON.
fn detail_text(value: &serde_json::Value) -> String {
    const MAX: usize = 1000;
    let mut text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items)
            if items.iter().all(|v| !v.is_object() && !v.is_array()) =>
        {
            items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(", ")
        }
        other => other.to_string(),
    };
    if text.len() > MAX {
        let mut cut = MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

/// The served certificate a finding's discriminator names (a CERT_* finding's SHA-1), if any.
fn certificate<'a>(
    p: Option<&'a ProviderReport>,
    finding: &Finding,
) -> Option<&'a crate::report::CertificateInfo> {
    let sha1 = finding.discriminator.thumbprint()?;
    p?.endpoints
        .iter()
        .flat_map(|e| e.chain.iter())
        .find(|c| c.sha1.eq_ignore_ascii_case(sha1))
}

/// "Expired"/"Expires"/"New CA" lines, from the certificates the provider's endpoints served.
fn timing(report: &Report, finding: &Finding) -> Vec<(&'static str, String)> {
    let now = report.generated_at;
    let mut lines = Vec::new();
    let p = report.provider(&finding.resource);
    match finding.code {
        FindingCode::CertExpired => {
            if let Some(at) = certificate(p, finding)
                .and_then(|c| c.not_after)
                .or_else(|| p.and_then(nearest_expiry))
            {
                lines.push(("Expired", when(at, now)));
            }
        }
        FindingCode::CertExpiring => {
            if let Some(at) = certificate(p, finding)
                .and_then(|c| c.not_after)
                .or_else(|| p.and_then(nearest_expiry))
            {
                lines.push(("Expires", when(at, now)));
            }
        }
        FindingCode::ThumbprintMismatch
        | FindingCode::ThumbprintAdded
        | FindingCode::ThumbprintListFull => {
            // The certificate behind each new thumbprint: served since (at most) its start.
            if let Some(p) = p {
                for thumbprint in p.served_thumbprints.iter().filter(|t| {
                    !p.configured_thumbprints.contains(t)
                        || p.remediation.as_ref().is_some_and(|r| r.added.contains(t))
                }) {
                    let cert = p
                        .endpoints
                        .iter()
                        .flat_map(|e| e.chain.iter())
                        .find(|c| &c.sha1 == thumbprint);
                    if let Some((cert, not_before, not_after)) =
                        cert.and_then(|c| Some((c, c.not_before?, c.not_after?)))
                    {
                        lines.push((
                            "New CA",
                            format!(
                                "{} ({}), valid from {} until {}",
                                thumbprint,
                                escape(&cert.subject),
                                rfc3339(not_before),
                                when(not_after, now)
                            ),
                        ));
                    }
                }
            }
        }
        _ => {}
    }
    lines
}

/// Findings about the thumbprint list itself: they show the configured and served thumbprints.
fn about_thumbprints(code: FindingCode) -> bool {
    matches!(
        code,
        FindingCode::ThumbprintMismatch
            | FindingCode::ThumbprintAdded
            | FindingCode::ThumbprintListFull
    )
}

/// What remediation did about this finding, in words.
fn done_automatically(report: &Report, finding: &Finding) -> String {
    let remediation_related = about_thumbprints(finding.code)
        || matches!(
            finding.code,
            FindingCode::ChainUntrusted | FindingCode::ChainOrder | FindingCode::CertExpired
        );
    if !remediation_related {
        return "nothing (thumbprint-guard only adds thumbprints; this needs a person)".to_string();
    }
    match report
        .provider(&finding.resource)
        .and_then(|p| p.remediation.as_ref())
    {
        Some(r) => {
            let added = r.added.join(" ");
            match r.outcome {
                RemediationOutcome::Applied => {
                    format!("added {added} to the thumbprint list ({})", r.reason)
                }
                RemediationOutcome::Planned => format!("dry-run: would add {added} ({})", r.reason),
                RemediationOutcome::Skipped => format!("nothing written: {}", r.reason),
                RemediationOutcome::Failed => {
                    format!("the addition of {added} FAILED: {}", r.reason)
                }
            }
        }
        None => format!(
            "nothing was changed (remediation mode: {})",
            report.remediation_mode
        ),
    }
}

/// One finding for a person: what, where, when, what was done, and the fix.
pub(crate) fn finding_block(
    report: &Report,
    finding: &Finding,
    number: usize,
    of: usize,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "--- {number} of {of}: {} {}{} ---",
        finding.severity.as_str().to_uppercase(),
        finding.code,
        status_tag(finding)
    );
    let _ = writeln!(out, "What: {}", escape(&finding.message));
    let _ = writeln!(
        out,
        "{}: {}",
        resource_kind(&finding.resource),
        escape(&finding.resource)
    );
    if let Some(p) = report.provider(&finding.resource) {
        provider_lines(&mut out, report, finding, p);
    }
    for (label, value) in timing(report, finding) {
        let _ = writeln!(out, "{label}: {value}");
    }
    for (label, value) in details_in_words(finding) {
        let _ = writeln!(out, "{label}: {}", escape(&value));
    }
    if let Some(link) = console::link(&finding.resource) {
        let _ = writeln!(out, "Console: {link}");
    }
    let _ = writeln!(
        out,
        "Done automatically: {}",
        done_automatically(report, finding)
    );
    match fix::for_report(finding, report) {
        Some(fix) => {
            let _ = writeln!(out, "Fix by hand:\n  {}", escape(&fix));
        }
        None => {
            let _ = writeln!(out, "Fix by hand: nothing to do");
        }
    }
    out
}

/// The provider a finding names: its issuer, its clusters and, for a finding about the thumbprint
/// list, the configured, served and new thumbprints.
fn provider_lines(out: &mut String, report: &Report, finding: &Finding, p: &ProviderReport) {
    let _ = writeln!(out, "Issuer: {}", escape(&p.url));
    let clusters: Vec<String> = report
        .clusters
        .iter()
        .filter(|c| c.provider_arn.as_deref() == Some(p.arn.as_str()))
        .map(|c| format!("{} ({})", c.name, c.region))
        .collect();
    if !clusters.is_empty() {
        let _ = writeln!(out, "Clusters: {}", clusters.join(", "));
    }
    if about_thumbprints(finding.code) {
        let list = |l: &[String]| {
            if l.is_empty() {
                "(none)".to_string()
            } else {
                l.join(" ")
            }
        };
        let _ = writeln!(
            out,
            "Configured thumbprints: {}",
            list(&p.configured_thumbprints)
        );
        let _ = writeln!(out, "Served thumbprints: {}", list(&p.served_thumbprints));
        let new: Vec<String> = p
            .served_thumbprints
            .iter()
            .filter(|t| !p.configured_thumbprints.contains(t))
            .cloned()
            .collect();
        if !new.is_empty() {
            let _ = writeln!(out, "Not configured (new): {}", new.join(" "));
        }
    }
}

/// " · new", " · open since 2026-11-22T10:00:00Z", " · muted": what the state and the mutes say.
fn status_tag(finding: &Finding) -> String {
    let mut tag = match (finding.status, finding.first_seen) {
        (Some(FindingStatus::New), _) => " · new since the last run".to_string(),
        (Some(FindingStatus::Open), Some(since)) => {
            format!(" · still open since {}", rfc3339(since))
        }
        (Some(FindingStatus::Open), None) => " · still open".to_string(),
        (None, _) => String::new(),
    };
    if finding.muted {
        tag.push_str(" · muted");
    }
    tag
}

/// The details a person needs, labelled in words; internal keys (indexes, flags, ARNs already
/// shown, fix commands shown below) stay in the JSON report.
fn details_in_words(finding: &Finding) -> Vec<(&'static str, String)> {
    const LABELS: [(&str, &str); 17] = [
        ("namespace", "Namespace"),
        ("name", "Name"),
        ("service_account", "Service account"),
        ("role_arn", "IAM role"),
        ("association_id", "Pod Identity association"),
        ("host", "Host"),
        ("hosts", "Hosts"),
        ("address", "Address"),
        ("addresses", "Addresses"),
        ("reason", "Reason"),
        ("subject", "Certificate"),
        ("statement", "Trust policy statement"),
        ("provider_arn", "Trusted provider"),
        ("region", "Region"),
        ("operation", "AWS operation"),
        ("client_ids", "Audiences (ClientIDList)"),
        ("error", "Error"),
    ];
    let Some(details) = finding.details.as_object() else {
        return Vec::new();
    };
    LABELS
        .iter()
        .filter_map(|&(key, label)| {
            let value = details.get(key)?;
            let text = detail_text(value);
            (!value.is_null() && !text.is_empty() && text != finding.resource)
                .then_some((label, text))
        })
        .collect()
}
