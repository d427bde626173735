//! The inspect report for a terminal ([`render_text`]): the issuer, each endpoint with its TLS
//! version, chain order and certificates, the thumbprint to configure and why IAM needs it, the
//! findings with their fix.

use std::fmt::Write as _;

use time::OffsetDateTime;

use super::model::InspectReport;
use crate::fix::{manual_fix, FixContext};
use crate::render::count;
use crate::report::{days_left, escape, rfc3339, CertificateInfo, Endpoint};

/// The report for a terminal: each endpoint's TLS version, chain order and chain, the thumbprint
/// to configure and why IAM needs it, the findings with their fix.
pub fn render_text(report: &InspectReport, now: OffsetDateTime) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Issuer     {}", escape(&report.url));
    let _ = writeln!(
        out,
        "JWKS       {}",
        escape(
            report
                .jwks_uri
                .as_deref()
                .unwrap_or("(unknown: discovery failed)")
        )
    );
    for (index, endpoint) in report.endpoints.iter().enumerate() {
        endpoint_text(&mut out, report, index, endpoint, now);
    }

    out.push('\n');
    let unverified = report
        .endpoints
        .iter()
        .any(|e| !e.trusted && !e.chain.is_empty());
    thumbprint_text(&mut out, report, unverified);

    out.push('\n');
    findings_text(&mut out, report, unverified);
    out
}

/// Endpoint `index` of the report: its verdict, problem, TLS version, chain order and each served
/// certificate.
fn endpoint_text(
    out: &mut String,
    report: &InspectReport,
    index: usize,
    endpoint: &Endpoint,
    now: OffsetDateTime,
) {
    let verdict = if endpoint.trusted {
        "trusted".to_string()
    } else if endpoint.chain.is_empty() {
        "no chain received".to_string()
    } else {
        "NOT TRUSTED".to_string()
    };
    let _ = writeln!(out, "\nEndpoint   {}  {verdict}", endpoint.address);
    if let Some(error) = &endpoint.error {
        let _ = writeln!(out, "  problem  {}", escape(error));
    }
    if !endpoint.chain.is_empty() {
        let tls = if endpoint.tls13_only {
            "TLS 1.3 only: refused a TLS 1.2 handshake, so IAM falls back to the thumbprint"
        } else {
            "TLS 1.2 (as IAM's certificate retrieval speaks it)"
        };
        let _ = writeln!(out, "  tls      {tls}");
        if let Some(order_break) = report.chain_order.get(index) {
            let order = match order_break {
                Some(chain_break) => {
                    format!("NOT CONTIGUOUS: {chain_break}; STS fails on this chain (CHAIN_ORDER)")
                }
                None if endpoint.chain.len() == 1 => {
                    "the host's certificate alone (well-formed)".to_string()
                }
                None => "in order: each certificate issued by the next, none repeated or extra"
                    .to_string(),
            };
            let _ = writeln!(out, "  order    {order}");
        }
    }
    let last = endpoint.chain.len().saturating_sub(1);
    for (index, cert) in endpoint.chain.iter().enumerate() {
        certificate_text(out, index, index == last, cert, now);
    }
}

/// Served certificate `index` (0 = leaf; `top` when it is the last): its role, names, SHA-1 and
/// validity with the days left at `now`.
fn certificate_text(
    out: &mut String,
    index: usize,
    top: bool,
    cert: &CertificateInfo,
    now: OffsetDateTime,
) {
    let role = match (index, top) {
        (0, true) => "leaf, top",
        (0, false) => "leaf",
        (_, true) => "top",
        _ => "intermediate",
    };
    let left = match cert.not_after {
        None => "dates unknown: the certificate cannot be parsed".to_string(),
        Some(not_after) if not_after <= now => {
            format!(
                "EXPIRED {} ago",
                count(-days_left(not_after, now), "day", "days")
            )
        }
        Some(not_after) => {
            format!("{} left", count(days_left(not_after, now), "day", "days"))
        }
    };
    let date = |at: Option<OffsetDateTime>| at.map_or_else(|| "unknown".to_string(), rfc3339);
    let _ = writeln!(out, "  [{index}] {role}");
    let _ = writeln!(out, "      subject  {}", escape(&cert.subject));
    let _ = writeln!(out, "      issuer   {}", escape(&cert.issuer));
    let _ = writeln!(out, "      sha1     {}", cert.sha1);
    let _ = writeln!(
        out,
        "      valid    {} .. {} ({left})",
        date(cert.not_before),
        date(cert.not_after)
    );
}

/// The thumbprint to configure (none, one, or several; never the top of a chain out of order),
/// the warnings about unverified and broken chains, and why IAM relies on the thumbprint.
fn thumbprint_text(out: &mut String, report: &InspectReport, unverified: bool) {
    // The top of a chain out of order is never to be configured: STS fails on that chain anyway.
    let withheld = crate::fix::chain_order_tops(&report.findings, &report.url);
    let configurable: Vec<&str> = report
        .served_thumbprints
        .iter()
        .map(String::as_str)
        .filter(|t| !withheld.contains(t))
        .collect();
    match configurable.as_slice() {
        [] if withheld.is_empty() => {
            let _ = writeln!(
                out,
                "Thumbprint to configure in IAM: none (no address served a chain)"
            );
        }
        [] => {
            let _ = writeln!(
                out,
                "Thumbprint to configure in IAM: none until the issuer serves its chain in order"
            );
        }
        [one] => {
            let _ = writeln!(out, "Thumbprint to configure in IAM: {one}");
        }
        many => {
            let _ = writeln!(
                out,
                "Thumbprints to configure in IAM (addresses serve different chains; configure all): {}",
                many.join(" ")
            );
        }
    }
    if unverified {
        let _ = writeln!(
            out,
            "  WARNING: a served chain does not validate; do not configure its thumbprint until it does \
             (an unverified chain may be a man in the middle)."
        );
    }
    if !withheld.is_empty() {
        let _ = writeln!(
            out,
            "  WARNING: {} tops a served chain that is not contiguous (CHAIN_ORDER): STS fails on that chain \
             whatever the list holds; have the issuer serve its chain in order, and do not configure it.",
            withheld.join(" ")
        );
    }
    if !report.served_thumbprints.is_empty() {
        let why = if !report.thumbprint_enforced {
            "The chain anchors in a public root CA and every address takes TLS 1.2, so IAM verifies it without the thumbprint; configure it anyway.".to_string()
        } else if report.enforcement.enforced() {
            format!("IAM relies on the thumbprint: {}.", report.enforcement)
        } else {
            "IAM relies on the thumbprint.".to_string()
        };
        let _ = writeln!(out, "  {}", escape(&why));
    }
}

/// The findings, most severe first, each with its manual fix.
fn findings_text(out: &mut String, report: &InspectReport, unverified: bool) {
    if report.findings.is_empty() {
        let _ = writeln!(out, "Findings   none");
    } else {
        let _ = writeln!(out, "Findings");
        for finding in &report.findings {
            let _ = writeln!(
                out,
                "  {:<8} {}  {}",
                finding.severity.as_str().to_uppercase(),
                finding.code,
                escape(&finding.message)
            );
            let context = FixContext {
                issuer: Some(&report.url),
                provider: None,
                clusters: &[],
                chain_untrusted: unverified,
                findings: &report.findings,
            };
            if let Some(fix) = manual_fix(finding, context) {
                let _ = writeln!(out, "           fix: {}", escape(&fix));
            }
        }
    }
}
