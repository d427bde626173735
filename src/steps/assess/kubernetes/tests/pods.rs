//! Pods that need a restart, and China-region pods without a region.

use super::*;

fn with_pods(annotation: &str, pods: Vec<Pod>) -> ClusterRead {
    read(vec![sa("payments", "api", Some(annotation))], pods, vec![])
}

#[test]
fn a_pod_started_before_the_annotation_needs_a_restart_until_recreated() {
    let arn = role_arn(ACCOUNT, "api");
    let found = findings(
        &with_pods(&arn, vec![pod("payments", "api-7d9f-x2", "api", None)]),
        &RoleDirectory::new(),
    );
    assert_eq!(codes(&found), ["POD_NEEDS_RESTART"]);
    let finding = &found[0];
    assert_eq!(finding.details["namespace"], "payments");
    assert_eq!(finding.details["name"], "api-7d9f-x2");
    assert_eq!(finding.details["service_account"], "api");
    assert_eq!(finding.details["role_arn"], arn.as_str());
    assert!(
        finding.message.contains("started before the annotation"),
        "{}",
        finding.message
    );
    assert!(
        fix(finding).starts_with("kubectl delete pod -n payments api-7d9f-x2 "),
        "{}",
        fix(finding)
    );
    // The recreated pod has the injected variables.
    let restarted = with_pods(
        &arn,
        vec![pod("payments", "api-7d9f-k4", "api", Some(&arn))],
    );
    assert!(findings(&restarted, &RoleDirectory::new()).is_empty());
}

#[test]
fn a_pod_of_an_associated_service_account_needs_no_restart_for_irsa() {
    // With a Pod Identity association, EKS's webhook injects Pod Identity's variables instead of
    // AWS_ROLE_ARN: the pod is as it should be, whatever the annotation says.
    let arn = role_arn(ACCOUNT, "api");
    let both = read(
        vec![sa("payments", "api", Some(&arn))],
        vec![pod("payments", "api-1", "api", None)],
        vec![association("payments", "api", &role_arn(ACCOUNT, "pi"))],
    );
    let found = findings(&both, &RoleDirectory::new());
    assert_eq!(codes(&found), ["SERVICE_ACCOUNT_DUAL_IDENTITY"]);
    // Without the association (deleted), the same pod does need a restart to get IRSA.
    let annotated_only = read(
        vec![sa("payments", "api", Some(&arn))],
        vec![pod("payments", "api-1", "api", None)],
        vec![],
    );
    assert_eq!(
        codes(&findings(&annotated_only, &RoleDirectory::new())),
        ["POD_NEEDS_RESTART"]
    );
}

#[test]
fn a_pod_with_the_previous_role_needs_a_restart() {
    let old = role_arn(ACCOUNT, "api-old");
    let new = role_arn(ACCOUNT, "api");
    let found = findings(
        &with_pods(&new, vec![pod("payments", "api-1", "api", Some(&old))]),
        &RoleDirectory::new(),
    );
    assert_eq!(codes(&found), ["POD_NEEDS_RESTART"]);
    assert!(
        found[0]
            .message
            .contains("AWS_ROLE_ARN is still `arn:aws:iam::111122223333:role/api-old`"),
        "{}",
        found[0].message
    );
    assert_eq!(found[0].details["pod_role_arn"], old.as_str());
}

#[test]
fn pods_that_are_not_running_or_not_using_an_annotated_account_are_left_alone() {
    let arn = role_arn(ACCOUNT, "api");
    let mut done = pod("payments", "job-1", "api", None);
    done.running = false;
    let other = pod("payments", "web-1", "web", None);
    let elsewhere = pod("billing", "api-1", "api", None);
    assert!(findings(
        &with_pods(&arn, vec![done, other, elsewhere]),
        &RoleDirectory::new()
    )
    .is_empty());
    // An invalid annotation is its own finding; restarting would not help.
    let found = findings(
        &with_pods("api", vec![pod("payments", "api-1", "api", None)]),
        &RoleDirectory::new(),
    );
    assert_eq!(codes(&found), ["SERVICE_ACCOUNT_ANNOTATION_INVALID"]);
}

#[test]
fn a_sidecar_without_the_variables_does_not_make_the_pod_stale() {
    let arn = role_arn(ACCOUNT, "api");
    let mut two = pod("payments", "api-1", "api", Some(&arn));
    two.containers.push(ContainerEnv {
        name: "proxy".into(),
        ..ContainerEnv::default()
    });
    assert!(findings(&with_pods(&arn, vec![two]), &RoleDirectory::new()).is_empty());
}

fn china(mut read: ClusterRead) -> ClusterRead {
    read.cluster = ClusterTarget {
        name: "prod".into(),
        region: "cn-north-1".into(),
        arn: "arn:aws-cn:eks:cn-north-1:111122223333:cluster/prod".into(),
        issuer_path: Some("oidc.eks.cn-north-1.amazonaws.com.cn/id/EXAMPLE".into()),
    };
    read
}

#[test]
fn a_china_region_pod_without_a_region_is_reported_until_it_sets_one() {
    let arn = "arn:aws-cn:iam::111122223333:role/api";
    let found = findings(
        &china(with_pods(
            arn,
            vec![pod("payments", "api-1", "api", Some(arn))],
        )),
        &RoleDirectory::new(),
    );
    assert_eq!(codes(&found), ["POD_REGION_MISSING"]);
    assert_eq!(
        found[0].resource,
        "arn:aws-cn:eks:cn-north-1:111122223333:cluster/prod"
    );
    assert!(fix(&found[0]).contains("AWS_REGION=cn-north-1 AWS_DEFAULT_REGION=cn-north-1"));
    let mut with_region = pod("payments", "api-2", "api", Some(arn));
    with_region.containers[0].region = true;
    assert!(findings(
        &china(with_pods(arn, vec![with_region])),
        &RoleDirectory::new()
    )
    .is_empty());
    // Outside China the same pod is fine.
    let commercial = role_arn(ACCOUNT, "api");
    assert!(findings(
        &with_pods(
            &commercial,
            vec![pod("payments", "api-1", "api", Some(&commercial))]
        ),
        &RoleDirectory::new()
    )
    .is_empty());
}

#[test]
fn every_pod_finding_has_its_own_id() {
    let arn = role_arn(ACCOUNT, "api");
    let mut found = findings(
        &with_pods(
            &arn,
            vec![
                pod("payments", "api-1", "api", None),
                pod("payments", "api-2", "api", None),
            ],
        ),
        &RoleDirectory::new(),
    );
    for finding in &mut found {
        finding.identify(ACCOUNT);
    }
    assert_eq!(found.len(), 2);
    assert_ne!(found[0].id, found[1].id);
}

#[test]
fn thousands_of_service_accounts_and_pods_are_checked_in_one_pass() {
    let arn = role_arn(ACCOUNT, "shared");
    let trust = irsa_trust(ACCOUNT, PATH, "team", "*").replace("StringEquals", "StringLike");
    let mut roles: Vec<Role> = (0..300)
        .map(|i| {
            role(
                ACCOUNT,
                &format!("r{i}"),
                &irsa_trust(ACCOUNT, PATH, "team", &format!("sa-{i}")),
            )
        })
        .collect();
    roles.push(role(ACCOUNT, "shared", &trust));
    let service_accounts: Vec<ServiceAccount> = (0..5_000)
        .map(|i| sa("team", &format!("sa-{i}"), Some(&arn)))
        .collect();
    // Every tenth pod started before the annotation.
    let pods: Vec<Pod> = (0..5_000)
        .map(|i| {
            let injected = (i % 10 != 0).then_some(arn.as_str());
            pod("team", &format!("p-{i}"), &format!("sa-{i}"), injected)
        })
        .collect();
    let found = findings(&read(service_accounts, pods, vec![]), &directory(roles));
    assert_eq!(found.len(), 500);
    assert!(found
        .iter()
        .all(|f| f.code == crate::report::FindingCode::PodNeedsRestart));
}
