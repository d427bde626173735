//! Subject, attributes, the protocols of a message, the Chatbot document and the notify rule.

use super::*;

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
    let subject = text::account_subject(&r, 9999, 9999, None);
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
    assert_eq!(
        chatbot["metadata"]["threadId"],
        format!("thumbprint-guard-{ACCOUNT}"),
        "one thread per account, across runs"
    );
    let next_steps = chatbot["content"]["nextSteps"]
        .as_array()
        .expect("nextSteps");
    assert!(
        next_steps[0]
            .as_str()
            .unwrap()
            .starts_with("aws iam update-open-id-connect-provider-thumbprint"),
        "the enforced mismatch's fix comes first: {next_steps:?}"
    );
    assert!(next_steps.len() <= 5);
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
            description.contains("more in this message: see the e-mail"),
            "{description}"
        );
    }
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
        decide(&config(NotifyRule::Findings, Some(topic)), &problem, None),
        Ok(topic)
    );
    assert!(decide(&config(NotifyRule::Findings, Some(topic)), &clean, None).is_err());
    assert!(decide(&config(NotifyRule::Findings, Some(topic)), &info_only, None).is_err());
    assert_eq!(
        decide(&config(NotifyRule::Always, Some(topic)), &clean, None),
        Ok(topic)
    );
    let never = decide(&config(NotifyRule::Never, Some(topic)), &problem, None)
        .unwrap_err()
        .to_string();
    assert!(never.contains("NOTIFY=never"), "{never}");
    let unset = decide(&config(NotifyRule::Always, None), &problem, None)
        .unwrap_err()
        .to_string();
    assert!(unset.contains("SNS_TOPIC_ARN"), "{unset}");

    // A change (thumbprint added) is worth a message even without a warning.
    let mut change = sample();
    change.findings.retain(|f| f.severity == Severity::Info);
    change.recount();
    assert!(change.changed());
    assert_eq!(
        decide(&config(NotifyRule::Findings, Some(topic)), &change, None),
        Ok(topic)
    );
}
