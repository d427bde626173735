//! The Lambda: one sweep per EventBridge schedule event (or manual event with overrides).
//!
//! Clients, the trust store and the probe's HTTP client are built once here, at cold start, and
//! shared by every invocation. Logs are JSON lines on stdout (CloudWatch Logs).

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use thumbprint_guard::aws::{self, AwsClients};
use thumbprint_guard::config::ConfigError;
use thumbprint_guard::handler::{self, HandlerError, Runtime};
use thumbprint_guard::organization::{OrganizationClients, OrganizationSettings};
use thumbprint_guard::probe::ProbeContext;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Time kept back from the invocation's deadline for logging and publishing the report.
const RESERVE_MS: u64 = 15_000;

/// Logs a configuration error found at cold start with its stable `error_type`, so the
/// initialisation failure can be alarmed on like an invocation's.
fn invalid_configuration(error: ConfigError) -> Error {
    tracing::error!(error_type = "InvalidConfiguration", error = %error, "invalid configuration");
    error.into()
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // RUST_LOG as `target=level` directives (`info`, `thumbprint_guard=debug,aws_config=warn`),
    // parsed by tracing-subscriber's `Targets`: the directives a Lambda needs, without EnvFilter's
    // regex engine in the bootstrap. An unparseable value falls back to `info`, and says so.
    let rust_log = std::env::var("RUST_LOG").ok();
    let parsed = rust_log.as_deref().map(str::parse::<Targets>);
    let filter = match &parsed {
        Some(Ok(targets)) => targets.clone(),
        _ => Targets::new().with_default(tracing::Level::INFO),
    };
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(false)
                .without_time(),
        )
        .with(filter)
        .init();
    if let Some(Err(e)) = parsed {
        tracing::warn!(rust_log = rust_log.as_deref().unwrap_or_default(), error = %e, "RUST_LOG is not a list of target=level directives; logging at info");
    }
    let env = Runtime::env_snapshot();
    let config = Runtime::base_config(&env).map_err(invalid_configuration)?;
    let sdk = aws::load_sdk_config().await;
    let runtime = Runtime {
        aws: AwsClients::new(&sdk, &config),
        probe: ProbeContext::new(&config).map_err(invalid_configuration)?,
        env,
        organization: OrganizationSettings::from_config(&config)
            .map(|_| OrganizationClients::new(&sdk, &config)),
    };
    let runtime = &runtime;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = handler::probe_deadline(event.context.deadline, RESERVE_MS);
        let now = time::OffsetDateTime::now_utc();
        let emit = |line: &str| println!("{line}");
        handler::handle_event(runtime, &event.payload, now, deadline, &emit)
            .await
            .map_err(|e: HandlerError| {
                tracing::error!(error_type = e.error_type(), error = %e, "invocation failed");
                e
            })
    }))
    .await
}
