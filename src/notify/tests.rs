//! Unit tests of the notification rendering and the notify rule (pure).

use std::collections::HashMap;

use serde_json::{json, Value};
use time::macros::datetime;

use super::*;
use crate::config::RemediationMode;
use crate::report::{
    CertificateInfo, ClusterReport, Endpoint, Finding, FindingCode, ProviderReport, Remediation,
    RemediationOutcome, Report, Summary, SCHEMA_VERSION,
};

const ACCOUNT: &str = "123456789012";
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
            cert(
                "CN=oidc.eks.us-east-1.amazonaws.com",
                "CN=Amazon RSA 2048 M02",
                &"11".repeat(20),
            ),
            cert(
                "CN=Amazon RSA 2048 M02, O=Amazon, C=US",
                "CN=Amazon Root CA 1, O=Amazon, C=US",
                served,
            ),
        ],
        top_thumbprint: Some(served.into()),
        trusted: true,
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
            name: "prod".into(),
            region: "us-east-1".into(),
            issuer: Some("https://oidc.eks.us-east-1.amazonaws.com/id/P0001".into()),
            provider_arn: Some(arn(1)),
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

#[test]
fn subject_names_highest_severity_account_and_counts() {
    let critical = sample();
    assert_eq!(
        only_one(&critical).subject,
        "[CRITICAL] thumbprint-guard 123456789012: 2 critical, 1 warning, 1 info, 1 thumbprint added"
    );
    let warning = report(vec![provider(3, &[OLD], OLD)], vec![], vec![expiring(3)]);
    assert_eq!(
        only_one(&warning).subject,
        "[WARNING] thumbprint-guard 123456789012: 0 critical, 1 warning"
    );
    let mut info = sample();
    info.findings.retain(|f| f.severity == Severity::Info);
    info.recount();
    assert_eq!(
        only_one(&info).subject,
        "[INFO] thumbprint-guard 123456789012: 1 info, 1 thumbprint added"
    );
    assert_eq!(
        only_one(&healthy()).subject,
        "[OK] thumbprint-guard 123456789012: no findings, 1 provider checked"
    );
    for r in [critical, warning, info, healthy()] {
        assert_subject_rules(&only_one(&r).subject);
    }
}

#[test]
fn subject_stays_short_and_printable_whatever_the_input() {
    let mut r = sample();
    r.account_id = "12345\n6789012é".repeat(20);
    for _ in 0..20_000 {
        r.findings.push(mismatch(1));
    }
    let subject = text::subject(&r, 9999, 9999);
    assert_subject_rules(&subject);
    assert!(subject.ends_with(" (part 9999/9999)"), "{subject}");
    assert!(!subject.contains('\n'));
}

#[test]
fn attributes_carry_severity_account_and_part() {
    assert_eq!(only_one(&sample()).attributes.severity, "critical");
    assert_eq!(only_one(&healthy()).attributes.severity, "ok");
    let m = only_one(&sample());
    let entries = m.attributes.entries();
    assert_eq!(entries[0], ("severity", "String", "critical".to_string()));
    assert_eq!(entries[1], ("account_id", "String", ACCOUNT.to_string()));
    assert_eq!(entries[2], ("part", "Number", "1".to_string()));
    assert_eq!(entries[3], ("parts", "Number", "1".to_string()));
}

#[test]
fn message_has_every_protocol_and_sqs_is_the_report() {
    let r = sample();
    let m = only_one(&r);
    let document: Value = serde_json::from_str(&m.message).unwrap();
    let mut keys: Vec<&str> = document
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["default", "email", "https", "lambda", "sqs"]);
    assert_eq!(m.body("default"), m.body("email"));
    let sqs = m.body("sqs").unwrap();
    assert_eq!(sqs, serde_json::to_string(&r).unwrap());
    assert_eq!(m.body("lambda").unwrap(), sqs);
    let parsed: Report = serde_json::from_str(&sqs).unwrap();
    assert_eq!(parsed, r);
}

#[test]
fn chatbot_document_follows_the_custom_notification_schema() {
    let r = sample();
    let m = only_one(&r);
    let chatbot: Value = serde_json::from_str(&m.body("https").unwrap()).unwrap();
    assert_eq!(chatbot["version"], "1.0");
    assert_eq!(chatbot["source"], "custom");
    assert_eq!(chatbot["content"]["textType"], "client-markdown");
    let title = chatbot["content"]["title"].as_str().unwrap();
    assert!(
        title.starts_with(":rotating_light: [CRITICAL] thumbprint-guard 123456789012"),
        "{title}"
    );
    assert!(title.chars().count() <= CHATBOT_TITLE_MAX);
    let description = chatbot["content"]["description"].as_str().unwrap();
    assert!(description.chars().count() <= CHATBOT_DESCRIPTION_MAX);
    assert!(
        description.contains(
            "*CRITICAL* `THUMBPRINT_MISMATCH` provider `oidc.eks.us-east-1.amazonaws.com/id/P0001`"
        ),
        "{description}"
    );
    assert!(
        description.contains("aws iam update-open-id-connect-provider-thumbprint"),
        "{description}"
    );
    assert!(
        description.contains("role `payments-irsa`"),
        "{description}"
    );
    let context = &chatbot["metadata"]["additionalContext"];
    assert_eq!(context["account_id"], ACCOUNT);
    assert_eq!(context["severity"], "critical");
    assert_eq!(context["critical"], "2");
    assert_eq!(chatbot["metadata"]["summary"], m.subject.as_str());
    assert!(chatbot["metadata"].get("threadId").is_none());
    assert!(chatbot["metadata"]["relatedResources"]
        .as_array()
        .unwrap()
        .contains(&json!(arn(1))));
    for value in context.as_object().unwrap().values() {
        assert!(
            value.is_string(),
            "additionalContext values are strings: {value}"
        );
    }
}

#[test]
fn chatbot_description_stays_within_its_limit() {
    let providers: Vec<ProviderReport> = (0..60).map(|n| provider(n, &[OLD], NEW)).collect();
    let findings: Vec<Finding> = (0..60).map(mismatch).collect();
    let r = report(providers, vec![], findings);
    for m in render(&r) {
        let chatbot: Value = serde_json::from_str(&m.body("https").unwrap()).unwrap();
        let description = chatbot["content"]["description"].as_str().unwrap();
        assert!(
            description.len() <= CHATBOT_DESCRIPTION_MAX,
            "{}",
            description.len()
        );
        assert!(
            description.contains("more finding(s) in this message"),
            "{description}"
        );
    }
}

#[test]
fn email_says_what_where_when_what_was_done_and_the_fix() {
    let r = sample();
    let email = only_one(&r).body("email").unwrap();
    assert!(
        email.starts_with(
            "thumbprint-guard: AWS account 123456789012, sweep of 2026-11-22T10:00:00Z\n"
        ),
        "{email}"
    );
    assert!(
        email.contains("\nCRITICAL (2 critical, 1 warning, 1 info, 1 thumbprint added): "),
        "{email}"
    );
    // THUMBPRINT_MISMATCH: the provider, its cluster, the new thumbprint and the exact command.
    assert!(
        email.contains(&format!("Provider: {}\n", arn(1))),
        "{email}"
    );
    assert!(email.contains("Clusters: prod (us-east-1)"), "{email}");
    assert!(
        email.contains(&format!("Not configured (new): {NEW}")),
        "{email}"
    );
    assert!(email.contains(&format!("New CA: {NEW} (CN=Amazon RSA 2048 M02, O=Amazon, C=US), valid from 2026-10-01T00:00:00Z")), "{email}");
    let fix = crate::render::manual_fix(&mismatch(1), &r).unwrap();
    assert!(
        fix.contains(&format!("--thumbprint-list {OLD} {NEW}")),
        "{fix}"
    );
    assert!(
        email.contains(&format!("Fix by hand:\n  {fix}\n")),
        "{email}"
    );
    assert!(
        email.contains("Done automatically: nothing was changed (remediation mode: add)"),
        "{email}"
    );
    // THUMBPRINT_ADDED: the provider and the thumbprint that was added.
    assert!(
        email.contains(&format!("Provider: {}\n", arn(2))),
        "{email}"
    );
    assert!(
        email.contains(&format!(
            "Done automatically: added {ADDED} to the thumbprint list"
        )),
        "{email}"
    );
    // CERT_EXPIRING: until when.
    assert!(
        email.contains("Expires: 2026-12-01T00:00:00Z (in 8 days)"),
        "{email}"
    );
    // A role finding names the role.
    assert!(
        email.contains(&format!("Role: arn:aws:iam::{ACCOUNT}:role/payments-irsa")),
        "{email}"
    );
    // Most severe first.
    let critical = email.find("1 of 4: CRITICAL").unwrap();
    let info = email.find("4 of 4: INFO THUMBPRINT_ADDED").unwrap();
    assert!(critical < info);
}

#[test]
fn healthy_heartbeat_says_ok() {
    let m = only_one(&healthy());
    let email = m.body("email").unwrap();
    assert!(
        email.contains("OK: no findings; every provider matches what its issuer serves."),
        "{email}"
    );
    let chatbot: Value = serde_json::from_str(&m.body("https").unwrap()).unwrap();
    assert!(chatbot["content"]["title"]
        .as_str()
        .unwrap()
        .starts_with(":white_check_mark: [OK]"));
}

#[test]
fn notify_rule_decides() {
    let topic = "arn:aws:sns:us-east-1:123456789012:thumbprint-guard";
    let problem = sample();
    let clean = healthy();
    let mut info_only = healthy();
    info_only.findings.push(Finding::new(
        FindingCode::OrphanProvider,
        arn(1),
        "no cluster",
    ));
    info_only.recount();

    assert_eq!(
        decide(&config(NotifyRule::Findings, Some(topic)), &problem),
        Ok(topic)
    );
    assert!(decide(&config(NotifyRule::Findings, Some(topic)), &clean).is_err());
    assert!(decide(&config(NotifyRule::Findings, Some(topic)), &info_only).is_err());
    assert_eq!(
        decide(&config(NotifyRule::Always, Some(topic)), &clean),
        Ok(topic)
    );
    let never = decide(&config(NotifyRule::Never, Some(topic)), &problem).unwrap_err();
    assert!(never.contains("NOTIFY=never"), "{never}");
    let unset = decide(&config(NotifyRule::Always, None), &problem).unwrap_err();
    assert!(unset.contains("SNS_TOPIC_ARN"), "{unset}");

    // A change (thumbprint added) is worth a message even without a warning.
    let mut change = sample();
    change.findings.retain(|f| f.severity == Severity::Info);
    change.recount();
    assert!(change.changed());
    assert_eq!(
        decide(&config(NotifyRule::Findings, Some(topic)), &change),
        Ok(topic)
    );
}

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
            name: format!("cluster-{n}"),
            region: "us-east-1".into(),
            issuer: None,
            provider_arn: Some(arn(n)),
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
            chatbot["metadata"]["threadId"],
            "thumbprint-guard-123456789012-1795341600"
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

// ---------------------------------------------------------------------------------------------
// Publishing against an SNS faked with aws-smithy-mocks: a part SNS refuses does not stop the
// others.

mod publish_every_part {
    use std::time::Duration;

    use aws_sdk_sns::config::retry::RetryConfig;
    use aws_sdk_sns::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_sns::operation::publish::PublishOutput;
    use aws_sdk_sns::Client;
    use aws_smithy_mocks::{
        create_mock_http_client, mock, MockResponseInterceptor, Rule, RuleMode,
    };
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::super::{publish, MessageAttributes, NotifyError, NotifyOutcome, SnsMessage};

    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:thumbprint-guard";

    fn message(part: usize, parts: usize) -> SnsMessage {
        SnsMessage {
            subject: format!("[WARNING] thumbprint-guard (part {part}/{parts})"),
            message: format!(r#"{{"default":"part {part}"}}"#),
            attributes: MessageAttributes {
                severity: "warning",
                account_id: "123456789012".into(),
                part,
                parts,
            },
        }
    }

    fn too_long() -> HttpResponse {
        let body = "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: Message too long</Message></Error><RequestId>test</RequestId></ErrorResponse>";
        HttpResponse::new(StatusCode::try_from(400).unwrap(), SdkBody::from(body))
    }

    /// A client on which the parts in `refused` fail (SNS's "Message too long") and every other
    /// part is published; returns the rule counting the successful publishes.
    fn sns(refused: &'static [usize]) -> (Client, Rule) {
        let refuse = mock!(Client::publish)
            .match_requests(move |request| {
                refused.iter().any(|part| {
                    request
                        .subject()
                        .is_some_and(|s| s.contains(&format!("(part {part}/")))
                })
            })
            .then_http_response(too_long);
        let accept = mock!(Client::publish).then_compute_output(|request| {
            PublishOutput::builder()
                .message_id(format!("id-{}", request.subject().unwrap_or_default()))
                .build()
        });
        let interceptor = MockResponseInterceptor::new()
            .rule_mode(RuleMode::MatchAny)
            .with_rule(&refuse)
            .with_rule(&accept);
        let config = aws_sdk_sns::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .http_client(create_mock_http_client())
            .interceptor(interceptor)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(2)
                    .with_initial_backoff(Duration::from_millis(1)),
            )
            .build();
        (Client::from_conf(config), accept)
    }

    #[tokio::test]
    async fn a_refused_first_part_does_not_lose_the_later_ones() {
        let (client, accepted) = sns(&[1]);
        let messages: Vec<SnsMessage> = (1..=3).map(|part| message(part, 3)).collect();
        let error = publish(&client, TOPIC, &messages)
            .await
            .expect_err("part 1 is refused");
        assert_eq!(accepted.num_calls(), 2, "parts 2 and 3 are still published");
        match &error {
            NotifyError::Publish {
                topic_arn,
                part,
                parts,
                delivered,
                code,
                ..
            } => {
                assert_eq!(
                    (topic_arn.as_str(), *part, *parts, *delivered),
                    (TOPIC, 1, 3, 2)
                );
                assert_eq!(code.as_deref(), Some("InvalidParameter"));
            }
            other => panic!("expected one failed part, got {other:?}"),
        }
        let text = error.to_string();
        assert!(text.contains("part 1 of 3"), "{text}");
        assert!(text.contains("Message too long"), "{text}");
    }

    #[tokio::test]
    async fn every_failed_part_is_named() {
        let (client, accepted) = sns(&[1, 3]);
        let messages: Vec<SnsMessage> = (1..=4).map(|part| message(part, 4)).collect();
        let error = publish(&client, TOPIC, &messages)
            .await
            .expect_err("parts 1 and 3 are refused");
        assert_eq!(accepted.num_calls(), 2, "parts 2 and 4 are published");
        let text = error.to_string();
        match error {
            NotifyError::PublishParts {
                topic_arn,
                parts,
                delivered,
                failures,
            } => {
                assert_eq!((topic_arn.as_str(), parts, delivered), (TOPIC, 4, 2));
                let failed: Vec<usize> = failures.iter().map(|f| f.part).collect();
                assert_eq!(failed, [1, 3]);
                assert!(failures
                    .iter()
                    .all(|f| f.code.as_deref() == Some("InvalidParameter")));
            }
            other => panic!("expected several failed parts, got {other:?}"),
        }
        assert!(text.contains("2 of 4 parts"), "{text}");
        assert!(text.contains(TOPIC), "{text}");
        assert!(
            text.contains("part 1: ") && text.contains("part 3: "),
            "{text}"
        );
    }

    #[tokio::test]
    async fn all_parts_accepted_is_published() {
        let (client, accepted) = sns(&[]);
        let messages: Vec<SnsMessage> = (1..=2).map(|part| message(part, 2)).collect();
        let outcome = publish(&client, TOPIC, &messages).await.unwrap();
        assert_eq!(accepted.num_calls(), 2);
        assert_eq!(
            outcome,
            NotifyOutcome::Published {
                message_ids: vec![
                    "id-[WARNING] thumbprint-guard (part 1/2)".to_string(),
                    "id-[WARNING] thumbprint-guard (part 2/2)".to_string()
                ],
                parts: 2
            }
        );
    }
}
