//! The typed report of one probe ([`build_report`]) and its exit code ([`exit_code`]).

use time::OffsetDateTime;

use super::model::InspectReport;
use crate::assess::chain::issuer_findings;
use crate::probe::{served_thumbprints, thumbprint_enforcement, IssuerProbe};
use crate::report::{sort_findings, Severity};

/// The report of one probe, findings assessed at `now` and sorted.
pub fn build_report(
    url: &str,
    probe: &IssuerProbe,
    expiry_warning_days: u32,
    now: OffsetDateTime,
) -> InspectReport {
    let mut findings = issuer_findings(url, probe, expiry_warning_days, now);
    sort_findings(&mut findings);
    let enforcement = thumbprint_enforcement(probe);
    InspectReport {
        url: url.to_string(),
        jwks_uri: probe.jwks_uri.clone(),
        endpoints: probe.report_endpoints(),
        served_thumbprints: served_thumbprints(probe),
        thumbprint_enforced: enforcement.enforced(),
        findings,
        enforcement,
        chain_order: probe.endpoints().map(|(_, e)| e.order_break()).collect(),
    }
}

/// 1 when a finding is critical, else 0.
pub fn exit_code(report: &InspectReport) -> i32 {
    let critical = report
        .findings
        .iter()
        .any(|f| f.severity == Severity::Critical);
    i32::from(critical)
}
