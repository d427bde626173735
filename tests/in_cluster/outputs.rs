//! The in-cluster findings in every form a person or a system sees: the terminal table, the
//! e-mail text and the Chatbot document published to SNS, and ASFF (`sweep --output asff`).

use serde_json::Value;

use crate::support::eks_shim::Association;
use crate::support::env::cli;
use crate::support::kube_api::{pod, service_account};
use crate::support::moto;
use crate::{role_arn, Lab, LabCluster, ACCOUNT, REGION};

/// A cluster with one finding of each kind of resource and fix: a role that does not trust its
/// service account's namespace (and so trusts one the cluster lacks), a pod to restart, an
/// association without its service account.
async fn fixture(lab: &Lab) -> LabCluster {
    let prod = lab
        .cluster(
            "prod",
            REGION,
            vec![
                service_account("payment", "ledger", Some(&role_arn(ACCOUNT, "ledger"))),
                service_account("shop", "cart", Some(&role_arn(ACCOUNT, "cart"))),
            ],
            vec![pod("shop", "cart-1", Some("cart"), &[], "Running")],
        )
        .await;
    lab.role("ledger", &prod.trusts("payments", "ledger")).await;
    lab.role("cart", &prod.trusts("shop", "cart")).await;
    lab.role(
        "pi-ok",
        &crate::pod_identity_trust(&["sts:AssumeRole", "sts:TagSession"]),
    )
    .await;
    lab.shim.set_associations(
        "prod",
        vec![Association::new(
            "a-nosa",
            "pi",
            "nosa",
            &role_arn(ACCOUNT, "pi-ok"),
        )],
    );
    prod
}

/// The fixes every form must show (a pod's, an association's and a role's).
const FIXES: [&str; 3] = [
    "kubectl delete pod -n shop cart-1",
    "aws eks delete-pod-identity-association --cluster-name prod --region us-east-1 --association-id a-nosa",
    "remove \"system:serviceaccount:payments:ledger\" from the trust: aws iam get-role --role-name ledger",
];

#[test]
fn the_table_the_email_the_chatbot_document_and_asff_show_the_in_cluster_findings() {
    // Its future holds every form's text and the Security Hub client: a debug build needs more
    // than a test thread's stack.
    crate::support::on_a_large_stack(every_form);
}

async fn every_form() {
    let lab = Lab::start().await;
    let prod = fixture(&lab).await;
    let ledger = role_arn(ACCOUNT, "ledger");
    let sns = aws_sdk_sns::Client::new(&lab.env.moto.sdk_config(REGION).await);
    let topic = sns
        .create_topic()
        .name("outputs")
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .expect("a topic ARN");
    let vars = lab.cli_env(
        REGION,
        &[("SNS_TOPIC_ARN", topic.as_str()), ("NOTIFY", "always")],
    );
    let untrusted_message =
        "statement #0 names namespace `payments` but the service account is in `payment`";

    // The terminal table: each finding's severity, code, resource, message and fix.
    let (code, table, stderr) = cli(&vars, &["sweep"]).await;
    assert_eq!(code, 1, "{stderr}");
    for (severity, code, resource) in [
        (
            "CRITICAL",
            "SERVICE_ACCOUNT_ROLE_UNTRUSTED",
            prod.arn.as_str(),
        ),
        ("WARNING", "POD_NEEDS_RESTART", prod.arn.as_str()),
        (
            "WARNING",
            "POD_IDENTITY_SERVICE_ACCOUNT_MISSING",
            prod.arn.as_str(),
        ),
        (
            "INFO",
            "TRUST_POLICY_UNKNOWN_SERVICE_ACCOUNT",
            ledger.as_str(),
        ),
    ] {
        assert!(
            table.lines().any(
                |line| line.contains(severity) && line.contains(&format!("{code}  {resource}"))
            ),
            "{code} on {resource}:\n{table}"
        );
    }
    assert!(table.contains(untrusted_message), "{table}");
    assert!(
        table.contains("Pod `shop/cart-1` of EKS cluster prod (us-east-1) needs a restart"),
        "{table}"
    );
    for fix in FIXES {
        assert!(table.contains(fix), "{fix}:\n{table}");
    }
    assert!(
        table.contains("0 providers, 1 cluster: 1 critical, 3 warnings, 1 info"),
        "{table}"
    );

    // The e-mail: one section per finding, the cluster or the role it is about, the fix.
    let messages = lab.env.moto.sent_notifications(&topic).await;
    assert_eq!(messages.len(), 1);
    let message: Value =
        serde_json::from_str(messages[0][1].as_str().expect("the message")).expect("JSON");
    let email = message["email"].as_str().expect("the e-mail text");
    for (n, heading) in [
        "CRITICAL SERVICE_ACCOUNT_ROLE_UNTRUSTED",
        "WARNING CLUSTER_WITHOUT_PROVIDER",
        "WARNING POD_NEEDS_RESTART",
        "WARNING POD_IDENTITY_SERVICE_ACCOUNT_MISSING",
        "INFO TRUST_POLICY_UNKNOWN_SERVICE_ACCOUNT",
    ]
    .iter()
    .enumerate()
    {
        assert!(
            email.contains(&format!("--- {} of 5: {heading} ---", n + 1)),
            "{heading}:\n{email}"
        );
    }
    assert_eq!(
        email.matches(&format!("Cluster: {}", prod.arn)).count(),
        4,
        "{email}"
    );
    assert!(email.contains(&format!("Role: {ledger}")), "{email}");
    assert!(email.contains(untrusted_message), "{email}");
    for fix in FIXES {
        assert!(email.contains(fix), "{fix}:\n{email}");
    }

    // The Chatbot document: the findings in its description, the fixes as next steps, the
    // cluster and the role among the related resources.
    let chatbot: Value =
        serde_json::from_str(message["https"].as_str().expect("the Chatbot text")).expect("JSON");
    let description = chatbot["content"]["description"]
        .as_str()
        .expect("a description");
    for line in [
        "*CRITICAL* `SERVICE_ACCOUNT_ROLE_UNTRUSTED` cluster `prod`",
        "*WARNING* `POD_NEEDS_RESTART` cluster `prod`",
        "*WARNING* `POD_IDENTITY_SERVICE_ACCOUNT_MISSING` cluster `prod`",
        "*INFO* `TRUST_POLICY_UNKNOWN_SERVICE_ACCOUNT` role `ledger`",
    ] {
        assert!(description.contains(line), "{line}:\n{description}");
    }
    let next_steps: Vec<&str> = chatbot["content"]["nextSteps"]
        .as_array()
        .expect("next steps")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for fix in FIXES {
        assert!(
            next_steps.iter().any(|step| step.contains(fix)),
            "{fix}: {next_steps:#?}"
        );
    }
    let related = &chatbot["metadata"]["relatedResources"];
    assert_eq!(related, &serde_json::json!([prod.arn, ledger]));

    // ASFF: the cluster's findings on AwsEksCluster, the role's on AwsIamRole, the workload in
    // ProductFields.
    let (code, asff, stderr) = cli(&vars, &["sweep", "--output", "asff"]).await;
    assert_eq!(code, 1, "{stderr}");
    let asff: Value = serde_json::from_str(&asff).expect("ASFF is JSON");
    let findings = asff["Findings"].as_array().expect("findings");
    let by_code = |code: &str| -> &Value {
        findings
            .iter()
            .find(|f| f["ProductFields"]["thumbprint-guard/code"] == code)
            .unwrap_or_else(|| panic!("no {code} in {asff:#}"))
    };
    for (code, resource_type, resource, severity, fields) in [
        (
            "SERVICE_ACCOUNT_ROLE_UNTRUSTED",
            "AwsEksCluster",
            prod.arn.as_str(),
            "CRITICAL",
            vec![
                ("namespace", "payment"),
                ("name", "ledger"),
                ("role_arn", ledger.as_str()),
            ],
        ),
        (
            "POD_NEEDS_RESTART",
            "AwsEksCluster",
            prod.arn.as_str(),
            "MEDIUM",
            vec![
                ("namespace", "shop"),
                ("name", "cart-1"),
                ("service_account", "cart"),
            ],
        ),
        (
            "POD_IDENTITY_SERVICE_ACCOUNT_MISSING",
            "AwsEksCluster",
            prod.arn.as_str(),
            "MEDIUM",
            vec![
                ("namespace", "pi"),
                ("name", "nosa"),
                ("association_id", "a-nosa"),
            ],
        ),
        (
            "TRUST_POLICY_UNKNOWN_SERVICE_ACCOUNT",
            "AwsIamRole",
            ledger.as_str(),
            "INFORMATIONAL",
            vec![
                ("namespace", "payments"),
                ("name", "ledger"),
                ("cluster_arn", prod.arn.as_str()),
            ],
        ),
    ] {
        let finding = by_code(code);
        assert_eq!(finding["GeneratorId"], format!("thumbprint-guard/{code}"));
        assert_eq!(finding["Severity"]["Label"], severity, "{code}");
        let resources = finding["Resources"].as_array().expect("resources");
        assert_eq!(resources.len(), 1, "{code}");
        assert_eq!(resources[0]["Type"], resource_type, "{code}");
        assert_eq!(resources[0]["Id"], resource, "{code}");
        assert_eq!(resources[0]["Region"], REGION, "{code}");
        for (field, value) in fields {
            assert_eq!(
                finding["ProductFields"][format!("thumbprint-guard/{field}")],
                value,
                "{code} {field}"
            );
        }
    }
    // The same ids as the JSON report's.
    let (_, json, _) = cli(&vars, &["sweep", "--json"]).await;
    let report: Value = serde_json::from_str(&json).expect("JSON");
    let mut report_ids: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    let mut asff_ids: Vec<&str> = findings.iter().filter_map(|f| f["Id"].as_str()).collect();
    report_ids.sort();
    asff_ids.sort();
    assert_eq!(asff_ids, report_ids);

    // SECURITY_HUB=on imports the same findings; the pod's, once restarted, is archived.
    let hub = aws_sdk_securityhub::Client::new(&lab.env.moto.sdk_config(REGION).await);
    hub.enable_security_hub()
        .send()
        .await
        .expect("enable Security Hub");
    let with_hub: Vec<(String, String)> = vars
        .iter()
        .cloned()
        .chain([("SECURITY_HUB".to_string(), "on".to_string())])
        .collect();
    let (code, _, stderr) = cli(&with_hub, &["sweep", "--json"]).await;
    assert_eq!(code, 1, "{stderr}");
    let imported = moto::security_hub_findings(&hub).await;
    let active: Vec<&str> = imported
        .iter()
        .filter(|(_, state)| state == "ACTIVE")
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(active, asff_ids);
    let restart_id = by_code("POD_NEEDS_RESTART")["Id"]
        .as_str()
        .expect("an id")
        .to_string();
    prod.api.set_objects(
        vec![
            service_account("payment", "ledger", Some(&role_arn(ACCOUNT, "ledger"))),
            service_account("shop", "cart", Some(&role_arn(ACCOUNT, "cart"))),
        ],
        vec![pod(
            "shop",
            "cart-1",
            Some("cart"),
            &crate::injected(&role_arn(ACCOUNT, "cart")),
            "Running",
        )],
    );
    let (code, _, stderr) = cli(&with_hub, &["sweep", "--json"]).await;
    assert_eq!(code, 1, "{stderr}");
    let imported = moto::security_hub_findings(&hub).await;
    let archived: Vec<&str> = imported
        .iter()
        .filter(|(_, state)| state == "ARCHIVED")
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(archived, [restart_id.as_str()]);
}
