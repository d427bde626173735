//! Unit tests: the pure decision and merge, findings, and `apply` against aws-smithy-mocks.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use time::macros::datetime;

use super::*;
use crate::config::HostGlobs;
use crate::probe::{EndpointProbe, HostProbe, ProbeIssue};
use crate::report::{CertificateInfo, Severity};

const OLD: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";
const EKS_HOST: &str = "oidc.eks.us-east-1.amazonaws.com";
const ARN: &str =
    "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE";

/// A distinct, well-formed thumbprint per character.
fn thumbprint(c: char) -> String {
    c.to_string().repeat(40)
}

fn provider(thumbprints: &[&str], tag: Option<&str>) -> OidcProvider {
    let mut tags = BTreeMap::new();
    if let Some(value) = tag {
        tags.insert(REMEDIATION_TAG.to_string(), value.to_string());
    }
    OidcProvider {
        arn: ARN.to_string(),
        url: format!("https://{EKS_HOST}/id/EXAMPLE"),
        client_ids: vec!["sts.amazonaws.com".to_string()],
        thumbprints: thumbprints.iter().map(|t| t.to_string()).collect(),
        tags,
    }
}

fn certificate(sha1: &str) -> CertificateInfo {
    CertificateInfo {
        subject: format!("CN={}", &sha1[..4]),
        issuer: "CN=root".to_string(),
        sha1: sha1.to_string(),
        not_before: Some(datetime!(2026-01-01 0:00 UTC)),
        not_after: Some(datetime!(2027-01-01 0:00 UTC)),
    }
}

/// An address that served leaf + `top` with `verdict`.
fn endpoint(address: &str, top: &str, verdict: ChainVerdict) -> EndpointProbe {
    EndpointProbe {
        address: address.parse::<SocketAddr>().unwrap(),
        chain: vec![certificate(&thumbprint('f')), certificate(top)],
        verdict,
        publicly_anchored: false,
        contiguity: Ok(()),
        error: None,
    }
}

/// An address that could not be reached.
fn unreachable(address: &str, error: &str) -> EndpointProbe {
    EndpointProbe {
        address: address.parse::<SocketAddr>().unwrap(),
        chain: Vec::new(),
        verdict: ChainVerdict::NotReceived,
        publicly_anchored: false,
        contiguity: Ok(()),
        error: Some(error.to_string()),
    }
}

fn probe(host: &str, endpoints: Vec<EndpointProbe>) -> IssuerProbe {
    IssuerProbe {
        issuer: format!("https://{host}/id/EXAMPLE"),
        jwks_uri: Some(format!("https://{host}/id/EXAMPLE/keys")),
        hosts: vec![HostProbe {
            serves: vec![crate::report::Fetch::Discovery, crate::report::Fetch::Jwks],
            authority: format!("{host}:443"),
            endpoints,
            issues: Vec::new(),
        }],
        jwks_keys: Some(1),
        issues: Vec::new(),
    }
}

fn trusted(address: &str, top: &str) -> EndpointProbe {
    endpoint(address, top, ChainVerdict::Trusted)
}

fn config(mode: RemediationMode) -> Config {
    Config {
        remediation_mode: mode,
        ..Config::default()
    }
}

fn reason(decision: &Decision) -> &str {
    match decision {
        Decision::Add { reason, .. }
        | Decision::Plan { reason, .. }
        | Decision::Skip { reason, .. } => reason,
        Decision::Nothing => "",
    }
}

fn assert_skip(decision: &Decision, expect_full: bool, needles: &[&str]) {
    let Decision::Skip {
        reason, list_full, ..
    } = decision
    else {
        panic!("expected a skip, got {decision:?}");
    };
    assert_eq!(*list_full, expect_full, "{reason}");
    for needle in needles {
        assert!(reason.contains(needle), "'{needle}' not in: {reason}");
    }
}

// ---- decide ----

#[test]
fn rotation_on_an_allowed_host_adds_the_new_top_thumbprint() {
    let new = thumbprint('a');
    let decision = decide(
        &provider(&[OLD], None),
        &probe(EKS_HOST, vec![trusted("203.0.113.10:443", &new)]),
        &config(RemediationMode::Add),
    );
    let Decision::Add {
        thumbprints,
        reason,
    } = &decision
    else {
        panic!("{decision:?}");
    };
    assert_eq!(thumbprints, std::slice::from_ref(&new));
    assert!(
        reason.contains("matches REMEDIATION_ALLOWED_HOSTS"),
        "{reason}"
    );
}

#[test]
fn mid_rotation_only_the_unconfigured_chain_is_added() {
    let new = thumbprint('a');
    let decision = decide(
        &provider(&[OLD], None),
        &probe(
            EKS_HOST,
            vec![
                trusted("203.0.113.10:443", OLD),
                trusted("203.0.113.11:443", &new),
            ],
        ),
        &config(RemediationMode::Add),
    );
    assert_eq!(decision.thumbprints(), &[new]);
    assert!(matches!(decision, Decision::Add { .. }));
}

#[test]
fn two_addresses_with_two_new_valid_chains_add_both_in_served_order() {
    let (a, b) = (thumbprint('a'), thumbprint('b'));
    let decision = decide(
        &provider(&[OLD], None),
        &probe(
            EKS_HOST,
            vec![
                trusted("203.0.113.10:443", &a),
                trusted("203.0.113.11:443", &b),
                trusted("203.0.113.12:443", &a),
            ],
        ),
        &config(RemediationMode::Add),
    );
    assert!(matches!(decision, Decision::Add { .. }), "{decision:?}");
    assert_eq!(decision.thumbprints(), &[a, b]);
    assert!(reason(&decision).contains("(3)"), "{}", reason(&decision));
}

#[test]
fn dry_run_plans_and_writes_nothing() {
    let new = thumbprint('a');
    let decision = decide(
        &provider(&[OLD], None),
        &probe(EKS_HOST, vec![trusted("203.0.113.10:443", &new)]),
        &config(RemediationMode::DryRun),
    );
    assert!(matches!(decision, Decision::Plan { .. }), "{decision:?}");
    let planned = decision.without_writing().unwrap();
    assert_eq!(planned.outcome, RemediationOutcome::Planned);
    assert_eq!(planned.added, vec![new]);
    assert!(planned
        .reason
        .starts_with("dry-run (REMEDIATION_MODE=dry-run)"));
}

#[test]
fn mode_off_skips_and_says_so() {
    let decision = decide(
        &provider(&[OLD], None),
        &probe(
            EKS_HOST,
            vec![trusted("203.0.113.10:443", &thumbprint('a'))],
        ),
        &config(RemediationMode::Off),
    );
    assert_skip(
        &decision,
        false,
        &["remediation is off (REMEDIATION_MODE=off)", "by hand"],
    );
    let skipped = decision.without_writing().unwrap();
    assert_eq!(skipped.outcome, RemediationOutcome::Skipped);
    assert!(skipped.added.is_empty());
}

#[test]
fn an_untrusted_chain_is_never_added() {
    let decision = decide(
        &provider(&[OLD], None),
        &probe(
            "127.0.0.1",
            vec![endpoint(
                "127.0.0.1:8443",
                &thumbprint('a'),
                ChainVerdict::Untrusted("unknown issuer".to_string()),
            )],
        ),
        &Config {
            remediation_allowed_hosts: HostGlobs::parse("127.0.0.1").unwrap(),
            ..config(RemediationMode::Add)
        },
    );
    assert_skip(
        &decision,
        false,
        &[
            "chain from 127.0.0.1:8443 is not trusted: unknown issuer",
            "man in the middle",
        ],
    );
}

#[test]
fn a_wrong_name_chain_is_never_added_even_next_to_a_trusted_one() {
    let new = thumbprint('a');
    let decision = decide(
        &provider(&[OLD], None),
        &probe(
            EKS_HOST,
            vec![
                trusted("203.0.113.10:443", &new),
                endpoint(
                    "203.0.113.11:443",
                    &new,
                    ChainVerdict::Untrusted("certificate not valid for name".to_string()),
                ),
            ],
        ),
        &config(RemediationMode::Add),
    );
    assert_skip(
        &decision,
        false,
        &["203.0.113.11:443", "not valid for name"],
    );
}

#[test]
fn an_expired_chain_is_never_added() {
    let decision = decide(
        &provider(&[OLD], None),
        &probe(
            EKS_HOST,
            vec![endpoint(
                "203.0.113.10:443",
                &thumbprint('a'),
                ChainVerdict::Expired("CN=intermediate expired 2026-01-01".to_string()),
            )],
        ),
        &config(RemediationMode::Add),
    );
    assert_skip(
        &decision,
        false,
        &["expired certificate", "CN=intermediate"],
    );
}

#[test]
fn an_unreachable_address_blocks_the_addition() {
    let decision = decide(
        &provider(&[OLD], None),
        &probe(
            EKS_HOST,
            vec![
                trusted("203.0.113.10:443", &thumbprint('a')),
                unreachable("203.0.113.11:443", "connection refused"),
            ],
        ),
        &config(RemediationMode::Add),
    );
    assert_skip(
        &decision,
        false,
        &["no chain from 203.0.113.11:443", "connection refused"],
    );
}

#[test]
fn a_trusted_chain_without_a_completed_handshake_is_not_added() {
    let mut half_open = trusted("203.0.113.10:443", &thumbprint('a'));
    half_open.error = Some("handshake failed: bad signature".to_string());
    let decision = decide(
        &provider(&[OLD], None),
        &probe(EKS_HOST, vec![half_open]),
        &config(RemediationMode::Add),
    );
    assert_skip(&decision, false, &["did not complete the TLS handshake"]);
}

#[test]
fn a_refused_address_blocks_the_addition() {
    let mut refused = probe(
        EKS_HOST,
        vec![trusted("203.0.113.10:443", &thumbprint('a'))],
    );
    refused.hosts[0].issues.push(ProbeIssue {
        failure: crate::probe::ProbeFailure::Refused { address: None },
        message: "169.254.169.254 is link-local".to_string(),
        details: serde_json::json!({}),
    });
    let decision = decide(
        &provider(&[OLD], None),
        &refused,
        &config(RemediationMode::Add),
    );
    assert_skip(&decision, false, &["not every address", "link-local"]);
}

#[test]
fn an_invalid_discovery_document_blocks_the_addition() {
    let mut invalid = probe(
        EKS_HOST,
        vec![trusted("203.0.113.10:443", &thumbprint('a'))],
    );
    invalid.issues.push(ProbeIssue {
        failure: crate::probe::ProbeFailure::DiscoveryInvalid {
            problem: crate::probe::DiscoveryProblem::IssuerMismatch,
        },
        message: "issuer differs from the provider URL".to_string(),
        details: serde_json::json!({}),
    });
    let decision = decide(
        &provider(&[OLD], None),
        &invalid,
        &config(RemediationMode::Add),
    );
    assert_skip(&decision, false, &["discovery document is invalid"]);
}

#[test]
fn an_untrusted_issuer_whose_discovery_failed_is_reported_as_untrusted() {
    // The probe could not fetch discovery over verified TLS: no jwks_uri, DISCOVERY_INVALID, and
    // the issuer host's chain in its place.
    let mut rejected = probe(
        EKS_HOST,
        vec![endpoint(
            "203.0.113.10:443",
            &thumbprint('a'),
            ChainVerdict::Untrusted("unknown issuer".to_string()),
        )],
    );
    rejected.jwks_uri = None;
    rejected.issues.push(ProbeIssue {
        failure: crate::probe::ProbeFailure::DiscoveryInvalid {
            problem: crate::probe::DiscoveryProblem::IssuerMismatch,
        },
        message: "could not be fetched over verified TLS".to_string(),
        details: serde_json::json!({}),
    });
    let decision = decide(
        &provider(&[OLD], None),
        &rejected,
        &config(RemediationMode::Add),
    );
    assert_skip(&decision, false, &["is not trusted: unknown issuer"]);
}

#[test]
fn no_jwks_uri_means_no_host_to_vouch_for() {
    let mut no_discovery = probe(
        EKS_HOST,
        vec![trusted("203.0.113.10:443", &thumbprint('a'))],
    );
    no_discovery.jwks_uri = None;
    let decision = decide(
        &provider(&[OLD], None),
        &no_discovery,
        &config(RemediationMode::Add),
    );
    assert_skip(&decision, false, &["JWKS host is unknown"]);
}

#[test]
fn a_host_outside_the_allowed_globs_is_skipped_with_the_way_to_opt_in() {
    let decision = decide(
        &provider(&[OLD], None),
        &probe(
            "issuer.example.com",
            vec![trusted("203.0.113.10:443", &thumbprint('a'))],
        ),
        &config(RemediationMode::Add),
    );
    assert_skip(
        &decision,
        false,
        &[
            "issuer.example.com is not in REMEDIATION_ALLOWED_HOSTS (oidc.eks.*.amazonaws.com)",
            "thumbprint-guard/remediation=add",
        ],
    );
}

#[test]
fn the_jwks_host_not_the_issuer_host_is_matched() {
    let mut split = probe(
        EKS_HOST,
        vec![trusted("203.0.113.10:443", &thumbprint('a'))],
    );
    split.jwks_uri = Some("https://keys.example.com/jwks".to_string());
    let decision = decide(
        &provider(&[OLD], None),
        &split,
        &config(RemediationMode::Add),
    );
    assert_skip(&decision, false, &["keys.example.com is not in"]);
}

#[test]
fn an_ipv6_jwks_host_matches_without_brackets() {
    let mut v6 = probe("[::1]:8443", vec![trusted("[::1]:8443", &thumbprint('a'))]);
    v6.jwks_uri = Some("https://[::1]:8443/keys".to_string());
    assert_eq!(jwks_host(&v6).as_deref(), Some("::1"));
    let decision = decide(
        &provider(&[OLD], None),
        &v6,
        &Config {
            remediation_allowed_hosts: HostGlobs::parse("::1").unwrap(),
            ..config(RemediationMode::Add)
        },
    );
    assert!(matches!(decision, Decision::Add { .. }), "{decision:?}");
}

#[test]
fn tag_off_opts_out_in_add_mode() {
    let decision = decide(
        &provider(&[OLD], Some("off")),
        &probe(
            EKS_HOST,
            vec![trusted("203.0.113.10:443", &thumbprint('a'))],
        ),
        &config(RemediationMode::Add),
    );
    assert_skip(
        &decision,
        false,
        &["remediation is off (tag thumbprint-guard/remediation=off)"],
    );
}

#[test]
fn tag_add_opts_in_while_mode_is_off_and_the_host_is_not_allowed() {
    let new = thumbprint('a');
    let decision = decide(
        &provider(&[OLD], Some("add")),
        &probe(
            "issuer.example.com",
            vec![trusted("203.0.113.10:443", &new)],
        ),
        &config(RemediationMode::Off),
    );
    assert!(matches!(decision, Decision::Add { .. }), "{decision:?}");
    assert_eq!(decision.thumbprints(), &[new]);
    assert!(reason(&decision).contains("opts in with tag thumbprint-guard/remediation=add"));
}

#[test]
fn tag_dry_run_opts_in_to_planning() {
    let decision = decide(
        &provider(&[OLD], Some("dry-run")),
        &probe(
            "issuer.example.com",
            vec![trusted("203.0.113.10:443", &thumbprint('a'))],
        ),
        &config(RemediationMode::Add),
    );
    assert!(matches!(decision, Decision::Plan { .. }), "{decision:?}");
}

#[test]
fn tag_opt_in_still_requires_a_trusted_chain() {
    let decision = decide(
        &provider(&[OLD], Some("add")),
        &probe(
            "issuer.example.com",
            vec![endpoint(
                "203.0.113.10:443",
                &thumbprint('a'),
                ChainVerdict::Untrusted("unknown issuer".to_string()),
            )],
        ),
        &config(RemediationMode::Off),
    );
    assert_skip(&decision, false, &["not trusted"]);
}

#[test]
fn an_invalid_tag_value_skips_naming_the_tag_and_the_allowed_values() {
    let decision = decide(
        &provider(&[OLD], Some("yes")),
        &probe(
            EKS_HOST,
            vec![trusted("203.0.113.10:443", &thumbprint('a'))],
        ),
        &config(RemediationMode::Add),
    );
    assert_skip(
        &decision,
        false,
        &[
            "thumbprint-guard/remediation",
            "one of off, dry-run, add",
            "'yes'",
        ],
    );
}

#[test]
fn a_full_list_of_five_is_skipped_as_list_full() {
    let five = ['1', '2', '3', '4', '5'].map(thumbprint);
    let five: Vec<&str> = five.iter().map(String::as_str).collect();
    let decision = decide(
        &provider(&five, None),
        &probe(
            EKS_HOST,
            vec![trusted("203.0.113.10:443", &thumbprint('a'))],
        ),
        &config(RemediationMode::Add),
    );
    assert_skip(&decision, true, &["no room", "5 of IAM's maximum 5"]);
}

#[test]
fn four_configured_and_two_needed_do_not_fit() {
    let four = ['1', '2', '3', '4'].map(thumbprint);
    let four: Vec<&str> = four.iter().map(String::as_str).collect();
    let decision = decide(
        &provider(&four, None),
        &probe(
            EKS_HOST,
            vec![
                trusted("203.0.113.10:443", &thumbprint('a')),
                trusted("203.0.113.11:443", &thumbprint('b')),
            ],
        ),
        &config(RemediationMode::Add),
    );
    assert_skip(&decision, true, &["no room", "2 more are needed"]);
}

#[test]
fn list_full_is_reported_even_when_another_condition_blocks_first() {
    let five = ['1', '2', '3', '4', '5'].map(thumbprint);
    let five: Vec<&str> = five.iter().map(String::as_str).collect();
    let decision = decide(
        &provider(&five, None),
        &probe(
            EKS_HOST,
            vec![trusted("203.0.113.10:443", &thumbprint('a'))],
        ),
        &config(RemediationMode::Off),
    );
    assert_skip(&decision, true, &["remediation is off"]);
}

#[test]
fn an_already_configured_thumbprint_needs_nothing_whatever_its_case() {
    let decision = decide(
        &provider(&[&OLD.to_ascii_uppercase()], None),
        &probe(EKS_HOST, vec![trusted("203.0.113.10:443", OLD)]),
        &config(RemediationMode::Add),
    );
    assert_eq!(decision, Decision::Nothing);
    assert_eq!(decision.without_writing(), None);
}

#[test]
fn nothing_served_needs_nothing() {
    let decision = decide(
        &provider(&[OLD], None),
        &probe(EKS_HOST, vec![unreachable("203.0.113.10:443", "timed out")]),
        &config(RemediationMode::Add),
    );
    assert_eq!(decision, Decision::Nothing);
}

#[test]
fn a_second_run_after_the_addition_changes_nothing() {
    let new = thumbprint('a');
    let served = probe(
        EKS_HOST,
        vec![
            trusted("203.0.113.10:443", OLD),
            trusted("203.0.113.11:443", &new),
        ],
    );
    let first = decide(
        &provider(&[OLD], None),
        &served,
        &config(RemediationMode::Add),
    );
    let merge = merge_thumbprints(&[OLD.to_string()], first.thumbprints()).unwrap();
    let after: Vec<&str> = merge.thumbprints.iter().map(String::as_str).collect();
    let second = decide(
        &provider(&after, None),
        &served,
        &config(RemediationMode::Add),
    );
    assert_eq!(second, Decision::Nothing);
}

// ---- merge ----

#[test]
fn merge_keeps_the_fresh_list_first_then_adds() {
    let merge = merge_thumbprints(&[OLD.to_string()], &[thumbprint('a')]).unwrap();
    assert_eq!(merge.thumbprints, vec![OLD.to_string(), thumbprint('a')]);
    assert_eq!(merge.added, vec![thumbprint('a')]);
}

#[test]
fn merge_builds_the_union_from_a_list_that_changed_since_the_sweep_read_it() {
    // The sweep read [OLD]; someone added 'c' before the write. 'c' must survive.
    let fresh = vec![OLD.to_string(), thumbprint('c')];
    let merge = merge_thumbprints(&fresh, &[thumbprint('a')]).unwrap();
    assert_eq!(
        merge.thumbprints,
        vec![OLD.to_string(), thumbprint('c'), thumbprint('a')]
    );
    assert_eq!(merge.added, vec![thumbprint('a')]);
}

#[test]
fn merge_dedupes_case_insensitively_and_writes_lowercase() {
    let fresh = vec![OLD.to_ascii_uppercase(), OLD.to_string()];
    let merge =
        merge_thumbprints(&fresh, &[OLD.to_string(), thumbprint('a').to_uppercase()]).unwrap();
    assert_eq!(merge.thumbprints, vec![OLD.to_string(), thumbprint('a')]);
    assert_eq!(merge.added, vec![thumbprint('a')]);
}

#[test]
fn merge_with_everything_present_adds_nothing_even_on_a_full_list() {
    let five: Vec<String> = ['1', '2', '3', '4', '5'].map(thumbprint).to_vec();
    let merge = merge_thumbprints(&five, &[thumbprint('3')]).unwrap();
    assert_eq!(merge.thumbprints, five);
    assert!(merge.added.is_empty());
}

#[test]
fn merge_never_exceeds_five() {
    let five: Vec<String> = ['1', '2', '3', '4', '5'].map(thumbprint).to_vec();
    let err = merge_thumbprints(&five, &[thumbprint('a')]).unwrap_err();
    assert_eq!(
        err,
        MergeError::Full {
            configured: 5,
            adding: vec![thumbprint('a')]
        }
    );
    assert!(err.to_string().starts_with(NO_ROOM));
    let four = &five[..4];
    assert!(matches!(
        merge_thumbprints(four, &[thumbprint('a'), thumbprint('b')]),
        Err(MergeError::Full { .. })
    ));
    assert_eq!(
        merge_thumbprints(four, &[thumbprint('a')])
            .unwrap()
            .thumbprints
            .len(),
        5
    );
}

#[test]
fn merge_refuses_malformed_entries_new_or_old() {
    assert_eq!(
        merge_thumbprints(&[OLD.to_string()], &["abc".to_string()]),
        Err(MergeError::Malformed("abc".to_string()))
    );
    let not_hex = "g".repeat(40);
    assert_eq!(
        merge_thumbprints(std::slice::from_ref(&not_hex), &[thumbprint('a')]),
        Err(MergeError::Malformed(not_hex))
    );
}

#[test]
fn thumbprint_format() {
    assert!(is_thumbprint(OLD));
    assert!(!is_thumbprint(&OLD.to_ascii_uppercase()));
    assert!(!is_thumbprint(&OLD[..39]));
    assert!(!is_thumbprint(&format!("{OLD}0")));
    assert!(!is_thumbprint(&"z".repeat(40)));
}

// ---- findings ----

#[test]
fn an_applied_addition_yields_one_info_finding_per_thumbprint() {
    let (a, b) = (thumbprint('a'), thumbprint('b'));
    let decision = Decision::Add {
        thumbprints: vec![a.clone(), b.clone()],
        reason: "why".to_string(),
    };
    let applied = Remediation {
        outcome: RemediationOutcome::Applied,
        added: vec![a.clone(), b.clone()],
        reason: "added".to_string(),
    };
    let found = findings(&provider(&[OLD], None), &decision, Some(&applied));
    assert_eq!(found.len(), 2);
    for (finding, expected) in found.iter().zip([a, b]) {
        assert_eq!(finding.code, FindingCode::ThumbprintAdded);
        assert_eq!(finding.severity, Severity::Info);
        assert_eq!(finding.resource, ARN);
        assert_eq!(finding.details["thumbprint"], expected);
    }
}

#[test]
fn planned_skipped_and_failed_add_nothing() {
    let decision = Decision::Add {
        thumbprints: vec![thumbprint('a')],
        reason: "why".to_string(),
    };
    for outcome in [
        RemediationOutcome::Planned,
        RemediationOutcome::Skipped,
        RemediationOutcome::Failed,
    ] {
        let remediation = Remediation {
            outcome,
            added: Vec::new(),
            reason: "AccessDenied".to_string(),
        };
        assert!(findings(&provider(&[OLD], None), &decision, Some(&remediation)).is_empty());
    }
    assert!(findings(&provider(&[OLD], None), &Decision::Nothing, None).is_empty());
}

#[test]
fn a_full_list_yields_a_warning() {
    let decision = Decision::Skip {
        thumbprints: vec![thumbprint('a')],
        reason: no_room_reason(5, &[thumbprint('a')]),
        list_full: true,
    };
    let remediation = decision.without_writing();
    let found = findings(&provider(&[OLD], None), &decision, remediation.as_ref());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, FindingCode::ThumbprintListFull);
    assert_eq!(found[0].severity, Severity::Warning);
    assert_eq!(found[0].details["thumbprints"][0], thumbprint('a'));
}

#[test]
fn a_list_found_full_only_at_write_time_yields_a_warning() {
    let decision = Decision::Add {
        thumbprints: vec![thumbprint('a')],
        reason: "why".to_string(),
    };
    let skipped = Remediation {
        outcome: RemediationOutcome::Skipped,
        added: Vec::new(),
        reason: MergeError::Full {
            configured: 5,
            adding: vec![thumbprint('a')],
        }
        .to_string(),
    };
    let found = findings(&provider(&[OLD], None), &decision, Some(&skipped));
    assert_eq!(
        found.iter().map(|f| f.code).collect::<Vec<_>>(),
        [FindingCode::ThumbprintListFull]
    );
}

mod apply;
