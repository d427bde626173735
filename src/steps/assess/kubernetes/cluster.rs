//! What every in-cluster rule shares: the cluster's facts, a workload's finding, and cluster text
//! as a message shows it.

use serde_json::{json, Value};

use crate::kubernetes::ClusterTarget;
use crate::report::{escape, Discriminator, Finding, FindingCode, Remedy, Workload};

/// The facts of a cluster every rule uses.
pub(super) struct Cluster<'a> {
    /// What DescribeCluster said.
    pub target: &'a ClusterTarget,
    /// The partition of its ARN (`aws`, `aws-cn`…).
    pub partition: &'a str,
    /// Its account.
    pub account: &'a str,
}

impl<'a> Cluster<'a> {
    pub(super) fn of(target: &'a ClusterTarget) -> Cluster<'a> {
        let mut fields = target.arn.split(':');
        let partition = fields.nth(1).unwrap_or("aws");
        let account = fields.nth(2).unwrap_or_default();
        Cluster {
            target,
            partition,
            account,
        }
    }

    /// `EKS cluster NAME (REGION)`, for messages.
    pub fn label(&self) -> String {
        format!(
            "EKS cluster {} ({})",
            shown(&self.target.name),
            shown(&self.target.region)
        )
    }

    /// The ARN of the IAM OIDC provider for this cluster's issuer in `account`.
    pub fn provider_arn_in(&self, account: &str) -> Option<String> {
        let path = self.target.issuer_path.as_deref()?;
        Some(format!(
            "arn:{}:iam::{account}:oidc-provider/{path}",
            self.partition
        ))
    }

    /// A finding about `workload` on this cluster, with the details every in-cluster finding
    /// carries (`namespace`, `name`, `cluster`, `region`) and `extra` merged in.
    pub fn finding(
        &self,
        code: FindingCode,
        workload: Workload,
        message: String,
        extra: Value,
        remedy: Remedy,
    ) -> Finding {
        let resource = self.target.arn.clone();
        workload_finding(
            code,
            resource,
            workload,
            message,
            self.details(extra),
            remedy,
        )
    }

    /// `cluster` and `region`, then `extra`'s fields.
    pub fn details(&self, extra: Value) -> Value {
        let mut details = json!({
            "cluster": self.target.name,
            "region": self.target.region,
        });
        if let (Some(details), Value::Object(extra)) = (details.as_object_mut(), extra) {
            details.extend(extra);
        }
        details
    }
}

/// A finding on `resource` told apart by `workload`, whose namespace and name lead its details.
pub(super) fn workload_finding(
    code: FindingCode,
    resource: String,
    workload: Workload,
    message: String,
    details: Value,
    remedy: Remedy,
) -> Finding {
    let mut all = json!({ "namespace": workload.namespace, "name": workload.name });
    if let (Some(all), Value::Object(details)) = (all.as_object_mut(), details) {
        all.extend(details);
    }
    Finding::new(code, resource, message)
        .with_discriminator(Discriminator::Workload(workload))
        .with_details(all)
        .with_remedy(remedy)
}

/// Text from the cluster as a message shows it: on one line (control characters and line breaks
/// escaped) and without backticks, which the messages quote with.
pub(super) fn shown(text: &str) -> String {
    escape(&crate::report::cap(text)).replace('`', "'")
}

/// `namespace/name`, shown.
pub(super) fn qualified(namespace: &str, name: &str) -> String {
    format!("{}/{}", shown(namespace), shown(name))
}
