//! The organization report: one account report each, the organization-level findings
//! (ACCOUNT_UNREACHABLE) and the counts over both (DESIGN's "Organization mode").

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::account::{Report, SCHEMA_VERSION};
use super::finding::{Finding, Severity};

/// One organization run's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationReport {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `o-…`; null when `ORGANIZATION_ACCOUNTS` is used without Organizations.
    pub organization_id: Option<String>,
    /// When the run started (RFC 3339 UTC, whole seconds).
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// One report per account swept, in account id order.
    pub accounts: Vec<Report>,
    /// Organization-level findings: one ACCOUNT_UNREACHABLE per account not swept.
    pub findings: Vec<Finding>,
    /// Counts over the accounts and the organization-level findings.
    pub summary: OrganizationSummary,
}

/// Counts over an organization report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationSummary {
    /// Every account attempted, reachable or not.
    pub accounts: usize,
    /// Accounts that could not be assumed or swept.
    pub accounts_unreachable: usize,
    /// Providers over all account reports.
    pub providers: usize,
    /// Clusters over all account reports.
    pub clusters: usize,
    /// Unmuted critical findings, accounts' and organization-level.
    pub critical: usize,
    /// Unmuted warnings, accounts' and organization-level.
    pub warning: usize,
    /// Unmuted info findings, accounts' and organization-level.
    pub info: usize,
    /// Thumbprints written to IAM this run, over all accounts.
    pub thumbprints_added: usize,
}

impl OrganizationReport {
    /// Recomputes `summary` from the lists; `attempted` is how many accounts the run tried.
    pub fn recount(&mut self, attempted: usize) {
        let mut summary = OrganizationSummary {
            accounts: attempted,
            accounts_unreachable: self.findings.len(),
            ..OrganizationSummary::default()
        };
        for account in &self.accounts {
            let counts = account.summarize();
            summary.providers += counts.providers;
            summary.clusters += counts.clusters;
            summary.critical += counts.critical;
            summary.warning += counts.warning;
            summary.info += counts.info;
            summary.thumbprints_added += counts.thumbprints_added;
        }
        for finding in self.findings.iter().filter(|f| f.counts()) {
            match finding.severity {
                Severity::Critical => summary.critical += 1,
                Severity::Warning => summary.warning += 1,
                Severity::Info => summary.info += 1,
            }
        }
        self.summary = summary;
    }

    /// The highest unmuted severity over every account and the organization level.
    pub fn highest_severity(&self) -> Option<Severity> {
        super::account::highest_severity(&self.accounts, &self.findings)
    }

    /// The report of `account_id`, if it was swept.
    pub fn account(&self, account_id: &str) -> Option<&Report> {
        self.accounts.iter().find(|r| r.account_id == account_id)
    }

    /// True when anything changed in IAM this run, in any account.
    pub fn changed(&self) -> bool {
        self.summary.thumbprints_added > 0
    }

    /// An empty report for a run that starts at `generated_at` (schema version set).
    pub fn empty(organization_id: Option<String>, generated_at: OffsetDateTime) -> Self {
        OrganizationReport {
            schema_version: SCHEMA_VERSION,
            organization_id,
            generated_at,
            accounts: Vec::new(),
            findings: Vec::new(),
            summary: OrganizationSummary::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::RemediationMode;
    use crate::report::{FindingCode, RunReport, Summary};

    fn exit_code(report: &OrganizationReport) -> u8 {
        RunReport::Organization(report.clone()).exit_code()
    }

    fn account(id: &str, findings: Vec<Finding>) -> Report {
        let mut report = Report {
            schema_version: SCHEMA_VERSION,
            account_id: id.into(),
            generated_at: time::macros::datetime!(2026-11-22 10:00:00 UTC),
            remediation_mode: RemediationMode::Off,
            providers: vec![],
            clusters: vec![],
            findings,
            resolved: vec![],
            summary: Summary::default(),
        };
        report.recount();
        report
    }

    #[test]
    fn counts_cover_accounts_and_the_organization_level() {
        let mut report = OrganizationReport::empty(
            Some("o-abc".into()),
            time::macros::datetime!(2026-11-22 10:00:00 UTC),
        );
        report.accounts.push(account(
            "111111111111",
            vec![Finding::new(FindingCode::AudienceMissing, "arn:p", "w")],
        ));
        assert_eq!(exit_code(&report), 0);
        report
            .findings
            .push(Finding::new(FindingCode::AccountUnreachable, "arn:r", "x"));
        report.recount(2);
        assert_eq!(report.summary.accounts, 2);
        assert_eq!(report.summary.accounts_unreachable, 1);
        assert_eq!((report.summary.critical, report.summary.warning), (1, 1));
        assert_eq!(exit_code(&report), 1);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["generated_at"], "2026-11-22T10:00:00Z");
    }

    #[test]
    fn a_muted_critical_does_not_set_the_exit_code() {
        let mut muted = Finding::new(FindingCode::CertExpired, "arn:p", "x");
        muted.muted = true;
        let mut report =
            OrganizationReport::empty(None, time::macros::datetime!(2026-11-22 10:00:00 UTC));
        report.accounts.push(account("111111111111", vec![muted]));
        report.recount(1);
        assert_eq!(report.summary.critical, 0);
        assert_eq!(exit_code(&report), 0);
    }
}
