//! Splitting a large report into parts that carry everything once.

use super::*;

/// 400 providers, each with a mismatch and an expiring certificate, plus 400 role findings.
fn large() -> Report {
    let providers: Vec<ProviderReport> = (0..400).map(|n| provider(n, &[OLD], NEW)).collect();
    let mut findings: Vec<Finding> = Vec::new();
    for n in 0..400 {
        findings.push(mismatch(n));
        findings.push(expiring(n));
        findings.push(Finding::new(
            FindingCode::TrustPolicyNoAud,
            format!("arn:aws:iam::{ACCOUNT}:role/app-{n}"),
            "The role trusts an OIDC provider without an :aud condition.",
        ));
    }
    let clusters = (0..50)
        .map(|n| ClusterReport {
            arn: String::new(),
            name: format!("cluster-{n}"),
            region: "us-east-1".into(),
            issuer: None,
            provider_arn: Some(arn(n)),
            kubernetes: None,
        })
        .collect();
    report(providers, clusters, findings)
}

fn key(f: &Finding) -> String {
    format!("{}|{}|{}", f.code, f.resource, f.message)
}

#[test]
fn a_large_report_is_split_into_parts_that_carry_every_finding() {
    let r = large();
    let messages = render(&r);
    let count = messages.len();
    assert!(count > 1, "400 providers' findings need several parts");

    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut providers = Vec::new();
    let mut clusters = 0;
    let mut summed = Summary::default();
    for (i, m) in messages.iter().enumerate() {
        let part = i + 1;
        assert!(
            m.publish_size() <= PUBLISH_BUDGET_BYTES,
            "part {part}: {} bytes",
            m.publish_size()
        );
        assert!(m.message.len() < SNS_MAX_PUBLISH_BYTES);
        assert_subject_rules(&m.subject);
        assert!(
            m.subject.ends_with(&format!(" (part {part}/{count})")),
            "{}",
            m.subject
        );
        assert!(
            m.subject
                .starts_with("[CRITICAL] thumbprint-guard 123456789012: 400 critical, 800 warning"),
            "{}",
            m.subject
        );
        assert_eq!((m.attributes.part, m.attributes.parts), (part, count));
        assert_eq!(m.attributes.severity, "critical");

        let email = m.body("email").unwrap();
        assert!(
            email.contains(&format!("This is part {part} of {count}")),
            "{email}"
        );

        let payload: Report = serde_json::from_str(&m.body("sqs").unwrap()).unwrap();
        assert_eq!(m.body("lambda"), m.body("sqs"));
        assert_eq!(
            (payload.account_id.as_str(), payload.generated_at),
            (ACCOUNT, r.generated_at)
        );
        let mut recounted = payload.clone();
        recounted.recount();
        assert_eq!(
            recounted.summary, payload.summary,
            "each part's summary matches its lists"
        );
        for f in &payload.findings {
            *seen.entry(key(f)).or_default() += 1;
            assert!(
                email.contains(&f.message),
                "part {part}'s text names every finding it carries"
            );
        }
        providers.extend(payload.providers.iter().map(|p| p.arn.clone()));
        clusters += payload.clusters.len();
        summed.critical += payload.summary.critical;
        summed.warning += payload.summary.warning;
        summed.providers += payload.summary.providers;

        let chatbot: Value = serde_json::from_str(&m.body("https").unwrap()).unwrap();
        assert_eq!(
            chatbot["metadata"]["additionalContext"]["part"],
            part.to_string()
        );
        assert_eq!(
            chatbot["metadata"]["threadId"], "thumbprint-guard-123456789012",
            "every part and every run of one account share a thread"
        );
    }
    let mut expected: HashMap<String, usize> = HashMap::new();
    for f in &r.findings {
        *expected.entry(key(f)).or_default() += 1;
    }
    assert_eq!(seen, expected, "every finding arrives exactly once");
    providers.sort();
    let mut all: Vec<String> = r.providers.iter().map(|p| p.arn.clone()).collect();
    all.sort();
    assert_eq!(providers, all, "every provider arrives exactly once");
    assert_eq!(clusters, r.clusters.len());
    assert_eq!(
        (summed.critical, summed.warning, summed.providers),
        (400, 800, 400)
    );
    // The most severe findings come first.
    let first: Report = serde_json::from_str(&messages[0].body("sqs").unwrap()).unwrap();
    assert_eq!(first.findings[0].severity, Severity::Critical);
}

#[test]
fn a_small_budget_splits_a_small_report() {
    let r = sample();
    let whole = render(&r).remove(0).publish_size();
    let messages = render_within(&r, whole - 1);
    assert!(messages.len() > 1);
    let carried: usize = messages
        .iter()
        .map(|m| {
            serde_json::from_str::<Report>(&m.body("sqs").unwrap())
                .unwrap()
                .findings
                .len()
        })
        .sum();
    assert_eq!(carried, r.findings.len());
}

/// One hostile issuer: 8 addresses, each serving 50 certificates whose names are at the 512-character
/// cap, and a mismatch finding with a long message. No part may exceed the budget, and the finding
/// still arrives.
#[test]
fn one_hostile_provider_is_condensed_to_fit_one_publish() {
    let long = format!("CN={}", "x".repeat(509));
    let mut p = provider(1, &[OLD], NEW);
    let endpoint = p.endpoints[0].clone();
    p.endpoints = (0..8)
        .map(|i| Endpoint {
            address: format!("203.0.113.{i}:443"),
            chain: (0..50)
                .map(|n| cert(&long, &long, &format!("{n:040}")))
                .collect(),
            ..endpoint.clone()
        })
        .collect();
    let mut finding = mismatch(1);
    finding.message = format!("{} {}", finding.message, "y".repeat(3000));
    let r = report(vec![p], vec![], vec![finding]);
    let messages = render(&r);
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert!(
        message.publish_size() <= PUBLISH_BUDGET_BYTES,
        "{} bytes",
        message.publish_size()
    );
    let email = message.body("email").unwrap();
    assert!(
        email.contains("condensed to fit SNS's size limit"),
        "{email}"
    );
    assert!(email.contains("THUMBPRINT_MISMATCH"), "{email}");
    let sqs: Report = serde_json::from_str(&message.body("sqs").unwrap()).unwrap();
    assert_eq!(sqs.findings.len(), 1);
    assert_eq!(sqs.providers[0].arn, arn(1));
}
