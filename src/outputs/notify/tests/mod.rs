//! Unit tests of the notification rendering, the notify rule and publishing. Fixtures live here.

use std::collections::HashMap;

use serde_json::{json, Value};
use time::macros::datetime;

use super::compose::render_parts;
use super::*;
use crate::config::{Config, NotifyRule};
use crate::report::RemediationMode;
use crate::report::Severity;
use crate::report::{
    CertificateInfo, ClusterReport, Endpoint, Finding, FindingCode, ProviderReport, Remediation,
    RemediationOutcome, Report, Summary, SCHEMA_VERSION,
};

const ACCOUNT: &str = "123456789012";

/// One account's messages at the publish budget, without context.
fn render(report: &Report) -> Vec<SnsMessage> {
    render_parts(report, PUBLISH_BUDGET_BYTES, &MessageContext::default())
}

/// One account's messages at another budget (tests use small ones).
fn render_within(report: &Report, budget: usize) -> Vec<SnsMessage> {
    render_parts(report, budget, &MessageContext::default())
}

/// One account's messages at the publish budget, with `context`.
fn render_with(report: &Report, context: &MessageContext) -> Vec<SnsMessage> {
    render_parts(report, PUBLISH_BUDGET_BYTES, context)
}
const OLD: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";
const NEW: &str = "06b25927c42a721631c1efd9431e648fa62e1e39";
const ADDED: &str = "b2c5d3a1e4f60718293a4b5c6d7e8f9012345678";

fn arn(n: usize) -> String {
    format!("arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/P{n:04}")
}

fn cert(subject: &str, issuer: &str, sha1: &str) -> CertificateInfo {
    CertificateInfo {
        subject: subject.into(),
        issuer: issuer.into(),
        sha1: sha1.into(),
        not_before: Some(datetime!(2026-10-01 00:00:00 UTC)),
        not_after: Some(datetime!(2027-10-01 00:00:00 UTC)),
    }
}

fn provider(n: usize, configured: &[&str], served: &str) -> ProviderReport {
    let url = format!("https://oidc.eks.us-east-1.amazonaws.com/id/P{n:04}");
    let endpoint = |address: &str| Endpoint {
        host: "127.0.0.1:443".into(),
        serves: vec![crate::report::Fetch::Jwks],
        address: address.into(),
        chain: vec![
            CertificateInfo {
                not_after: Some(datetime!(2026-12-01 00:00:00 UTC)),
                ..cert(
                    "CN=oidc.eks.us-east-1.amazonaws.com",
                    "CN=Amazon RSA 2048 M02",
                    &"11".repeat(20),
                )
            },
            cert(
                "CN=Amazon RSA 2048 M02, O=Amazon, C=US",
                "CN=Amazon Root CA 1, O=Amazon, C=US",
                served,
            ),
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
        configured_thumbprints: configured.iter().map(|s| s.to_string()).collect(),
        jwks_uri: Some(format!("{url}/keys")),
        endpoints: vec![endpoint("203.0.113.10:443"), endpoint("203.0.113.11:443")],
        served_thumbprints: vec![served.into()],
        thumbprint_enforced: true,
        remediation: None,
    }
}

fn mismatch(n: usize) -> Finding {
    Finding::new(
        FindingCode::ThumbprintMismatch,
        arn(n),
        format!("The JWKS host serves CA thumbprint {NEW}, which the provider does not list; STS rejects IRSA tokens."),
    )
    .with_details(json!({"served": [NEW], "configured": [OLD], "addresses": ["203.0.113.10:443", "203.0.113.11:443"]}))
}

fn expiring(n: usize) -> Finding {
    Finding::new(
        FindingCode::CertExpiring,
        arn(n),
        "The certificate CN=oidc.eks.us-east-1.amazonaws.com expires within 30 days.",
    )
    .with_discriminator(crate::report::Discriminator::Thumbprint("11".repeat(20)))
    .with_details(json!({"subject": "CN=oidc.eks.us-east-1.amazonaws.com", "not_after": "2026-12-01T00:00:00Z"}))
}

fn report(
    providers: Vec<ProviderReport>,
    clusters: Vec<ClusterReport>,
    mut findings: Vec<Finding>,
) -> Report {
    crate::report::sort_findings(&mut findings);
    let mut r = Report {
        resolved: Vec::new(),
        schema_version: SCHEMA_VERSION,
        account_id: ACCOUNT.into(),
        generated_at: datetime!(2026-11-22 10:00:00 UTC),
        remediation_mode: RemediationMode::Add,
        providers,
        clusters,
        findings,
        summary: Summary::default(),
    };
    r.recount();
    r
}

/// Two critical (a mismatch and a role without `:sub`), one warning, one info (an added thumbprint).
fn sample() -> Report {
    let mut added = provider(2, &[OLD], ADDED);
    added.remediation = Some(Remediation {
        outcome: RemediationOutcome::Applied,
        added: vec![ADDED.into()],
        reason: "every address served a trusted chain for oidc.eks.us-east-1.amazonaws.com".into(),
    });
    report(
        vec![provider(1, &[OLD], NEW), added, provider(3, &[OLD], OLD)],
        vec![ClusterReport {
            arn: String::new(),
            name: "prod".into(),
            region: "us-east-1".into(),
            issuer: Some("https://oidc.eks.us-east-1.amazonaws.com/id/P0001".into()),
            provider_arn: Some(arn(1)),
            kubernetes: None,
        }],
        vec![
            mismatch(1),
            Finding::new(
                FindingCode::ThumbprintAdded,
                arn(2),
                format!("Added thumbprint {ADDED} to the provider."),
            ),
            expiring(3),
            Finding::new(
                FindingCode::TrustPolicyNoSub,
                format!("arn:aws:iam::{ACCOUNT}:role/payments-irsa"),
                "The role trusts the provider without a :sub condition; any service account can assume it.",
            ),
        ],
    )
}

fn healthy() -> Report {
    report(vec![provider(1, &[OLD], OLD)], vec![], vec![])
}

fn config(notify: NotifyRule, topic: Option<&str>) -> Config {
    Config {
        notify,
        sns_topic_arn: topic.map(str::to_owned),
        ..Config::default()
    }
}

fn only_one(report: &Report) -> SnsMessage {
    let mut messages = render(report);
    assert_eq!(messages.len(), 1, "expected one message");
    messages.remove(0)
}

fn assert_subject_rules(subject: &str) {
    assert!(subject.len() <= SUBJECT_MAX, "{subject}");
    assert!(
        subject.chars().all(|c| c == ' ' || c.is_ascii_graphic()),
        "{subject:?}"
    );
    assert!(subject.starts_with('['), "{subject}");
}

mod email_text;
mod messages;
mod organization;
mod publish_every_part;
mod split;
