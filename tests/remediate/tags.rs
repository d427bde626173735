//! The provider tag that opts a provider out of or into remediation.

use thumbprint_guard::config::{RemediationMode, REMEDIATION_TAG};
use thumbprint_guard::report::{FindingCode, RemediationOutcome};

use crate::support::env::{Env, STS};
use crate::support::issuer::ChainSpec;
use crate::support::moto;
use crate::{assert_skipped, codes_for, remediation};

#[tokio::test]
async fn the_tag_opts_a_provider_out_in_add_mode() {
    let env = Env::new("remediate").await;
    let old = env.ca.chain(ChainSpec::default()).top_sha1();
    let new = env.ca.chain(ChainSpec::default());
    let (server, opted_out) = env
        .issuer(&new, "OUT", &[&old], &[(REMEDIATION_TAG, "off")])
        .await;
    let bad_tag = moto::create_provider(
        &env.iam,
        &server.issuer_url("/id/BADTAG"),
        &[STS],
        &[&old],
        &[(REMEDIATION_TAG, "yes")],
    )
    .await;
    let untagged = moto::create_provider(
        &env.iam,
        &server.issuer_url("/id/UNTAGGED"),
        &[STS],
        &[&old],
        &[],
    )
    .await;

    let report = env
        .sweep(&env.config(RemediationMode::Add, "127.0.0.1"))
        .await;
    assert_skipped(
        &report,
        &opted_out,
        &["remediation is off (tag thumbprint-guard/remediation=off)"],
    );
    assert_eq!(
        moto::thumbprints(&env.iam, &opted_out).await,
        [old.as_str()]
    );
    assert_skipped(
        &report,
        &bad_tag,
        &[REMEDIATION_TAG, "one of off, dry-run, add", "'yes'"],
    );
    assert_eq!(moto::thumbprints(&env.iam, &bad_tag).await, [old.as_str()]);
    // The same issuer, untagged, is remediated in the same run.
    assert_eq!(
        remediation(&report, &untagged).outcome,
        RemediationOutcome::Applied
    );
    assert_eq!(
        moto::thumbprints(&env.iam, &untagged).await,
        [old, new.top_sha1()]
    );
}

#[tokio::test]
async fn the_tag_opts_a_provider_in_while_the_mode_is_off() {
    let env = Env::new("remediate").await;
    let old = env.ca.chain(ChainSpec::default()).top_sha1();
    let new = env.ca.chain(ChainSpec::default());
    let (server, opted_in) = env
        .issuer(&new, "IN", &[&old], &[(REMEDIATION_TAG, "add")])
        .await;
    let untagged = moto::create_provider(
        &env.iam,
        &server.issuer_url("/id/UNTAGGED"),
        &[STS],
        &[&old],
        &[],
    )
    .await;

    // Mode off and 127.0.0.1 outside the default globs: only the tag allows the addition.
    let report = env
        .sweep(&env.config(RemediationMode::Off, "oidc.eks.*.amazonaws.com"))
        .await;
    let r = remediation(&report, &opted_in);
    assert_eq!(r.outcome, RemediationOutcome::Applied, "{r:?}");
    assert_eq!(r.added, [new.top_sha1()]);
    assert_eq!(
        moto::thumbprints(&env.iam, &opted_in).await,
        [old.clone(), new.top_sha1()]
    );
    assert!(codes_for(&report, &opted_in).contains(&FindingCode::ThumbprintAdded));
    assert_skipped(
        &report,
        &untagged,
        &["remediation is off (REMEDIATION_MODE=off)"],
    );
    assert_eq!(moto::thumbprints(&env.iam, &untagged).await, [old]);
}
