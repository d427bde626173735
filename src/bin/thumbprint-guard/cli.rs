//! The command line: subcommands, flags, and the flags as overrides of the variables they stand
//! for (clap's derive).

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use thumbprint_guard::config::{self, Config, ConfigError, OverrideSource, Overrides};

#[derive(Parser)]
#[command(
    name = "thumbprint-guard",
    version,
    about = "Checks IAM OIDC providers (EKS IRSA) against what their issuers serve"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The forms `sweep` can print.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// A table for people, fitted to the terminal.
    Table,
    /// The whole report as JSON, for scripts.
    Json,
    /// The findings in Security Hub's format (ASFF); nothing is imported.
    Asff,
}

#[derive(Subcommand)]
pub enum Command {
    /// Sweep the account the AWS credentials point at (every IAM OIDC provider, EKS cluster, role).
    Sweep {
        /// What to print.
        #[arg(long, value_enum, default_value_t = Output::Table)]
        output: Output,
        /// Same as `--output json`.
        #[arg(long, conflicts_with = "output")]
        json: bool,
        #[command(flatten)]
        aws: AwsSettings,
        #[command(flatten)]
        sweep: Box<SweepSettings>,
        #[command(flatten)]
        probe: ProbeSettings,
    },
    /// Probe one issuer URL (no AWS needed): chain, thumbprint to configure, expiry, problems.
    Inspect {
        /// The issuer URL, e.g. https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE.
        url: String,
        /// Print the provider-shaped JSON object instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        probe: ProbeSettings,
    },
}

/// Which AWS credentials and region the sweep uses (as the aws CLI's flags of the same names).
#[derive(Args)]
pub struct AwsSettings {
    /// The AWS profile to use (from ~/.aws/config or ~/.aws/credentials); default: AWS_PROFILE,
    /// or the default credential chain.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// The AWS region to call (and the default of EKS_REGIONS); default: AWS_REGION, or the
    /// profile's region.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

/// Flags that override the sweep's environment variables (same names, same values).
#[derive(Args)]
pub struct SweepSettings {
    /// REMEDIATION_MODE: off, dry-run or add. As a flag it is also the most this run may do: a
    /// provider tagged thumbprint-guard/remediation=add is then only planned (dry-run) or left (off).
    #[arg(long, value_name = "MODE")]
    remediation_mode: Option<String>,
    /// REMEDIATION_ALLOWED_HOSTS: comma-separated host globs.
    #[arg(long, value_name = "GLOBS")]
    remediation_allowed_hosts: Option<String>,
    /// SNS_TOPIC_ARN: publish findings there.
    #[arg(long, value_name = "ARN")]
    sns_topic_arn: Option<String>,
    /// NOTIFY: findings, changes (needs a state table), always or never.
    #[arg(long, value_name = "RULE")]
    notify: Option<String>,
    /// EKS_REGIONS: comma-separated regions, or none.
    #[arg(long, value_name = "REGIONS")]
    eks_regions: Option<String>,
    /// AUDIT_TRUST_POLICIES: true or false.
    #[arg(long, value_name = "BOOL")]
    audit_trust_policies: Option<String>,
    /// PROBE_CONCURRENCY: TLS connections open at once (1-1024).
    #[arg(long, value_name = "N")]
    probe_concurrency: Option<String>,
    /// ORGANIZATION_ROLE_NAME: sweep the organization's accounts through this role.
    #[arg(long, value_name = "ROLE")]
    organization_role_name: Option<String>,
    /// ORGANIZATION_ACCOUNTS: comma-separated account ids to sweep (with --organization-role-name).
    #[arg(long, value_name = "IDS")]
    organization_accounts: Option<String>,
    /// ORGANIZATION_EXTERNAL_ID: sts:ExternalId sent when assuming the member role.
    #[arg(long, value_name = "ID")]
    organization_external_id: Option<String>,
    /// ACCOUNT_CONCURRENCY: accounts swept at once in organization mode (1-64).
    #[arg(long, value_name = "N")]
    account_concurrency: Option<String>,
    /// SECURITY_HUB: on to import findings into AWS Security Hub, off not to.
    #[arg(long, value_name = "off|on")]
    security_hub: Option<String>,
    /// KUBERNETES_CHECKS: on to read each EKS cluster's Kubernetes API and Pod Identity
    /// associations and cross-check them with IAM, off not to.
    #[arg(long, value_name = "off|on")]
    kubernetes_checks: Option<String>,
    /// STATE_TABLE: DynamoDB table keeping open findings between runs.
    #[arg(long, value_name = "TABLE")]
    state_table: Option<String>,
    /// REMIND_HOURS: with --notify changes, re-notify an open critical finding after this (1-8760).
    #[arg(long, value_name = "HOURS")]
    remind_hours: Option<String>,
    /// MUTE_FINDINGS: CODE or CODE@ARN-GLOB to mute; repeat the flag or separate with commas.
    #[arg(long, value_name = "CODE[@ARN-GLOB]")]
    mute: Vec<String>,
}

/// Flags that override the probe's environment variables.
#[derive(Args)]
pub struct ProbeSettings {
    /// EXPIRY_WARNING_DAYS: warn when a served certificate expires within this many days.
    #[arg(long, value_name = "DAYS")]
    expiry_warning_days: Option<String>,
    /// PROBE_TIMEOUT_SECS: bound on each network step.
    #[arg(long, value_name = "SECS")]
    probe_timeout_secs: Option<String>,
    /// EXTRA_TRUST_ANCHORS_PEM: PEM file of CA certificates trusted besides Mozilla's roots.
    #[arg(long, value_name = "FILE")]
    extra_trust_anchors_pem: Option<String>,
    /// ALLOW_PRIVATE_ADDRESSES: true to allow loopback and private-range issuers.
    #[arg(long, value_name = "BOOL")]
    allow_private_addresses: Option<String>,
}

/// The flags given, as overrides of the variables they stand for.
pub fn overrides(
    sweep: Option<&SweepSettings>,
    probe: &ProbeSettings,
) -> Result<Overrides, ConfigError> {
    let mut pairs = vec![
        ("EXPIRY_WARNING_DAYS", probe.expiry_warning_days.clone()),
        ("PROBE_TIMEOUT_SECS", probe.probe_timeout_secs.clone()),
        (
            "EXTRA_TRUST_ANCHORS_PEM",
            probe.extra_trust_anchors_pem.clone(),
        ),
        (
            "ALLOW_PRIVATE_ADDRESSES",
            probe.allow_private_addresses.clone(),
        ),
    ];
    if let Some(s) = sweep {
        pairs.extend([
            ("REMEDIATION_MODE", s.remediation_mode.clone()),
            (
                "REMEDIATION_ALLOWED_HOSTS",
                s.remediation_allowed_hosts.clone(),
            ),
            ("SNS_TOPIC_ARN", s.sns_topic_arn.clone()),
            ("NOTIFY", s.notify.clone()),
            ("EKS_REGIONS", s.eks_regions.clone()),
            ("AUDIT_TRUST_POLICIES", s.audit_trust_policies.clone()),
            ("PROBE_CONCURRENCY", s.probe_concurrency.clone()),
            ("ORGANIZATION_ROLE_NAME", s.organization_role_name.clone()),
            ("ORGANIZATION_ACCOUNTS", s.organization_accounts.clone()),
            (
                "ORGANIZATION_EXTERNAL_ID",
                s.organization_external_id.clone(),
            ),
            ("ACCOUNT_CONCURRENCY", s.account_concurrency.clone()),
            ("SECURITY_HUB", s.security_hub.clone()),
            ("KUBERNETES_CHECKS", s.kubernetes_checks.clone()),
            ("STATE_TABLE", s.state_table.clone()),
            ("REMIND_HOURS", s.remind_hours.clone()),
            (
                "MUTE_FINDINGS",
                (!s.mute.is_empty()).then(|| s.mute.join(",")),
            ),
        ]);
    }
    let mut overrides = Overrides::new(OverrideSource::Cli);
    for (var, value) in pairs {
        if let Some(value) = value {
            overrides.set(var, value)?;
        }
    }
    Ok(overrides)
}

/// The run's configuration: environment, flags on top, the flags' ceiling; a configuration error
/// is exit code 2.
pub fn load_config(flags: Result<Overrides, ConfigError>) -> Result<Config, ExitCode> {
    flags
        .and_then(|flags| config::layer(config::env_lookup, &flags))
        .map_err(|e| {
            eprintln!("thumbprint-guard: configuration error: {e}");
            ExitCode::from(2)
        })
}
