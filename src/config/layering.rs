//! The one layering of a run's configuration: environment, then the overrides asked for this run
//! (CLI flags or a Lambda event's fields), then the run's ceiling on remediation. The CLI and the
//! Lambda both go through [`layer`].

use super::error::{ConfigError, OverrideSource};
use super::settings::{Config, VARIABLES};

/// The variables a Lambda event may change for one run. Settings built at cold start (trust store,
/// clients, probe limits), the allowed hosts (permission to invoke is not permission to write
/// thumbprints) and what is muted or where findings go are not among them.
pub const EVENT_OVERRIDABLE: [&str; 4] = [
    "REMEDIATION_MODE",
    "NOTIFY",
    "EXPIRY_WARNING_DAYS",
    "AUDIT_TRUST_POLICIES",
];

/// Values asked for explicitly for one run, each standing for a variable of [`VARIABLES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overrides {
    source: OverrideSource,
    values: Vec<(&'static str, String)>,
}

impl Overrides {
    /// No override yet, from `source`.
    pub fn new(source: OverrideSource) -> Self {
        Overrides {
            source,
            values: Vec::new(),
        }
    }

    /// Who asked for these values.
    pub fn source(&self) -> OverrideSource {
        self.source
    }

    /// Sets `var` to `value` for this run (a blank value means the default, as in the
    /// environment). A variable this source may not change is an error; setting one twice keeps
    /// the last value.
    pub fn set(&mut self, var: &'static str, value: impl Into<String>) -> Result<(), ConfigError> {
        let allowed: &[&str] = match self.source {
            OverrideSource::Cli => &VARIABLES,
            OverrideSource::LambdaEvent => &EVENT_OVERRIDABLE,
        };
        if !allowed.contains(&var) {
            return Err(ConfigError::NotOverridable {
                var,
                by: self.source,
                allowed: allowed.join(", "),
            });
        }
        self.values.retain(|(v, _)| *v != var);
        self.values.push((var, value.into()));
        Ok(())
    }

    /// The value asked for `var`, if any.
    pub fn get(&self, var: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(v, _)| *v == var)
            .map(|(_, value)| value.as_str())
    }
}

/// The configuration of one run: `env` (variable → value) with `overrides` on top, validated as
/// one. An explicit `REMEDIATION_MODE` override is the run's ceiling, which no provider tag can
/// exceed. For a Lambda event the environment must be valid on its own, and the event cannot ask
/// for a mode that writes (`add`) unless the environment's mode does: it may lower the mode, or
/// ask for `dry-run`, which writes nothing.
pub fn layer(
    env: impl Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<Config, ConfigError> {
    let base = match overrides.source {
        OverrideSource::LambdaEvent => Some(Config::from_lookup(&env)?),
        OverrideSource::Cli => None,
    };
    let mut config =
        Config::from_lookup(|var| overrides.get(var).map(str::to_string).or_else(|| env(var)))?;
    if overrides.get("REMEDIATION_MODE").is_some() {
        if let Some(base) = base {
            if config.remediation_mode.writes() && !base.remediation_mode.writes() {
                return Err(ConfigError::RaisesRemediation {
                    by: overrides.source,
                    configured: base.remediation_mode,
                    requested: config.remediation_mode,
                });
            }
        }
        config.remediation_ceiling = Some(config.remediation_mode);
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{NotifyRule, RemediationMode};

    fn env(mode: &'static str) -> impl Fn(&str) -> Option<String> {
        move |var| (var == "REMEDIATION_MODE").then(|| mode.to_string())
    }

    fn cli(pairs: &[(&'static str, &str)]) -> Overrides {
        let mut overrides = Overrides::new(OverrideSource::Cli);
        for (var, value) in pairs {
            overrides.set(var, *value).unwrap();
        }
        overrides
    }

    fn event(pairs: &[(&'static str, &str)]) -> Overrides {
        let mut overrides = Overrides::new(OverrideSource::LambdaEvent);
        for (var, value) in pairs {
            overrides.set(var, *value).unwrap();
        }
        overrides
    }

    #[test]
    fn without_overrides_a_tag_overrides_the_environment() {
        for source in [OverrideSource::Cli, OverrideSource::LambdaEvent] {
            let config = layer(env("off"), &Overrides::new(source)).unwrap();
            assert_eq!(config.remediation_ceiling, None);
            assert_eq!(config.effective_mode(Some("add")), Ok(RemediationMode::Add));
        }
    }

    #[test]
    fn a_cli_mode_is_a_ceiling_no_tag_exceeds() {
        let config = layer(env("add"), &cli(&[("REMEDIATION_MODE", "dry-run")])).unwrap();
        assert_eq!(config.remediation_mode, RemediationMode::DryRun);
        assert_eq!(
            config.effective_mode(Some("add")),
            Ok(RemediationMode::DryRun)
        );
        assert_eq!(config.effective_mode(Some("off")), Ok(RemediationMode::Off));
        let off = layer(env("add"), &cli(&[("REMEDIATION_MODE", "off")])).unwrap();
        assert_eq!(off.effective_mode(Some("add")), Ok(RemediationMode::Off));
        // The person at the CLI holds the credentials: the flag may also raise the mode.
        let raised = layer(env("off"), &cli(&[("REMEDIATION_MODE", "add")])).unwrap();
        assert_eq!(raised.effective_mode(None), Ok(RemediationMode::Add));
    }

    #[test]
    fn a_cli_flag_wins_over_the_environment_and_may_fix_it() {
        let broken = |var: &str| (var == "NOTIFY").then(|| "sometimes".to_string());
        assert!(layer(broken, &Overrides::new(OverrideSource::Cli)).is_err());
        let fixed = layer(broken, &cli(&[("NOTIFY", "never")])).unwrap();
        assert_eq!(fixed.notify, NotifyRule::Never);
        let muted = layer(env("off"), &cli(&[("MUTE_FINDINGS", "ORPHAN_PROVIDER")])).unwrap();
        assert!(muted.is_muted(crate::report::FindingCode::OrphanProvider, "arn:x"));
    }

    #[test]
    fn an_event_can_lower_the_mode_but_never_make_it_write() {
        let err = layer(env("off"), &event(&[("REMEDIATION_MODE", "add")])).unwrap_err();
        assert_eq!(
            err,
            ConfigError::RaisesRemediation {
                by: OverrideSource::LambdaEvent,
                configured: RemediationMode::Off,
                requested: RemediationMode::Add
            }
        );
        assert!(err.to_string().contains("REMEDIATION_MODE=off"), "{err}");
        let err = layer(env("dry-run"), &event(&[("REMEDIATION_MODE", "add")])).unwrap_err();
        assert!(
            matches!(err, ConfigError::RaisesRemediation { .. }),
            "{err}"
        );
        let lowered = layer(env("add"), &event(&[("REMEDIATION_MODE", "dry-run")])).unwrap();
        assert_eq!(
            lowered.effective_mode(Some("add")),
            Ok(RemediationMode::DryRun)
        );
        let kept = layer(env("add"), &event(&[("REMEDIATION_MODE", "add")])).unwrap();
        assert_eq!(kept.effective_mode(Some("add")), Ok(RemediationMode::Add));
        let planned = layer(env("off"), &event(&[("REMEDIATION_MODE", "dry-run")])).unwrap();
        assert_eq!(
            planned.effective_mode(Some("add")),
            Ok(RemediationMode::DryRun)
        );
    }

    #[test]
    fn an_event_cannot_change_the_allowed_hosts_or_the_mutes() {
        let mut overrides = Overrides::new(OverrideSource::LambdaEvent);
        for var in [
            "REMEDIATION_ALLOWED_HOSTS",
            "MUTE_FINDINGS",
            "SNS_TOPIC_ARN",
        ] {
            let err = overrides.set(var, "*").unwrap_err();
            assert!(matches!(err, ConfigError::NotOverridable { .. }), "{err}");
            assert!(
                err.to_string()
                    .starts_with(&format!("{var} cannot be changed by a Lambda event")),
                "{err}"
            );
        }
        assert_eq!(overrides.get("REMEDIATION_ALLOWED_HOSTS"), None);
    }

    #[test]
    fn an_event_needs_a_valid_environment() {
        let broken = |var: &str| (var == "EKS_REGIONS").then(|| ",".to_string());
        let err = layer(broken, &event(&[("NOTIFY", "never")])).unwrap_err();
        assert_eq!(err.variable(), Some("EKS_REGIONS"));
    }

    #[test]
    fn the_last_value_set_wins() {
        let overrides = cli(&[("NOTIFY", "never"), ("NOTIFY", "always")]);
        assert_eq!(overrides.get("NOTIFY"), Some("always"));
        assert_eq!(overrides.source(), OverrideSource::Cli);
    }
}
