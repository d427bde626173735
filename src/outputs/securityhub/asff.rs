//! DESIGN's mapping of a finding to ASFF, field by field, within ASFF's length limits.

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;

use crate::report::{escape, rfc3339, Finding, Report, Severity};

/// ASFF schema version of every finding.
pub const ASFF_SCHEMA_VERSION: &str = "2018-10-08";
/// The one finding type thumbprint-guard reports under.
pub const FINDING_TYPE: &str = "Software and Configuration Checks/AWS Security Best Practices";
/// Every `GeneratorId` starts with this, followed by the finding code.
pub const GENERATOR_PREFIX: &str = "thumbprint-guard/";

const TITLE_MAX: usize = 256;
const DESCRIPTION_MAX: usize = 1024;
const RECOMMENDATION_MAX: usize = 512;
const PRODUCT_FIELDS_MAX: usize = 50;
const PRODUCT_FIELD_KEY_MAX: usize = 128;
const PRODUCT_FIELD_VALUE_MAX: usize = 2048;
const CODE_FIELD: &str = "thumbprint-guard/code";

/// One finding in BatchImportFindings' input shape (serializes to exactly the ASFF field names).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    /// `2018-10-08`.
    pub schema_version: String,
    /// The finding's stable id.
    pub id: String,
    /// `arn:PARTITION:securityhub:REGION:ACCOUNT:product/ACCOUNT/default`.
    pub product_arn: String,
    /// `thumbprint-guard/CODE`.
    pub generator_id: String,
    /// The account the finding is about.
    pub aws_account_id: String,
    /// `[FINDING_TYPE]`.
    pub types: Vec<String>,
    /// When the problem was first seen (first_seen, or now).
    pub created_at: String,
    /// This run.
    pub updated_at: String,
    /// When the problem was first seen (first_seen, or now).
    pub first_observed_at: String,
    /// This run.
    pub last_observed_at: String,
    /// CRITICAL / MEDIUM / INFORMATIONAL.
    pub severity: AsffSeverity,
    /// Code and resource (and the workload of an in-cluster finding), at most 256 characters.
    pub title: String,
    /// The finding's message, at most 1024 characters.
    pub description: String,
    /// The manual fix, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<AsffRemediation>,
    /// What the finding is about.
    pub resources: Vec<AsffResource>,
    /// `thumbprint-guard/code` and the details flattened to strings.
    pub product_fields: BTreeMap<String, String>,
    /// `ACTIVE` (or `ARCHIVED` when it went away).
    pub record_state: String,
    /// `{"Status": "NEW"}`.
    pub workflow: AsffWorkflow,
}

/// ASFF `Severity`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffSeverity {
    /// CRITICAL, MEDIUM or INFORMATIONAL.
    pub label: String,
}

/// ASFF `Remediation`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRemediation {
    /// The recommendation.
    pub recommendation: AsffRecommendation,
}

/// ASFF `Remediation.Recommendation`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRecommendation {
    /// The manual fix, at most 512 characters.
    pub text: String,
}

/// ASFF `Resources[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResource {
    /// `AwsIamRole`, `AwsEksCluster` or `Other`.
    #[serde(rename = "Type")]
    pub resource_type: String,
    /// The resource's ARN.
    pub id: String,
    /// The partition.
    pub partition: String,
    /// The cluster's region, or the run's region for global (IAM) resources.
    pub region: String,
}

/// ASFF `Workflow`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffWorkflow {
    /// `NEW`.
    pub status: String,
}

/// The account's own Security Hub product, where thumbprint-guard imports.
pub fn product_arn(partition: &str, region: &str, account_id: &str) -> String {
    format!("arn:{partition}:securityhub:{region}:{account_id}:product/{account_id}/default")
}

/// Every finding of `report` in ASFF, imported into the account's default product in `region`;
/// `fix` gives a finding's manual fix (the Remediation text).
pub fn to_asff(
    report: &Report,
    partition: &str,
    region: &str,
    now: OffsetDateTime,
    fix: impl Fn(&Finding) -> Option<String>,
) -> Vec<AsffFinding> {
    let product = product_arn(partition, region, &report.account_id);
    let updated = rfc3339(now);
    report
        .findings
        .iter()
        .map(|finding| {
            let first = rfc3339(finding.first_seen.unwrap_or(now));
            AsffFinding {
                schema_version: ASFF_SCHEMA_VERSION.to_string(),
                id: finding.id.clone(),
                product_arn: product.clone(),
                generator_id: format!("{GENERATOR_PREFIX}{}", finding.code.as_str()),
                aws_account_id: report.account_id.clone(),
                types: vec![FINDING_TYPE.to_string()],
                created_at: first.clone(),
                updated_at: updated.clone(),
                first_observed_at: first,
                last_observed_at: updated.clone(),
                severity: AsffSeverity {
                    label: severity_label(finding.severity).to_string(),
                },
                title: title(finding),
                description: truncate(&finding.message, DESCRIPTION_MAX),
                remediation: fix(finding).map(|text| AsffRemediation {
                    recommendation: AsffRecommendation {
                        text: truncate(&text, RECOMMENDATION_MAX),
                    },
                }),
                resources: vec![resource(&finding.resource, partition, region)],
                product_fields: product_fields(finding),
                record_state: "ACTIVE".to_string(),
                workflow: AsffWorkflow {
                    status: "NEW".to_string(),
                },
            }
        })
        .collect()
}

/// `{"Findings": [...]}`: BatchImportFindings' input, as `sweep --output asff` prints it.
pub fn asff_document(findings: &[AsffFinding]) -> serde_json::Value {
    serde_json::json!({ "Findings": findings })
}

/// `CODE: RESOURCE`; for a finding about a service account or pod, `CODE: NAMESPACE/NAME in
/// CLUSTER_ARN`, followed by ` (ROLE_ARN)` when the finding is on a role: the in-cluster findings
/// of one cluster would otherwise share one title. The workload comes before the ARNs, so a cut at
/// 256 characters shortens an ARN first; its names are escaped (they come from the cluster).
fn title(finding: &Finding) -> String {
    let code = finding.code.as_str();
    let resource = &finding.resource;
    let text = match finding.discriminator.workload() {
        None => format!("{code}: {resource}"),
        Some(workload) => {
            let named = format!("{}/{}", escape(&workload.namespace), escape(&workload.name));
            match &workload.cluster {
                None => format!("{code}: {named} in {resource}"),
                Some(cluster) => format!("{code}: {named} in {cluster} ({resource})"),
            }
        }
    };
    truncate(&text, TITLE_MAX)
}

fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "CRITICAL",
        Severity::Warning => "MEDIUM",
        Severity::Info => "INFORMATIONAL",
    }
}

/// `AwsIamRole` for `arn:P:iam::A:role/..`, `AwsEksCluster` for `arn:P:eks:R:A:cluster/..`,
/// `Other` for an OIDC provider or anything else.
fn resource(arn: &str, partition: &str, region: &str) -> AsffResource {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let (resource_type, resource_region) = match parts.as_slice() {
        ["arn", _, "iam", _, _, rest] if rest.starts_with("role/") => ("AwsIamRole", region),
        ["arn", _, "eks", cluster_region, _, rest]
            if rest.starts_with("cluster/") && !cluster_region.is_empty() =>
        {
            ("AwsEksCluster", *cluster_region)
        }
        _ => ("Other", region),
    };
    AsffResource {
        resource_type: resource_type.to_string(),
        id: arn.to_string(),
        partition: partition.to_string(),
        region: resource_region.to_string(),
    }
}

/// `thumbprint-guard/code` first, then the details flattened (`thumbprint-guard/a/b/0`) as
/// strings, within ASFF's limits: at most 50 fields, keys ≤ 128, values ≤ 2048 characters.
fn product_fields(finding: &Finding) -> BTreeMap<String, String> {
    let mut flat = Vec::new();
    flatten("thumbprint-guard", &finding.details, &mut flat);
    let mut fields = BTreeMap::new();
    fields.insert(CODE_FIELD.to_string(), finding.code.as_str().to_string());
    for (key, value) in flat {
        if fields.len() >= PRODUCT_FIELDS_MAX {
            break;
        }
        let key = truncate(&key, PRODUCT_FIELD_KEY_MAX);
        fields
            .entry(key)
            .or_insert_with(|| truncate(&value, PRODUCT_FIELD_VALUE_MAX));
    }
    fields
}

fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                flatten(&format!("{prefix}/{key}"), child, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                flatten(&format!("{prefix}/{index}"), child, out);
            }
        }
        serde_json::Value::String(text) => out.push((prefix.to_string(), text.clone())),
        serde_json::Value::Null => {}
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// At most `max` characters of `text`.
fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::FindingCode;

    #[test]
    fn resource_types_follow_the_arn() {
        let role = resource("arn:aws:iam::123456789012:role/app", "aws", "eu-west-1");
        assert_eq!(
            (role.resource_type.as_str(), role.region.as_str()),
            ("AwsIamRole", "eu-west-1")
        );
        let cluster = resource(
            "arn:aws:eks:us-west-2:123456789012:cluster/prod",
            "aws",
            "eu-west-1",
        );
        assert_eq!(
            (cluster.resource_type.as_str(), cluster.region.as_str()),
            ("AwsEksCluster", "us-west-2")
        );
        let provider = resource(
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X",
            "aws",
            "eu-west-1",
        );
        assert_eq!(provider.resource_type, "Other");
        assert_eq!(
            resource("https://issuer", "aws", "r").resource_type,
            "Other"
        );
    }

    #[test]
    fn product_fields_stay_within_asff_limits() {
        let mut details = serde_json::Map::new();
        for i in 0..80 {
            details.insert(format!("k{i:02}"), serde_json::json!("v".repeat(3000)));
        }
        details.insert("x".repeat(200), serde_json::json!(1));
        let finding = Finding::new(FindingCode::CertExpiring, "arn:aws:iam::1:role/r", "m")
            .with_details(serde_json::Value::Object(details));
        let fields = product_fields(&finding);
        assert_eq!(fields.len(), 50);
        assert_eq!(fields[CODE_FIELD], "CERT_EXPIRING");
        assert!(fields.keys().all(|k| k.chars().count() <= 128));
        assert!(fields.values().all(|v| v.chars().count() <= 2048));
    }

    #[test]
    fn nested_details_flatten_to_strings() {
        let finding = Finding::new(FindingCode::ThumbprintMismatch, "arn", "m").with_details(
            serde_json::json!({"served": ["aa", "bb"], "enforced": true, "n": {"days": 3}, "none": null}),
        );
        let fields = product_fields(&finding);
        assert_eq!(fields["thumbprint-guard/served/1"], "bb");
        assert_eq!(fields["thumbprint-guard/enforced"], "true");
        assert_eq!(fields["thumbprint-guard/n/days"], "3");
        assert!(!fields.contains_key("thumbprint-guard/none"));
    }

    #[test]
    fn in_cluster_findings_name_the_cluster_or_the_role_and_carry_the_workload() {
        use crate::report::{Discriminator, Workload};
        let workload = Discriminator::Workload(Workload {
            namespace: "payments".into(),
            name: "api".into(),
            cluster: None,
        });
        let on_cluster = Finding::new(
            FindingCode::ServiceAccountRoleUntrusted,
            "arn:aws-cn:eks:cn-north-1:111122223333:cluster/prod",
            "m",
        )
        .with_discriminator(workload)
        .with_details(serde_json::json!({
            "namespace": "payments",
            "name": "api",
            "role_arn": "arn:aws-cn:iam::111122223333:role/api",
        }));
        let cluster = resource(&on_cluster.resource, "aws-cn", "cn-northwest-1");
        assert_eq!(
            (cluster.resource_type.as_str(), cluster.region.as_str()),
            ("AwsEksCluster", "cn-north-1")
        );
        let fields = product_fields(&on_cluster);
        assert_eq!(fields[CODE_FIELD], "SERVICE_ACCOUNT_ROLE_UNTRUSTED");
        assert_eq!(fields["thumbprint-guard/namespace"], "payments");
        assert_eq!(fields["thumbprint-guard/name"], "api");
        assert_eq!(
            fields["thumbprint-guard/role_arn"],
            "arn:aws-cn:iam::111122223333:role/api"
        );
        let on_role = resource(
            "arn:aws:iam::111122223333:role/team/ghost",
            "aws",
            "us-east-1",
        );
        assert_eq!(on_role.resource_type, "AwsIamRole");
    }

    #[test]
    fn titles_name_the_workload_of_in_cluster_findings() {
        use crate::report::{Discriminator, FindingCode, Workload};
        let cluster = "arn:aws:eks:us-east-1:123456789012:cluster/prod";
        let role = "arn:aws:iam::123456789012:role/payments-api";
        let about = |code, resource: &str, namespace: &str, name: &str, on: Option<&str>| {
            Finding::new(code, resource, "m").with_discriminator(Discriminator::Workload(
                Workload {
                    namespace: namespace.into(),
                    name: name.into(),
                    cluster: on.map(str::to_string),
                },
            ))
        };
        let api = about(
            FindingCode::PodNeedsRestart,
            cluster,
            "payments",
            "api-6d5f7",
            None,
        );
        let worker = about(
            FindingCode::PodNeedsRestart,
            cluster,
            "orders",
            "worker-7c9d4",
            None,
        );
        assert_eq!(
            title(&api),
            "POD_NEEDS_RESTART: payments/api-6d5f7 in arn:aws:eks:us-east-1:123456789012:cluster/prod"
        );
        assert_ne!(title(&api), title(&worker));
        let on_role = about(
            FindingCode::TrustPolicyUnknownServiceAccount,
            role,
            "payment",
            "api",
            Some(cluster),
        );
        assert_eq!(
            title(&on_role),
            "TRUST_POLICY_UNKNOWN_SERVICE_ACCOUNT: payment/api in \
             arn:aws:eks:us-east-1:123456789012:cluster/prod (arn:aws:iam::123456789012:role/payments-api)"
        );
        // Other findings keep `CODE: RESOURCE`.
        let provider = Finding::new(
            FindingCode::CertExpiring,
            "arn:aws:iam::1:oidc-provider/x",
            "m",
        );
        assert_eq!(
            title(&provider),
            "CERT_EXPIRING: arn:aws:iam::1:oidc-provider/x"
        );
        // The longest names Kubernetes allows (and then some): within ASFF's limit, the workload
        // first, control characters escaped.
        let long = about(
            FindingCode::ServiceAccountRoleUntrusted,
            cluster,
            &"n".repeat(63),
            &format!("a\nb{}", "x".repeat(300)),
            None,
        );
        let long_title = title(&long);
        assert_eq!(long_title.chars().count(), TITLE_MAX);
        assert!(
            long_title.starts_with(&format!(
                "SERVICE_ACCOUNT_ROLE_UNTRUSTED: {}/a\\u{{a}}bxx",
                "n".repeat(63)
            )),
            "{long_title}"
        );
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate("ééé", 2), "éé");
    }
}
