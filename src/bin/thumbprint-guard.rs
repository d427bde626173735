//! `thumbprint-guard`: the sweep from a laptop or cron, and `inspect` for one issuer.
//!
//! Exit codes (DESIGN): 0 no critical finding · 1 at least one · 2 usage or configuration error ·
//! 3 the sweep could not run (credentials, IAM listing, SNS publishing).

use std::process::ExitCode;

use aws_config::SdkConfig;
use clap::{Args, Parser, Subcommand};
use thumbprint_guard::aws::AwsClients;
use thumbprint_guard::aws::{self, AwsTarget};
use thumbprint_guard::config::{self, Config, ConfigError, OverrideSource, Overrides};
use thumbprint_guard::inventory::InventoryError;
use thumbprint_guard::probe::ProbeContext;
use thumbprint_guard::render::count;
use thumbprint_guard::report::Severity;
use thumbprint_guard::{inspect, memory, notify, organization, render, sweep};

#[path = "thumbprint-guard/terminal.rs"]
mod terminal;

#[derive(Parser)]
#[command(
    name = "thumbprint-guard",
    version,
    about = "Checks IAM OIDC providers (EKS IRSA) against what their issuers serve"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The forms `sweep` can print.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Output {
    /// A table for people, fitted to the terminal.
    Table,
    /// The whole report as JSON, for scripts.
    Json,
    /// The findings in Security Hub's format (ASFF); nothing is imported.
    Asff,
}

#[derive(Subcommand)]
enum Command {
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
struct AwsSettings {
    /// The AWS profile to use (from ~/.aws/config or ~/.aws/credentials); default: AWS_PROFILE,
    /// or the default credential chain.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// The AWS region to call (and the default of EKS_REGIONS); default: AWS_REGION, or the
    /// profile's region.
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
}

/// Flags that override the sweep's environment variables (same names, same values).
#[derive(Args)]
struct SweepSettings {
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
struct ProbeSettings {
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
fn overrides(
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
fn load_config(flags: Result<Overrides, ConfigError>) -> Result<Config, ExitCode> {
    flags
        .and_then(|flags| config::layer(config::env_lookup, &flags))
        .map_err(|e| {
            eprintln!("thumbprint-guard: configuration error: {e}");
            ExitCode::from(2)
        })
}

/// The SDK configuration for `aws` (profile and region flags over the environment), and where its
/// calls go. A profile asked for by name that no AWS file defines is exit code 3 before any call.
async fn load_sdk(aws: &AwsSettings) -> Result<(SdkConfig, AwsTarget), ExitCode> {
    let profile = aws.profile.clone().or_else(|| {
        std::env::var("AWS_PROFILE")
            .ok()
            .filter(|p| !p.trim().is_empty())
    });
    if let Some(profile) = &profile {
        if let Err(missing) = aws::check_profile(profile).await {
            eprintln!("thumbprint-guard: the sweep could not run: {missing}");
            return Err(ExitCode::from(3));
        }
    }
    let mut loader = aws::sdk_config_loader();
    if let Some(profile) = &aws.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = aws.region.as_deref().filter(|r| !r.trim().is_empty()) {
        loader = loader.region(aws_config::Region::new(region.trim().to_string()));
    }
    let sdk = loader.load().await;
    let target = AwsTarget::of(&sdk, profile.as_deref());
    if sdk.region().is_none() {
        eprintln!(
            "thumbprint-guard: no AWS region: give --region, set AWS_REGION, or set a region in the profile ({})",
            profile.as_deref().map_or_else(|| "default".to_string(), |p| format!("\"{p}\""))
        );
        return Err(ExitCode::from(2));
    }
    Ok((sdk, target))
}

/// Why the sweep could not run, on one line with where the failed call went.
fn explain_inventory(error: &InventoryError, target: &AwsTarget) -> String {
    match error {
        InventoryError::Identity(e) => {
            format!("cannot identify the account: {}", e.explain(target))
        }
        InventoryError::ListProviders(e) => {
            format!("cannot list IAM OIDC providers: {}", e.explain(target))
        }
        InventoryError::NoAccountId => error.to_string(),
    }
}

async fn run_sweep(config: Config, output: Output, aws_settings: &AwsSettings) -> ExitCode {
    let json = output == Output::Json;
    let (sdk, target) = match load_sdk(aws_settings).await {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let probe = match ProbeContext::new(&config) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("thumbprint-guard: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let now = time::OffsetDateTime::now_utc();
    if let Some(settings) = organization::OrganizationSettings::from_config(&config) {
        return run_organization(&sdk, &target, &probe, &config, &settings, now, output).await;
    }
    let aws = AwsClients::new(&sdk, &config);
    let progress = terminal::SweepProgress::start();
    let swept = sweep::run_with_progress(&aws, &probe, &config, now, None, progress.hook()).await;
    progress.clear();
    let mut report = match swept {
        Ok(report) => report,
        Err(e) => {
            eprintln!(
                "thumbprint-guard: the sweep could not run: {}",
                explain_inventory(&e, &target)
            );
            return ExitCode::from(3);
        }
    };
    let memory = memory::remember(&aws, &config, &mut report, now).await;
    if let Some(why) = memory.unavailable_reason() {
        eprintln!(
            "thumbprint-guard: the state table could not be used: {why}; findings are not marked new or open this run, and NOTIFY=changes follows the findings rule"
        );
    }
    if output == Output::Asff {
        let document = memory::asff_document(&report, &aws.region, now);
        match serde_json::to_string_pretty(&document) {
            Ok(text) => write_stdout(&format!("{text}\n")),
            Err(e) => {
                eprintln!("thumbprint-guard: cannot serialize the findings: {e}");
                return ExitCode::from(3);
            }
        }
    } else if json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => write_stdout(&format!("{text}\n")),
            Err(e) => {
                eprintln!("thumbprint-guard: cannot serialize the report: {e}");
                return ExitCode::from(3);
            }
        }
    } else {
        write_stdout(&render::table_for(
            &report,
            now,
            terminal::stdout_terminal(),
        ));
    }
    if output != Output::Asff {
        if let Some(Err(e)) = memory::import_to_security_hub(&aws, &config, &report, now).await {
            eprintln!(
                "thumbprint-guard: Security Hub import failed (the report above is complete): {e} ({})",
                target
            );
        }
    }
    let context = memory::message_context(&aws, &config, &memory).await;
    match notify::publish_with(&aws.sns, &config, &report, memory.changes(), &context).await {
        Ok(notify::NotifyOutcome::Published { parts, .. }) => {
            eprintln!(
                "thumbprint-guard: published to SNS ({})",
                count(parts, "message", "messages")
            )
        }
        Ok(notify::NotifyOutcome::NotSent { reason }) => tracing::info!(%reason, "no notification"),
        Err(e) => {
            eprintln!("thumbprint-guard: {e} ({target})");
            return ExitCode::from(3);
        }
    }
    if report.highest_severity() == Some(Severity::Critical) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Organization mode: every account through its member role, one report; exit 1 when any account
/// has a critical finding, 3 only when the account list cannot be read.
async fn run_organization(
    sdk: &SdkConfig,
    target: &AwsTarget,
    probe: &ProbeContext,
    config: &Config,
    settings: &organization::OrganizationSettings,
    now: time::OffsetDateTime,
    output: Output,
) -> ExitCode {
    // `--output asff` prints what would be imported and imports nothing, whatever SECURITY_HUB says.
    let config = &Config {
        security_hub: config.security_hub && output != Output::Asff,
        ..config.clone()
    };
    let clients = organization::OrganizationClients::new(sdk, config);
    let run = match organization::run(&clients, settings, probe, config, now, None).await {
        Ok(run) => run,
        Err(e) => {
            eprintln!(
                "thumbprint-guard: the organization sweep could not run: {e} ({})",
                target
            );
            return ExitCode::from(e.exit_code());
        }
    };
    let report = &run.report;
    if output == Output::Asff {
        let region = sdk.region().map(|r| r.to_string()).unwrap_or_default();
        let document = report.asff_document(&run.caller_account, &region, now);
        match serde_json::to_string_pretty(&document) {
            Ok(text) => write_stdout(&format!("{text}\n")),
            Err(e) => {
                eprintln!("thumbprint-guard: cannot serialize the findings: {e}");
                return ExitCode::from(3);
            }
        }
    } else if output == Output::Json {
        match serde_json::to_string_pretty(report) {
            Ok(text) => write_stdout(&format!("{text}\n")),
            Err(e) => {
                eprintln!("thumbprint-guard: cannot serialize the report: {e}");
                return ExitCode::from(3);
            }
        }
    } else {
        write_stdout(&render::organization_table_for(
            report,
            now,
            terminal::stdout_terminal(),
        ));
    }
    for account in &run.accounts {
        if let Some(why) = account.memory.unavailable_reason() {
            eprintln!(
                "thumbprint-guard: account {}: the state table could not be used: {why}",
                account.account_id
            );
        }
    }
    match notify::publish_organization_if_needed(&clients.central.sns, config, &run).await {
        Ok(notify::NotifyOutcome::Published { parts, .. }) => eprintln!(
            "thumbprint-guard: published to SNS ({})",
            count(parts, "message", "messages")
        ),
        Ok(notify::NotifyOutcome::NotSent { reason }) => tracing::info!(%reason, "no notification"),
        Err(e) => {
            eprintln!("thumbprint-guard: {e} ({target})");
            return ExitCode::from(3);
        }
    }
    ExitCode::from(report.exit_code())
}

/// Writes the report to stdout. A closed pipe (`sweep --json | head`) is not a failure of the
/// sweep: the exit code still says what was found, and SNS still gets the report.
fn write_stdout(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("thumbprint-guard: cannot write the report to stdout: {e}");
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(terminal::stderr_ansi())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("thumbprint-guard: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Sweep {
                output,
                json,
                aws,
                sweep,
                probe,
            } => {
                let output = if json { Output::Json } else { output };
                match load_config(overrides(Some(&sweep), &probe)) {
                    Ok(config) => run_sweep(config, output, &aws).await,
                    Err(code) => code,
                }
            }
            Command::Inspect { url, json, probe } => match load_config(overrides(None, &probe)) {
                Ok(config) => run_inspect(&config, &url, json).await,
                Err(code) => code,
            },
        }
    })
}

/// `inspect URL`: probe one issuer, print the result, exit 0/1 (2 for a bad URL or configuration).
async fn run_inspect(config: &Config, url: &str, json: bool) -> ExitCode {
    let usage = |e: inspect::InspectError| {
        eprintln!("thumbprint-guard inspect: {e}");
        ExitCode::from(inspect::InspectError::EXIT_CODE as u8)
    };
    let issuer = match inspect::issuer_url(url) {
        Ok(issuer) => issuer,
        Err(e) => return usage(e),
    };
    let ctx = match thumbprint_guard::probe::ProbeContext::new(config) {
        Ok(ctx) => ctx,
        Err(e) => return usage(e.into()),
    };
    let probe = thumbprint_guard::probe::probe_issuer(
        &ctx,
        &issuer,
        &thumbprint_guard::probe::HostCache::new(),
    )
    .await;
    let now = time::OffsetDateTime::now_utc();
    let report = inspect::build_report(&issuer, &probe, config.expiry_warning_days, now);
    let output = if json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => text + "\n",
            Err(e) => {
                eprintln!("thumbprint-guard inspect: the result cannot be serialized: {e}");
                return ExitCode::from(3);
            }
        }
    } else {
        inspect::render_text(&report, now)
    };
    write_stdout(&output);
    ExitCode::from(u8::try_from(inspect::exit_code(&report)).unwrap_or(1))
}
