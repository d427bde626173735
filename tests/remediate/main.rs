//! Remediation end to end: real sweeps against moto server and local TLS issuers, asserting the
//! thumbprint list and tags left in IAM and the report's `remediation` and findings.
//!
//! One host with two addresses serving different chains (a rotation behind a load balancer) is
//! staged with two backends on `127.0.0.1:P` and `127.0.0.2:P` and the name `issuer.test` pinned to
//! both in the probe context (`ProbeContext::with_resolve`).

#[path = "../support/mod.rs"]
mod support;

mod addresses;
mod conditions;
mod limits;
mod tags;

use support::env::Env;
use support::issuer::ChainSpec;
use support::moto;
use thumbprint_guard::config::RemediationMode;
use thumbprint_guard::remediate::LAST_ADDED_TAG;
use thumbprint_guard::report::{
    FindingCode, ProviderReport, Remediation, RemediationOutcome, Report, Severity,
};

fn provider<'a>(report: &'a Report, arn: &str) -> &'a ProviderReport {
    report
        .providers
        .iter()
        .find(|p| p.arn == arn)
        .unwrap_or_else(|| panic!("{arn} not in {:#?}", report.providers))
}

fn remediation<'a>(report: &'a Report, arn: &str) -> &'a Remediation {
    provider(report, arn)
        .remediation
        .as_ref()
        .unwrap_or_else(|| panic!("no remediation for {arn}: {report:#?}"))
}

fn codes_for(report: &Report, arn: &str) -> Vec<FindingCode> {
    report
        .findings
        .iter()
        .filter(|f| f.resource == arn)
        .map(|f| f.code)
        .collect()
}

/// Asserts a `skipped` remediation whose reason mentions every needle, and no THUMBPRINT_ADDED.
fn assert_skipped(report: &Report, arn: &str, needles: &[&str]) {
    let r = remediation(report, arn);
    assert_eq!(r.outcome, RemediationOutcome::Skipped, "{r:?}");
    assert!(r.added.is_empty(), "{r:?}");
    for needle in needles {
        assert!(r.reason.contains(needle), "'{needle}' not in: {}", r.reason);
    }
    assert!(!codes_for(report, arn).contains(&FindingCode::ThumbprintAdded));
}

fn endpoints(report: &Report, arn: &str) -> Vec<(String, Option<String>, bool)> {
    provider(report, arn)
        .endpoints
        .iter()
        .map(|e| (e.address.clone(), e.top_thumbprint.clone(), e.trusted))
        .collect()
}
#[tokio::test]
async fn rotation_on_an_allowed_host_adds_the_new_thumbprint_once() {
    let env = Env::new("remediate").await;
    let old = env.ca.chain(ChainSpec::default());
    let (server, arn) = env.issuer(&old, "ROTATED", &[&old.top_sha1()], &[]).await;
    let new = env.ca.chain(ChainSpec::default());
    assert_ne!(new.top_sha1(), old.top_sha1());
    server.rotate(new.clone());
    let config = env.config(RemediationMode::Add, "127.0.0.1");

    let before = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap();
    let report = env.sweep(&config).await;
    let r = remediation(&report, &arn);
    assert_eq!(r.outcome, RemediationOutcome::Applied, "{r:?}");
    assert_eq!(r.added, [new.top_sha1()]);
    assert!(
        r.reason
            .contains("127.0.0.1 matches REMEDIATION_ALLOWED_HOSTS"),
        "{}",
        r.reason
    );
    // IAM: the old entry kept first, the new one appended, the provider tagged.
    assert_eq!(
        moto::thumbprints(&env.iam, &arn).await,
        [old.top_sha1(), new.top_sha1()]
    );
    let tags = env.tags(&arn).await;
    let (_, last_added) = tags
        .iter()
        .find(|(k, _)| k == LAST_ADDED_TAG)
        .unwrap_or_else(|| panic!("no {LAST_ADDED_TAG} tag in {tags:?}"));
    let (thumbprint, at) = last_added.split_once(' ').expect("'<thumbprint> <time>'");
    assert_eq!(thumbprint, new.top_sha1());
    let at = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 time");
    assert!(at >= before, "{at} < {before}");
    // Report: the mismatch is resolved, the addition is an info finding.
    let added: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.resource == arn)
        .collect();
    assert_eq!(added.len(), 1, "{added:#?}");
    assert_eq!(added[0].code, FindingCode::ThumbprintAdded);
    assert_eq!(added[0].severity, Severity::Info);
    assert_eq!(added[0].details["thumbprint"], new.top_sha1());
    assert_eq!(report.summary.thumbprints_added, 1);

    // A second run changes nothing.
    let again = env.sweep(&config).await;
    assert_eq!(provider(&again, &arn).remediation, None);
    assert!(codes_for(&again, &arn).is_empty(), "{:#?}", again.findings);
    assert_eq!(again.summary.thumbprints_added, 0);
    assert_eq!(
        moto::thumbprints(&env.iam, &arn).await,
        [old.top_sha1(), new.top_sha1()]
    );
}

#[tokio::test]
async fn dry_run_plans_the_addition_and_leaves_iam_untouched() {
    let env = Env::new("remediate").await;
    let old = env.ca.chain(ChainSpec::default());
    let new = env.ca.chain(ChainSpec::default());
    let (_server, arn) = env.issuer(&new, "DRY", &[&old.top_sha1()], &[]).await;

    let report = env
        .sweep(&env.config(RemediationMode::DryRun, "127.0.0.1"))
        .await;
    let r = remediation(&report, &arn);
    assert_eq!(r.outcome, RemediationOutcome::Planned, "{r:?}");
    assert_eq!(r.added, [new.top_sha1()]);
    assert!(r.reason.starts_with("dry-run"), "{}", r.reason);
    assert_eq!(codes_for(&report, &arn), [FindingCode::ThumbprintMismatch]);
    assert_eq!(report.summary.thumbprints_added, 0);
    assert_eq!(moto::thumbprints(&env.iam, &arn).await, [old.top_sha1()]);
    assert!(env.tags(&arn).await.is_empty());
}
