//! The reports the tests publish: fixed providers, findings and sizes.

use serde_json::json;
use time::macros::datetime;

use crate::support::env::REGION;
use crate::support::moto::ACCOUNT_ID;
use thumbprint_guard::config::{Config, NotifyRule, RemediationMode};
use thumbprint_guard::report::{
    sort_findings, CertificateInfo, ClusterReport, Endpoint, Finding, FindingCode, ProviderReport,
    Remediation, RemediationOutcome, Report, Summary, SCHEMA_VERSION,
};

pub const OLD: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";
pub const NEW: &str = "06b25927c42a721631c1efd9431e648fa62e1e39";
pub const ADDED: &str = "b2c5d3a1e4f60718293a4b5c6d7e8f9012345678";

pub fn arn(n: usize) -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/P{n:04}")
}

pub fn provider(n: usize, configured: &str, served: &str) -> ProviderReport {
    let url = format!("https://oidc.eks.us-east-1.amazonaws.com/id/P{n:04}");
    let cert = |subject: &str, sha1: &str| CertificateInfo {
        subject: subject.into(),
        issuer: "CN=Amazon Root CA 1, O=Amazon, C=US".into(),
        sha1: sha1.into(),
        not_before: Some(datetime!(2026-10-01 00:00:00 UTC)),
        not_after: Some(datetime!(2027-10-01 00:00:00 UTC)),
    };
    let endpoint = |address: &str| Endpoint {
        host: "127.0.0.1:443".into(),
        serves: vec![thumbprint_guard::report::Fetch::Jwks],
        address: address.into(),
        chain: vec![
            cert("CN=oidc.eks.us-east-1.amazonaws.com", &"11".repeat(20)),
            cert("CN=Amazon RSA 2048 M02, O=Amazon, C=US", served),
        ],
        top_thumbprint: Some(served.into()),
        trusted: true,
        tls13_only: false,
        error: None,
    };
    ProviderReport {
        arn: arn(n),
        url: url.clone(),
        client_ids: vec!["sts.amazonaws.com".into()],
        configured_thumbprints: vec![configured.into()],
        jwks_uri: Some(format!("{url}/keys")),
        endpoints: vec![endpoint("203.0.113.10:443"), endpoint("203.0.113.11:443")],
        served_thumbprints: vec![served.into()],
        thumbprint_enforced: true,
        remediation: None,
    }
}

pub fn mismatch(n: usize) -> Finding {
    Finding::new(
        FindingCode::ThumbprintMismatch,
        arn(n),
        format!(
            "P{n:04}: the JWKS host serves CA thumbprint {NEW}, which the provider does not list."
        ),
    )
    .with_details(json!({"served": [NEW], "configured": [OLD]}))
}

pub fn expiring(n: usize) -> Finding {
    Finding::new(
        FindingCode::CertExpiring,
        arn(n),
        format!("P{n:04}: the served certificate expires within 30 days."),
    )
    .with_details(json!({"not_after": "2026-12-01T00:00:00Z"}))
}

pub fn report(
    providers: Vec<ProviderReport>,
    clusters: Vec<ClusterReport>,
    mut findings: Vec<Finding>,
) -> Report {
    sort_findings(&mut findings);
    let mut report = Report {
        resolved: Vec::new(),
        schema_version: SCHEMA_VERSION,
        account_id: ACCOUNT_ID.into(),
        generated_at: datetime!(2026-11-22 10:00:00 UTC),
        remediation_mode: RemediationMode::Add,
        providers,
        clusters,
        findings,
        summary: Summary::default(),
    };
    report.recount();
    report
}

/// One critical mismatch (provider 1, cluster prod), one warning, one added thumbprint (info).
pub fn problem_report() -> Report {
    let mut added = provider(2, OLD, ADDED);
    added.remediation = Some(Remediation {
        outcome: RemediationOutcome::Applied,
        added: vec![ADDED.into()],
        reason: "every address served a trusted chain".into(),
    });
    report(
        vec![provider(1, OLD, NEW), added, provider(3, OLD, OLD)],
        vec![ClusterReport {
            arn: String::new(),
            name: "prod".into(),
            region: REGION.into(),
            issuer: Some("https://oidc.eks.us-east-1.amazonaws.com/id/P0001".into()),
            provider_arn: Some(arn(1)),
            kubernetes: None,
        }],
        vec![
            mismatch(1),
            expiring(3),
            Finding::new(
                FindingCode::ThumbprintAdded,
                arn(2),
                format!("Added thumbprint {ADDED}."),
            ),
        ],
    )
}

pub fn healthy_report() -> Report {
    report(vec![provider(1, OLD, OLD)], vec![], vec![])
}

/// 400 providers, each with a critical mismatch and an expiring certificate.
pub fn large_report() -> Report {
    let providers = (0..400).map(|n| provider(n, OLD, NEW)).collect();
    let findings = (0..400).flat_map(|n| [mismatch(n), expiring(n)]).collect();
    report(providers, vec![], findings)
}

pub fn config(notify: NotifyRule, topic_arn: &str) -> Config {
    Config {
        notify,
        sns_topic_arn: Some(topic_arn.to_string()),
        ..Config::default()
    }
}
