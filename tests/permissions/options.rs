//! The template's options and hardening, checked on the template as the SAM transform expands it:
//! what each option grants and on which resource, the state table, the deploy-time rule, the
//! boundary, tags, retention, encryption, the heartbeat alarm, the timeout, the Serverless
//! Application Repository metadata, and member-role.yaml. (moto checks actions, not resources, and
//! its DynamoDB never calls KMS: what a sweep under moto cannot show is shown here.)

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::support::env::REGION;
use crate::support::moto;
use crate::template::{actions, allows, expanded_template, one_or_many, state_table_arn, Stack};
use crate::{ACCOUNT, KEY_ARN, STATE_TABLE, WRITE_ACTIONS};

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:thumbprint-guard";

fn product_arn(account: &str) -> String {
    format!("arn:aws:securityhub:{REGION}:{account}:product/{account}/default")
}

fn hub_arn(account: &str) -> String {
    format!("arn:aws:securityhub:{REGION}:{account}:hub/default")
}

/// Whether some statement allows `action` on `resource` only under `kms:ViaService` = `via`.
fn allows_via(statements: &[Value], action: &str, resource: &str, via: &str) -> bool {
    statements.iter().any(|s| {
        let mut unconditioned = s.clone();
        unconditioned["Condition"] = Value::Null;
        s["Condition"] == json!({"StringEquals": {"kms:ViaService": via}})
            && allows(&[unconditioned], action, resource)
    })
}

/// The SDK operations (`.get_item()` → `GetItem`) among `operations` that `src/` calls on
/// clients of `crate_name`, read from every source file that imports that crate.
fn calls_in_src(crate_name: &str, operations: &[&str]) -> BTreeSet<String> {
    fn walk(dir: &Path, files: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read src/").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(std::fs::read_to_string(&path).expect("read a source file"));
            }
        }
    }
    let mut files = Vec::new();
    walk(&moto::root().join("src"), &mut files);
    let pascal = |op: &str| {
        op.split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<String>()
    };
    files
        .iter()
        .filter(|source| source.contains(crate_name))
        .flat_map(|source| {
            operations
                .iter()
                .filter(move |op| source.contains(&format!(".{op}()")))
                .map(|op| pascal(op))
        })
        .collect()
}

#[test]
fn the_code_calls_exactly_the_dynamodb_and_security_hub_operations_the_template_grants() {
    let dynamodb = calls_in_src(
        "aws_sdk_dynamodb",
        &[
            "get_item",
            "put_item",
            "update_item",
            "delete_item",
            "query",
            "scan",
            "batch_get_item",
            "batch_write_item",
            "transact_get_items",
            "transact_write_items",
            "execute_statement",
            "describe_table",
        ],
    );
    assert_eq!(
        dynamodb,
        BTreeSet::from(["GetItem".to_string(), "PutItem".to_string()])
    );
    let securityhub = calls_in_src(
        "aws_sdk_securityhub",
        &[
            "batch_import_findings",
            "get_findings",
            "get_findings_v2",
            "batch_update_findings",
            "update_findings",
            "describe_hub",
            "enable_security_hub",
        ],
    );
    assert_eq!(
        securityhub,
        BTreeSet::from(["BatchImportFindings".to_string(), "GetFindings".to_string()])
    );

    let template = expanded_template();
    for (state_table, security_hub) in [
        ("none", "off"),
        ("create", "off"),
        ("none", "on"),
        ("create", "on"),
    ] {
        let stack = Stack::with(
            &template,
            &[("StateTable", state_table), ("SecurityHub", security_hub)],
            TOPIC,
        );
        let statements = stack.role_statements();
        let table = state_table_arn();
        for action in &dynamodb {
            let action = format!("dynamodb:{action}");
            assert_eq!(
                allows(&statements, &action, &table),
                state_table == "create",
                "StateTable={state_table}: {action}"
            );
            assert!(
                !allows(&statements, &action, &format!("{table}-other")),
                "{action} beyond the state table"
            );
        }
        for other in [
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:Query",
            "dynamodb:Scan",
        ] {
            assert!(
                !allows(&statements, other, &table),
                "{other} is never called"
            );
        }
        assert_eq!(
            allows_via(
                &statements,
                "kms:Decrypt",
                KEY_ARN,
                &format!("dynamodb.{REGION}.amazonaws.com")
            ),
            state_table == "create",
            "StateTable={state_table}: kms:Decrypt of the table key via DynamoDB"
        );
        let on = security_hub == "on";
        assert_eq!(
            allows(
                &statements,
                "securityhub:BatchImportFindings",
                &product_arn(ACCOUNT)
            ),
            on
        );
        assert_eq!(
            allows(&statements, "securityhub:GetFindings", &hub_arn(ACCOUNT)),
            on
        );
        for action in ["securityhub:BatchImportFindings", "securityhub:GetFindings"] {
            for elsewhere in [
                product_arn("210987654321"),
                hub_arn("210987654321"),
                "*".into(),
            ] {
                assert!(
                    !allows(&statements, action, &elsewhere),
                    "{action} on {elsewhere}"
                );
            }
        }
        for action in [
            "securityhub:BatchUpdateFindings",
            "securityhub:EnableSecurityHub",
        ] {
            assert!(!allows(&statements, action, &hub_arn(ACCOUNT)), "{action}");
        }

        // The function is told what was deployed.
        let env = stack
            .resolve(&stack.resource("Function")["Properties"]["Environment"]["Variables"])
            .expect("environment");
        assert_eq!(env["SECURITY_HUB"], security_hub);
        let expected_table = if state_table == "create" {
            STATE_TABLE
        } else {
            ""
        };
        assert_eq!(env["STATE_TABLE"], expected_table);
    }
}

#[test]
fn notify_remind_and_mute_reach_the_function_and_changes_needs_the_table() {
    let template = expanded_template();
    let notify = &template["Parameters"]["Notify"]["AllowedValues"];
    assert_eq!(notify, &json!(["findings", "changes", "always", "never"]));
    let stack = Stack::with(
        &template,
        &[
            ("Notify", "changes"),
            ("StateTable", "create"),
            ("RemindHours", "12"),
            (
                "MuteFindings",
                "ORPHAN_PROVIDER,CERT_EXPIRING@arn:aws:iam::*:oidc-provider/x*",
            ),
        ],
        TOPIC,
    );
    let env = stack
        .resolve(&stack.resource("Function")["Properties"]["Environment"]["Variables"])
        .expect("environment");
    assert_eq!(env["NOTIFY"], "changes");
    assert_eq!(env["REMIND_HOURS"], "12");
    assert_eq!(
        env["MUTE_FINDINGS"],
        "ORPHAN_PROVIDER,CERT_EXPIRING@arn:aws:iam::*:oidc-provider/x*"
    );

    // The rule refuses Notify=changes without the table, and only that.
    let rules = template["Rules"].as_object().expect("Rules");
    let refused = |notify: &str, table: &str| {
        let stack = Stack::with(
            &template,
            &[("Notify", notify), ("StateTable", table)],
            TOPIC,
        );
        rules.values().any(|rule| {
            stack.evaluate(&rule["RuleCondition"])
                && one_or_many(&rule["Assertions"])
                    .iter()
                    .any(|a| !stack.evaluate(&a["Assert"]))
        })
    };
    assert!(refused("changes", "none"));
    assert!(!refused("changes", "create"));
    for notify in ["findings", "always", "never"] {
        assert!(!refused(notify, "none"), "Notify={notify}");
    }
}

#[test]
fn the_state_table_is_on_demand_keyed_by_account_encrypted_recoverable_and_retained() {
    let template = expanded_template();
    let none = Stack::new(&template, "off", TOPIC);
    assert!(!none.deployed(none.resource("StateStore")));
    let stack = Stack::with(&template, &[("StateTable", "create")], TOPIC);
    let resource = stack.resource("StateStore");
    assert!(stack.deployed(resource));
    assert_eq!(resource["Type"], "AWS::DynamoDB::Table");
    assert_eq!(resource["DeletionPolicy"], "Retain");
    assert_eq!(resource["UpdateReplacePolicy"], "Retain");
    let table = stack.resolve(&resource["Properties"]).expect("table");
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["KeySchema"],
        json!([{"AttributeName": "account_id", "KeyType": "HASH"}])
    );
    assert_eq!(
        table["AttributeDefinitions"],
        json!([{"AttributeName": "account_id", "AttributeType": "S"}])
    );
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(
        table["SSESpecification"],
        json!({"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": KEY_ARN})
    );
    assert!(
        table["TableName"].is_null(),
        "CloudFormation names it, so a retained table never blocks a redeployment"
    );
}

/// Every AWS::IAM::Role of the deployment, by logical id, resolved.
fn roles(stack: &Stack) -> Vec<(String, Value)> {
    stack.template["Resources"]
        .as_object()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::IAM::Role" && stack.deployed(r))
        .map(|(id, r)| (id.clone(), stack.resolve(&r["Properties"]).expect("role")))
        .collect()
}

#[test]
fn a_permissions_boundary_bounds_every_role_and_tags_reach_every_taggable_resource() {
    let template = expanded_template();
    let boundary = "arn:aws:iam::123456789012:policy/boundary";
    let plain = Stack::with(&template, &[("StateTable", "create")], TOPIC);
    let roles_plain = roles(&plain);
    assert!(
        roles_plain.len() >= 2,
        "the function's role and the schedule's"
    );
    for (id, role) in &roles_plain {
        assert!(role["PermissionsBoundary"].is_null(), "{id}");
    }
    let options = [
        ("StateTable", "create"),
        ("PermissionsBoundary", boundary),
        ("OwnerTag", "platform team"),
        ("CostCenterTag", "1234"),
    ];
    let stack = Stack::with(&template, &options, TOPIC);
    for (id, role) in roles(&stack) {
        assert_eq!(role["PermissionsBoundary"], boundary, "{id}");
    }

    // Every deployed resource whose type takes tags has all three, with these values; an empty
    // parameter leaves the tag out where a resource allows that.
    let taggable = [
        "AWS::KMS::Key",
        "AWS::SNS::Topic",
        "AWS::Logs::LogGroup",
        "AWS::DynamoDB::Table",
        "AWS::IAM::Role",
        "AWS::Lambda::Function",
        "AWS::CloudWatch::Alarm",
    ];
    let mut tagged = 0;
    for (id, resource) in template["Resources"].as_object().expect("Resources") {
        let kind = resource["Type"].as_str().unwrap_or_default();
        if !stack.deployed(resource) || !taggable.contains(&kind) {
            continue;
        }
        let tags = |stack: &Stack| -> Vec<(String, String)> {
            let properties = stack.resolve(&resource["Properties"]).expect("properties");
            one_or_many(&properties["Tags"])
                .iter()
                .map(|t| {
                    (
                        t["Key"].as_str().unwrap_or_default().to_string(),
                        t["Value"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        };
        let set = tags(&stack);
        for (key, value) in [
            ("app", "thumbprint-guard"),
            ("Owner", "platform team"),
            ("CostCenter", "1234"),
        ] {
            assert!(
                set.contains(&(key.to_string(), value.to_string())),
                "{id} ({kind}) lacks the tag {key}={value}: {set:?}"
            );
        }
        // SAM writes the function's tag map to the function and the schedule's role as it is.
        let sam_tag_map = matches!(id.as_str(), "Function" | "FunctionScheduleRole");
        let unset = tags(&plain);
        assert_eq!(
            unset.iter().any(|(_, v)| v.is_empty()),
            sam_tag_map,
            "{id}: tags without values {unset:?}"
        );
        tagged += 1;
    }
    assert!(tagged >= 10, "{tagged} tagged resources");
    // The schedule itself cannot be tagged (AWS::Scheduler::Schedule has no Tags).
    assert!(template["Resources"]["FunctionSchedule"]["Properties"]["Tags"].is_null());
}

#[test]
fn key_and_logs_are_retained_and_encrypted_and_the_function_is_hardened() {
    let template = expanded_template();
    let stack = Stack::new(&template, "off", TOPIC);
    for id in ["StackKey", "LogGroup"] {
        let resource = stack.resource(id);
        assert_eq!(resource["DeletionPolicy"], "Retain", "{id}");
        assert_eq!(resource["UpdateReplacePolicy"], "Retain", "{id}");
    }
    let log_group = stack
        .resolve(&stack.resource("LogGroup")["Properties"])
        .expect("log group");
    assert_eq!(log_group["KmsKeyId"], KEY_ARN);
    let log_group_arn = format!(
        "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{}",
        log_group["LogGroupName"].as_str().expect("name")
    );
    let key = stack
        .resolve(&stack.resource("StackKey")["Properties"])
        .expect("key");
    let logs = one_or_many(&key["KeyPolicy"]["Statement"])
        .into_iter()
        .find(|s| s["Principal"] == json!({"Service": format!("logs.{REGION}.amazonaws.com")}))
        .expect("a key policy statement for CloudWatch Logs");
    assert_eq!(
        logs["Condition"],
        json!({"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}}),
        "only the function's own log group"
    );
    for action in ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"] {
        assert!(
            actions(&logs)
                .iter()
                .any(|a| crate::template::glob(a, action, true)),
            "{action}"
        );
    }

    let function = stack
        .resolve(&stack.resource("Function")["Properties"])
        .expect("function");
    assert_eq!(
        function["KmsKeyArn"], KEY_ARN,
        "the environment under the stack's key"
    );
    assert_eq!(function["ReservedConcurrentExecutions"], "1");
    assert_eq!(function["Timeout"], 300);
    let unreserved = Stack::with(&template, &[("ReservedConcurrency", "none")], TOPIC);
    let function = unreserved
        .resolve(&unreserved.resource("Function")["Properties"])
        .expect("function");
    assert!(function["ReservedConcurrentExecutions"].is_null());
}

#[test]
fn organization_mode_grants_the_account_list_and_the_member_role_only_and_more_time() {
    let template = expanded_template();
    let single = Stack::new(&template, "off", TOPIC);
    let statements = single.role_statements();
    assert!(!allows(&statements, "organizations:ListAccounts", "*"));
    assert!(!allows(
        &statements,
        "sts:AssumeRole",
        "arn:aws:iam::210987654321:role/thumbprint-guard-member"
    ));
    let org = Stack::with(
        &template,
        &[("OrganizationRoleName", "thumbprint-guard-member")],
        TOPIC,
    );
    let statements = org.role_statements();
    assert!(allows(&statements, "organizations:ListAccounts", "*"));
    assert!(allows(
        &statements,
        "sts:AssumeRole",
        "arn:aws:iam::210987654321:role/thumbprint-guard-member"
    ));
    assert!(!allows(
        &statements,
        "sts:AssumeRole",
        "arn:aws:iam::210987654321:role/admin"
    ));
    for action in ["organizations:DescribeAccount", "organizations:ListRoots"] {
        assert!(!allows(&statements, action, "*"), "{action}");
    }
    let function = org
        .resolve(&org.resource("Function")["Properties"])
        .expect("function");
    assert_eq!(function["Timeout"], 900);
    assert_eq!(
        function["Environment"]["Variables"]["ORGANIZATION_ROLE_NAME"],
        "thumbprint-guard-member"
    );
}

#[test]
fn kubernetes_checks_grant_the_pod_identity_reads_only_when_on() {
    let template = expanded_template();
    let cluster = "arn:aws:eks:us-east-1:123456789012:cluster/prod";
    let association = "arn:aws:eks:us-east-1:123456789012:podidentityassociation/prod/a-1";
    for on in [false, true] {
        let value = if on { "on" } else { "off" };
        let stack = Stack::with(&template, &[("KubernetesChecks", value)], TOPIC);
        let statements = stack.role_statements();
        assert_eq!(
            allows(&statements, "eks:ListPodIdentityAssociations", cluster),
            on,
            "KubernetesChecks={value}: eks:ListPodIdentityAssociations"
        );
        assert_eq!(
            allows(
                &statements,
                "eks:DescribePodIdentityAssociation",
                association
            ),
            on,
            "KubernetesChecks={value}: eks:DescribePodIdentityAssociation"
        );
        for elsewhere in [
            "arn:aws:eks:us-east-1:210987654321:cluster/prod",
            "arn:aws:eks:us-east-1:210987654321:podidentityassociation/prod/a-1",
        ] {
            assert!(!allows(
                &statements,
                "eks:DescribePodIdentityAssociation",
                elsewhere
            ));
            assert!(!allows(
                &statements,
                "eks:ListPodIdentityAssociations",
                elsewhere
            ));
        }
        for never in ["eks:CreatePodIdentityAssociation", "eks:CreateAccessEntry"] {
            assert!(!allows(&statements, never, cluster), "{never}");
        }
        let env = stack
            .resolve(&stack.resource("Function")["Properties"]["Environment"]["Variables"])
            .expect("environment");
        assert_eq!(env["KUBERNETES_CHECKS"], value);
    }
}

#[test]
fn the_heartbeat_alarm_fires_after_two_schedule_periods_without_a_sweep() {
    let template = expanded_template();
    for hours in ["1", "6", "24", "84"] {
        let stack = Stack::with(&template, &[("ScheduleHours", hours)], TOPIC);
        let alarm = stack
            .resolve(&stack.resource("HeartbeatAlarm")["Properties"])
            .expect("alarm");
        let number = |v: &Value| -> u64 {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .unwrap_or_else(|| panic!("not a number: {v}"))
        };
        let hours: u64 = hours.parse().expect("hours");
        let window = number(&alarm["Period"]) * number(&alarm["EvaluationPeriods"]);
        assert_eq!(window, 2 * hours * 3600, "two schedule periods");
        assert!(
            window <= 7 * 24 * 3600,
            "CloudWatch looks back at most 7 days"
        );
        assert_eq!(alarm["DatapointsToAlarm"], alarm["EvaluationPeriods"]);
        assert_eq!(alarm["TreatMissingData"], "breaching");
        assert_eq!(alarm["ComparisonOperator"], "LessThanThreshold");
        assert_eq!(alarm["Threshold"], 1);
        // The metric every completed run emits (src/outputs/metrics.rs), in this account.
        assert_eq!(alarm["Namespace"], "ThumbprintGuard");
        assert_eq!(alarm["MetricName"], "ProvidersChecked");
        assert_eq!(alarm["Statistic"], "SampleCount");
        assert_eq!(
            alarm["Dimensions"],
            json!([{"Name": "AccountId", "Value": ACCOUNT}])
        );
        let schedule = stack
            .resolve(&stack.resource("FunctionSchedule")["Properties"]["ScheduleExpression"])
            .expect("schedule");
        let expected = if hours == 1 {
            "rate(1 hour)".to_string()
        } else {
            format!("rate({hours} hours)")
        };
        assert_eq!(schedule, expected.as_str());
    }
    let custom = Stack::with(
        &template,
        &[("ScheduleExpression", "cron(0 6 * * ? *)")],
        TOPIC,
    );
    let schedule = custom
        .resolve(&custom.resource("FunctionSchedule")["Properties"]["ScheduleExpression"])
        .expect("schedule");
    assert_eq!(schedule, "cron(0 6 * * ? *)");
    let source =
        std::fs::read_to_string(moto::root().join("src/outputs/metrics.rs")).expect("metrics.rs");
    assert!(source.contains("\"ProvidersChecked\"") && source.contains("ThumbprintGuard"));
}

#[test]
fn serverless_repo_metadata_names_files_that_exist_and_the_crate_version() {
    let template = expanded_template();
    let app = &template["Metadata"]["AWS::ServerlessRepo::Application"];
    for field in [
        "Name",
        "Description",
        "Author",
        "SpdxLicenseId",
        "SemanticVersion",
    ] {
        assert!(
            app[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field}"
        );
    }
    assert_eq!(app["SpdxLicenseId"], "Apache-2.0");
    for file in ["LicenseUrl", "ReadmeUrl"] {
        let path = app[file].as_str().expect(file);
        assert!(
            moto::root().join(path).is_file(),
            "{file}: {path} does not exist"
        );
    }
    let license = std::fs::read_to_string(moto::root().join("LICENSE")).expect("LICENSE");
    assert!(license.contains("Apache License") && license.contains("Version 2.0"));
    let cargo = std::fs::read_to_string(moto::root().join("Cargo.toml")).expect("Cargo.toml");
    let version = cargo
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("Cargo.toml's package version");
    assert_eq!(app["SemanticVersion"], version);
    assert!(cargo.contains("license = \"Apache-2.0\""));
}

/// member-role.yaml as JSON (no transform to run), through scripts/template-variant.py.
fn member_template() -> Value {
    moto::ensure_venv();
    let root = moto::root();
    let out = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("scripts/template-variant.py"))
        .arg(root.join("member-role.yaml"))
        .output()
        .expect("run scripts/template-variant.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn the_member_role_trusts_the_central_role_only_and_reads_what_a_member_sweep_reads() {
    let member = member_template();
    let central = "arn:aws:iam::111111111111:role/thumbprint-guard-FunctionRole-X";
    let function = Stack::new(&expanded_template(), "off", TOPIC).role_statements();
    for (mode, external_id) in [
        ("off", ""),
        ("dry-run", "shared-secret"),
        ("add", "shared-secret"),
    ] {
        let stack = Stack::with(
            &member,
            &[
                ("CentralRoleArn", central),
                ("ExternalId", external_id),
                ("RemediationMode", mode),
            ],
            TOPIC,
        );
        let role = stack
            .resolve(&stack.resource("MemberRole")["Properties"])
            .expect("role");
        let trust = one_or_many(&role["AssumeRolePolicyDocument"]["Statement"]);
        assert_eq!(trust.len(), 1, "{trust:?}");
        assert_eq!(trust[0]["Principal"], json!({"AWS": central}));
        assert_eq!(trust[0]["Action"], "sts:AssumeRole");
        if external_id.is_empty() {
            assert!(trust[0]["Condition"].is_null());
        } else {
            assert_eq!(
                trust[0]["Condition"],
                json!({"StringEquals": {"sts:ExternalId": external_id}})
            );
        }

        let statements = stack.statements_of("MemberRole");
        let mut granted: BTreeSet<String> = statements.iter().flat_map(actions).collect();
        let writes: BTreeSet<String> = WRITE_ACTIONS.iter().map(|a| a.to_string()).collect();
        assert_eq!(
            granted.intersection(&writes).count() == 2,
            mode == "add",
            "{mode}"
        );
        granted.retain(|a| !writes.contains(a));
        assert_eq!(
            granted,
            BTreeSet::from(
                [
                    "iam:ListOpenIDConnectProviders",
                    "iam:GetOpenIDConnectProvider",
                    "iam:ListRoles",
                    "iam:ListAccountAliases",
                    "eks:ListClusters",
                    "eks:DescribeCluster",
                ]
                .map(String::from)
            ),
            "read-only, exactly the member sweep's calls"
        );
        // The same reads as the single-account function, scoped to the member's own account.
        let own =
            format!("arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X");
        assert!(allows(&statements, "iam:GetOpenIDConnectProvider", &own));
        assert!(allows(&function, "iam:GetOpenIDConnectProvider", &own));
        assert!(!allows(
            &statements,
            "iam:GetOpenIDConnectProvider",
            "arn:aws:iam::210987654321:oidc-provider/x"
        ));
        for action in WRITE_ACTIONS {
            assert_eq!(
                allows(&statements, action, &own),
                mode == "add",
                "{mode} {action}"
            );
            assert!(!allows(&statements, action, "*"), "{action} scoped");
        }
    }
}

#[test]
fn the_documented_parameter_table_lists_every_parameter_with_its_default() {
    let template = expanded_template();
    let readme =
        std::fs::read_to_string(moto::root().join("docs/deploying.md")).expect("docs/deploying.md");
    let start = readme
        .find("## Deploying the Lambda")
        .expect("the deployment section");
    let end = start + readme[start..].find("### One account").expect("its end");
    let mut listed = BTreeSet::new();
    for row in readme[start..end].lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        for name in cells[0].split(',').map(|n| n.trim().trim_matches('`')) {
            let spec = &template["Parameters"][name];
            assert!(
                spec.is_object(),
                "docs/deploying.md lists {name}, the template has no such parameter"
            );
            let default = match &spec["Default"] {
                Value::String(s) if s.is_empty() => "empty".to_string(),
                Value::String(s) => format!("`{s}`"),
                other => format!("`{other}`"),
            };
            assert_eq!(cells[1], default, "{name}'s default");
            listed.insert(name.to_string());
        }
    }
    let parameters: BTreeSet<String> = template["Parameters"]
        .as_object()
        .expect("Parameters")
        .keys()
        .cloned()
        .collect();
    assert_eq!(listed, parameters, "docs/deploying.md's parameter table");
}

#[test]
fn the_member_role_imports_into_its_own_security_hub_only_when_asked() {
    let member = member_template();
    let central = "arn:aws:iam::111111111111:role/thumbprint-guard-FunctionRole-X";
    for hub in ["off", "on"] {
        let stack = Stack::with(
            &member,
            &[
                ("CentralRoleArn", central),
                ("ExternalId", ""),
                ("RemediationMode", "off"),
                ("SecurityHub", hub),
            ],
            TOPIC,
        );
        let statements = stack.statements_of("MemberRole");
        let product = format!("arn:aws:securityhub:eu-west-1:{ACCOUNT}:product/{ACCOUNT}/default");
        let own_hub = format!("arn:aws:securityhub:eu-west-1:{ACCOUNT}:hub/default");
        assert_eq!(
            allows(&statements, "securityhub:BatchImportFindings", &product),
            hub == "on",
            "SecurityHub={hub}"
        );
        assert_eq!(
            allows(&statements, "securityhub:GetFindings", &own_hub),
            hub == "on",
            "SecurityHub={hub}"
        );
        assert!(!allows(
            &statements,
            "securityhub:BatchImportFindings",
            "arn:aws:securityhub:eu-west-1:210987654321:product/210987654321/default"
        ));
    }
}
