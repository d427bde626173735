//! The Lambda's input: an EventBridge scheduled event, a Scheduler payload, or a manual event whose
//! fields override the configuration for that one run (e.g. `{"remediation_mode": "dry-run"}`).

use serde_json::Value;

use crate::config::{Config, ConfigError};

/// Keys of the EventBridge envelope: present in scheduled events, ignored.
const ENVELOPE_KEYS: [&str; 9] = [
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
];

/// Event fields that override the configuration, and the variable each stands for. Settings that
/// shape what was built at start-up (trust store, EKS clients, probe limits) are not overridable.
pub const OVERRIDES: [(&str, &str); 5] = [
    ("remediation_mode", "REMEDIATION_MODE"),
    ("notify", "NOTIFY"),
    ("expiry_warning_days", "EXPIRY_WARNING_DAYS"),
    ("audit_trust_policies", "AUDIT_TRUST_POLICIES"),
    ("remediation_allowed_hosts", "REMEDIATION_ALLOWED_HOSTS"),
];

/// An event the handler cannot use.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Not a JSON object, or an unknown field.
    #[error("{0}")]
    Shape(String),
    /// An override holds a bad value.
    #[error("event override: {0}")]
    Config(#[from] ConfigError),
}

/// The configuration for one invocation: `base_lookup` (the environment) with the event's overrides
/// on top, validated like the environment.
pub fn config_for_event(
    event: &Value,
    base_lookup: impl Fn(&str) -> Option<String>,
) -> Result<Config, EventError> {
    let fields = match event {
        Value::Null => serde_json::Map::new(),
        Value::Object(map) => map.clone(),
        other => {
            return Err(EventError::Shape(format!(
                "the event must be a JSON object (a scheduled event or overrides such as {{\"remediation_mode\": \"dry-run\"}}); got {other}"
            )))
        }
    };
    let mut overrides = Vec::new();
    for (key, value) in &fields {
        if ENVELOPE_KEYS.contains(&key.as_str()) {
            continue;
        }
        let Some((_, var)) = OVERRIDES.iter().find(|(k, _)| k == key) else {
            let allowed: Vec<&str> = OVERRIDES.iter().map(|(k, _)| *k).collect();
            return Err(EventError::Shape(format!(
                "unknown event field '{key}'; the fields that override configuration are {}",
                allowed.join(", ")
            )));
        };
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            other => {
                return Err(EventError::Shape(format!(
                    "event field '{key}' must be a string, number or boolean; got {other}"
                )))
            }
        };
        overrides.push((*var, text));
    }
    Ok(Config::from_lookup(|var| {
        overrides
            .iter()
            .find(|(v, _)| *v == var)
            .map(|(_, value)| value.clone())
            .or_else(|| base_lookup(var))
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RemediationMode;

    fn env(var: &str) -> Option<String> {
        (var == "REMEDIATION_MODE").then(|| "add".to_string())
    }

    #[test]
    fn scheduled_event_keeps_the_environment() {
        let event: Value = serde_json::from_str(include_str!("../events/scheduled.json")).unwrap();
        let config = config_for_event(&event, env).unwrap();
        assert_eq!(config.remediation_mode, RemediationMode::Add);
    }

    #[test]
    fn manual_event_overrides_the_mode() {
        let event: Value = serde_json::from_str(include_str!("../events/dry-run.json")).unwrap();
        let config = config_for_event(&event, env).unwrap();
        assert_eq!(config.remediation_mode, RemediationMode::DryRun);
    }

    #[test]
    fn empty_and_null_events_are_scheduled_runs() {
        assert!(config_for_event(&serde_json::json!({}), env).is_ok());
        assert!(config_for_event(&Value::Null, env).is_ok());
    }

    #[test]
    fn bad_events_say_what_is_wrong() {
        let err = config_for_event(&serde_json::json!({"mode": "add"}), env).unwrap_err();
        assert!(
            err.to_string().contains("unknown event field 'mode'"),
            "{err}"
        );
        let err =
            config_for_event(&serde_json::json!({"remediation_mode": "yes"}), env).unwrap_err();
        assert!(
            err.to_string()
                .contains("REMEDIATION_MODE must be one of off, dry-run, add"),
            "{err}"
        );
        let err = config_for_event(&serde_json::json!([1]), env).unwrap_err();
        assert!(err.to_string().contains("JSON object"), "{err}");
    }
}
