//! Report values for unit tests of the pure steps that read reports (fix, render).

use time::macros::datetime;

use super::account::{Endpoint, Fetch, ProviderReport, Report, Summary, SCHEMA_VERSION};
use super::facts::STS_AUDIENCE;
use super::finding::Finding;
use super::mode::RemediationMode;

/// An endpoint that served `top` on one address.
pub(crate) fn endpoint(top: &str, trusted: bool) -> Endpoint {
    Endpoint {
        host: "127.0.0.1:443".into(),
        serves: vec![Fetch::Jwks],
        address: "203.0.113.10:443".into(),
        chain: vec![],
        top_thumbprint: Some(top.to_string()),
        trusted,
        tls13_only: false,
        error: None,
    }
}

/// An EKS provider listing `configured` whose endpoints (all trusted) serve `served`.
pub(crate) fn provider(configured: &[&str], served: &[&str]) -> ProviderReport {
    ProviderReport {
        arn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/A".into(),
        url: "https://oidc.eks.us-east-1.amazonaws.com/id/A".into(),
        client_ids: vec![STS_AUDIENCE.into()],
        configured_thumbprints: configured.iter().map(|s| s.to_string()).collect(),
        jwks_uri: None,
        endpoints: served.iter().map(|s| endpoint(s, true)).collect(),
        served_thumbprints: served.iter().map(|s| s.to_string()).collect(),
        thumbprint_enforced: true,
        remediation: None,
    }
}

/// A report of `p` and `findings` at a fixed time, counted.
pub(crate) fn report(p: ProviderReport, findings: Vec<Finding>) -> Report {
    let mut r = Report {
        resolved: Vec::new(),
        schema_version: SCHEMA_VERSION,
        account_id: "123456789012".into(),
        generated_at: datetime!(2026-11-22 10:00:00 UTC),
        remediation_mode: RemediationMode::Off,
        providers: vec![p],
        clusters: vec![],
        findings,
        summary: Summary::default(),
    };
    r.recount();
    r
}
