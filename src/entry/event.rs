//! The Lambda's input: an EventBridge scheduled event, a Scheduler payload, or a manual event whose
//! fields override the configuration for that one run (e.g. `{"remediation_mode": "dry-run"}`).
//!
//! An event can never make a run write more than the deployment allows: it may ask for `add` only
//! when the function is configured with `add` (any mode may ask for `dry-run` or `off`, which write
//! nothing), and it cannot change the allowed hosts. An explicit `remediation_mode` is also a
//! ceiling for the run, so `{"remediation_mode": "dry-run"}` writes nothing even for a provider
//! tagged `add`. Whoever may invoke the function must not gain the power to write thumbprints the
//! deployment did not allow. The rules themselves live in [`config::layer`], shared with the CLI.

use serde_json::Value;

use crate::config::{self, Config, ConfigError, OverrideSource, Overrides, RemediationMode};

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

/// Event fields that override the configuration, and the variable each stands for (each one of
/// [`config::EVENT_OVERRIDABLE`]). Settings that shape what was built at start-up (trust store,
/// EKS clients, probe limits) or that would widen what remediation may write (allowed hosts) are
/// not overridable.
pub const OVERRIDES: [(&str, &str); 4] = [
    ("remediation_mode", "REMEDIATION_MODE"),
    ("notify", "NOTIFY"),
    ("expiry_warning_days", "EXPIRY_WARNING_DAYS"),
    ("audit_trust_policies", "AUDIT_TRUST_POLICIES"),
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
    /// The event asks for `add` while the function is not configured to write.
    #[error("event field 'remediation_mode' cannot be '{requested}' while the function runs with REMEDIATION_MODE={configured}: an event may ask for dry-run or off, and for add only when the function is configured with add")]
    RaisesRemediation {
        /// The mode of the function's environment.
        configured: RemediationMode,
        /// The mode the event asked for.
        requested: RemediationMode,
    },
}

/// The configuration for one invocation: `base_lookup` (the environment) with the event's overrides
/// on top, layered and validated by [`config::layer`].
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
    let mut overrides = Overrides::new(OverrideSource::LambdaEvent);
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
        overrides.set(var, text)?;
    }
    config::layer(&base_lookup, &overrides).map_err(|error| match error {
        ConfigError::RaisesRemediation {
            configured,
            requested,
            ..
        } => EventError::RaisesRemediation {
            configured,
            requested,
        },
        other => EventError::Config(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(var: &str) -> Option<String> {
        (var == "REMEDIATION_MODE").then(|| "add".to_string())
    }

    #[test]
    fn scheduled_event_keeps_the_environment() {
        let event: Value =
            serde_json::from_str(include_str!("../../events/scheduled.json")).unwrap();
        let config = config_for_event(&event, env).unwrap();
        assert_eq!(config.remediation_mode, RemediationMode::Add);
    }

    #[test]
    fn manual_event_overrides_the_mode() {
        let event: Value = serde_json::from_str(include_str!("../../events/dry-run.json")).unwrap();
        let config = config_for_event(&event, env).unwrap();
        assert_eq!(config.remediation_mode, RemediationMode::DryRun);
    }

    #[test]
    fn an_event_never_writes_more_than_the_deployment_allows() {
        let off = |var: &str| (var == "REMEDIATION_MODE").then(|| "off".to_string());
        let err =
            config_for_event(&serde_json::json!({"remediation_mode": "add"}), off).unwrap_err();
        assert!(matches!(err, EventError::RaisesRemediation { .. }), "{err}");
        assert!(err.to_string().contains("REMEDIATION_MODE=off"), "{err}");
        let planned =
            config_for_event(&serde_json::json!({"remediation_mode": "dry-run"}), off).unwrap();
        assert_eq!(planned.remediation_mode, RemediationMode::DryRun);
        let lowered =
            config_for_event(&serde_json::json!({"remediation_mode": "off"}), env).unwrap();
        assert_eq!(lowered.remediation_mode, RemediationMode::Off);
        assert_eq!(
            lowered.effective_mode(Some("add")),
            Ok(RemediationMode::Off)
        );
        let planned =
            config_for_event(&serde_json::json!({"remediation_mode": "dry-run"}), env).unwrap();
        assert_eq!(
            planned.effective_mode(Some("add")),
            Ok(RemediationMode::DryRun)
        );
        let scheduled = config_for_event(&serde_json::json!({}), off).unwrap();
        assert_eq!(
            scheduled.effective_mode(Some("add")),
            Ok(RemediationMode::Add)
        );
        let err = config_for_event(&serde_json::json!({"remediation_allowed_hosts": "*"}), env)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown event field 'remediation_allowed_hosts'"),
            "{err}"
        );
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

    #[test]
    fn every_event_field_is_a_variable_an_event_may_change() {
        for (_, var) in OVERRIDES {
            assert!(config::EVENT_OVERRIDABLE.contains(&var), "{var}");
        }
        assert_eq!(OVERRIDES.len(), config::EVENT_OVERRIDABLE.len());
    }

    #[test]
    fn an_event_override_is_validated_like_the_environment() {
        let err = config_for_event(&serde_json::json!({"notify": "changes"}), env).unwrap_err();
        assert!(matches!(err, EventError::Config(_)), "{err}");
        assert!(
            err.to_string().contains("NOTIFY=changes needs STATE_TABLE"),
            "{err}"
        );
        let with_table = |var: &str| (var == "STATE_TABLE").then(|| "tg-state".to_string());
        let config =
            config_for_event(&serde_json::json!({"notify": "changes"}), with_table).unwrap();
        assert_eq!(config.notify, config::NotifyRule::Changes);
        let config = config_for_event(
            &serde_json::json!({"audit_trust_policies": false, "expiry_warning_days": 7}),
            env,
        )
        .unwrap();
        assert!(!config.audit_trust_policies);
        assert_eq!(config.expiry_warning_days, 7);
    }
}
