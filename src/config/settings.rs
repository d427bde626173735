//! The validated configuration of one run, read from a lookup of variable values.

use std::path::PathBuf;
use std::time::Duration;

use super::anchors::{check_trust_anchors_file, TRUST_ANCHORS_VAR};
use super::error::{invalid, ConfigError};
use super::mute::MuteRules;
use super::parse::{
    distinct, is_account_id, is_external_id, is_region, is_role_name, is_table_name, list_items,
    parse_bool, parse_number, parse_switch,
};
use super::values::{EksRegions, HostGlobs, NotifyRule, DEFAULT_ALLOWED_HOSTS};
use crate::report::FindingCode;
use crate::report::RemediationMode;

/// Organization mode: set when `ORGANIZATION_ROLE_NAME` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationConfig {
    /// `ORGANIZATION_ROLE_NAME`: the role assumed in each member account.
    pub role_name: String,
    /// `ORGANIZATION_ACCOUNTS`: sweep only these accounts; `None`: every ACTIVE account.
    pub accounts: Option<Vec<String>>,
    /// `ORGANIZATION_EXTERNAL_ID`: the `sts:ExternalId` sent when assuming the role.
    pub external_id: Option<String>,
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
    /// `PROBE_CONCURRENCY`: TLS connections open at once over all hosts and addresses.
    pub probe_concurrency: usize,
    /// `EXTRA_TRUST_ANCHORS_PEM`: a regular file of at most 1 MiB when read from the environment
    /// (read it with [`super::read_trust_anchors_pem`]).
    pub extra_trust_anchors_pem: Option<PathBuf>,
    /// `ALLOW_PRIVATE_ADDRESSES`.
    pub allow_private_addresses: bool,
    /// `ORGANIZATION_ROLE_NAME`, `ORGANIZATION_ACCOUNTS`, `ORGANIZATION_EXTERNAL_ID`; `None`: the
    /// run sweeps only the account of its credentials.
    pub organization: Option<OrganizationConfig>,
    /// `ACCOUNT_CONCURRENCY`: accounts swept at once in organization mode.
    pub account_concurrency: usize,
    /// `SECURITY_HUB`: `on` imports findings into AWS Security Hub.
    pub security_hub: bool,
    /// `KUBERNETES_CHECKS`: `on` reads each listed EKS cluster's Kubernetes API and Pod Identity
    /// associations and cross-checks them with IAM (DESIGN "In-cluster checks").
    pub kubernetes_checks: bool,
    /// `STATE_TABLE`: the DynamoDB table keeping open findings between runs.
    pub state_table: Option<String>,
    /// `REMIND_HOURS`: with `NOTIFY=changes`, re-notify a still-open critical finding after this.
    pub remind_hours: u32,
    /// `MUTE_FINDINGS`.
    pub mute_findings: MuteRules,
    /// A limit set for one run by an explicit request (a CLI `--remediation-mode` flag or a Lambda
    /// event's `remediation_mode`): no provider tag can make that run write more. `None`: no limit
    /// beyond the modes themselves (the tag overrides `REMEDIATION_MODE`, as DESIGN says).
    pub remediation_ceiling: Option<RemediationMode>,
}

/// Every variable this module reads, in DESIGN's order.
pub const VARIABLES: [&str; 20] = [
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
    "ORGANIZATION_ROLE_NAME",
    "ORGANIZATION_ACCOUNTS",
    "ORGANIZATION_EXTERNAL_ID",
    "ACCOUNT_CONCURRENCY",
    "SECURITY_HUB",
    "KUBERNETES_CHECKS",
    "STATE_TABLE",
    "REMIND_HOURS",
    "MUTE_FINDINGS",
];

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
            probe_concurrency: 128,
            extra_trust_anchors_pem: None,
            allow_private_addresses: false,
            organization: None,
            account_concurrency: 8,
            security_hub: false,
            kubernetes_checks: false,
            state_table: None,
            remind_hours: 24,
            mute_findings: MuteRules::default(),
            remediation_ceiling: None,
        }
    }
}

/// The process environment as a lookup: a value that is not valid UTF-8 is kept (lossily), so
/// validation rejects it with the variable's name instead of treating it as unset.
pub fn env_lookup(var: &str) -> Option<String> {
    std::env::var_os(var).map(|value| value.to_string_lossy().into_owned())
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env_lookup)
    }

    /// Reads the configuration through `lookup` (variable name → value). Unset, empty and blank
    /// values take the default, except `REMEDIATION_ALLOWED_HOSTS`: set but blank means no host is
    /// allowed (only providers that opt in with their tag are remediated), never the default list.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |var: &str| lookup(var).filter(|v| !v.trim().is_empty());
        let mut config = Config::default();
        if let Some(v) = get("REMEDIATION_MODE") {
            config.remediation_mode = v
                .parse()
                .map_err(|_| invalid("REMEDIATION_MODE", &v, RemediationMode::ALLOWED))?;
        }
        if let Some(v) = lookup("REMEDIATION_ALLOWED_HOSTS") {
            config.remediation_allowed_hosts = HostGlobs::parse(&v)?;
        }
        if let Some(v) = get("EXPIRY_WARNING_DAYS") {
            config.expiry_warning_days = parse_number("EXPIRY_WARNING_DAYS", &v, 0, 3650)?;
        }
        if let Some(v) = get("SNS_TOPIC_ARN") {
            config.sns_topic_arn = Some(parse_topic_arn(&v)?);
        }
        if let Some(v) = get("NOTIFY") {
            config.notify = v
                .parse()
                .map_err(|_| invalid("NOTIFY", &v, NotifyRule::ALLOWED))?;
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
        if let Some(v) = get(TRUST_ANCHORS_VAR) {
            let path = PathBuf::from(v.trim());
            check_trust_anchors_file(&path)?;
            config.extra_trust_anchors_pem = Some(path);
        }
        if let Some(v) = get("ALLOW_PRIVATE_ADDRESSES") {
            config.allow_private_addresses = parse_bool("ALLOW_PRIVATE_ADDRESSES", &v)?;
        }
        config.organization = parse_organization(&get)?;
        if let Some(v) = get("ACCOUNT_CONCURRENCY") {
            config.account_concurrency = parse_number("ACCOUNT_CONCURRENCY", &v, 1usize, 64)?;
        }
        if let Some(v) = get("SECURITY_HUB") {
            config.security_hub = parse_switch("SECURITY_HUB", &v)?;
        }
        if let Some(v) = get("KUBERNETES_CHECKS") {
            config.kubernetes_checks = parse_switch("KUBERNETES_CHECKS", &v)?;
        }
        if let Some(v) = get("STATE_TABLE") {
            let name = v.trim();
            if !is_table_name(name) {
                return Err(invalid(
                    "STATE_TABLE",
                    &v,
                    "a DynamoDB table name: 3 to 255 letters, digits, '_', '.' or '-'",
                ));
            }
            config.state_table = Some(name.to_string());
        }
        if let Some(v) = get("REMIND_HOURS") {
            config.remind_hours = parse_number("REMIND_HOURS", &v, 1u32, 8760)?;
        }
        if let Some(v) = get("MUTE_FINDINGS") {
            config.mute_findings = MuteRules::parse(&v)?;
        }
        if config.notify == NotifyRule::Changes && config.state_table.is_none() {
            return Err(ConfigError::Requires {
                var: "NOTIFY",
                value: "changes".into(),
                needs: "STATE_TABLE",
                why: "the DynamoDB table that remembers last run's findings",
            });
        }
        Ok(config)
    }

    /// The remediation mode for one provider: its tag if present, else the run's mode, never above
    /// the run's ceiling (off < dry-run < add).
    pub fn effective_mode(&self, tag_value: Option<&str>) -> Result<RemediationMode, ConfigError> {
        let mode = match tag_value {
            None => self.remediation_mode,
            Some(v) => v.parse().map_err(|_| ConfigError::Tag {
                value: v.to_string(),
            })?,
        };
        Ok(match self.remediation_ceiling {
            Some(ceiling) if ceiling.rank() < mode.rank() => ceiling,
            _ => mode,
        })
    }

    /// Whether `MUTE_FINDINGS` mutes a finding with `code` about `resource` (an ARN).
    pub fn is_muted(&self, code: FindingCode, resource: &str) -> bool {
        self.mute_findings.is_muted(code, resource)
    }
}

fn parse_topic_arn(value: &str) -> Result<String, ConfigError> {
    let arn = value.trim();
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() == 6 && parts[0] == "arn" && parts[2] == "sns" && !parts[5].is_empty() {
        return Ok(arn.to_string());
    }
    Err(invalid(
        "SNS_TOPIC_ARN",
        value,
        "an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:thumbprint-guard",
    ))
}

fn parse_regions(value: &str) -> Result<EksRegions, ConfigError> {
    if value.trim().eq_ignore_ascii_case("none") {
        return Ok(EksRegions::Disabled);
    }
    let expected = "'none' or comma-separated region names such as us-east-1,eu-west-1";
    let regions = list_items("EKS_REGIONS", value, expected)?;
    if let Some(bad) = regions.iter().find(|region| !is_region(region)) {
        return Err(invalid(
            "EKS_REGIONS",
            value,
            format!("{expected} ('{bad}' is not one)"),
        ));
    }
    Ok(EksRegions::List(distinct(regions)))
}

fn parse_organization(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<OrganizationConfig>, ConfigError> {
    let accounts = match get("ORGANIZATION_ACCOUNTS") {
        None => None,
        Some(v) => {
            let expected = "comma-separated 12-digit account ids such as 111122223333,444455556666";
            let ids = list_items("ORGANIZATION_ACCOUNTS", &v, expected)?;
            if let Some(bad) = ids.iter().find(|id| !is_account_id(id)) {
                return Err(invalid(
                    "ORGANIZATION_ACCOUNTS",
                    &v,
                    format!("{expected} ('{bad}' is not one)"),
                ));
            }
            Some(distinct(ids))
        }
    };
    let external_id = match get("ORGANIZATION_EXTERNAL_ID") {
        None => None,
        Some(v) if is_external_id(v.trim()) => Some(v.trim().to_string()),
        Some(v) => {
            return Err(invalid(
                "ORGANIZATION_EXTERNAL_ID",
                &v,
                "an sts:ExternalId: 2 to 1224 letters, digits or any of + = , . @ : / _ -",
            ))
        }
    };
    let Some(role) = get("ORGANIZATION_ROLE_NAME") else {
        let requires = |var: &'static str, value: String| ConfigError::Requires {
            var,
            value,
            needs: "ORGANIZATION_ROLE_NAME",
            why: "the role assumed in each member account",
        };
        if let Some(ids) = accounts {
            return Err(requires("ORGANIZATION_ACCOUNTS", ids.join(",")));
        }
        if let Some(id) = external_id {
            return Err(requires("ORGANIZATION_EXTERNAL_ID", id));
        }
        return Ok(None);
    };
    let role_name = role.trim();
    if !is_role_name(role_name) {
        return Err(invalid(
            "ORGANIZATION_ROLE_NAME",
            &role,
            "an IAM role name (no path): 1 to 64 letters, digits or any of + = , . @ _ -",
        ));
    }
    Ok(Some(OrganizationConfig {
        role_name: role_name.to_string(),
        accounts,
        external_id,
    }))
}
