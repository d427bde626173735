//! Configuration: every variable of DESIGN's table, read once and validated.
//!
//! Values come from a lookup function (the environment, with CLI flags or a Lambda event layered on
//! top), so one validation path serves the CLI, the Lambda and the tests. Every error names the
//! variable, the bad value and what is allowed.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

/// The IAM tag on a provider that overrides `REMEDIATION_MODE` for it.
pub const REMEDIATION_TAG: &str = "thumbprint-guard/remediation";

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable holds a value outside its allowed set or range.
    #[error("{var} must be {expected}; got '{value}'")]
    Invalid {
        /// The variable's name, e.g. `REMEDIATION_MODE`.
        var: &'static str,
        /// What it held.
        value: String,
        /// What it may hold.
        expected: String,
    },
    /// A file named by a variable cannot be read or holds nothing usable.
    #[error("{var}: {path}: {problem}")]
    File {
        /// The variable's name.
        var: &'static str,
        /// The path it named.
        path: PathBuf,
        /// What is wrong with the file.
        problem: String,
    },
    /// The TLS client could not be set up from a valid configuration (a bug or a broken crypto
    /// library, not a bad value).
    #[error("cannot set up the TLS client ({what}): {error}")]
    Tls {
        /// Which part failed.
        what: &'static str,
        /// The library's error.
        error: String,
    },
}

/// What remediation may do: report only, report what it would add, or add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemediationMode {
    /// Report only.
    #[default]
    Off,
    /// Report what would be added; write nothing.
    DryRun,
    /// Add allowed thumbprints.
    Add,
}

impl RemediationMode {
    /// Allowed spellings, for error messages.
    pub const ALLOWED: &'static str = "one of off, dry-run, add";

    /// How much the mode does: off (0) < dry-run (1, plans) < add (2, writes).
    pub fn rank(self) -> u8 {
        match self {
            RemediationMode::Off => 0,
            RemediationMode::DryRun => 1,
            RemediationMode::Add => 2,
        }
    }

    /// The value as written in configuration and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RemediationMode::Off => "off",
            RemediationMode::DryRun => "dry-run",
            RemediationMode::Add => "add",
        }
    }
}

impl FromStr for RemediationMode {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.trim() {
            "off" => Ok(RemediationMode::Off),
            "dry-run" => Ok(RemediationMode::DryRun),
            "add" => Ok(RemediationMode::Add),
            _ => Err(()),
        }
    }
}

impl std::fmt::Display for RemediationMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When to publish to SNS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyRule {
    /// When there is a warning, a critical finding or a change.
    #[default]
    Findings,
    /// Every run (a heartbeat).
    Always,
    /// Never.
    Never,
}

impl FromStr for NotifyRule {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.trim() {
            "findings" => Ok(NotifyRule::Findings),
            "always" => Ok(NotifyRule::Always),
            "never" => Ok(NotifyRule::Never),
            _ => Err(()),
        }
    }
}

/// Which regions to list EKS clusters in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum EksRegions {
    /// The SDK's current region.
    #[default]
    Current,
    /// `none`: the EKS cross-check is off.
    Disabled,
    /// These regions.
    List(Vec<String>),
}

/// Host globs whose thumbprints may be added automatically.
#[derive(Debug, Clone)]
pub struct HostGlobs {
    patterns: Vec<String>,
    set: GlobSet,
}

impl HostGlobs {
    /// Parses a comma-separated list of globs (case-insensitive; `*` spans dots).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut builder = GlobSetBuilder::new();
        let mut patterns = Vec::new();
        for pattern in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let glob = GlobBuilder::new(pattern)
                .case_insensitive(true)
                .literal_separator(false)
                .build()
                .map_err(|e| format!("'{pattern}' is not a valid glob: {e}"))?;
            builder.add(glob);
            patterns.push(pattern.to_string());
        }
        let set = builder.build().map_err(|e| e.to_string())?;
        Ok(HostGlobs { patterns, set })
    }

    /// Whether `host` (without port) matches any glob.
    pub fn matches(&self, host: &str) -> bool {
        self.set.is_match(host.trim_end_matches('.'))
    }

    /// The globs as given.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

impl PartialEq for HostGlobs {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
    }
}

/// The validated configuration of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `REMEDIATION_MODE`.
    pub remediation_mode: RemediationMode,
    /// `REMEDIATION_ALLOWED_HOSTS`.
    pub remediation_allowed_hosts: HostGlobs,
    /// `EXPIRY_WARNING_DAYS`.
    pub expiry_warning_days: u32,
    /// `SNS_TOPIC_ARN`; `None`: no publishing.
    pub sns_topic_arn: Option<String>,
    /// `NOTIFY`.
    pub notify: NotifyRule,
    /// `EKS_REGIONS`.
    pub eks_regions: EksRegions,
    /// `AUDIT_TRUST_POLICIES`.
    pub audit_trust_policies: bool,
    /// `PROBE_TIMEOUT_SECS`, as a duration.
    pub probe_timeout: Duration,
    /// `PROBE_CONCURRENCY`.
    pub probe_concurrency: usize,
    /// `EXTRA_TRUST_ANCHORS_PEM`.
    pub extra_trust_anchors_pem: Option<PathBuf>,
    /// `ALLOW_PRIVATE_ADDRESSES`.
    pub allow_private_addresses: bool,
    /// A limit set for one run by an explicit request (a CLI `--remediation-mode` flag or a Lambda
    /// event's `remediation_mode`): no provider tag can make that run write more. `None`: no limit
    /// beyond the modes themselves (the tag overrides `REMEDIATION_MODE`, as DESIGN says).
    pub remediation_ceiling: Option<RemediationMode>,
}

/// Every variable this module reads, for documentation and `--help`.
pub const VARIABLES: [&str; 11] = [
    "REMEDIATION_MODE",
    "REMEDIATION_ALLOWED_HOSTS",
    "EXPIRY_WARNING_DAYS",
    "SNS_TOPIC_ARN",
    "NOTIFY",
    "EKS_REGIONS",
    "AUDIT_TRUST_POLICIES",
    "PROBE_TIMEOUT_SECS",
    "PROBE_CONCURRENCY",
    "EXTRA_TRUST_ANCHORS_PEM",
    "ALLOW_PRIVATE_ADDRESSES",
];

/// Default of `REMEDIATION_ALLOWED_HOSTS`.
pub const DEFAULT_ALLOWED_HOSTS: &str = "oidc.eks.*.amazonaws.com";

impl Default for Config {
    fn default() -> Self {
        Config {
            remediation_mode: RemediationMode::Off,
            remediation_allowed_hosts: HostGlobs::parse(DEFAULT_ALLOWED_HOSTS)
                .unwrap_or_else(|_| unreachable!("the default glob is valid")),
            expiry_warning_days: 30,
            sns_topic_arn: None,
            notify: NotifyRule::Findings,
            eks_regions: EksRegions::Current,
            audit_trust_policies: true,
            probe_timeout: Duration::from_secs(10),
            probe_concurrency: 32,
            extra_trust_anchors_pem: None,
            allow_private_addresses: false,
            remediation_ceiling: None,
        }
    }
}

fn invalid(var: &'static str, value: &str, expected: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        value: value.to_string(),
        expected: expected.into(),
    }
}

fn parse_bool(var: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(invalid(var, value, "one of true, false")),
    }
}

fn parse_number<T: FromStr + PartialOrd + std::fmt::Display>(
    var: &'static str,
    value: &str,
    min: T,
    max: T,
) -> Result<T, ConfigError> {
    match value.trim().parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(invalid(
            var,
            value,
            format!("a whole number from {min} to {max}"),
        )),
    }
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|var| std::env::var(var).ok())
    }

    /// Reads the configuration through `lookup` (variable name → value). Unset and empty values take
    /// the default, except `REMEDIATION_ALLOWED_HOSTS`: set but empty means no host is allowed (only
    /// providers that opt in with their tag are remediated), never the default list.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |var: &str| lookup(var).filter(|v| !v.trim().is_empty());
        let mut config = Config::default();
        if let Some(v) = get("REMEDIATION_MODE") {
            config.remediation_mode = v
                .parse()
                .map_err(|_| invalid("REMEDIATION_MODE", &v, RemediationMode::ALLOWED))?;
        }
        if let Some(v) = lookup("REMEDIATION_ALLOWED_HOSTS") {
            config.remediation_allowed_hosts = HostGlobs::parse(&v).map_err(|problem| {
                invalid(
                    "REMEDIATION_ALLOWED_HOSTS",
                    &v,
                    format!(
                        "comma-separated host globs such as {DEFAULT_ALLOWED_HOSTS} ({problem})"
                    ),
                )
            })?;
        }
        if let Some(v) = get("EXPIRY_WARNING_DAYS") {
            config.expiry_warning_days = parse_number("EXPIRY_WARNING_DAYS", &v, 0, 3650)?;
        }
        if let Some(v) = get("SNS_TOPIC_ARN") {
            let v = v.trim().to_string();
            if !(v.starts_with("arn:") && v.split(':').count() == 6 && v.contains(":sns:")) {
                return Err(invalid(
                    "SNS_TOPIC_ARN",
                    &v,
                    "an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:thumbprint-guard",
                ));
            }
            config.sns_topic_arn = Some(v);
        }
        if let Some(v) = get("NOTIFY") {
            config.notify = v
                .parse()
                .map_err(|_| invalid("NOTIFY", &v, "one of findings, always, never"))?;
        }
        if let Some(v) = get("EKS_REGIONS") {
            config.eks_regions = parse_regions(&v)?;
        }
        if let Some(v) = get("AUDIT_TRUST_POLICIES") {
            config.audit_trust_policies = parse_bool("AUDIT_TRUST_POLICIES", &v)?;
        }
        if let Some(v) = get("PROBE_TIMEOUT_SECS") {
            config.probe_timeout =
                Duration::from_secs(parse_number("PROBE_TIMEOUT_SECS", &v, 1u64, 300)?);
        }
        if let Some(v) = get("PROBE_CONCURRENCY") {
            config.probe_concurrency = parse_number("PROBE_CONCURRENCY", &v, 1usize, 1024)?;
        }
        if let Some(v) = get("EXTRA_TRUST_ANCHORS_PEM") {
            config.extra_trust_anchors_pem = Some(PathBuf::from(v.trim()));
        }
        if let Some(v) = get("ALLOW_PRIVATE_ADDRESSES") {
            config.allow_private_addresses = parse_bool("ALLOW_PRIVATE_ADDRESSES", &v)?;
        }
        Ok(config)
    }

    /// The remediation mode for one provider: its tag if present, else the run's mode, never above
    /// the run's ceiling (off < dry-run < add).
    pub fn effective_mode(&self, tag_value: Option<&str>) -> Result<RemediationMode, String> {
        let mode = match tag_value {
            None => self.remediation_mode,
            Some(v) => v.parse().map_err(|_| {
                format!(
                    "tag {REMEDIATION_TAG} must be {}; got '{v}'",
                    RemediationMode::ALLOWED
                )
            })?,
        };
        Ok(match self.remediation_ceiling {
            Some(ceiling) if ceiling.rank() < mode.rank() => ceiling,
            _ => mode,
        })
    }
}

fn parse_regions(value: &str) -> Result<EksRegions, ConfigError> {
    if value.trim().eq_ignore_ascii_case("none") {
        return Ok(EksRegions::Disabled);
    }
    let mut regions = Vec::new();
    for region in value.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        let well_formed = region.len() <= 32
            && region.split('-').count() >= 3
            && region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !well_formed {
            return Err(invalid(
                "EKS_REGIONS",
                value,
                format!("'none' or comma-separated region names such as us-east-1,eu-west-1 ('{region}' is not one)"),
            ));
        }
        if !regions.iter().any(|r| r == region) {
            regions.push(region.to_string());
        }
    }
    Ok(EksRegions::List(regions))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_match_design() {
        let c = config(&[]).unwrap();
        assert_eq!(c.remediation_mode, RemediationMode::Off);
        assert_eq!(
            c.remediation_allowed_hosts.patterns(),
            ["oidc.eks.*.amazonaws.com"]
        );
        assert_eq!(c.expiry_warning_days, 30);
        assert_eq!(c.sns_topic_arn, None);
        assert_eq!(c.notify, NotifyRule::Findings);
        assert_eq!(c.eks_regions, EksRegions::Current);
        assert!(c.audit_trust_policies);
        assert_eq!(c.probe_timeout, Duration::from_secs(10));
        assert_eq!(c.probe_concurrency, 32);
        assert!(!c.allow_private_addresses);
    }

    #[test]
    fn bad_values_name_the_variable_and_the_allowed_values() {
        let err = config(&[("REMEDIATION_MODE", "yes")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "REMEDIATION_MODE must be one of off, dry-run, add; got 'yes'"
        );
        let err = config(&[("NOTIFY", "sometimes")]).unwrap_err().to_string();
        assert!(
            err.contains("NOTIFY") && err.contains("findings, always, never"),
            "{err}"
        );
        let err = config(&[("PROBE_CONCURRENCY", "0")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("PROBE_CONCURRENCY") && err.contains("'0'"),
            "{err}"
        );
        let err = config(&[("ALLOW_PRIVATE_ADDRESSES", "maybe")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("ALLOW_PRIVATE_ADDRESSES"), "{err}");
        let err = config(&[("EKS_REGIONS", "us-east-1,Mars")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("EKS_REGIONS") && err.contains("'Mars'"),
            "{err}"
        );
        let err = config(&[("SNS_TOPIC_ARN", "my-topic")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("SNS_TOPIC_ARN"), "{err}");
        let err = config(&[("REMEDIATION_ALLOWED_HOSTS", "oidc.[")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("REMEDIATION_ALLOWED_HOSTS"), "{err}");
    }

    #[test]
    fn globs_match_eks_hosts_only() {
        let c = config(&[]).unwrap();
        let globs = &c.remediation_allowed_hosts;
        assert!(globs.matches("oidc.eks.us-east-1.amazonaws.com"));
        assert!(globs.matches("OIDC.EKS.eu-west-1.amazonaws.com"));
        assert!(!globs.matches("oidc.eks.us-east-1.amazonaws.com.evil.example"));
        assert!(!globs.matches("token.actions.githubusercontent.com"));
        let two = HostGlobs::parse("a.example, *.b.example").unwrap();
        assert!(
            two.matches("x.b.example") && two.matches("a.example") && !two.matches("b.example")
        );
    }

    #[test]
    fn regions_parse() {
        assert_eq!(
            config(&[("EKS_REGIONS", "none")]).unwrap().eks_regions,
            EksRegions::Disabled
        );
        assert_eq!(
            config(&[("EKS_REGIONS", "us-east-1, eu-west-1,us-east-1")])
                .unwrap()
                .eks_regions,
            EksRegions::List(vec!["us-east-1".into(), "eu-west-1".into()])
        );
    }

    #[test]
    fn empty_allowed_hosts_allow_no_host_rather_than_the_default() {
        let c = config(&[("REMEDIATION_ALLOWED_HOSTS", "")]).unwrap();
        assert!(c.remediation_allowed_hosts.patterns().is_empty());
        assert!(!c
            .remediation_allowed_hosts
            .matches("oidc.eks.us-east-1.amazonaws.com"));
    }

    #[test]
    fn a_run_ceiling_caps_what_a_tag_can_do() {
        let mut c = config(&[("REMEDIATION_MODE", "off")]).unwrap();
        assert_eq!(c.effective_mode(Some("add")), Ok(RemediationMode::Add));
        c.remediation_ceiling = Some(RemediationMode::DryRun);
        assert_eq!(c.effective_mode(Some("add")), Ok(RemediationMode::DryRun));
        assert_eq!(c.effective_mode(Some("off")), Ok(RemediationMode::Off));
        c.remediation_ceiling = Some(RemediationMode::Off);
        assert_eq!(c.effective_mode(Some("dry-run")), Ok(RemediationMode::Off));
    }

    #[test]
    fn tag_overrides_mode() {
        let c = config(&[("REMEDIATION_MODE", "add")]).unwrap();
        assert_eq!(c.effective_mode(None), Ok(RemediationMode::Add));
        assert_eq!(c.effective_mode(Some("off")), Ok(RemediationMode::Off));
        assert!(c
            .effective_mode(Some("on"))
            .unwrap_err()
            .contains("thumbprint-guard/remediation"));
    }
}
