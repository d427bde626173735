//! The EKS cross-check and the trust-policy audit, end to end against moto: clusters in two regions
//! (moto gives every cluster of one region the same issuer, so distinct issuers need distinct regions),
//! IAM OIDC providers for some of them, and roles of every kind, through one `sweep::run`.
//!
//! The providers' issuers are real EKS host names, so the probes are skipped by a deadline that has
//! already passed (PROBE_SKIPPED): this test is about inventory and assessment, not TLS.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use support::moto::{create_provider, Moto, ACCOUNT_ID};
use thumbprint_guard::aws::AwsClients;
use thumbprint_guard::config::{Config, EksRegions};
use thumbprint_guard::probe::ProbeContext;
use thumbprint_guard::report::{ClusterReport, FindingCode, Report, Severity};
use thumbprint_guard::sweep;

const EAST: &str = "us-east-1";
const WEST: &str = "eu-west-1";

/// Creates an EKS cluster in moto and returns its ARN and OIDC issuer.
async fn create_cluster(moto: &Moto, region: &str, name: &str) -> (String, String) {
    let sdk = moto.sdk_config(region).await;
    let role = format!("arn:aws:iam::{ACCOUNT_ID}:role/eks-cluster");
    let eks = aws_sdk_eks::Client::new(&sdk);
    support::moto::create_eks_cluster(&eks, name, &role)
        .await
        .expect("CreateCluster");
    let described = eks
        .describe_cluster()
        .name(name)
        .send()
        .await
        .expect("DescribeCluster");
    let cluster = described.cluster.expect("cluster");
    let issuer = cluster
        .identity
        .and_then(|i| i.oidc)
        .and_then(|o| o.issuer)
        .expect("moto gives every cluster an OIDC issuer");
    (cluster.arn.expect("cluster ARN"), issuer)
}

fn provider_arn(issuer: &str) -> String {
    format!(
        "arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{}",
        issuer.trim_start_matches("https://")
    )
}

/// A one-statement trust policy federating to the provider of `issuer`, with `conditions` (the
/// inside of `StringEquals`, `PATH` standing for the provider path).
fn trust_policy(effect: &str, issuer: &str, conditions: &str) -> String {
    let path = issuer.trim_start_matches("https://");
    let condition = if conditions.is_empty() {
        String::new()
    } else {
        format!(
            r#","Condition":{{"StringEquals":{{{}}}}}"#,
            conditions.replace("PATH", path)
        )
    };
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Irsa","Effect":"{effect}","Principal":{{"Federated":"{}"}},"Action":"sts:AssumeRoleWithWebIdentity"{condition}}}]}}"#,
        provider_arn(issuer)
    )
}

async fn create_role(iam: &aws_sdk_iam::Client, name: &str, document: &str) -> String {
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(document)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateRole {name}: {e:?}"))
        .role
        .expect("role")
        .arn
}

async fn sweep_once(moto: &Moto) -> Report {
    let sdk = moto.sdk_config(EAST).await;
    let config = Config {
        eks_regions: EksRegions::List(vec![EAST.to_string(), WEST.to_string()]),
        probe_timeout: Duration::from_secs(1),
        ..Config::default()
    };
    let aws = AwsClients::new(&sdk, &config);
    let ctx = ProbeContext::new(&config).expect("probe context");
    let deadline = Some(tokio::time::Instant::now());
    sweep::run(
        &aws,
        &ctx,
        &config,
        &thumbprint_guard::sweep::SharedProbes::default(),
        time::OffsetDateTime::now_utc(),
        deadline,
        &|_| {},
    )
    .await
    .map(|swept| swept.report)
    .expect("sweep")
}

#[tokio::test]
async fn clusters_providers_and_trusting_roles_are_cross_checked() {
    let moto = Moto::start().await;
    let iam = aws_sdk_iam::Client::new(&moto.sdk_config(EAST).await);

    let (prod_arn, prod_issuer) = create_cluster(&moto, EAST, "prod").await;
    let (staging_arn, staging_issuer) = create_cluster(&moto, WEST, "staging").await;
    assert_ne!(
        prod_issuer, staging_issuer,
        "distinct regions give distinct issuers"
    );

    let prod_provider = create_provider(&iam, &prod_issuer, &["sts.amazonaws.com"], &[], &[]).await;
    assert_eq!(prod_provider, provider_arn(&prod_issuer));
    // An EKS provider of a scanned region whose cluster is gone, one of a region that was not scanned,
    // and a non-EKS provider: only the first is an orphan.
    let orphan_issuer =
        format!("https://oidc.eks.{EAST}.amazonaws.com/id/0RPHAN0000000000000000000000000A");
    let orphan_provider =
        create_provider(&iam, &orphan_issuer, &["sts.amazonaws.com"], &[], &[]).await;
    let unscanned_issuer =
        "https://oidc.eks.ap-south-1.amazonaws.com/id/UNSCANNED000000000000000000000A";
    create_provider(&iam, unscanned_issuer, &["sts.amazonaws.com"], &[], &[]).await;
    let github_issuer = "https://token.actions.githubusercontent.com";
    create_provider(&iam, github_issuer, &["sts.amazonaws.com"], &[], &[]).await;

    let sub_and_aud =
        r#""PATH:sub":"system:serviceaccount:app:api","PATH:aud":"sts.amazonaws.com""#;
    create_role(
        &iam,
        "good-irsa",
        &trust_policy("Allow", &prod_issuer, sub_and_aud),
    )
    .await;
    let no_sub = create_role(
        &iam,
        "no-sub",
        &trust_policy("Allow", &prod_issuer, r#""PATH:aud":"sts.amazonaws.com""#),
    )
    .await;
    let no_aud = create_role(
        &iam,
        "no-aud",
        &trust_policy(
            "Allow",
            &prod_issuer,
            r#""PATH:sub":"system:serviceaccount:app:api""#,
        ),
    )
    .await;
    // Trusts the staging cluster's issuer, for which no provider exists.
    let missing = create_role(
        &iam,
        "missing-provider",
        &trust_policy("Allow", &staging_issuer, sub_and_aud),
    )
    .await;
    create_role(&iam, "deny-only", &trust_policy("Deny", &prod_issuer, "")).await;
    let github_no_sub = create_role(
        &iam,
        "github-no-sub",
        &trust_policy("Allow", github_issuer, r#""PATH:aud":"sts.amazonaws.com""#),
    )
    .await;
    create_role(
        &iam,
        "ec2",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
    )
    .await;

    let report = sweep_once(&moto).await;

    assert_eq!(
        report.clusters,
        [
            ClusterReport {
                arn: staging_arn.clone(),
                name: "staging".into(),
                region: WEST.into(),
                issuer: Some(staging_issuer.clone()),
                provider_arn: None,
                kubernetes: None,
            },
            ClusterReport {
                arn: prod_arn.clone(),
                name: "prod".into(),
                region: EAST.into(),
                issuer: Some(prod_issuer.clone()),
                provider_arn: Some(prod_provider.clone()),
                kubernetes: None,
            },
        ]
    );
    assert_eq!(report.summary.clusters, 2);

    let ours = [
        FindingCode::ClusterWithoutProvider,
        FindingCode::OrphanProvider,
        FindingCode::RoleTrustsMissingProvider,
        FindingCode::TrustPolicyNoSub,
        FindingCode::TrustPolicyNoAud,
        FindingCode::InventoryIncomplete,
    ];
    let found: BTreeSet<(FindingCode, Severity, String)> = report
        .findings
        .iter()
        .filter(|f| ours.contains(&f.code))
        .map(|f| (f.code, f.severity, f.resource.clone()))
        .collect();
    let expected: BTreeSet<(FindingCode, Severity, String)> = [
        (
            FindingCode::ClusterWithoutProvider,
            Severity::Warning,
            staging_arn.clone(),
        ),
        (
            FindingCode::OrphanProvider,
            Severity::Info,
            orphan_provider.clone(),
        ),
        (
            FindingCode::RoleTrustsMissingProvider,
            Severity::Critical,
            missing.clone(),
        ),
        (
            FindingCode::TrustPolicyNoSub,
            Severity::Critical,
            no_sub.clone(),
        ),
        (
            FindingCode::TrustPolicyNoSub,
            Severity::Critical,
            github_no_sub.clone(),
        ),
        (
            FindingCode::TrustPolicyNoAud,
            Severity::Warning,
            no_aud.clone(),
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(found, expected, "{:#?}", report.findings);

    let without_provider = report
        .findings
        .iter()
        .find(|f| f.code == FindingCode::ClusterWithoutProvider)
        .expect("CLUSTER_WITHOUT_PROVIDER");
    assert!(
        without_provider.message.contains(&format!(
            "eksctl utils associate-iam-oidc-provider --cluster staging --region {WEST} --approve"
        )),
        "{}",
        without_provider.message
    );
    let missing_finding = report
        .findings
        .iter()
        .find(|f| f.code == FindingCode::RoleTrustsMissingProvider)
        .expect("ROLE_TRUSTS_MISSING_PROVIDER");
    assert_eq!(
        missing_finding.details["provider_arn"],
        provider_arn(&staging_issuer)
    );
    assert_eq!(missing_finding.details["statement"], "Irsa");
    // The prod cluster's matching provider and its well-formed role raise nothing of ours.
    assert!(!report.findings.iter().any(|f| ours.contains(&f.code)
        && (f.resource == prod_arn || f.resource.ends_with(":role/good-irsa"))));
}

#[tokio::test]
async fn broad_sub_and_foreign_condition_keys_are_reported() {
    let moto = Moto::start().await;
    let iam = aws_sdk_iam::Client::new(&moto.sdk_config(EAST).await);
    let github_issuer = "https://token.actions.githubusercontent.com";
    let github = provider_arn(github_issuer);
    create_provider(&iam, github_issuer, &["sts.amazonaws.com"], &[], &[]).await;
    let broad = create_role(
        &iam,
        "github-any-repo",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{github}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringLike":{{"token.actions.githubusercontent.com:sub":"repo:*"}},"StringEquals":{{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}}}}]}}"#
        ),
    )
    .await;
    let foreign = create_role(
        &iam,
        "github-foreign-keys",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{github}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"gitlab.example.com:sub":"project_path:a/b","gitlab.example.com:aud":"sts.amazonaws.com"}}}}}}]}}"#
        ),
    )
    .await;

    let report = sweep_once(&moto).await;
    let trust: Vec<(FindingCode, Severity, String)> = report
        .findings
        .iter()
        .filter(|f| f.resource.contains(":role/"))
        .map(|f| (f.code, f.severity, f.resource.clone()))
        .collect();
    assert_eq!(
        trust,
        [
            (FindingCode::TrustPolicyBroadSub, Severity::Critical, broad),
            (
                FindingCode::TrustPolicyForeignCondition,
                Severity::Warning,
                foreign
            ),
        ],
        "{:#?}",
        report.findings
    );
}

#[tokio::test]
async fn disabled_cross_check_and_audit_report_no_clusters_or_roles() {
    let moto = Moto::start().await;
    let iam = aws_sdk_iam::Client::new(&moto.sdk_config(EAST).await);
    let (_, issuer) = create_cluster(&moto, EAST, "prod").await;
    create_role(
        &iam,
        "no-sub",
        &trust_policy("Allow", &issuer, r#""PATH:aud":"sts.amazonaws.com""#),
    )
    .await;
    let orphan_issuer =
        format!("https://oidc.eks.{EAST}.amazonaws.com/id/0RPHAN0000000000000000000000000A");
    create_provider(&iam, &orphan_issuer, &["sts.amazonaws.com"], &[], &[]).await;

    let sdk = moto.sdk_config(EAST).await;
    let config = Config {
        eks_regions: EksRegions::Disabled,
        audit_trust_policies: false,
        probe_timeout: Duration::from_secs(1),
        ..Config::default()
    };
    let aws = AwsClients::new(&sdk, &config);
    let ctx = ProbeContext::new(&config).expect("probe context");
    let report = sweep::run(
        &aws,
        &ctx,
        &config,
        &thumbprint_guard::sweep::SharedProbes::default(),
        time::OffsetDateTime::now_utc(),
        Some(tokio::time::Instant::now()),
        &|_| {},
    )
    .await
    .map(|swept| swept.report)
    .expect("sweep");
    assert!(report.clusters.is_empty());
    let codes: Vec<FindingCode> = report.findings.iter().map(|f| f.code).collect();
    for code in [
        FindingCode::ClusterWithoutProvider,
        FindingCode::OrphanProvider,
        FindingCode::TrustPolicyNoSub,
        FindingCode::TrustPolicyNoAud,
    ] {
        assert!(
            !codes.contains(&code),
            "{code} with the checks off: {codes:?}"
        );
    }
}
