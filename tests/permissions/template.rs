//! `template.yaml` expanded and resolved for one deployment, and the IAM policy logic to read it.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::{json, Value};

use crate::support::env::REGION;
use crate::support::moto;
use crate::{ACCOUNT, KEY_ARN, PARTITION, ROLE, STATE_TABLE};

/// The ARN of the state table as `GetAtt StateStore.Arn` gives it.
pub fn state_table_arn() -> String {
    format!("arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{STATE_TABLE}")
}

/// `template.yaml` after the SAM transform, as CloudFormation would deploy it.
pub fn expanded_template() -> Value {
    moto::ensure_venv();
    let root = moto::root();
    let out = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("scripts/sam-expand.py"))
        .arg(root.join("template.yaml"))
        .args([
            "--placeholder-code",
            "--region",
            REGION,
            "--account",
            ACCOUNT,
        ])
        .args(["--partition", PARTITION])
        .output()
        .expect("run scripts/sam-expand.py");
    assert!(
        out.status.success(),
        "scripts/sam-expand.py template.yaml failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("sam-expand prints JSON")
}

/// The expanded template with values for its parameters and resources: resolves `Ref`, `Fn::Sub`,
/// `Fn::GetAtt`, `Fn::If` and conditions the way CloudFormation would for one deployment.
pub struct Stack {
    pub template: Value,
    pub parameters: BTreeMap<String, String>,
    pub topic_arn: String,
}

impl Stack {
    /// The stack deployed with `RemediationMode=mode` (other parameters at their defaults) whose
    /// topic is `topic_arn`.
    pub fn new(template: &Value, mode: &str, topic_arn: &str) -> Stack {
        Stack::with(template, &[("RemediationMode", mode)], topic_arn)
    }

    /// The stack deployed with `overrides` (other parameters at their defaults) whose topic is
    /// `topic_arn`. Each override must name a parameter and, where it has AllowedValues, one of them.
    pub fn with(template: &Value, overrides: &[(&str, &str)], topic_arn: &str) -> Stack {
        let mut parameters = BTreeMap::new();
        for (name, spec) in template["Parameters"].as_object().expect("Parameters") {
            let default = match &spec["Default"] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            parameters.insert(name.clone(), default);
        }
        for (name, value) in overrides {
            let spec = &template["Parameters"][*name];
            assert!(spec.is_object(), "the template has no parameter {name}");
            if let Some(allowed) = spec["AllowedValues"].as_array() {
                let allowed: Vec<String> = allowed
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect();
                assert!(
                    allowed.iter().any(|a| a == value),
                    "{name}={value} is not in the template's AllowedValues {allowed:?}"
                );
            }
            parameters.insert(name.to_string(), value.to_string());
        }
        Stack {
            template: template.clone(),
            parameters,
            topic_arn: topic_arn.to_string(),
        }
    }

    /// The `FunctionName` parameter (the default's for a template without one: member-role.yaml).
    pub fn function_name(&self) -> &str {
        self.parameters
            .get("FunctionName")
            .map_or("thumbprint-guard", String::as_str)
    }

    pub fn resource(&self, logical_id: &str) -> &Value {
        let resource = &self.template["Resources"][logical_id];
        assert!(resource.is_object(), "no resource {logical_id}");
        resource
    }

    /// `Ref name`: a parameter, a pseudo parameter or a resource's physical id.
    pub fn reference(&self, name: &str) -> Option<Value> {
        if name == "AWS::NoValue" {
            return None;
        }
        let fname = self.function_name();
        let value = match name {
            "AWS::Partition" => PARTITION.to_string(),
            "AWS::AccountId" => ACCOUNT.to_string(),
            "AWS::Region" => REGION.to_string(),
            "AWS::StackName" => "thumbprint-guard".to_string(),
            "AWS::URLSuffix" => "amazonaws.com".to_string(),
            "Topic" => self.topic_arn.clone(),
            "StackKey" => KEY_ARN.rsplit('/').next().unwrap_or_default().to_string(),
            "StateStore" => STATE_TABLE.to_string(),
            "FunctionRole" => format!("{fname}-role"),
            "LogGroup" => format!("/aws/lambda/{fname}"),
            "Function" => fname.to_string(),
            other => match self.parameters.get(other) {
                Some(v) => v.clone(),
                None => panic!("this test cannot resolve Ref {other}: add it to Stack::reference"),
            },
        };
        Some(Value::String(value))
    }

    /// `Fn::GetAtt [resource, attribute]`.
    pub fn attribute(&self, resource: &str, attribute: &str) -> String {
        let fname = self.function_name();
        match (resource, attribute) {
            ("StackKey", "Arn") => KEY_ARN.to_string(),
            ("StateStore", "Arn") => state_table_arn(),
            ("LogGroup", "Arn") => {
                format!("arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{fname}:*")
            }
            ("FunctionRole", "Arn") => format!("arn:{PARTITION}:iam::{ACCOUNT}:role/{fname}-role"),
            ("Function", "Arn") => {
                format!("arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{fname}")
            }
            ("Topic", "TopicArn") => self.topic_arn.clone(),
            _ => panic!("this test cannot resolve GetAtt {resource}.{attribute}"),
        }
    }

    pub fn sub(&self, text: &str, variables: &serde_json::Map<String, Value>) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').expect("unterminated ${ in Fn::Sub");
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str(&format!("${{{literal}}}"));
            } else if let Some(value) = variables.get(name) {
                let value = self.resolve(value).expect("a Fn::Sub variable has a value");
                out.push_str(value.as_str().expect("a Fn::Sub variable is a string"));
            } else if let Some((resource, attribute)) = name.split_once('.') {
                out.push_str(&self.attribute(resource, attribute));
            } else {
                let value = self.reference(name).expect("Fn::Sub of AWS::NoValue");
                out.push_str(value.as_str().unwrap_or_default());
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    pub fn condition(&self, name: &str) -> bool {
        let expression = &self.template["Conditions"][name];
        assert!(!expression.is_null(), "no condition {name}");
        self.evaluate(expression)
    }

    pub fn evaluate(&self, expression: &Value) -> bool {
        let (function, arguments) = single_key(expression).expect("a condition function");
        let args = arguments.as_array();
        match function {
            "Fn::Equals" => {
                // CloudFormation compares the values as strings (a Number parameter's Ref is "6").
                let args = args.expect("Fn::Equals takes a list");
                let text = |v: &Value| match self.resolve(v) {
                    Some(Value::String(s)) => s,
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                text(&args[0]) == text(&args[1])
            }
            "Fn::Not" => !self.evaluate(&args.expect("Fn::Not takes a list")[0]),
            "Fn::And" => args.expect("Fn::And").iter().all(|c| self.evaluate(c)),
            "Fn::Or" => args.expect("Fn::Or").iter().any(|c| self.evaluate(c)),
            "Condition" => self.condition(arguments.as_str().expect("condition name")),
            other => panic!("this test cannot evaluate condition function {other}"),
        }
    }

    /// The value CloudFormation would use; `None` for `AWS::NoValue`.
    pub fn resolve(&self, value: &Value) -> Option<Value> {
        if let Some((function, arguments)) = single_key(value) {
            match function {
                "Ref" => return self.reference(arguments.as_str().expect("Ref name")),
                "Fn::GetAtt" => {
                    let (resource, attribute) = match arguments {
                        Value::Array(parts) => (
                            parts[0].as_str().unwrap_or_default().to_string(),
                            parts[1].as_str().unwrap_or_default().to_string(),
                        ),
                        Value::String(dotted) => {
                            let (r, a) = dotted.split_once('.').expect("GetAtt Resource.Attribute");
                            (r.to_string(), a.to_string())
                        }
                        other => panic!("GetAtt {other}"),
                    };
                    return Some(Value::String(self.attribute(&resource, &attribute)));
                }
                "Fn::Sub" => {
                    let (text, variables) = match arguments {
                        Value::String(text) => (text.clone(), serde_json::Map::new()),
                        Value::Array(parts) => (
                            parts[0].as_str().expect("Fn::Sub text").to_string(),
                            parts[1].as_object().cloned().unwrap_or_default(),
                        ),
                        other => panic!("Fn::Sub {other}"),
                    };
                    return Some(Value::String(self.sub(&text, &variables)));
                }
                "Fn::If" => {
                    let parts = arguments.as_array().expect("Fn::If takes a list");
                    let name = parts[0].as_str().expect("Fn::If condition name");
                    let chosen = if self.condition(name) {
                        &parts[1]
                    } else {
                        &parts[2]
                    };
                    return self.resolve(chosen);
                }
                other if other.starts_with("Fn::") => {
                    panic!("this test cannot resolve {other}: add it to Stack::resolve")
                }
                _ => {}
            }
        }
        Some(match value {
            Value::Array(items) => {
                Value::Array(items.iter().filter_map(|v| self.resolve(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter_map(|(k, v)| self.resolve(v).map(|v| (k.clone(), v)))
                    .collect(),
            ),
            other => other.clone(),
        })
    }

    /// Whether a resource exists in this deployment (its `Condition`, if any, holds).
    pub fn deployed(&self, resource: &Value) -> bool {
        resource["Condition"]
            .as_str()
            .is_none_or(|name| self.condition(name))
    }

    /// Every statement of every policy attached to the function's role: the role's inline
    /// `Policies` and each `AWS::IAM::Policy` / `AWS::IAM::ManagedPolicy` naming it in `Roles`.
    /// Fails when the role gets permissions another way (AWS managed policies), or has a
    /// permissions boundary in this deployment (it could only take permissions away, but then the
    /// sweeps here would not prove what the deployed function may do).
    pub fn role_statements(&self) -> Vec<Value> {
        self.statements_of(ROLE)
    }

    /// [`Stack::role_statements`] for the role `role_id`.
    pub fn statements_of(&self, role_id: &str) -> Vec<Value> {
        let role_ref = json!({ "Ref": role_id });
        let role = self.resource(role_id);
        assert_eq!(role["Type"], "AWS::IAM::Role");
        let properties = self.resolve(&role["Properties"]).expect("role properties");
        for unchecked in ["ManagedPolicyArns", "PermissionsBoundary"] {
            assert!(
                properties[unchecked].is_null(),
                "{role_id} has {unchecked}: this test cannot vouch for those permissions"
            );
        }
        let mut documents: Vec<Value> = role["Properties"]["Policies"]
            .as_array()
            .map(|policies| {
                policies
                    .iter()
                    .map(|p| p["PolicyDocument"].clone())
                    .collect()
            })
            .unwrap_or_default();
        for resource in self.template["Resources"]
            .as_object()
            .expect("Resources")
            .values()
        {
            let kind = resource["Type"].as_str().unwrap_or_default();
            let attached = resource["Properties"]["Roles"]
                .as_array()
                .is_some_and(|roles| roles.contains(&role_ref));
            if matches!(kind, "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy")
                && attached
                && self.deployed(resource)
            {
                documents.push(resource["Properties"]["PolicyDocument"].clone());
            }
        }
        assert!(!documents.is_empty(), "no policy is attached to {role_id}");
        documents
            .iter()
            .filter_map(|document| self.resolve(document))
            .flat_map(|document| one_or_many(&document["Statement"]))
            .collect()
    }
}

/// `{"Fn::X": args}` → `("Fn::X", args)`.
pub fn single_key(value: &Value) -> Option<(&str, &Value)> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let (key, arguments) = map.iter().next()?;
    (key == "Ref" || key == "Condition" || key.starts_with("Fn::"))
        .then_some((key.as_str(), arguments))
}

/// A policy element that may be a string or a list, as a list.
pub fn one_or_many(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => vec![],
        other => vec![other.clone()],
    }
}

/// IAM wildcard matching: `*` any run of characters, `?` one character.
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let fold = |s: &str| {
        if ignore_case {
            s.to_ascii_lowercase()
        } else {
            s.to_string()
        }
    };
    let (pattern, text): (Vec<char>, Vec<char>) = (
        fold(pattern).chars().collect(),
        fold(text).chars().collect(),
    );
    let (mut p, mut t, mut star, mut mark) = (0, 0, None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// Whether an `Allow` statement without conditions grants `action` on `resource` (and no `Deny`
/// statement refuses it). Actions match case-insensitively, resources case-sensitively.
pub fn allows(statements: &[Value], action: &str, resource: &str) -> bool {
    let matches = |statement: &Value| {
        one_or_many(&statement["Action"])
            .iter()
            .any(|a| glob(a.as_str().unwrap_or_default(), action, true))
            && one_or_many(&statement["Resource"])
                .iter()
                .any(|r| glob(r.as_str().unwrap_or_default(), resource, false))
    };
    let denied = statements
        .iter()
        .any(|s| s["Effect"] == "Deny" && matches(s));
    let allowed = statements
        .iter()
        .any(|s| s["Effect"] == "Allow" && s["Condition"].is_null() && matches(s));
    allowed && !denied
}

/// Every action a statement names.
pub fn actions(statement: &Value) -> Vec<String> {
    one_or_many(&statement["Action"])
        .iter()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect()
}

/// The statements as moto can evaluate them: every resource `*` (see the module comment).
pub fn for_moto(statements: &[Value]) -> Value {
    let statements: Vec<Value> = statements
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s["Resource"] = json!("*");
            s
        })
        .collect();
    json!({ "Version": "2012-10-17", "Statement": statements })
}
