//! The manual fixes of the in-cluster findings: `kubectl` and `aws eks`/`aws iam` commands built
//! from the finding's [`Workload`], its [`Remedy`] and the cluster's ARN.
//!
//! Names that came from the cluster enter a command only when they are what Kubernetes allows
//! (lowercase letters, digits, `-`, `.`); anything else becomes a placeholder, so no name read from
//! an API server can turn a command a person pastes into another command.

use crate::kubernetes::ROLE_ARN_ANNOTATION;
use crate::report::{AccessProblem, Finding, FindingCode, Remedy, Workload};

/// The EKS access policy that lets the caller read service accounts and pods.
const VIEW_POLICY: &str = "cluster-access-policy/AmazonEKSViewPolicy";

/// A cluster as its ARN names it: `arn:PARTITION:eks:REGION:ACCOUNT:cluster/NAME`.
struct ClusterRef<'a> {
    partition: &'a str,
    region: &'a str,
    name: &'a str,
}

impl<'a> ClusterRef<'a> {
    fn parse(arn: &'a str) -> ClusterRef<'a> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        match parts.as_slice() {
            ["arn", partition, "eks", region, _, rest] => ClusterRef {
                partition,
                region: safe(region, "REGION"),
                name: rest
                    .strip_prefix("cluster/")
                    .map_or("CLUSTER", |name| safe(name, "CLUSTER")),
            },
            _ => ClusterRef {
                partition: "aws",
                region: "REGION",
                name: "CLUSTER",
            },
        }
    }

    /// `--cluster-name NAME --region REGION`.
    fn args(&self) -> String {
        format!("--cluster-name {} --region {}", self.name, self.region)
    }
}

/// `text` when every character is one a shell passes through unquoted and IAM, EKS or Kubernetes
/// allows in a name or ARN; `placeholder` otherwise.
fn safe<'a>(text: &'a str, placeholder: &'a str) -> &'a str {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_/:-".contains(c);
    if !text.is_empty() && text.len() <= 512 && text.chars().all(allowed) {
        text
    } else {
        placeholder
    }
}

/// A Kubernetes name (DNS-1123: lowercase letters, digits, `-`, `.`), or `placeholder`.
fn kube_name<'a>(name: &'a str, placeholder: &'a str) -> &'a str {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    if !name.is_empty() && name.len() <= 253 && name.chars().all(allowed) {
        name
    } else {
        placeholder
    }
}

/// `-n NAMESPACE NAME` of the workload, for kubectl.
fn kube_target(workload: &Workload) -> String {
    format!(
        "-n {} {}",
        kube_name(&workload.namespace, "NAMESPACE"),
        kube_name(&workload.name, "NAME")
    )
}

/// The role name and, when it has one, the path of a role ARN.
fn role_parts(role_arn: &str) -> (&str, Option<&str>) {
    let resource = role_arn.splitn(6, ':').nth(5).unwrap_or_default();
    let path_and_name = resource.strip_prefix("role").unwrap_or(resource);
    let (path, name) = path_and_name
        .rsplit_once('/')
        .map_or(("/", path_and_name), |(path, name)| (path, name));
    let path = (path.len() > 1).then(|| &path_and_name[..path.len() + 1]);
    (safe(name, "ROLE_NAME"), path.map(|p| safe(p, "/PATH/")))
}

/// The account of an ARN, for "with credentials of account …".
fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

/// `kubectl annotate serviceaccount -n NS NAME eks.amazonaws.com/role-arn=ROLE --overwrite`.
fn annotate(workload: &Workload, role_arn: &str) -> String {
    format!(
        "kubectl annotate serviceaccount {} {ROLE_ARN_ANNOTATION}={} --overwrite",
        kube_target(workload),
        safe(role_arn, "ROLE_ARN")
    )
}

/// A statement as one line of JSON for a command, or `None` when it cannot be single-quoted.
fn statement_json(statement: &serde_json::Value) -> Option<String> {
    serde_json::to_string(statement)
        .ok()
        .filter(|json| !json.contains('\''))
}

/// The fix of an in-cluster finding; `None` for the other codes or a finding without facts.
pub(super) fn cluster_fix(finding: &Finding) -> Option<String> {
    let remedy = finding.remedy.as_ref()?;
    let default_workload = Workload::default();
    let workload = finding
        .discriminator
        .workload()
        .unwrap_or(&default_workload);
    let cluster_arn = workload.cluster.as_deref().unwrap_or(&finding.resource);
    let cluster = ClusterRef::parse(cluster_arn);
    Some(match remedy {
        Remedy::GrantApiAccess {
            problem,
            caller_role_arn,
        } => grant_access(&cluster, *problem, caller_role_arn.as_deref()),
        Remedy::AllowAssociationRead { caller_role_arn } => format!(
            "allow {} eks:ListPodIdentityAssociations and eks:DescribePodIdentityAssociation on the cluster (docs/deploying.md, \"Permissions\"), then run the sweep again",
            caller_role_arn.as_deref().map_or("the role thumbprint-guard runs as", |arn| safe(arn, "the role thumbprint-guard runs as"))
        ),
        Remedy::Annotate { role_arn } => match role_arn {
            Some(role_arn) => format!("{} (that role already trusts this service account)", annotate(workload, role_arn)),
            None => format!(
                "{} with the ARN of the role the workload needs",
                annotate(workload, &format!("arn:{}:iam::ACCOUNT:role/ROLE_NAME", cluster.partition))
            ),
        },
        Remedy::Trust {
            role_arn,
            statement,
            alternative,
        } => trust_fix(finding.code, workload, role_arn, statement, alternative.as_deref()),
        Remedy::CreateRole {
            role_arn,
            statement,
            alternative,
            association_id,
        } => create_role_fix(workload, &cluster, role_arn, statement, alternative.as_deref(), association_id.as_deref()),
        Remedy::RestartPod => format!(
            "kubectl delete pod {} (its controller starts a new pod, which gets the current role injected), or restart the workload that owns it: kubectl rollout restart deployment/OWNER -n {}",
            kube_target(workload),
            kube_name(&workload.namespace, "NAMESPACE")
        ),
        Remedy::SetRegion { region } => {
            let region = safe(region, "REGION");
            format!(
                "set the region in the pod's containers, e.g. kubectl set env deployment/OWNER -n {} AWS_REGION={region} AWS_DEFAULT_REGION={region} (this also restarts its pods)",
                kube_name(&workload.namespace, "NAMESPACE")
            )
        }
        Remedy::UnknownServiceAccount { cluster_name } => {
            let (role, _) = role_parts(&finding.resource);
            format!(
                "if the workload is gone from cluster {}, remove \"system:serviceaccount:{}:{}\" from the trust: aws iam get-role --role-name {role} --query Role.AssumeRolePolicyDocument --output json > trust.json; edit trust.json; aws iam update-assume-role-policy --role-name {role} --policy-document file://trust.json (if it is yet to be deployed, nothing to do)",
                safe(cluster_name, "CLUSTER"),
                kube_name(&workload.namespace, "NAMESPACE"),
                kube_name(&workload.name, "NAME")
            )
        }
        Remedy::Association { association_id } => association_fix(finding.code, workload, &cluster, association_id),
    })
}

fn grant_access(cluster: &ClusterRef<'_>, problem: AccessProblem, caller: Option<&str>) -> String {
    let role = caller.map_or("ROLE_ARN", |arn| safe(arn, "ROLE_ARN"));
    let who = if role == "ROLE_ARN" {
        "with ROLE_ARN the IAM role thumbprint-guard runs as: "
    } else {
        ""
    };
    let associate = format!(
        "aws eks associate-access-policy {} --principal-arn {role} --policy-arn arn:{}:eks::aws:{VIEW_POLICY} --access-scope type=cluster",
        cluster.args(),
        cluster.partition
    );
    match problem {
        AccessProblem::NoAccessEntry => format!(
            "{who}aws eks create-access-entry {} --principal-arn {role}; {associate} (the cluster's authentication mode must include API: aws eks update-cluster-config --name {} --region {} --access-config authenticationMode=API_AND_CONFIG_MAP)",
            cluster.args(),
            cluster.name,
            cluster.region
        ),
        AccessProblem::NoViewPolicy => format!("{who}{associate}"),
        AccessProblem::Unreachable => format!(
            "the endpoint is probably private: run thumbprint-guard where it can reach it (the function in the cluster's VPC, with a security group the cluster's allows on 443), or enable the public endpoint limited to the caller's addresses: aws eks update-cluster-config --name {} --region {} --resources-vpc-config endpointPublicAccess=true,publicAccessCidrs=CIDR",
            cluster.name, cluster.region
        ),
        AccessProblem::Timeout => "check the network path to the cluster's endpoint; raise PROBE_TIMEOUT_SECS if the API server is only slow, or the function's timeout if the run's deadline came first".to_string(),
        AccessProblem::Other => "see the message for what failed; fix it and run the sweep again".to_string(),
    }
}

fn trust_fix(
    code: FindingCode,
    workload: &Workload,
    role_arn: &str,
    statement: &serde_json::Value,
    alternative: Option<&str>,
) -> String {
    let (role, _) = role_parts(role_arn);
    let statement = statement_json(statement).map_or_else(
        || " (the message says what it must admit)".to_string(),
        |json| format!(": {json}"),
    );
    let fix = format!(
        "with credentials of account {}: aws iam get-role --role-name {role} --query Role.AssumeRolePolicyDocument --output json > trust.json; append the statement below to its Statement list (and drop any Deny that matches the workload); aws iam update-assume-role-policy --role-name {role} --policy-document file://trust.json. The statement{statement}",
        account_of(role_arn)
    );
    match (code, alternative) {
        (FindingCode::ServiceAccountRoleUntrusted, Some(alternative)) => format!(
            "if the annotation names the wrong role: {} (that role already trusts this service account); otherwise {fix}",
            annotate(workload, alternative)
        ),
        _ => fix,
    }
}

fn create_role_fix(
    workload: &Workload,
    cluster: &ClusterRef<'_>,
    role_arn: &str,
    statement: &serde_json::Value,
    alternative: Option<&str>,
    association_id: Option<&str>,
) -> String {
    let (role, path) = role_parts(role_arn);
    let path = path.map(|p| format!(" --path {p}")).unwrap_or_default();
    let account = account_of(role_arn);
    let create = match statement_json(statement) {
        Some(json) => format!(
            "create it with credentials of account {account} and attach the permissions the workload needs: aws iam create-role --role-name {role}{path} --assume-role-policy-document '{{\"Version\":\"2012-10-17\",\"Statement\":[{json}]}}'"
        ),
        None => format!("create role {role} in account {account} with the trust the message describes"),
    };
    match (association_id, alternative) {
        (Some(id), _) => format!(
            "point the association at an existing role: aws eks update-pod-identity-association {} --association-id {} --role-arn ROLE_ARN; or {create}",
            cluster.args(),
            safe(id, "ASSOCIATION_ID")
        ),
        (None, Some(alternative)) => format!(
            "{} (that role already trusts this service account); or {create}",
            annotate(workload, alternative)
        ),
        (None, None) => format!(
            "point the annotation at an existing role: {}; or {create}",
            annotate(workload, "ROLE_ARN")
        ),
    }
}

fn association_fix(
    code: FindingCode,
    workload: &Workload,
    cluster: &ClusterRef<'_>,
    association_id: &str,
) -> String {
    let delete = format!(
        "aws eks delete-pod-identity-association {} --association-id {}",
        cluster.args(),
        safe(association_id, "ASSOCIATION_ID")
    );
    match code {
        FindingCode::ServiceAccountDualIdentity => format!(
            "keep one mechanism: once the workload works with Pod Identity, remove the IRSA annotation (kubectl annotate serviceaccount {} {ROLE_ARN_ANNOTATION}-) and restart its pods; or keep IRSA and delete the association: {delete}",
            kube_target(workload)
        ),
        _ => format!(
            "kubectl create serviceaccount {} if the workload is still to be deployed; otherwise delete the association: {delete}",
            kube_target(workload)
        ),
    }
}
