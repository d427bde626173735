//! CloudWatch embedded metric format (EMF): one JSON line per run that CloudWatch Logs turns into
//! metrics in the `ThumbprintGuard` namespace, for dashboards and alarms without extra API calls.

use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::report::Report;

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "ThumbprintGuard";

/// The fewest whole days left before any served certificate expires (negative when one has).
pub fn min_days_to_expiry(report: &Report, now: OffsetDateTime) -> Option<i64> {
    report
        .providers
        .iter()
        .filter_map(crate::report::nearest_expiry)
        .min()
        .map(|at| crate::report::days_left(at, now))
}

/// The EMF document for one run (serialize it on one line).
pub fn emf(report: &Report, now: OffsetDateTime) -> Value {
    let mut metrics = vec![
        json!({"Name": "ProvidersChecked", "Unit": "Count"}),
        json!({"Name": "Critical", "Unit": "Count"}),
        json!({"Name": "Warning", "Unit": "Count"}),
        json!({"Name": "ThumbprintsAdded", "Unit": "Count"}),
    ];
    let mut doc = json!({
        "_aws": {
            "Timestamp": (now.unix_timestamp_nanos() / 1_000_000) as i64,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["AccountId"]],
                "Metrics": [],
            }],
        },
        "AccountId": report.account_id,
        "ProvidersChecked": report.summary.providers,
        "Critical": report.summary.critical,
        "Warning": report.summary.warning,
        "ThumbprintsAdded": report.summary.thumbprints_added,
    });
    if let Some(days) = min_days_to_expiry(report, now) {
        metrics.push(json!({"Name": "MinDaysToExpiry", "Unit": "None"}));
        doc["MinDaysToExpiry"] = json!(days);
    }
    doc["_aws"]["CloudWatchMetrics"][0]["Metrics"] = Value::Array(metrics);
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::RemediationMode;
    use crate::report::{CertificateInfo, Endpoint, ProviderReport, Summary, SCHEMA_VERSION};
    use time::macros::datetime;

    #[test]
    fn emf_names_every_metric_and_its_value() {
        let now = datetime!(2026-11-22 10:00:00 UTC);
        let cert = |days: i64| CertificateInfo {
            subject: "CN=x".into(),
            issuer: "CN=y".into(),
            sha1: "ab".repeat(20),
            not_before: Some(now - time::Duration::days(100)),
            not_after: Some(now + time::Duration::days(days)),
        };
        let mut report = Report {
            resolved: Vec::new(),
            schema_version: SCHEMA_VERSION,
            account_id: "123456789012".into(),
            generated_at: now,
            remediation_mode: RemediationMode::Off,
            providers: vec![ProviderReport {
                arn: "arn".into(),
                url: "https://x".into(),
                client_ids: vec![],
                configured_thumbprints: vec![],
                jwks_uri: None,
                endpoints: vec![Endpoint {
                    host: "127.0.0.1:443".into(),
                    serves: vec![crate::report::Fetch::Jwks],
                    address: "127.0.0.1:1".into(),
                    chain: vec![cert(90), cert(12)],
                    top_thumbprint: None,
                    trusted: true,
                    tls13_only: false,
                    error: None,
                }],
                served_thumbprints: vec![],
                thumbprint_enforced: true,
                remediation: None,
            }],
            clusters: vec![],
            findings: vec![],
            summary: Summary::default(),
        };
        report.recount();
        let doc = emf(&report, now);
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "ThumbprintGuard"
        );
        let names: Vec<_> = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap().to_string())
            .collect();
        for name in &names {
            assert!(doc.get(name).is_some(), "metric {name} has no value");
        }
        assert_eq!(names.len(), 5);
        assert_eq!(doc["MinDaysToExpiry"], 12);
        assert_eq!(doc["ProvidersChecked"], 1);
        assert_eq!(doc["_aws"]["Timestamp"], now.unix_timestamp() * 1000);
    }
}
