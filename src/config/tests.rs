//! Reading every variable through `Config::from_lookup`.

use std::collections::HashMap;
use std::time::Duration;

use super::*;
use crate::report::FindingCode;

fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

/// The error for one variable's value: it names the variable and the value.
fn error(var: &str, value: &str) -> String {
    let err = config(&[(var, value)]).unwrap_err();
    let text = err.to_string();
    assert!(text.contains(var), "{var}={value}: {text}");
    assert!(
        text.contains(&format!("'{value}'")),
        "{var}={value}: {text}"
    );
    text
}

#[test]
fn defaults_match_design() {
    let c = config(&[]).unwrap();
    assert_eq!(c.remediation_mode, RemediationMode::Off);
    assert_eq!(
        c.remediation_allowed_hosts.patterns(),
        ["oidc.eks.*.amazonaws.com"]
    );
    assert_eq!(c.expiry_warning_days, 30);
    assert_eq!(c.sns_topic_arn, None);
    assert_eq!(c.notify, NotifyRule::Findings);
    assert_eq!(c.eks_regions, EksRegions::Current);
    assert!(c.audit_trust_policies);
    assert_eq!(c.probe_timeout, Duration::from_secs(10));
    assert_eq!(c.probe_concurrency, 128);
    assert!(!c.allow_private_addresses);
    assert_eq!(c.organization, None);
    assert_eq!(c.account_concurrency, 8);
    assert!(!c.security_hub);
    assert_eq!(c.state_table, None);
    assert_eq!(c.remind_hours, 24);
    assert!(c.mute_findings.is_empty());
    assert_eq!(c.remediation_ceiling, None);
    assert_eq!(c, Config::default());
}

#[test]
fn blank_values_mean_the_default() {
    for var in VARIABLES {
        if var == "REMEDIATION_ALLOWED_HOSTS" {
            continue;
        }
        for blank in ["", " ", "\t "] {
            assert_eq!(
                config(&[(var, blank)]),
                Ok(Config::default()),
                "{var}={blank:?}"
            );
        }
    }
}

#[test]
fn bad_values_name_the_variable_and_the_allowed_values() {
    assert_eq!(
        error("REMEDIATION_MODE", "yes"),
        "REMEDIATION_MODE must be one of off, dry-run, add; got 'yes'"
    );
    assert!(error("NOTIFY", "sometimes").contains("findings, changes, always, never"));
    assert!(error("PROBE_CONCURRENCY", "0").contains("from 1 to 1024"));
    assert!(error("PROBE_CONCURRENCY", "1025").contains("from 1 to 1024"));
    assert!(error("ALLOW_PRIVATE_ADDRESSES", "maybe").contains("true, false, yes, no, 1, 0"));
    assert!(error("AUDIT_TRUST_POLICIES", "on").contains("true, false, yes, no, 1, 0"));
    assert!(error("EKS_REGIONS", "us-east-1,Mars").contains("'Mars' is not one"));
    assert!(error("SNS_TOPIC_ARN", "my-topic").contains("SNS topic ARN"));
    error("SNS_TOPIC_ARN", "arn:aws:sqs:us-east-1:123456789012:q");
    assert!(error("REMEDIATION_ALLOWED_HOSTS", "oidc.[").contains("not a valid glob"));
    assert!(error("EXPIRY_WARNING_DAYS", "3651").contains("from 0 to 3650"));
    assert!(error("PROBE_TIMEOUT_SECS", "0").contains("from 1 to 300"));
}

#[test]
fn booleans_take_every_spelling() {
    for (value, expected) in [
        ("true", true),
        ("YES", true),
        ("1", true),
        ("False", false),
        ("no", false),
        ("0", false),
    ] {
        let c = config(&[
            ("AUDIT_TRUST_POLICIES", value),
            ("ALLOW_PRIVATE_ADDRESSES", value),
        ])
        .unwrap();
        assert_eq!(c.audit_trust_policies, expected, "{value}");
        assert_eq!(c.allow_private_addresses, expected, "{value}");
    }
}

#[test]
fn every_list_refuses_an_empty_element() {
    for var in [
        "EKS_REGIONS",
        "REMEDIATION_ALLOWED_HOSTS",
        "ORGANIZATION_ACCOUNTS",
        "MUTE_FINDINGS",
    ] {
        let good = match var {
            "EKS_REGIONS" => "us-east-1",
            "REMEDIATION_ALLOWED_HOSTS" => "a.example",
            "ORGANIZATION_ACCOUNTS" => "111122223333",
            _ => "ORPHAN_PROVIDER",
        };
        for bad in [
            ",".to_string(),
            format!("{good},,{good}"),
            format!("{good},"),
            format!(",{good}"),
        ] {
            let mut pairs = vec![(var, bad.as_str())];
            if var == "ORGANIZATION_ACCOUNTS" {
                pairs.push(("ORGANIZATION_ROLE_NAME", "Member"));
            }
            let text = config(&pairs).unwrap_err().to_string();
            assert!(text.starts_with(&format!("{var} must be")), "{text}");
            assert!(text.contains("no empty element"), "{text}");
            assert!(text.contains(&format!("'{bad}'")), "{text}");
        }
    }
}

#[test]
fn regions_parse() {
    assert_eq!(
        config(&[("EKS_REGIONS", "none")]).unwrap().eks_regions,
        EksRegions::Disabled
    );
    assert_eq!(
        config(&[("EKS_REGIONS", "us-east-1, eu-west-1,us-east-1")])
            .unwrap()
            .eks_regions,
        EksRegions::List(vec!["us-east-1".into(), "eu-west-1".into()])
    );
}

#[test]
fn empty_allowed_hosts_allow_no_host_rather_than_the_default() {
    for blank in ["", "  "] {
        let c = config(&[("REMEDIATION_ALLOWED_HOSTS", blank)]).unwrap();
        assert!(c.remediation_allowed_hosts.patterns().is_empty());
        assert!(!c
            .remediation_allowed_hosts
            .matches("oidc.eks.us-east-1.amazonaws.com"));
    }
}

#[test]
fn organization_settings() {
    let c = config(&[
        ("ORGANIZATION_ROLE_NAME", " ThumbprintGuardMember "),
        (
            "ORGANIZATION_ACCOUNTS",
            "111122223333, 444455556666,111122223333",
        ),
        ("ORGANIZATION_EXTERNAL_ID", "tg-7f3a"),
        ("ACCOUNT_CONCURRENCY", "64"),
    ])
    .unwrap();
    assert_eq!(
        c.organization,
        Some(OrganizationConfig {
            role_name: "ThumbprintGuardMember".into(),
            accounts: Some(vec!["111122223333".into(), "444455556666".into()]),
            external_id: Some("tg-7f3a".into()),
        })
    );
    assert_eq!(c.account_concurrency, 64);
    let all = config(&[("ORGANIZATION_ROLE_NAME", "Member")]).unwrap();
    assert_eq!(all.organization.unwrap().accounts, None);

    assert!(error("ORGANIZATION_ROLE_NAME", "path/Member").contains("IAM role name"));
    error("ORGANIZATION_ROLE_NAME", &"r".repeat(65));
    let text = config(&[
        ("ORGANIZATION_ROLE_NAME", "Member"),
        ("ORGANIZATION_ACCOUNTS", "111122223333,12345"),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        text.contains("ORGANIZATION_ACCOUNTS") && text.contains("'12345' is not one"),
        "{text}"
    );
    let text = config(&[
        ("ORGANIZATION_ROLE_NAME", "Member"),
        ("ORGANIZATION_EXTERNAL_ID", "has space"),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        text.contains("ORGANIZATION_EXTERNAL_ID") && text.contains("'has space'"),
        "{text}"
    );
    assert!(error("ACCOUNT_CONCURRENCY", "0").contains("from 1 to 64"));
    assert!(error("ACCOUNT_CONCURRENCY", "65").contains("from 1 to 64"));
}

#[test]
fn organization_details_need_the_role_name() {
    for (var, value) in [
        ("ORGANIZATION_ACCOUNTS", "111122223333"),
        ("ORGANIZATION_EXTERNAL_ID", "tg-7f3a"),
    ] {
        let err = config(&[(var, value)]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("{var}={value} needs ORGANIZATION_ROLE_NAME")),
            "{text}"
        );
    }
    // Alone, ACCOUNT_CONCURRENCY is validated and harmless (templates may always set it).
    assert!(config(&[("ACCOUNT_CONCURRENCY", "4")])
        .unwrap()
        .organization
        .is_none());
}

#[test]
fn kubernetes_checks_are_off_or_on() {
    assert!(!config(&[]).unwrap().kubernetes_checks);
    assert!(
        config(&[("KUBERNETES_CHECKS", "on")])
            .unwrap()
            .kubernetes_checks
    );
    assert!(
        !config(&[("KUBERNETES_CHECKS", "off")])
            .unwrap()
            .kubernetes_checks
    );
    assert!(error("KUBERNETES_CHECKS", "yes").contains("one of off, on"));
}

#[test]
fn security_hub_is_off_or_on() {
    assert!(config(&[("SECURITY_HUB", "on")]).unwrap().security_hub);
    assert!(!config(&[("SECURITY_HUB", "OFF")]).unwrap().security_hub);
    assert!(error("SECURITY_HUB", "true").contains("one of off, on"));
}

#[test]
fn state_table_and_remind_hours() {
    let c = config(&[
        ("STATE_TABLE", "thumbprint-guard-state"),
        ("REMIND_HOURS", "6"),
    ])
    .unwrap();
    assert_eq!(c.state_table.as_deref(), Some("thumbprint-guard-state"));
    assert_eq!(c.remind_hours, 6);
    assert!(error("STATE_TABLE", "no/slash").contains("DynamoDB table name"));
    error("STATE_TABLE", "ab");
    assert!(error("REMIND_HOURS", "0").contains("from 1 to 8760"));
    error("REMIND_HOURS", "soon");
}

#[test]
fn notify_changes_needs_the_state_table() {
    let err = config(&[("NOTIFY", "changes")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "NOTIFY=changes needs STATE_TABLE (the DynamoDB table that remembers last run's findings); STATE_TABLE is unset"
    );
    let c = config(&[("NOTIFY", "changes"), ("STATE_TABLE", "tg-state")]).unwrap();
    assert_eq!(c.notify, NotifyRule::Changes);
}

#[test]
fn mute_findings_are_matched_by_code_and_glob() {
    let c = config(&[(
        "MUTE_FINDINGS",
        "ORPHAN_PROVIDER,TRUST_POLICY_NO_AUD@arn:aws:iam::*:role/legacy-*",
    )])
    .unwrap();
    assert!(c.is_muted(
        FindingCode::OrphanProvider,
        "arn:aws:iam::1:oidc-provider/x"
    ));
    assert!(c.is_muted(
        FindingCode::TrustPolicyNoAud,
        "arn:aws:iam::123456789012:role/legacy-ci"
    ));
    assert!(!c.is_muted(
        FindingCode::TrustPolicyNoAud,
        "arn:aws:iam::123456789012:role/prod"
    ));
    assert!(!c.is_muted(FindingCode::CertExpired, "arn:aws:iam::1:oidc-provider/x"));
    assert!(error("MUTE_FINDINGS", "NOT_A_CODE").contains("THUMBPRINT_MISMATCH"));
}

#[test]
fn the_trust_anchor_file_is_checked_before_it_is_opened() {
    let text = config(&[("EXTRA_TRUST_ANCHORS_PEM", "/dev/zero")])
        .unwrap_err()
        .to_string();
    assert!(
        text.starts_with(
            "EXTRA_TRUST_ANCHORS_PEM: /dev/zero: must be a regular PEM file of at most 1 MiB"
        ),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("anchors.pem");
    std::fs::write(&pem, "-----BEGIN CERTIFICATE-----\n").unwrap();
    let path = pem.display().to_string();
    let c = config(&[("EXTRA_TRUST_ANCHORS_PEM", &path)]).unwrap();
    assert_eq!(c.extra_trust_anchors_pem.as_deref(), Some(pem.as_path()));
}

#[test]
fn a_run_ceiling_caps_what_a_tag_can_do() {
    let mut c = config(&[("REMEDIATION_MODE", "off")]).unwrap();
    assert_eq!(c.effective_mode(Some("add")), Ok(RemediationMode::Add));
    c.remediation_ceiling = Some(RemediationMode::DryRun);
    assert_eq!(c.effective_mode(Some("add")), Ok(RemediationMode::DryRun));
    assert_eq!(c.effective_mode(Some("off")), Ok(RemediationMode::Off));
    c.remediation_ceiling = Some(RemediationMode::Off);
    assert_eq!(c.effective_mode(Some("dry-run")), Ok(RemediationMode::Off));
}

#[test]
fn tag_overrides_mode() {
    let c = config(&[("REMEDIATION_MODE", "add")]).unwrap();
    assert_eq!(c.effective_mode(None), Ok(RemediationMode::Add));
    assert_eq!(c.effective_mode(Some("off")), Ok(RemediationMode::Off));
    assert!(c
        .effective_mode(Some("on"))
        .unwrap_err()
        .to_string()
        .contains("thumbprint-guard/remediation"));
}
