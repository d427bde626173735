//! The conditions on every addition: a trusted, unexpired chain on an allowed host.

use thumbprint_guard::config::{RemediationMode, REMEDIATION_TAG};
use thumbprint_guard::report::{FindingCode, RemediationOutcome, Severity};

use crate::support::env::Env;
use crate::support::issuer::{ChainSpec, Order, TestCa};
use crate::support::moto;
use crate::{assert_skipped, codes_for, provider};

#[tokio::test]
async fn untrusted_expired_and_wrong_name_chains_are_never_added() {
    let env = Env::new("remediate").await;
    let old = env.ca.chain(ChainSpec::default()).top_sha1();
    let rogue = TestCa::new("rogue (not in the trust file)");
    let (_unknown, unknown_ca) = env
        .issuer(&rogue.chain(ChainSpec::default()), "UNKNOWN", &[&old], &[])
        .await;
    let (_expired, expired) = env
        .issuer(
            &env.ca.chain(ChainSpec::expired_intermediate()),
            "EXPIRED",
            &[&old],
            &[],
        )
        .await;
    let (_wrong, wrong_name) = env
        .issuer(
            &env.ca.chain(ChainSpec::named("oidc.example.com")),
            "WRONGNAME",
            &[&old],
            &[],
        )
        .await;

    let report = env
        .sweep(&env.config(RemediationMode::Add, "127.0.0.1"))
        .await;
    assert_skipped(
        &report,
        &unknown_ca,
        &["is not trusted", "man in the middle"],
    );
    assert_skipped(&report, &expired, &["expired"]);
    assert_skipped(
        &report,
        &wrong_name,
        &["is not trusted", "man in the middle"],
    );
    assert!(codes_for(&report, &unknown_ca).contains(&FindingCode::ChainUntrusted));
    assert!(codes_for(&report, &expired).contains(&FindingCode::CertExpired));
    assert!(codes_for(&report, &wrong_name).contains(&FindingCode::ChainUntrusted));
    for arn in [&unknown_ca, &expired, &wrong_name] {
        assert_eq!(moto::thumbprints(&env.iam, arn).await, [old.as_str()]);
        assert!(env.tags(arn).await.is_empty());
    }
    assert_eq!(report.summary.thumbprints_added, 0);
}

/// A valid path (leaf → intermediate → trusted root) with an expired copy of the root served
/// last: WebPKI accepts the handshake, but the served top certificate, whose thumbprint would be
/// added, is expired (DESIGN remediation condition 3).
#[tokio::test]
async fn an_expired_top_certificate_beyond_a_valid_path_is_never_added() {
    let env = Env::new("remediate").await;
    let old = env.ca.chain(ChainSpec::default()).top_sha1();
    let served = env.ca.chain(ChainSpec::expired_root_appended());
    let (_server, arn) = env.issuer(&served, "EXPIREDTOP", &[&old], &[]).await;

    let report = env
        .sweep(&env.config(RemediationMode::Add, "127.0.0.1"))
        .await;
    assert_skipped(&report, &arn, &["expired"]);
    let endpoints = &provider(&report, &arn).endpoints;
    assert_eq!(endpoints.len(), 1, "{endpoints:#?}");
    assert_eq!(
        endpoints[0].top_thumbprint.as_deref(),
        Some(served.top_sha1().as_str())
    );
    assert!(!endpoints[0].trusted, "{endpoints:#?}");
    assert!(codes_for(&report, &arn).contains(&FindingCode::CertExpired));
    assert_eq!(moto::thumbprints(&env.iam, &arn).await, [old.as_str()]);
    assert!(env.tags(&arn).await.is_empty());
    assert_eq!(report.summary.thumbprints_added, 0);
}

#[tokio::test]
async fn a_host_outside_the_allowed_globs_is_skipped() {
    let env = Env::new("remediate").await;
    let old = env.ca.chain(ChainSpec::default()).top_sha1();
    let (_server, arn) = env
        .issuer(
            &env.ca.chain(ChainSpec::default()),
            "ELSEWHERE",
            &[&old],
            &[],
        )
        .await;

    // Add mode with the default globs (oidc.eks.*.amazonaws.com): 127.0.0.1 is not one of them.
    let report = env
        .sweep(&env.config(RemediationMode::Add, "oidc.eks.*.amazonaws.com"))
        .await;
    assert_skipped(
        &report,
        &arn,
        &[
            "127.0.0.1 is not in REMEDIATION_ALLOWED_HOSTS",
            REMEDIATION_TAG,
        ],
    );
    assert!(codes_for(&report, &arn).contains(&FindingCode::ThumbprintMismatch));
    assert_eq!(moto::thumbprints(&env.iam, &arn).await, [old]);
}

/// The three chains STS rejects (out of order, the intermediate twice, an unrelated certificate
/// appended), each trusted by WebPKI: CHAIN_ORDER critical, their top never added in `add` mode,
/// the remediation skipped with a reason saying CHAIN_ORDER. A chain ending with its root, in
/// order, is added as usual.
#[tokio::test]
async fn chains_served_out_of_order_are_never_added_and_a_chain_ending_with_its_root_is() {
    let env = Env::new("remediate").await;
    let old = env.ca.chain(ChainSpec::default()).top_sha1();
    let mut malformed = Vec::new();
    for (order, id) in [
        (Order::LeafRootIntermediate, "ROOTFIRST"),
        (Order::IntermediateTwice, "TWICE"),
        (Order::UnrelatedAppended, "EXTRA"),
    ] {
        let served = env.ca.chain(ChainSpec::ordered(order));
        let (server, arn) = env.issuer(&served, id, &[&old], &[]).await;
        malformed.push((server, arn, served));
    }
    let full = env.ca.chain(ChainSpec::full());
    let (_full_server, full_arn) = env.issuer(&full, "FULL", &[&old], &[]).await;

    let report = env
        .sweep(&env.config(RemediationMode::Add, "127.0.0.1"))
        .await;
    for (_server, arn, served) in &malformed {
        assert_skipped(
            &report,
            arn,
            &[
                "CHAIN_ORDER: the chain served at 127.0.0.1:",
                &served.top_sha1(),
            ],
        );
        let order: Vec<_> = report
            .findings
            .iter()
            .filter(|f| &f.resource == arn && f.code == FindingCode::ChainOrder)
            .collect();
        assert_eq!(order.len(), 1, "{:#?}", report.findings);
        assert_eq!(order[0].severity, Severity::Critical);
        assert_eq!(order[0].details["top_thumbprint"], served.top_sha1());
        assert_eq!(moto::thumbprints(&env.iam, arn).await, [old.as_str()]);
        assert!(env.tags(arn).await.is_empty());
    }
    let added = crate::remediation(&report, &full_arn);
    assert_eq!(added.outcome, RemediationOutcome::Applied, "{added:?}");
    assert_eq!(added.added, [full.top_sha1()]);
    assert_eq!(full.top_sha1(), env.ca.sha1());
    assert_eq!(
        codes_for(&report, &full_arn),
        [FindingCode::ThumbprintAdded]
    );
    assert_eq!(
        moto::thumbprints(&env.iam, &full_arn).await,
        [old, full.top_sha1()]
    );
    assert_eq!(report.summary.thumbprints_added, 1);
}
