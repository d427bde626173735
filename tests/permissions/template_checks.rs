//! What the template grants, checked on the template alone.

use serde_json::{json, Value};

use crate::account::{calls, Account};
use crate::support::env::REGION;
use crate::template::{actions, allows, expanded_template, glob, one_or_many, Stack};
use crate::{ACCOUNT, KEY_ARN, WRITE_ACTIONS};

#[tokio::test]
async fn template_grants_each_call_on_its_resource_and_nothing_broader() {
    let template = expanded_template();
    let account = Account::new().await;
    for mode in ["off", "dry-run", "add"] {
        let stack = Stack::new(&template, mode, &account.topic_arn);
        let statements = stack.role_statements();
        for (action, resource) in calls(&account, mode) {
            assert!(
                allows(&statements, action, &resource),
                "RemediationMode={mode}: the role cannot {action} on {resource}:\n{statements:#?}"
            );
        }
        for action in WRITE_ACTIONS {
            assert_eq!(
                allows(&statements, action, &account.rotated),
                mode == "add",
                "RemediationMode={mode}: {action} granted = {}",
                mode != "add"
            );
            if mode == "add" {
                assert!(
                    !allows(&statements, action, "*"),
                    "{action} must be scoped to oidc-provider/*"
                );
            }
        }
        for statement in &statements {
            assert_eq!(statement["Effect"], "Allow", "{statement}");
            for action in actions(statement) {
                let (service, name) = action.split_once(':').expect("service:Action");
                assert!(
                    !name.contains('*') || action == "kms:GenerateDataKey*",
                    "wildcard action {action} in {statement}"
                );
                assert!(
                    ["iam", "eks", "sns", "kms", "logs"].contains(&service),
                    "unexpected service {service} in {statement}"
                );
            }
            let wildcard = one_or_many(&statement["Resource"]).contains(&json!("*"));
            let list_only = actions(statement).iter().all(|a| {
                [
                    "iam:ListOpenIDConnectProviders",
                    "iam:ListRoles",
                    // Account-level: IAM has no resource for it.
                    "iam:ListAccountAliases",
                    "eks:ListClusters",
                ]
                .contains(&a.as_str())
            });
            assert!(!wildcard || list_only, "Resource \"*\" on {statement}");
        }
        // KMS: only the topic's key, only through SNS; logs: only the function's own log group.
        assert!(allows_with_condition(
            &statements,
            "kms:GenerateDataKey",
            KEY_ARN
        ));
        assert!(allows_with_condition(&statements, "kms:Decrypt", KEY_ARN));
        let log_stream = format!(
            "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{}:log-stream:x",
            stack.function_name()
        );
        assert!(allows(&statements, "logs:PutLogEvents", &log_stream));
        assert!(!allows(
            &statements,
            "logs:PutLogEvents",
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/other:log-stream:x"
        ));
        assert!(!allows(
            &statements,
            "sns:Publish",
            "arn:aws:sns:us-east-1:123456789012:other"
        ));
    }
}

/// Like [`allows`], counting statements with a condition (the KMS statement's kms:ViaService).
fn allows_with_condition(statements: &[Value], action: &str, resource: &str) -> bool {
    let unconditioned: Vec<Value> = statements
        .iter()
        .map(|s| {
            let mut s = s.clone();
            if let Some(map) = s.as_object_mut() {
                map.remove("Condition");
            }
            s
        })
        .collect();
    allows(&unconditioned, action, resource)
}

#[tokio::test]
async fn topic_key_and_failure_destination_are_wired_for_alarms_and_the_role() {
    let template = expanded_template();
    let stack = Stack::new(
        &template,
        "off",
        "arn:aws:sns:us-east-1:123456789012:thumbprint-guard",
    );
    let topic = stack
        .resolve(&stack.resource("Topic")["Properties"])
        .expect("topic");
    assert_eq!(
        topic["KmsMasterKeyId"], KEY_ARN,
        "the topic uses the stack's own key"
    );
    let key = stack
        .resolve(&stack.resource("StackKey")["Properties"])
        .expect("key");
    assert_eq!(key["EnableKeyRotation"], true);
    let key_statements = one_or_many(&key["KeyPolicy"]["Statement"]);
    let grants = |principal: &Value| {
        key_statements.iter().any(|s| {
            s["Effect"] == "Allow"
                && &s["Principal"] == principal
                && ["kms:GenerateDataKey", "kms:Decrypt"]
                    .iter()
                    .all(|a| allows_with_condition(std::slice::from_ref(s), a, "*"))
        })
    };
    assert!(
        grants(&json!({"Service": "cloudwatch.amazonaws.com"})),
        "{key_statements:#?}"
    );
    assert!(
        grants(&json!({"AWS": stack.attribute("FunctionRole", "Arn")})),
        "{key_statements:#?}"
    );

    // Failed asynchronous invocations go to the topic, with the role's sns:Publish and kms.
    let invoke = stack
        .resolve(&stack.resource("FunctionEventInvokeConfig")["Properties"])
        .expect("EventInvokeConfig");
    assert_eq!(
        invoke["DestinationConfig"]["OnFailure"]["Destination"],
        stack.topic_arn
    );
    assert!(allows(
        &stack.role_statements(),
        "sns:Publish",
        &stack.topic_arn
    ));

    // Every alarm notifies the topic, and the topic policy lets this stack's alarms publish.
    let policy = stack
        .resolve(&stack.resource("TopicPolicy")["Properties"])
        .expect("policy");
    let alarm_arn = format!(
        "arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{}-errors",
        stack.function_name()
    );
    assert!(allows_with_condition(
        &one_or_many(&policy["PolicyDocument"]["Statement"])
            .into_iter()
            .filter(|s| s["Principal"] == json!({"Service": "cloudwatch.amazonaws.com"}))
            .collect::<Vec<_>>(),
        "sns:Publish",
        &stack.topic_arn
    ));
    let mut alarms = 0;
    for (id, resource) in template["Resources"].as_object().expect("Resources") {
        if resource["Type"] == "AWS::CloudWatch::Alarm" {
            alarms += 1;
            let props = stack.resolve(&resource["Properties"]).expect("alarm");
            assert_eq!(props["AlarmActions"], json!([stack.topic_arn]), "{id}");
            let name = props["AlarmName"].as_str().unwrap_or_default();
            assert!(
                glob(&format!("{}-*", stack.function_name()), name, false),
                "{id}: alarm {name} is outside the topic policy's alarm:{}-* (and {alarm_arn})",
                stack.function_name()
            );
        }
    }
    assert!(alarms >= 2, "errors and critical-findings alarms at least");
}
