//! The conditions on every addition: a trusted, unexpired chain on an allowed host.

use thumbprint_guard::config::{RemediationMode, REMEDIATION_TAG};
use thumbprint_guard::report::FindingCode;

use crate::support::env::Env;
use crate::support::issuer::{ChainSpec, TestCa};
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
