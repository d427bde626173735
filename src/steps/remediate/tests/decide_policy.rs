//! The decision by policy: hosts, tags, room in the list.

use super::*;

#[test]
fn a_host_outside_the_allowed_globs_is_skipped_with_the_way_to_opt_in() {
    let decision = decide_for(
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
    let decision = decide_for(
        &provider(&[OLD], None),
        &split,
        &config(RemediationMode::Add),
    );
    assert_skip(&decision, false, &["keys.example.com is not in"]);
}

#[test]
fn the_issuer_host_must_be_allowed_as_well() {
    // Discovery on a host outside the globs, JWKS on an allowed EKS host: both hosts serve a chain
    // IAM needs, so both must be allowed (DESIGN's condition 2).
    let mut split = probe(
        "discovery.example.com",
        vec![trusted("203.0.113.10:443", &thumbprint('a'))],
    );
    split.jwks_uri = Some(format!("https://{EKS_HOST}/id/EXAMPLE/keys"));
    let decision = decide_for(
        &provider(&[OLD], None),
        &split,
        &config(RemediationMode::Add),
    );
    assert_skip(
        &decision,
        false,
        &["issuer host discovery.example.com is not in REMEDIATION_ALLOWED_HOSTS"],
    );
    // A provider that opts in with its tag is remediated whatever the hosts.
    let tagged = decide_for(
        &provider(&[OLD], Some("add")),
        &split,
        &config(RemediationMode::Add),
    );
    assert!(matches!(tagged, Decision::Add { .. }), "{tagged:?}");
}

#[test]
fn an_ipv6_jwks_host_matches_without_brackets() {
    let mut v6 = probe("[::1]:8443", vec![trusted("[::1]:8443", &thumbprint('a'))]);
    v6.jwks_uri = Some("https://[::1]:8443/keys".to_string());
    assert_eq!(jwks_host(&v6).as_deref(), Some("::1"));
    let decision = decide_for(
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
    let decision = decide_for(
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
    let decision = decide_for(
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
    let decision = decide_for(
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
    let decision = decide_for(
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
    let decision = decide_for(
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
    let decision = decide_for(
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
    let decision = decide_for(
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
    let decision = decide_for(
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
    let decision = decide_for(
        &provider(&[&OLD.to_ascii_uppercase()], None),
        &probe(EKS_HOST, vec![trusted("203.0.113.10:443", OLD)]),
        &config(RemediationMode::Add),
    );
    assert_eq!(decision, Decision::Nothing);
    assert_eq!(decision.without_writing(), None);
}

#[test]
fn nothing_served_needs_nothing() {
    let decision = decide_for(
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
    let first = decide_for(
        &provider(&[OLD], None),
        &served,
        &config(RemediationMode::Add),
    );
    let merge = merge_thumbprints(&[OLD.to_string()], first.thumbprints()).unwrap();
    let after: Vec<&str> = merge.thumbprints.iter().map(String::as_str).collect();
    let second = decide_for(
        &provider(&after, None),
        &served,
        &config(RemediationMode::Add),
    );
    assert_eq!(second, Decision::Nothing);
}
