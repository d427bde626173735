//! One host, two addresses serving different chains (a rotation behind a load balancer).

use thumbprint_guard::report::{FindingCode, RemediationOutcome};

use crate::support::env::Env;
use crate::support::issuer::{sha1_hex, ChainSpec, TestCa, PAIR_HOST};
use crate::support::moto;
use crate::{assert_skipped, codes_for, endpoints, provider, remediation};

#[tokio::test]
async fn two_addresses_serving_two_trusted_chains_get_both_added_once() {
    let env = Env::new("remediate").await;
    let old = env.ca.chain(ChainSpec::named(PAIR_HOST)).top_sha1();
    let first = env.ca.chain(ChainSpec::named(PAIR_HOST));
    let second = env.ca.chain(ChainSpec::named(PAIR_HOST));
    // Independent figures: the SHA-1 of each new intermediate's DER, as rcgen made it.
    let (first_top, second_top) = (sha1_hex(&first.certs[1]), sha1_hex(&second.certs[1]));
    assert_ne!(first_top, second_top);
    let pair = env.pair(&first, &second, &[&old]).await;
    let port = pair.one.port();

    let report = env.sweep_with(&pair.config, &pair.ctx).await;
    let r = remediation(&report, &pair.arn);
    assert_eq!(r.outcome, RemediationOutcome::Applied, "{r:?}");
    assert_eq!(r.added, [first_top.clone(), second_top.clone()]);
    assert!(
        r.reason
            .contains(&format!("every address of issuer.test:{port} (2)")),
        "{}",
        r.reason
    );
    assert!(
        r.reason
            .contains("issuer.test matches REMEDIATION_ALLOWED_HOSTS"),
        "{}",
        r.reason
    );
    // IAM: the old entry kept first, both new ones appended in address order.
    assert_eq!(
        moto::thumbprints(&env.iam, &pair.arn).await,
        [old.clone(), first_top.clone(), second_top.clone()]
    );
    // Report: each address with its own chain; both additions are info findings, no mismatch left.
    assert_eq!(
        endpoints(&report, &pair.arn),
        [
            (format!("127.0.0.1:{port}"), Some(first_top.clone()), true),
            (format!("127.0.0.2:{port}"), Some(second_top.clone()), true),
        ]
    );
    let entry = provider(&report, &pair.arn);
    assert_eq!(
        entry.served_thumbprints,
        [first_top.clone(), second_top.clone()]
    );
    assert_eq!(
        entry.jwks_uri.as_deref(),
        Some(format!("https://issuer.test:{port}/id/PAIR/keys").as_str())
    );
    assert_eq!(
        codes_for(&report, &pair.arn),
        [FindingCode::ThumbprintAdded, FindingCode::ThumbprintAdded],
        "{:#?}",
        report.findings
    );
    let mut added: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.resource == pair.arn)
        .map(|f| f.details["thumbprint"].as_str().expect("thumbprint"))
        .collect();
    added.sort_unstable();
    let mut expected = [first_top.as_str(), second_top.as_str()];
    expected.sort_unstable();
    assert_eq!(added, expected);
    assert_eq!(report.summary.thumbprints_added, 2);
    assert!(pair.one.connections() >= 1 && pair.two.connections() >= 1);

    // A second run changes nothing.
    let again = env.sweep_with(&pair.config, &pair.ctx).await;
    assert_eq!(provider(&again, &pair.arn).remediation, None);
    assert!(
        codes_for(&again, &pair.arn).is_empty(),
        "{:#?}",
        again.findings
    );
    assert_eq!(again.summary.thumbprints_added, 0);
    assert_eq!(
        moto::thumbprints(&env.iam, &pair.arn).await,
        [old, first_top, second_top]
    );
}

/// One backend of `issuer.test` serves a chain of a CA missing from the trust file: neither
/// thumbprint is added, and the reason names that backend's address.
async fn an_untrusted_address_blocks_every_addition(untrusted_first: bool) {
    let env = Env::new("remediate").await;
    let old = env.ca.chain(ChainSpec::named(PAIR_HOST)).top_sha1();
    let trusted = env.ca.chain(ChainSpec::named(PAIR_HOST));
    let rogue = TestCa::new("rogue (not in the trust file)");
    let untrusted = rogue.chain(ChainSpec::named(PAIR_HOST));
    let (first, second) = if untrusted_first {
        (&untrusted, &trusted)
    } else {
        (&trusted, &untrusted)
    };
    let pair = env.pair(first, second, &[&old]).await;
    let port = pair.one.port();
    let (bad, good) = if untrusted_first {
        (format!("127.0.0.1:{port}"), format!("127.0.0.2:{port}"))
    } else {
        (format!("127.0.0.2:{port}"), format!("127.0.0.1:{port}"))
    };

    let report = env.sweep_with(&pair.config, &pair.ctx).await;
    assert_skipped(
        &report,
        &pair.arn,
        &[
            &format!("chain from {bad} is not trusted"),
            "man in the middle",
        ],
    );
    assert!(
        !remediation(&report, &pair.arn).reason.contains(&good),
        "{:?}",
        remediation(&report, &pair.arn)
    );
    assert_eq!(moto::thumbprints(&env.iam, &pair.arn).await, [old]);
    assert!(env.tags(&pair.arn).await.is_empty());
    assert_eq!(report.summary.thumbprints_added, 0);
    // Both addresses are reported with what they served, the rogue one untrusted.
    let mut shown = endpoints(&report, &pair.arn);
    shown.sort();
    let mut expected = vec![
        (good, Some(sha1_hex(&trusted.certs[1])), true),
        (bad.clone(), Some(sha1_hex(&untrusted.certs[1])), false),
    ];
    expected.sort();
    assert_eq!(shown, expected);
    let untrusted_finding = report
        .findings
        .iter()
        .find(|f| f.resource == pair.arn && f.code == FindingCode::ChainUntrusted)
        .unwrap_or_else(|| panic!("no CHAIN_UNTRUSTED in {:#?}", report.findings));
    assert_eq!(untrusted_finding.details["address"], bad.as_str());
    assert_eq!(
        untrusted_finding.details["top_thumbprint"],
        untrusted.top_sha1()
    );
    assert!(codes_for(&report, &pair.arn).contains(&FindingCode::ThumbprintMismatch));
}

#[tokio::test]
async fn an_untrusted_second_address_blocks_adding_either_thumbprint() {
    an_untrusted_address_blocks_every_addition(false).await;
}

#[tokio::test]
async fn an_untrusted_first_address_blocks_adding_either_thumbprint() {
    // The discovery fetch meets the rogue chain first, so the issuer host's chains are reported.
    an_untrusted_address_blocks_every_addition(true).await;
}
