//! The run's report as the Lambda logs it: one JSON line when it fits, else numbered parts, each a
//! valid report (CloudWatch Logs caps one event, and Lambda splits longer lines).

use serde_json::Value;

use crate::report::cut::{cut, json_weight, Cut};
use crate::report::{OrganizationReport, Report, RunReport};

/// Largest report log line.
pub const MAX_LOG_LINE_BYTES: usize = 200 * 1024;

/// The run's report as log lines of at most `max_bytes`. An account report that does not fit is
/// one line per part, each a valid report holding whole providers with their findings and
/// clusters, every finding in exactly one part (the cut of the SNS parts). An organization report
/// that does not fit is one line for the organization (its counts and organization-level findings,
/// `accounts` left empty), then each account's report cut the same way, each line naming the
/// organization.
pub fn log_lines(report: &RunReport, max_bytes: usize) -> Vec<String> {
    match report {
        RunReport::Account(account) => account_lines(account, max_bytes),
        RunReport::Organization(organization) => organization_lines(organization, max_bytes),
    }
}

fn account_lines(report: &Report, max_bytes: usize) -> Vec<String> {
    // Log lines stay whole: a part is never condensed (the logs are where the full report is).
    let lines = Cut {
        budget: max_bytes,
        reserve: 0,
        weight: json_weight,
        condense: false,
    };
    cut(
        report,
        &lines,
        |part| {
            let mut doc =
                serde_json::json!({"message": "thumbprint-guard report", "report": part.report});
            if part.count > 1 {
                doc["part"] = serde_json::json!(part.index);
                doc["parts"] = serde_json::json!(part.count);
            }
            doc.to_string()
        },
        String::len,
    )
}

fn organization_lines(report: &OrganizationReport, max_bytes: usize) -> Vec<String> {
    let whole =
        serde_json::json!({"message": "thumbprint-guard organization report", "report": report})
            .to_string();
    if whole.len() <= max_bytes {
        return vec![whole];
    }
    let mut envelope = report.clone();
    envelope.accounts.clear();
    let mut lines = vec![serde_json::json!({
        "message": "thumbprint-guard organization report",
        "report": envelope,
        "accounts_logged_separately": report.accounts.len(),
    })
    .to_string()];
    for account in &report.accounts {
        for line in account_lines(account, max_bytes.saturating_sub(128)) {
            let mut doc: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
            if let Some(object) = doc.as_object_mut() {
                object.insert(
                    "organization_id".into(),
                    serde_json::json!(report.organization_id),
                );
                lines.push(doc.to_string());
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Finding, FindingCode, ProviderReport, Summary, SCHEMA_VERSION};
    use crate::report::{OrganizationReport, RemediationMode, RunReport};

    fn report(providers: usize) -> Report {
        let arn =
            |i: usize| format!("arn:aws:iam::123456789012:oidc-provider/issuer{i}.example/id/X");
        let mut r = Report {
            resolved: Vec::new(),
            schema_version: SCHEMA_VERSION,
            account_id: "123456789012".into(),
            generated_at: time::macros::datetime!(2026-11-22 10:00:00 UTC),
            remediation_mode: RemediationMode::Off,
            providers: (0..providers)
                .map(|i| ProviderReport {
                    arn: arn(i),
                    url: format!("https://issuer{i}.example/id/X"),
                    client_ids: vec!["sts.amazonaws.com".into()],
                    configured_thumbprints: vec!["a".repeat(40); 5],
                    jwks_uri: None,
                    endpoints: vec![],
                    served_thumbprints: vec![],
                    thumbprint_enforced: true,
                    remediation: None,
                })
                .collect(),
            clusters: vec![],
            findings: (0..providers)
                .map(|i| Finding::new(FindingCode::IssuerUnreachable, arn(i), "x".repeat(300)))
                .chain([Finding::new(
                    FindingCode::TrustPolicyNoSub,
                    "arn:aws:iam::123456789012:role/r",
                    "m",
                )])
                .collect(),
            summary: Summary::default(),
        };
        r.recount();
        r
    }

    #[test]
    fn a_small_report_is_one_line() {
        let lines = log_lines(&RunReport::Account(report(3)), MAX_LOG_LINE_BYTES);
        assert_eq!(lines.len(), 1);
        let doc: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(doc["report"]["summary"]["providers"], 3);
        assert!(doc.get("part").is_none());
    }

    #[test]
    fn a_large_report_is_split_into_parts_that_carry_everything_once() {
        let full = report(400);
        let lines = log_lines(&RunReport::Account(full.clone()), 20 * 1024);
        assert!(lines.len() > 2, "{}", lines.len());
        let mut providers = 0;
        let mut findings = 0;
        for (i, line) in lines.iter().enumerate() {
            assert!(line.len() <= 20 * 1024, "part {i} has {} bytes", line.len());
            let doc: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(doc["part"], i + 1);
            assert_eq!(doc["parts"], lines.len());
            let part: Report = serde_json::from_value(doc["report"].clone()).unwrap();
            assert_eq!(part.summary, part.summarize());
            providers += part.providers.len();
            findings += part.findings.len();
        }
        assert_eq!(providers, full.providers.len());
        assert_eq!(findings, full.findings.len());
    }

    #[test]
    fn a_large_organization_report_is_logged_as_an_envelope_and_each_accounts_parts() {
        let mut org = OrganizationReport::empty(
            Some("o-abc123def4".into()),
            time::macros::datetime!(2026-11-22 10:00:00 UTC),
        );
        for id in ["111111111111", "222222222222"] {
            let mut account = report(200);
            account.account_id = id.into();
            org.accounts.push(account);
        }
        org.recount(2);
        let mut small = org.clone();
        for account in &mut small.accounts {
            *account = report(3);
        }
        assert_eq!(
            log_lines(&RunReport::Organization(small), MAX_LOG_LINE_BYTES).len(),
            1
        );

        let lines = log_lines(&RunReport::Organization(org), 20 * 1024);
        assert!(lines.len() > 3, "{}", lines.len());
        let envelope: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(envelope["report"]["organization_id"], "o-abc123def4");
        assert_eq!(envelope["report"]["accounts"], serde_json::json!([]));
        assert_eq!(envelope["report"]["summary"]["accounts"], 2);
        assert_eq!(envelope["accounts_logged_separately"], 2);
        let mut findings = 0;
        for line in &lines[1..] {
            assert!(line.len() <= 20 * 1024, "{} bytes", line.len());
            let doc: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(doc["organization_id"], "o-abc123def4");
            findings += doc["report"]["findings"].as_array().unwrap().len();
        }
        assert_eq!(findings, 2 * 201, "every account's findings, once");
    }
}
