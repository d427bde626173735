//! The AWS side of the CLI: the SDK configuration its flags ask for, and why a run could not run,
//! said with where the failed call went.

use std::process::ExitCode;

use aws_config::SdkConfig;
use thumbprint_guard::aws::{self, AwsTarget};
use thumbprint_guard::inventory::InventoryError;

use crate::cli::AwsSettings;

/// The SDK configuration for `aws` (profile and region flags over the environment), and where its
/// calls go. A profile asked for by name that no AWS file defines is exit code 3 before any call.
pub async fn load_sdk(aws: &AwsSettings) -> Result<(SdkConfig, AwsTarget), ExitCode> {
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
pub fn explain_inventory(error: &InventoryError, target: &AwsTarget) -> String {
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
