//! Remediation end to end: real sweeps against moto server and local TLS issuers, asserting the
//! thumbprint list and tags left in IAM and the report's `remediation` and findings.
//!
//! One host with two addresses serving different chains (a rotation behind a load balancer) is
//! staged with two backends on `127.0.0.1:P` and `127.0.0.2:P` and the name `issuer.test` pinned to
//! both in the probe context (`ProbeContext::with_resolve`).

mod support;

use support::issuer::{
    pair_addresses, probe_config, sha1_hex, ChainSpec, IssuerServer, ServedChain, TestCa,
    TrustFile, PAIR_HOST,
};
use support::moto::{self, Moto};
use thumbprint_guard::config::{Config, EksRegions, HostGlobs, RemediationMode, REMEDIATION_TAG};
use thumbprint_guard::inventory::AwsClients;
use thumbprint_guard::probe::ProbeContext;
use thumbprint_guard::remediate::LAST_ADDED_TAG;
use thumbprint_guard::report::{
    FindingCode, ProviderReport, Remediation, RemediationOutcome, Report, Severity,
};
use thumbprint_guard::sweep;

const REGION: &str = "us-east-1";
const STS: &str = "sts.amazonaws.com";

/// A moto, a trusted CA and an IAM client with moto's default credentials.
struct Env {
    moto: Moto,
    ca: TestCa,
    trust: TrustFile,
    iam: aws_sdk_iam::Client,
}

impl Env {
    async fn new() -> Env {
        let moto = Moto::start().await;
        let ca = TestCa::new("remediate");
        let trust = TrustFile::new(&[&ca]);
        let iam = aws_sdk_iam::Client::new(&moto.sdk_config(REGION).await);
        Env {
            moto,
            ca,
            trust,
            iam,
        }
    }

    /// The configuration of a run: `mode`, `allowed` hosts, the test CA trusted, loopback
    /// allowed, EKS and role audit off.
    fn config(&self, mode: RemediationMode, allowed: &str) -> Config {
        Config {
            remediation_mode: mode,
            remediation_allowed_hosts: HostGlobs::parse(allowed).expect("valid globs"),
            eks_regions: EksRegions::Disabled,
            audit_trust_policies: false,
            ..probe_config(&self.trust)
        }
    }

    async fn sweep(&self, config: &Config) -> Report {
        self.sweep_as(config, "testing", "testing").await
    }

    /// A sweep whose probe uses `ctx` (e.g. one with a pinned host).
    async fn sweep_with(&self, config: &Config, ctx: &ProbeContext) -> Report {
        let sdk = self.moto.sdk_config(REGION).await;
        let aws = AwsClients::new(&sdk, config);
        sweep::run(&aws, ctx, config, time::OffsetDateTime::now_utc(), None)
            .await
            .expect("sweep runs")
    }

    /// Backends `127.0.0.1:P` serving `first` and `127.0.0.2:P` serving `second` for the one
    /// issuer `https://issuer.test:P/id/PAIR`, a provider for it holding `configured`, and the
    /// configuration and probe context of an `add` run allowed on `issuer.test` with the name
    /// pinned to both backends.
    async fn pair(&self, first: &ServedChain, second: &ServedChain, configured: &[&str]) -> Pair {
        let (one, two) = IssuerServer::start_pair(PAIR_HOST, first.clone(), second.clone()).await;
        let url = one.issuer_url("/id/PAIR");
        assert_eq!(url, format!("https://{PAIR_HOST}:{}/id/PAIR", one.port()));
        let arn = moto::create_provider(&self.iam, &url, &[STS], configured, &[]).await;
        let config = self.config(RemediationMode::Add, PAIR_HOST);
        let ctx = ProbeContext::new(&config)
            .expect("probe context")
            .with_resolve(PAIR_HOST, pair_addresses())
            .expect("pin issuer.test");
        Pair {
            one,
            two,
            arn,
            config,
            ctx,
        }
    }

    /// A sweep with the credentials of a moto IAM user.
    async fn sweep_as(&self, config: &Config, key: &str, secret: &str) -> Report {
        let sdk = self.moto.sdk_config_with(REGION, key, secret).await;
        let aws = AwsClients::new(&sdk, config);
        let ctx = ProbeContext::new(config).expect("probe context");
        sweep::run(&aws, &ctx, config, time::OffsetDateTime::now_utc(), None)
            .await
            .expect("sweep runs")
    }

    /// A local issuer serving `served`, and a provider for it that holds `configured`.
    async fn issuer(
        &self,
        served: &ServedChain,
        id: &str,
        configured: &[&str],
        tags: &[(&str, &str)],
    ) -> (IssuerServer, String) {
        let server = IssuerServer::start(served.clone()).await;
        let arn = moto::create_provider(
            &self.iam,
            &server.issuer_url(&format!("/id/{id}")),
            &[STS],
            configured,
            tags,
        )
        .await;
        (server, arn)
    }

    /// The provider's tags as IAM holds them now.
    async fn tags(&self, arn: &str) -> Vec<(String, String)> {
        self.iam
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
            .expect("GetOpenIDConnectProvider")
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect()
    }
}

/// Two backends of `issuer.test`, their provider, and how to sweep them (see [`Env::pair`]).
struct Pair {
    one: IssuerServer,
    two: IssuerServer,
    arn: String,
    config: Config,
    ctx: ProbeContext,
}

fn provider<'a>(report: &'a Report, arn: &str) -> &'a ProviderReport {
    report
        .providers
        .iter()
        .find(|p| p.arn == arn)
        .unwrap_or_else(|| panic!("{arn} not in {:#?}", report.providers))
}

fn remediation<'a>(report: &'a Report, arn: &str) -> &'a Remediation {
    provider(report, arn)
        .remediation
        .as_ref()
        .unwrap_or_else(|| panic!("no remediation for {arn}: {report:#?}"))
}

fn codes_for(report: &Report, arn: &str) -> Vec<FindingCode> {
    report
        .findings
        .iter()
        .filter(|f| f.resource == arn)
        .map(|f| f.code)
        .collect()
}

/// Asserts a `skipped` remediation whose reason mentions every needle, and no THUMBPRINT_ADDED.
fn assert_skipped(report: &Report, arn: &str, needles: &[&str]) {
    let r = remediation(report, arn);
    assert_eq!(r.outcome, RemediationOutcome::Skipped, "{r:?}");
    assert!(r.added.is_empty(), "{r:?}");
    for needle in needles {
        assert!(r.reason.contains(needle), "'{needle}' not in: {}", r.reason);
    }
    assert!(!codes_for(report, arn).contains(&FindingCode::ThumbprintAdded));
}

#[tokio::test]
async fn rotation_on_an_allowed_host_adds_the_new_thumbprint_once() {
    let env = Env::new().await;
    let old = env.ca.chain(ChainSpec::default());
    let (server, arn) = env.issuer(&old, "ROTATED", &[&old.top_sha1()], &[]).await;
    let new = env.ca.chain(ChainSpec::default());
    assert_ne!(new.top_sha1(), old.top_sha1());
    server.rotate(new.clone());
    let config = env.config(RemediationMode::Add, "127.0.0.1");

    let before = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap();
    let report = env.sweep(&config).await;
    let r = remediation(&report, &arn);
    assert_eq!(r.outcome, RemediationOutcome::Applied, "{r:?}");
    assert_eq!(r.added, [new.top_sha1()]);
    assert!(
        r.reason
            .contains("127.0.0.1 matches REMEDIATION_ALLOWED_HOSTS"),
        "{}",
        r.reason
    );
    // IAM: the old entry kept first, the new one appended, the provider tagged.
    assert_eq!(
        moto::thumbprints(&env.iam, &arn).await,
        [old.top_sha1(), new.top_sha1()]
    );
    let tags = env.tags(&arn).await;
    let (_, last_added) = tags
        .iter()
        .find(|(k, _)| k == LAST_ADDED_TAG)
        .unwrap_or_else(|| panic!("no {LAST_ADDED_TAG} tag in {tags:?}"));
    let (thumbprint, at) = last_added.split_once(' ').expect("'<thumbprint> <time>'");
    assert_eq!(thumbprint, new.top_sha1());
    let at = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 time");
    assert!(at >= before, "{at} < {before}");
    // Report: the mismatch is resolved, the addition is an info finding.
    let added: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.resource == arn)
        .collect();
    assert_eq!(added.len(), 1, "{added:#?}");
    assert_eq!(added[0].code, FindingCode::ThumbprintAdded);
    assert_eq!(added[0].severity, Severity::Info);
    assert_eq!(added[0].details["thumbprint"], new.top_sha1());
    assert_eq!(report.summary.thumbprints_added, 1);

    // A second run changes nothing.
    let again = env.sweep(&config).await;
    assert_eq!(provider(&again, &arn).remediation, None);
    assert!(codes_for(&again, &arn).is_empty(), "{:#?}", again.findings);
    assert_eq!(again.summary.thumbprints_added, 0);
    assert_eq!(
        moto::thumbprints(&env.iam, &arn).await,
        [old.top_sha1(), new.top_sha1()]
    );
}

#[tokio::test]
async fn dry_run_plans_the_addition_and_leaves_iam_untouched() {
    let env = Env::new().await;
    let old = env.ca.chain(ChainSpec::default());
    let new = env.ca.chain(ChainSpec::default());
    let (_server, arn) = env.issuer(&new, "DRY", &[&old.top_sha1()], &[]).await;

    let report = env
        .sweep(&env.config(RemediationMode::DryRun, "127.0.0.1"))
        .await;
    let r = remediation(&report, &arn);
    assert_eq!(r.outcome, RemediationOutcome::Planned, "{r:?}");
    assert_eq!(r.added, [new.top_sha1()]);
    assert!(r.reason.starts_with("dry-run"), "{}", r.reason);
    assert_eq!(codes_for(&report, &arn), [FindingCode::ThumbprintMismatch]);
    assert_eq!(report.summary.thumbprints_added, 0);
    assert_eq!(moto::thumbprints(&env.iam, &arn).await, [old.top_sha1()]);
    assert!(env.tags(&arn).await.is_empty());
}

#[tokio::test]
async fn untrusted_expired_and_wrong_name_chains_are_never_added() {
    let env = Env::new().await;
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
    let env = Env::new().await;
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
    let env = Env::new().await;
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

#[tokio::test]
async fn the_tag_opts_a_provider_out_in_add_mode() {
    let env = Env::new().await;
    let old = env.ca.chain(ChainSpec::default()).top_sha1();
    let new = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(new.clone()).await;
    let opted_out = moto::create_provider(
        &env.iam,
        &server.issuer_url("/id/OUT"),
        &[STS],
        &[&old],
        &[(REMEDIATION_TAG, "off")],
    )
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
    let env = Env::new().await;
    let old = env.ca.chain(ChainSpec::default()).top_sha1();
    let new = env.ca.chain(ChainSpec::default());
    let server = IssuerServer::start(new.clone()).await;
    let opted_in = moto::create_provider(
        &env.iam,
        &server.issuer_url("/id/IN"),
        &[STS],
        &[&old],
        &[(REMEDIATION_TAG, "add")],
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

#[tokio::test]
async fn a_full_list_of_five_is_never_exceeded() {
    let env = Env::new().await;
    let five: Vec<String> = (0..5)
        .map(|_| env.ca.chain(ChainSpec::default()).top_sha1())
        .collect();
    let five_refs: Vec<&str> = five.iter().map(String::as_str).collect();
    let new = env.ca.chain(ChainSpec::default());
    let (_server, arn) = env.issuer(&new, "FULL", &five_refs, &[]).await;

    let report = env
        .sweep(&env.config(RemediationMode::Add, "127.0.0.1"))
        .await;
    assert_skipped(&report, &arn, &["no room", "5 of IAM's maximum 5"]);
    let full = report
        .findings
        .iter()
        .find(|f| f.resource == arn && f.code == FindingCode::ThumbprintListFull)
        .unwrap_or_else(|| panic!("no THUMBPRINT_LIST_FULL in {:#?}", report.findings));
    assert_eq!(full.severity, Severity::Warning);
    assert_eq!(full.details["thumbprints"][0], new.top_sha1());
    assert!(codes_for(&report, &arn).contains(&FindingCode::ThumbprintMismatch));
    assert_eq!(moto::thumbprints(&env.iam, &arn).await, five);
}

/// A moto IAM user whose policy allows reading and tagging but not
/// `iam:UpdateOpenIDConnectProviderThumbprint`; returns its access key.
async fn user_without_update(iam: &aws_sdk_iam::Client) -> (String, String) {
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["sts:GetCallerIdentity", "iam:Get*", "iam:List*", "iam:Tag*", "sns:*", "eks:*"],
            "Resource": "*"
        }]
    });
    iam.create_user()
        .user_name("guard")
        .send()
        .await
        .expect("CreateUser");
    iam.put_user_policy()
        .user_name("guard")
        .policy_name("read-only-guard")
        .policy_document(policy.to_string())
        .send()
        .await
        .expect("PutUserPolicy");
    let key = iam
        .create_access_key()
        .user_name("guard")
        .send()
        .await
        .expect("CreateAccessKey")
        .access_key
        .expect("access key");
    (
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    )
}

#[tokio::test]
async fn access_denied_on_the_write_fails_that_provider_and_the_sweep_goes_on() {
    let env = Env::new().await;
    let old = env.ca.chain(ChainSpec::default());
    let new = env.ca.chain(ChainSpec::default());
    let (_rotated, denied) = env.issuer(&new, "DENIED", &[&old.top_sha1()], &[]).await;
    let (_healthy_server, healthy) = env.issuer(&old, "HEALTHY", &[&old.top_sha1()], &[]).await;
    let (key, secret) = user_without_update(&env.iam).await;
    env.moto.enable_auth().await;
    let guard_iam =
        aws_sdk_iam::Client::new(&env.moto.sdk_config_with(REGION, &key, &secret).await);

    let report = env
        .sweep_as(
            &env.config(RemediationMode::Add, "127.0.0.1"),
            &key,
            &secret,
        )
        .await;
    let r = remediation(&report, &denied);
    assert_eq!(r.outcome, RemediationOutcome::Failed, "{r:?}");
    assert!(r.added.is_empty());
    assert!(
        r.reason.contains("UpdateOpenIDConnectProviderThumbprint"),
        "{}",
        r.reason
    );
    assert!(
        r.reason.contains("AccessDenied") || r.reason.contains("not authorized"),
        "{}",
        r.reason
    );
    // The mismatch stays (critical: a private CA), nothing was added or tagged.
    assert_eq!(
        codes_for(&report, &denied),
        [FindingCode::ThumbprintMismatch]
    );
    assert_eq!(report.summary.thumbprints_added, 0);
    assert_eq!(
        moto::thumbprints(&guard_iam, &denied).await,
        [old.top_sha1()]
    );
    // The rest of the sweep is intact.
    assert_eq!(report.summary.providers, 2);
    assert_eq!(provider(&report, &healthy).remediation, None);
    assert!(
        codes_for(&report, &healthy).is_empty(),
        "{:#?}",
        report.findings
    );
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.code == FindingCode::InventoryIncomplete),
        "{:#?}",
        report.findings
    );
}

/// `(address, top_thumbprint, trusted)` of each endpoint in the report.
fn endpoints(report: &Report, arn: &str) -> Vec<(String, Option<String>, bool)> {
    provider(report, arn)
        .endpoints
        .iter()
        .map(|e| (e.address.clone(), e.top_thumbprint.clone(), e.trusted))
        .collect()
}

#[tokio::test]
async fn two_addresses_serving_two_trusted_chains_get_both_added_once() {
    let env = Env::new().await;
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
    let env = Env::new().await;
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
