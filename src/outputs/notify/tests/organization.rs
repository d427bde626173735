//! The organization message: one per run, split by account when large, every finding once.

use super::*;
use crate::report::{OrganizationReport, RunReport};

static NO_CONTEXT: MessageContext = MessageContext {
    account_alias: None,
    state_unavailable: None,
};

/// What the run step hands notify for `run`: the central account, no state, no alias.
fn notes(run: &RunReport) -> RunNotes<'static> {
    RunNotes {
        central_account: ACCOUNT,
        accounts: run
            .accounts()
            .iter()
            .map(|_| AccountNotes {
                changes: None,
                context: &NO_CONTEXT,
            })
            .collect(),
    }
}

fn render_organization(run: &OrganizationReport, budget: usize) -> Vec<SnsMessage> {
    let run = RunReport::Organization(run.clone());
    render_run(&run, &notes(&run), budget)
}

fn decide_organization<'a>(
    config: &'a Config,
    run: &OrganizationReport,
) -> Result<&'a str, Silence> {
    let run = RunReport::Organization(run.clone());
    decide_run(config, &run, &notes(&run))
}

fn run(accounts: usize) -> OrganizationReport {
    let mut org = OrganizationReport::empty(
        Some("o-abc123def4".into()),
        datetime!(2026-11-22 10:00:00 UTC),
    );
    for i in 0..accounts {
        let mut account = sample();
        account.account_id = format!("{:012}", 100_000_000_000u64 + i as u64);
        for finding in &mut account.findings {
            finding.resource = finding.resource.replace(ACCOUNT, &account.account_id);
        }
        for provider in &mut account.providers {
            provider.arn = provider.arn.replace(ACCOUNT, &account.account_id);
        }
        org.accounts.push(account);
    }
    org.findings.push(Finding::new(
        FindingCode::AccountUnreachable,
        "arn:aws:iam::999999999999:role/thumbprint-guard-member",
        "account 999999999999 was not swept: AccessDenied",
    ));
    org.recount(accounts + 1);
    org
}

fn payload(m: &SnsMessage) -> OrganizationReport {
    serde_json::from_str(&m.body("sqs").unwrap()).unwrap()
}

#[test]
fn a_small_organization_is_one_message_with_organization_id() {
    let run = run(3);
    let messages = render_organization(&run, PUBLISH_BUDGET_BYTES);
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(
        m.subject,
        "[CRITICAL] thumbprint-guard org o-abc123def4 (4 accounts): 7 critical, 3 warning, 1 unreachable"
    );
    assert!(m
        .attributes
        .entries()
        .contains(&("organization_id", "String", "o-abc123def4".into())));
    assert_eq!(m.attributes.account_id, ACCOUNT, "the central account");
    assert_eq!(
        payload(m),
        run,
        "one message carries the organization report as is"
    );
    let email = m.body("email").unwrap();
    assert!(email.contains("ACCOUNTS NOT SWEPT (1)"), "{email}");
    for account in &run.accounts {
        assert!(
            email.contains(&format!("AWS account {} ", account.account_id)),
            "{email}"
        );
    }
}

#[test]
fn a_large_organization_is_split_by_account_and_carries_every_finding_once() {
    let run = run(40);
    let whole = render_organization(&run, usize::MAX)[0].publish_size();
    let budget = whole / 5;
    let messages = render_organization(&run, budget);
    assert!(messages.len() >= 5, "{} parts", messages.len());
    let mut findings: Vec<(String, String)> = Vec::new();
    let mut unreachable = 0;
    for (i, m) in messages.iter().enumerate() {
        assert!(
            m.publish_size() <= budget,
            "part {} has {} > {budget}",
            i + 1,
            m.publish_size()
        );
        assert_eq!(
            (m.attributes.part, m.attributes.parts),
            (i + 1, messages.len())
        );
        assert!(
            m.subject
                .ends_with(&format!(" (part {}/{})", i + 1, messages.len())),
            "{}",
            m.subject
        );
        assert!(m.subject.len() <= SUBJECT_MAX);
        let part = payload(m);
        unreachable += part.findings.len();
        for account in &part.accounts {
            assert_eq!(account.summary, account.summarize());
            for finding in &account.findings {
                assert!(
                    finding.resource.contains(&account.account_id)
                        || finding.resource.starts_with("arn:aws:iam::")
                );
                findings.push((
                    account.account_id.clone(),
                    finding.id.clone() + &finding.resource,
                ));
            }
        }
    }
    assert_eq!(
        unreachable, 1,
        "the organization-level finding travels once, in part 1"
    );
    let expected: usize = run.accounts.iter().map(|a| a.findings.len()).sum();
    assert_eq!(findings.len(), expected);
    findings.sort();
    findings.dedup();
    assert_eq!(findings.len(), expected, "no finding twice");
}

#[test]
fn the_organization_rule_follows_every_account() {
    let quiet = {
        let mut run = run(2);
        run.findings.clear();
        for account in &mut run.accounts {
            account.findings.clear();
            for provider in &mut account.providers {
                provider.remediation = None;
            }
            account.recount();
        }
        run.recount(2);
        run
    };
    let findings = config(NotifyRule::Findings, Some("arn:t"));
    assert_eq!(
        decide_organization(&findings, &quiet),
        Err(Silence::NothingToTell)
    );
    assert_eq!(decide_organization(&findings, &run(2)), Ok("arn:t"));
    let always = config(NotifyRule::Always, Some("arn:t"));
    assert_eq!(decide_organization(&always, &quiet), Ok("arn:t"));
    assert_eq!(
        decide_organization(&config(NotifyRule::Never, Some("arn:t")), &run(2)),
        Err(Silence::Never)
    );
    assert_eq!(
        decide_organization(&config(NotifyRule::Findings, None), &run(2)),
        Err(Silence::NoTopic)
    );
}
