//! The remembered open findings and the pure comparison of a run with them.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use crate::report::{Finding, FindingCode, FindingStatus, ResolvedFinding, Severity};

/// One finding open at the end of a run, as remembered for the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFinding {
    /// Its code.
    pub code: FindingCode,
    /// What it is about.
    pub resource: String,
    /// Its severity at that run.
    pub severity: Severity,
    /// The first run that reported it.
    pub first_seen: OffsetDateTime,
    /// The last run that published a notification while it was open.
    pub last_notified: Option<OffsetDateTime>,
    /// Whether `MUTE_FINDINGS` covered it.
    pub muted: bool,
}

/// An account's remembered state: its open findings by id and the item's version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// The version written last (0: never written).
    pub version: u64,
    /// Open findings by finding id.
    pub findings: BTreeMap<String, OpenFinding>,
}

/// What changed between the previous run and this one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Open last run, gone now (muted or not: the report lists them all).
    pub resolved: Vec<ResolvedFinding>,
    /// Resolved ids that were not muted (these warrant a notification).
    pub resolved_unmuted: Vec<String>,
    /// Unmuted findings not open last run.
    pub new: Vec<String>,
    /// Unmuted findings open last run at a lower severity.
    pub severity_rose: Vec<String>,
    /// Unmuted critical findings still open and not notified for `remind_hours`.
    pub reminders_due: Vec<String>,
}

/// Sets each finding's `status` (new/open) and `first_seen` from `previous`, and says what changed:
/// resolved, new, severity rose, and which still-open critical findings are due a reminder (last
/// notified, or first seen, at least `remind_hours` before `now`).
pub fn reconcile(
    previous: &State,
    findings: &mut [Finding],
    now: OffsetDateTime,
    remind_hours: u64,
) -> Changes {
    let mut changes = Changes::default();
    let remind_after = Duration::hours(i64::try_from(remind_hours).unwrap_or(i64::MAX / 3600));
    for finding in findings.iter_mut() {
        match previous.findings.get(&finding.id) {
            None => {
                finding.status = Some(FindingStatus::New);
                finding.first_seen = Some(now);
                if finding.counts() {
                    changes.new.push(finding.id.clone());
                }
            }
            Some(open) => {
                finding.status = Some(FindingStatus::Open);
                finding.first_seen = Some(open.first_seen);
                if !finding.counts() {
                    continue;
                }
                if finding.severity > open.severity {
                    changes.severity_rose.push(finding.id.clone());
                }
                let last = open.last_notified.unwrap_or(open.first_seen);
                if finding.severity == Severity::Critical && now - last >= remind_after {
                    changes.reminders_due.push(finding.id.clone());
                }
            }
        }
    }
    for (id, open) in &previous.findings {
        if findings.iter().any(|f| &f.id == id) {
            continue;
        }
        changes.resolved.push(ResolvedFinding {
            id: id.clone(),
            code: open.code,
            resource: open.resource.clone(),
            first_seen: Some(open.first_seen),
        });
        if !open.muted {
            changes.resolved_unmuted.push(id.clone());
        }
    }
    changes
}

impl State {
    /// The state to write after a run whose `findings` went through [`reconcile`]: this run's
    /// findings, the next version, and `now` as the last notification when `notified`.
    pub fn next(&self, findings: &[Finding], now: OffsetDateTime, notified: bool) -> State {
        let findings = findings
            .iter()
            .map(|finding| {
                let previous = self.findings.get(&finding.id);
                let last_notified = if notified {
                    Some(now)
                } else {
                    previous.and_then(|p| p.last_notified)
                };
                let open = OpenFinding {
                    code: finding.code,
                    resource: finding.resource.clone(),
                    severity: finding.severity,
                    first_seen: finding
                        .first_seen
                        .or(previous.map(|p| p.first_seen))
                        .unwrap_or(now),
                    last_notified,
                    muted: finding.muted,
                };
                (finding.id.clone(), open)
            })
            .collect();
        State {
            version: self.version + 1,
            findings,
        }
    }
}

/// `NOTIFY=changes`: publish when a finding is new, its severity rose, an unmuted finding was
/// resolved, or a still-open critical finding is due a reminder.
pub fn changes_warrant_notification(changes: &Changes) -> bool {
    !(changes.new.is_empty()
        && changes.severity_rose.is_empty()
        && changes.resolved_unmuted.is_empty()
        && changes.reminders_due.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "123456789012";

    fn at(hours: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000) + Duration::hours(hours)
    }

    fn finding(code: FindingCode, resource: &str) -> Finding {
        let mut f = Finding::new(code, resource, "message");
        f.identify(ACCOUNT);
        f
    }

    fn run(previous: &State, findings: &mut [Finding], hours: i64) -> (Changes, State) {
        let changes = reconcile(previous, findings, at(hours), 24);
        let notified = changes_warrant_notification(&changes);
        (changes, previous.next(findings, at(hours), notified))
    }

    #[test]
    fn first_run_is_all_new_then_all_open_and_silent() {
        let mut findings = vec![
            finding(FindingCode::CertExpiring, "arn:a"),
            finding(FindingCode::AudienceMissing, "arn:b"),
        ];
        let (changes, state) = run(&State::default(), &mut findings, 0);
        assert_eq!(changes.new.len(), 2);
        assert!(findings
            .iter()
            .all(|f| f.status == Some(FindingStatus::New) && f.first_seen == Some(at(0))));
        assert_eq!(state.version, 1);

        let mut again = vec![
            finding(FindingCode::CertExpiring, "arn:a"),
            finding(FindingCode::AudienceMissing, "arn:b"),
        ];
        let (changes, state) = run(&state, &mut again, 6);
        assert!(!changes_warrant_notification(&changes), "{changes:?}");
        assert!(again
            .iter()
            .all(|f| f.status == Some(FindingStatus::Open) && f.first_seen == Some(at(0))));
        assert_eq!(state.version, 2);
    }

    #[test]
    fn resolved_finding_is_listed_and_loud() {
        let mut findings = vec![
            finding(FindingCode::CertExpiring, "arn:a"),
            finding(FindingCode::AudienceMissing, "arn:b"),
        ];
        let (_, state) = run(&State::default(), &mut findings, 0);
        let mut fewer = vec![finding(FindingCode::AudienceMissing, "arn:b")];
        let (changes, state) = run(&state, &mut fewer, 6);
        assert_eq!(changes.resolved.len(), 1);
        assert_eq!(changes.resolved[0].code, FindingCode::CertExpiring);
        assert_eq!(changes.resolved[0].first_seen, Some(at(0)));
        assert!(changes_warrant_notification(&changes));
        assert_eq!(state.findings.len(), 1);
    }

    #[test]
    fn new_finding_is_loud() {
        let mut findings = vec![finding(FindingCode::AudienceMissing, "arn:b")];
        let (_, state) = run(&State::default(), &mut findings, 0);
        let mut more = vec![
            finding(FindingCode::AudienceMissing, "arn:b"),
            finding(FindingCode::ChainUntrusted, "arn:c"),
        ];
        let (changes, _) = run(&state, &mut more, 6);
        assert_eq!(changes.new, vec![more[1].id.clone()]);
        assert_eq!(more[0].status, Some(FindingStatus::Open));
        assert!(changes_warrant_notification(&changes));
    }

    #[test]
    fn severity_rise_is_loud() {
        let mut findings = vec![
            finding(FindingCode::ThumbprintMismatch, "arn:p").with_severity(Severity::Warning)
        ];
        let (_, state) = run(&State::default(), &mut findings, 0);
        let mut worse = vec![
            finding(FindingCode::ThumbprintMismatch, "arn:p").with_severity(Severity::Critical)
        ];
        let (changes, _) = run(&state, &mut worse, 1);
        assert_eq!(changes.severity_rose, vec![worse[0].id.clone()]);
        assert!(changes_warrant_notification(&changes));
    }

    #[test]
    fn open_critical_is_reminded_after_remind_hours_only() {
        let mut findings = vec![finding(FindingCode::ChainUntrusted, "arn:c")];
        let (_, state) = run(&State::default(), &mut findings, 0);
        let mut same = vec![finding(FindingCode::ChainUntrusted, "arn:c")];
        let (changes, state) = run(&state, &mut same, 23);
        assert!(!changes_warrant_notification(&changes), "{changes:?}");
        let (changes, state) = run(&state, &mut same, 24);
        assert_eq!(changes.reminders_due, vec![same[0].id.clone()]);
        assert!(changes_warrant_notification(&changes));
        assert_eq!(state.findings[&same[0].id].last_notified, Some(at(24)));
        let (changes, _) = run(&state, &mut same, 30);
        assert!(!changes_warrant_notification(&changes), "{changes:?}");
    }

    #[test]
    fn open_warning_is_never_reminded() {
        let mut findings = vec![finding(FindingCode::CertExpiring, "arn:a")];
        let (_, state) = run(&State::default(), &mut findings, 0);
        let (changes, _) = run(&state, &mut findings, 100);
        assert!(changes.reminders_due.is_empty());
    }

    #[test]
    fn muted_findings_stay_quiet_but_keep_their_status() {
        let mut muted = finding(FindingCode::ChainUntrusted, "arn:c");
        muted.muted = true;
        let mut findings = vec![muted];
        let (changes, state) = run(&State::default(), &mut findings, 0);
        assert_eq!(findings[0].status, Some(FindingStatus::New));
        assert!(!changes_warrant_notification(&changes));
        let (changes, _) = run(&state, &mut [], 48);
        assert_eq!(changes.resolved.len(), 1);
        assert!(!changes_warrant_notification(&changes));
    }
}
