//! What one run produced, whichever its scope: one account's report, or the organization's. The
//! Lambda's response, the CLI's JSON and every output start from it; the summary phrase and the
//! exit-code rule are written once, here.

use serde::Serialize;

use super::account::Report;
use super::finding::{Finding, Severity};
use super::organization::OrganizationReport;

/// One run's report (serialized as the report itself: DESIGN's account or organization shape).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RunReport {
    /// A single-account run.
    Account(Report),
    /// An organization run.
    Organization(OrganizationReport),
}

impl RunReport {
    /// The account reports of the run: the one account, or every swept member.
    pub fn accounts(&self) -> &[Report] {
        match self {
            RunReport::Account(report) => std::slice::from_ref(report),
            RunReport::Organization(report) => &report.accounts,
        }
    }

    /// Mutable [`RunReport::accounts`].
    pub fn accounts_mut(&mut self) -> &mut [Report] {
        match self {
            RunReport::Account(report) => std::slice::from_mut(report),
            RunReport::Organization(report) => &mut report.accounts,
        }
    }

    /// The organization-level findings (ACCOUNT_UNREACHABLE); none in a single-account run.
    pub fn organization_findings(&self) -> &[Finding] {
        match self {
            RunReport::Account(_) => &[],
            RunReport::Organization(report) => &report.findings,
        }
    }

    /// The highest unmuted severity over every account and the organization level.
    pub fn highest_severity(&self) -> Option<Severity> {
        super::account::highest_severity(self.accounts(), self.organization_findings())
    }

    /// DESIGN's exit code of a run that produced this report: 1 when any account (or the
    /// organization level) has an unmuted critical finding, 0 otherwise.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.highest_severity() == Some(Severity::Critical))
    }

    /// The run's counts in words, for a log line or an error that must not lose them.
    pub fn summary_phrase(&self) -> String {
        match self {
            RunReport::Account(report) => {
                let s = &report.summary;
                format!(
                    "{} providers, {} clusters: {} critical, {} warning, {} info, {} thumbprints added, {} muted",
                    s.providers, s.clusters, s.critical, s.warning, s.info, s.thumbprints_added, s.muted
                )
            }
            RunReport::Organization(report) => {
                let s = &report.summary;
                format!(
                    "{} accounts ({} unreachable), {} providers, {} clusters: {} critical, {} warning, {} info, {} thumbprints added",
                    s.accounts, s.accounts_unreachable, s.providers, s.clusters, s.critical, s.warning, s.info, s.thumbprints_added
                )
            }
        }
    }

    /// The account report of a single-account run.
    pub fn into_account(self) -> Option<Report> {
        match self {
            RunReport::Account(report) => Some(report),
            RunReport::Organization(_) => None,
        }
    }

    /// The organization report of an organization run.
    pub fn into_organization(self) -> Option<OrganizationReport> {
        match self {
            RunReport::Organization(report) => Some(report),
            RunReport::Account(_) => None,
        }
    }
}
