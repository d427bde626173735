//! Sweeps under the template's policies, with moto enforcing them.

use thumbprint_guard::config::RemediationMode;
use thumbprint_guard::notify::NotifyOutcome;
use thumbprint_guard::report::{FindingCode, RemediationOutcome};

use crate::account::{calls, codes, incomplete, outcome_of, Account};
use crate::moto_enforces;
use crate::support::env::create_user;
use crate::support::moto;
use crate::template::{actions, expanded_template, for_moto, Stack};

#[tokio::test]
async fn off_and_add_policies_run_a_full_sweep_with_nothing_denied() {
    let template = expanded_template();
    let account = Account::new().await;
    let iam = account.setup_iam().await;
    let off = Stack::new(&template, "off", &account.topic_arn).role_statements();
    let add = Stack::new(&template, "add", &account.topic_arn).role_statements();
    let off_user = create_user(&iam, "guard-off", &for_moto(&off)).await;
    let add_user = create_user(&iam, "guard-add", &for_moto(&add)).await;
    account.moto.enable_auth().await;

    // off: everything read, the mismatch reported, nothing written, published.
    let (report, published) = account.sweep_as(&off_user, RemediationMode::Off).await;
    let report = report.expect("the sweep runs under the off policy");
    assert!(incomplete(&report).is_empty(), "{:#?}", incomplete(&report));
    assert!(
        matches!(published, Ok(NotifyOutcome::Published { .. })),
        "{published:?}"
    );
    assert_eq!(report.summary.providers, 2);
    assert!(codes(&report).contains(&(FindingCode::ThumbprintMismatch, account.rotated.clone())));
    assert!(
        matches!(
            outcome_of(&report, &account.rotated),
            Some((RemediationOutcome::Skipped, _))
        ),
        "{:?}",
        outcome_of(&report, &account.rotated)
    );
    assert_eq!(
        moto::thumbprints(&account.admin_iam().await, &account.rotated).await,
        [account.rotated_old.as_str()]
    );
    assert_eq!(account.notifications().await, 1);

    // add: the rotated provider gets the new thumbprint, and the tag is set.
    let (report, published) = account.sweep_as(&add_user, RemediationMode::Add).await;
    let report = report.expect("the sweep runs under the add policy");
    assert!(incomplete(&report).is_empty(), "{:#?}", incomplete(&report));
    assert!(
        matches!(published, Ok(NotifyOutcome::Published { .. })),
        "{published:?}"
    );
    let (outcome, reason) = outcome_of(&report, &account.rotated).expect("remediation");
    assert_eq!(outcome, RemediationOutcome::Applied, "{reason}");
    assert!(
        !reason.contains("could not be set"),
        "the tag failed: {reason}"
    );
    let admin = account.admin_iam().await;
    assert_eq!(
        moto::thumbprints(&admin, &account.rotated).await,
        [account.rotated_old.clone(), account.rotated_new.clone()]
    );
    let tags = admin
        .list_open_id_connect_provider_tags()
        .open_id_connect_provider_arn(&account.rotated)
        .send()
        .await
        .expect("ListOpenIDConnectProviderTags");
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == "thumbprint-guard/last-added"),
        "{tags:?}"
    );
    assert_eq!(outcome_of(&report, &account.healthy), None);
    assert_eq!(account.notifications().await, 2);
}

#[tokio::test]
async fn add_mode_under_the_off_policy_fails_only_the_remediation() {
    let template = expanded_template();
    let account = Account::new().await;
    let iam = account.setup_iam().await;
    let off = Stack::new(&template, "off", &account.topic_arn).role_statements();
    let user = create_user(&iam, "guard-off", &for_moto(&off)).await;
    account.moto.enable_auth().await;

    let (report, published) = account.sweep_as(&user, RemediationMode::Add).await;
    let report = report.expect("the sweep runs");
    let (outcome, reason) = outcome_of(&report, &account.rotated).expect("remediation");
    assert_eq!(outcome, RemediationOutcome::Failed, "{reason}");
    assert!(
        reason.contains("UpdateOpenIDConnectProviderThumbprint") && reason.contains("AccessDenied"),
        "{reason}"
    );
    // The rest of the sweep is intact: every read worked, the finding stays, the report went out.
    assert!(incomplete(&report).is_empty(), "{:#?}", incomplete(&report));
    assert!(codes(&report).contains(&(FindingCode::ThumbprintMismatch, account.rotated.clone())));
    assert_eq!(report.summary.thumbprints_added, 0);
    assert!(
        matches!(published, Ok(NotifyOutcome::Published { .. })),
        "{published:?}"
    );
    assert_eq!(
        moto::thumbprints(&account.admin_iam().await, &account.rotated).await,
        [account.rotated_old.as_str()]
    );
}

#[tokio::test]
async fn every_statement_the_code_exercises_is_needed() {
    // Without any one statement of the off policy, the sweep says so: this shows both that moto
    // enforces each action and that the template grants nothing the code does not use. (Without the
    // add-mode statement, remediation fails: add_mode_under_the_off_policy_fails_only_the_remediation.)
    let template = expanded_template();
    let account = Account::new().await;
    let iam = account.setup_iam().await;
    let off = Stack::new(&template, "off", &account.topic_arn).role_statements();
    let exercised: Vec<&str> = calls(&account, "off")
        .iter()
        .map(|(a, _)| *a)
        .filter(|a| moto_enforces(a))
        // The alias is best effort: without it messages omit the alias and nothing else changes
        // (tests/faults.rs: a denied ListAccountAliases costs the message nothing).
        .filter(|a| *a != "iam:ListAccountAliases")
        .collect();
    let mut users = Vec::new();
    for (index, statement) in off.iter().enumerate() {
        let used: Vec<String> = actions(statement)
            .into_iter()
            .filter(|a| exercised.contains(&a.as_str()))
            .collect();
        if used.is_empty() {
            // kms (SNS calls KMS for the publisher) and logs (Lambda writes the function's output)
            // are not the code's calls; eks is the code's, but moto cannot enforce it.
            assert!(
                actions(statement).iter().all(|a| a.starts_with("kms:")
                    || a.starts_with("logs:")
                    || a == "iam:ListAccountAliases"
                    || !moto_enforces(a)),
                "a statement no call needs: {statement}"
            );
            continue;
        }
        let mut without = off.clone();
        without.remove(index);
        let user = create_user(&iam, &format!("without-{index}"), &for_moto(&without)).await;
        users.push((statement.clone(), used, user));
    }
    assert!(users.len() >= 4, "{} statements exercised", users.len());
    account.moto.enable_auth().await;

    for (statement, used, user) in &users {
        let (report, published) = account.sweep_as(user, RemediationMode::Off).await;
        let noticed = match &report {
            Err(error) => error.contains("ListOpenIDConnectProviders"),
            Ok(report) => !incomplete(report).is_empty() || published.is_err(),
        };
        assert!(
            noticed,
            "without {statement} (needed for {used:?}) the sweep noticed nothing: {report:#?} {published:?}"
        );
    }
}
