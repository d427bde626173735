//! Findings from the EKS cross-check: clusters without a provider, orphan providers, and the trust
//! policies of roles that federate to OIDC providers (pure).
//!
//! A cluster matches the provider whose URL equals its issuer: both must be `https`, host and scheme
//! compare case-insensitively (as URLs do), the path exactly, and a trailing slash is ignored.

use std::collections::BTreeSet;

use serde_json::json;
use url::Url;

use crate::inventory::{Inventory, OidcProvider};
use crate::report::{ClusterReport, Finding, FindingCode};
use crate::trust_policy::audit_role;

/// An issuer URL reduced to what identifies it (`host[:port]/path`, no trailing slash); `None` when
/// it is not an https URL.
fn issuer_key(issuer: &str) -> Option<String> {
    let url = Url::parse(issuer.trim()).ok()?;
    if url.scheme() != "https" {
        return None;
    }
    let host = url.host_str()?;
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Some(format!("{host}{port}{}", url.path().trim_end_matches('/')))
}

/// The region of an EKS issuer URL (`https://oidc.eks.REGION.amazonaws.com[.cn]/id/…`), if it is one.
fn eks_issuer_region(url: &str) -> Option<String> {
    let url = Url::parse(url.trim()).ok()?;
    if url.scheme() != "https" || !url.path().starts_with("/id/") || url.path().len() <= 4 {
        return None;
    }
    let host = url.host_str()?;
    let region = host.strip_prefix("oidc.eks.")?;
    let region = region
        .strip_suffix(".amazonaws.com")
        .or_else(|| region.strip_suffix(".amazonaws.com.cn"))?;
    (!region.is_empty() && !region.contains('.')).then(|| region.to_string())
}

/// One entry of `clusters[]` per cluster, with the ARN of the provider serving its issuer; and a
/// CLUSTER_WITHOUT_PROVIDER finding per cluster whose issuer has none, an ORPHAN_PROVIDER finding per
/// EKS provider of a scanned region that matches no cluster.
///
/// A cluster without an issuer (never the case on current EKS) gets no finding; a provider is only an
/// orphan when its region's clusters were all read (`scanned_regions`).
pub fn cluster_findings(inventory: &Inventory) -> (Vec<ClusterReport>, Vec<Finding>) {
    let provider_for = |issuer: &str| -> Option<&OidcProvider> {
        let key = issuer_key(issuer)?;
        inventory
            .providers
            .iter()
            .find(|p| issuer_key(&p.url).as_deref() == Some(key.as_str()))
    };
    let mut reports = Vec::new();
    let mut findings = Vec::new();
    let mut matched = BTreeSet::new();
    for cluster in &inventory.clusters {
        let provider = cluster.issuer.as_deref().and_then(provider_for);
        if let Some(provider) = provider {
            matched.insert(provider.arn.as_str());
        }
        reports.push(ClusterReport {
            arn: cluster.arn.clone(),
            name: cluster.name.clone(),
            region: cluster.region.clone(),
            issuer: cluster.issuer.clone(),
            provider_arn: provider.map(|p| p.arn.clone()),
            kubernetes: None,
        });
        let (Some(issuer), None) = (&cluster.issuer, provider) else {
            continue;
        };
        let eksctl = format!(
            "eksctl utils associate-iam-oidc-provider --cluster {} --region {} --approve",
            cluster.name, cluster.region
        );
        let aws_cli = format!(
            "aws iam create-open-id-connect-provider --url {issuer} --client-id-list sts.amazonaws.com"
        );
        findings.push(
            Finding::new(
                FindingCode::ClusterWithoutProvider,
                &cluster.arn,
                format!(
                    "EKS cluster {} ({}) has OIDC issuer {issuer} but no IAM OIDC provider for it: pods using IAM roles \
                     for service accounts fail with InvalidIdentityToken \"No OpenIDConnect provider found in your \
                     account for {issuer}\". Fix: {eksctl} (or {aws_cli}).",
                    cluster.name, cluster.region
                ),
            )
            .with_details(json!({
                "cluster": cluster.name,
                "region": cluster.region,
                "issuer": issuer,
                "fix_eksctl": eksctl,
                "fix_aws_cli": aws_cli,
            })),
        );
    }
    for provider in &inventory.providers {
        if matched.contains(provider.arn.as_str()) {
            continue;
        }
        let Some(region) = eks_issuer_region(&provider.url) else {
            continue;
        };
        if !inventory.scanned_regions.contains(&region) {
            continue;
        }
        findings.push(
            Finding::new(
                FindingCode::OrphanProvider,
                &provider.arn,
                format!(
                    "IAM OIDC provider for EKS issuer {} matches no cluster of this account in {region}: it is probably \
                     left over from a deleted cluster (or serves a cluster of another account, for cross-account IRSA). \
                     Once no role trusts it, delete it: aws iam delete-open-id-connect-provider \
                     --open-id-connect-provider-arn {}",
                    provider.url, provider.arn
                ),
            )
            .with_details(json!({ "url": provider.url, "region": region })),
        );
    }
    (reports, findings)
}

/// The trust-policy audit of every listed role (nothing when roles were not audited).
///
/// A provider that was listed but could not be read (an INVENTORY_INCOMPLETE finding whose resource is
/// its ARN) counts as existing, so a read failure never turns into ROLE_TRUSTS_MISSING_PROVIDER.
pub fn trust_findings(inventory: &Inventory) -> Vec<Finding> {
    if !inventory.roles_audited {
        return Vec::new();
    }
    let existing: BTreeSet<String> = inventory
        .providers
        .iter()
        .map(|p| p.arn.clone())
        .chain(inventory.unreadable_providers.iter().cloned())
        .collect();
    inventory
        .roles
        .iter()
        .flat_map(|role| audit_role(role, &existing))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Cluster, Role};
    use crate::report::Severity;

    const ACCOUNT: &str = "123456789012";

    fn provider(url: &str) -> OidcProvider {
        OidcProvider {
            arn: format!(
                "arn:aws:iam::{ACCOUNT}:oidc-provider/{}",
                url.trim_start_matches("https://")
            ),
            url: url.to_string(),
            client_ids: vec!["sts.amazonaws.com".into()],
            thumbprints: vec![],
            tags: Default::default(),
        }
    }

    fn cluster(name: &str, region: &str, issuer: Option<&str>) -> Cluster {
        Cluster {
            name: name.into(),
            region: region.into(),
            arn: format!("arn:aws:eks:{region}:{ACCOUNT}:cluster/{name}"),
            issuer: issuer.map(str::to_string),
        }
    }

    const PROD: &str = "https://oidc.eks.us-east-1.amazonaws.com/id/AAAA1111";
    const STAGING: &str = "https://oidc.eks.eu-west-1.amazonaws.com/id/BBBB2222";
    const OLD: &str = "https://oidc.eks.us-east-1.amazonaws.com/id/DEAD0000";
    const OTHER_REGION: &str = "https://oidc.eks.ap-south-1.amazonaws.com/id/CCCC3333";
    const GITHUB: &str = "https://token.actions.githubusercontent.com";

    fn inventory() -> Inventory {
        Inventory {
            account_id: ACCOUNT.into(),
            region: "us-east-1".into(),
            providers: vec![
                provider(PROD),
                provider(OLD),
                provider(OTHER_REGION),
                provider(GITHUB),
            ],
            clusters: vec![
                // A trailing slash on either side does not prevent the match.
                cluster("prod", "us-east-1", Some(&format!("{PROD}/"))),
                cluster("staging", "eu-west-1", Some(STAGING)),
                cluster("bare", "eu-west-1", None),
            ],
            scanned_regions: vec!["us-east-1".into(), "eu-west-1".into()],
            ..Inventory::default()
        }
    }

    #[test]
    fn clusters_are_matched_to_providers_by_issuer() {
        let (reports, _) = cluster_findings(&inventory());
        let arns: Vec<(&str, Option<&str>)> = reports
            .iter()
            .map(|r| (r.name.as_str(), r.provider_arn.as_deref()))
            .collect();
        assert_eq!(
            arns,
            [
                ("prod", Some(provider(PROD).arn.as_str())),
                ("staging", None),
                ("bare", None),
            ]
        );
        assert_eq!(
            reports[0].issuer.as_deref(),
            Some(format!("{PROD}/").as_str())
        );
        assert_eq!(reports[0].region, "us-east-1");
    }

    #[test]
    fn cluster_without_provider_names_the_fix() {
        let (_, findings) = cluster_findings(&inventory());
        let missing: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.code == FindingCode::ClusterWithoutProvider)
            .collect();
        assert_eq!(missing.len(), 1, "{findings:#?}");
        let finding = missing[0];
        assert_eq!(
            finding.resource,
            format!("arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/staging")
        );
        assert_eq!(finding.severity, Severity::Warning);
        assert!(finding.message.contains("No OpenIDConnect provider found"));
        assert!(finding.message.contains(
            "eksctl utils associate-iam-oidc-provider --cluster staging --region eu-west-1 --approve"
        ));
        assert_eq!(finding.details["issuer"], STAGING);
    }

    #[test]
    fn orphans_are_eks_providers_of_scanned_regions_only() {
        let (_, findings) = cluster_findings(&inventory());
        let orphans: Vec<&str> = findings
            .iter()
            .filter(|f| f.code == FindingCode::OrphanProvider)
            .map(|f| f.resource.as_str())
            .collect();
        // ap-south-1 was not scanned and GitHub is not an EKS issuer.
        assert_eq!(orphans, [provider(OLD).arn.as_str()]);
        let orphan = findings
            .iter()
            .find(|f| f.code == FindingCode::OrphanProvider)
            .unwrap();
        assert_eq!(orphan.severity, Severity::Info);
        assert_eq!(orphan.details["region"], "us-east-1");
    }

    #[test]
    fn issuers_compare_as_urls() {
        assert_eq!(
            issuer_key("https://OIDC.eks.us-east-1.amazonaws.com/id/AB/"),
            issuer_key("https://oidc.eks.us-east-1.amazonaws.com/id/AB")
        );
        assert_ne!(
            issuer_key("https://oidc.eks.us-east-1.amazonaws.com/id/ab"),
            issuer_key("https://oidc.eks.us-east-1.amazonaws.com/id/AB")
        );
        assert_eq!(
            issuer_key("http://oidc.eks.us-east-1.amazonaws.com/id/AB"),
            None
        );
        assert_eq!(
            issuer_key("https://127.0.0.1:8443/id/X").as_deref(),
            Some("127.0.0.1:8443/id/X")
        );
        assert_eq!(
            eks_issuer_region("https://oidc.eks.cn-north-1.amazonaws.com.cn/id/X").as_deref(),
            Some("cn-north-1")
        );
        assert_eq!(
            eks_issuer_region("https://oidc.eks.us-east-1.amazonaws.com/"),
            None
        );
        assert_eq!(
            eks_issuer_region("https://oidc.eks.us-east-1.amazonaws.com.evil.example/id/X"),
            None
        );
    }

    fn irsa_role(name: &str, provider_url: &str, conditions: &str) -> Role {
        let path = provider_url.trim_start_matches("https://");
        Role {
            arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            trust_policy: format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{path}"}},
                "Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{{}}}}}}}]}}"#,
                conditions.replace("PATH", path)
            ),
        }
    }

    #[test]
    fn trust_findings_audit_every_role_when_audited() {
        let mut inventory = inventory();
        inventory.roles = vec![
            irsa_role(
                "good",
                PROD,
                r#""PATH:sub":"system:serviceaccount:a:b","PATH:aud":"sts.amazonaws.com""#,
            ),
            irsa_role("no-aud", PROD, r#""PATH:sub":"system:serviceaccount:a:b""#),
            irsa_role(
                "gone",
                STAGING,
                r#""PATH:sub":"system:serviceaccount:a:b","PATH:aud":"sts.amazonaws.com""#,
            ),
            irsa_role(
                "unread",
                "https://oidc.eks.us-east-1.amazonaws.com/id/UNREAD",
                r#""PATH:sub":"x","PATH:aud":"sts.amazonaws.com""#,
            ),
        ];
        inventory.problems = vec![Finding::new(
            FindingCode::InventoryIncomplete,
            format!(
                "arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/UNREAD"
            ),
            "GetOpenIDConnectProvider failed",
        )];
        inventory.unreadable_providers = vec![format!(
            "arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/UNREAD"
        )];
        assert!(trust_findings(&inventory).is_empty());
        inventory.roles_audited = true;
        let found: Vec<(FindingCode, String)> = trust_findings(&inventory)
            .into_iter()
            .map(|f| (f.code, f.resource))
            .collect();
        assert_eq!(
            found,
            [
                (
                    FindingCode::TrustPolicyNoAud,
                    format!("arn:aws:iam::{ACCOUNT}:role/no-aud")
                ),
                (
                    FindingCode::RoleTrustsMissingProvider,
                    format!("arn:aws:iam::{ACCOUNT}:role/gone")
                ),
            ]
        );
    }
}
