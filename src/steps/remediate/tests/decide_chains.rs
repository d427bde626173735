//! The decision by what every address served: trust, expiry, reachability, discovery.

use super::*;

#[test]
fn rotation_on_an_allowed_host_adds_the_new_top_thumbprint() {
    let new = thumbprint('a');
    let decision = decide_for(
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
    let decision = decide_for(
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
    let decision = decide_for(
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
    let decision = decide_for(
        &provider(&[OLD], None),
        &probe(EKS_HOST, vec![trusted("203.0.113.10:443", &new)]),
        &config(RemediationMode::DryRun),
    );
    assert!(matches!(decision, Decision::Plan { .. }), "{decision:?}");
    let planned = decision.without_writing().unwrap().remediation();
    assert_eq!(planned.outcome, RemediationOutcome::Planned);
    assert_eq!(planned.added, vec![new]);
    assert!(planned
        .reason
        .starts_with("dry-run (REMEDIATION_MODE=dry-run)"));
}

#[test]
fn mode_off_skips_and_says_so() {
    let decision = decide_for(
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
    let skipped = decision.without_writing().unwrap().remediation();
    assert_eq!(skipped.outcome, RemediationOutcome::Skipped);
    assert!(skipped.added.is_empty());
}

#[test]
fn an_untrusted_chain_is_never_added() {
    let decision = decide_for(
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
    let decision = decide_for(
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
    let decision = decide_for(
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
    let decision = decide_for(
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
    let decision = decide_for(
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
    let decision = decide_for(
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
    let decision = decide_for(
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
    let decision = decide_for(
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
    let decision = decide_for(
        &provider(&[OLD], None),
        &no_discovery,
        &config(RemediationMode::Add),
    );
    assert_skip(&decision, false, &["JWKS host is unknown"]);
}

#[test]
fn a_chain_out_of_order_is_never_added_in_any_mode_and_the_reason_says_chain_order() {
    let new = thumbprint('a');
    let out_of_order = EndpointProbe {
        contiguity: Err(crate::probe::ChainBreak {
            index: 2,
            reason: crate::probe::BreakReason::Repeated { first: 1 },
        }),
        ..trusted("203.0.113.11:443", &new)
    };
    let served = probe(
        EKS_HOST,
        vec![trusted("203.0.113.10:443", &new), out_of_order],
    );
    for mode in [
        RemediationMode::Add,
        RemediationMode::DryRun,
        RemediationMode::Off,
    ] {
        let decision = decide_for(&provider(&[OLD], None), &served, &config(mode));
        assert_skip(
            &decision,
            false,
            &[
                "CHAIN_ORDER: the chain served at 203.0.113.11:443 is not contiguous (served certificate #3 repeats certificate #2",
                &format!("its top {new} least of all"),
            ],
        );
        assert!(
            !reason(&decision).contains("must be added by hand"),
            "{mode}: {}",
            reason(&decision)
        );
        let skipped = decision.without_writing().unwrap().remediation();
        assert_eq!(skipped.outcome, RemediationOutcome::Skipped);
        assert!(skipped.added.is_empty());
    }
}

#[test]
fn the_top_of_a_chain_out_of_order_does_not_fill_the_list() {
    let new = thumbprint('a');
    let full: Vec<String> = ['1', '2', '3', '4', '5']
        .into_iter()
        .map(thumbprint)
        .collect();
    let full: Vec<&str> = full.iter().map(String::as_str).collect();
    let out_of_order = EndpointProbe {
        contiguity: Err(crate::probe::ChainBreak {
            index: 1,
            reason: crate::probe::BreakReason::Extra,
        }),
        ..trusted("203.0.113.10:443", &new)
    };
    let decision = decide_for(
        &provider(&full, None),
        &probe(EKS_HOST, vec![out_of_order]),
        &config(RemediationMode::Add),
    );
    assert_skip(&decision, false, &["CHAIN_ORDER"]);
    assert!(crate::remediate::findings(&provider(&full, None), &decision, None).is_empty());
}
