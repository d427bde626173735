//! Whether an AWS profile asked for by name exists, checked the way the aws CLI does.

/// An AWS profile asked for by name that neither AWS file defines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the AWS profile \"{profile}\" could not be found in {files}: create it with \"aws configure --profile {profile}\", or choose another with --profile or AWS_PROFILE")]
pub struct MissingProfile {
    /// The profile's name.
    pub profile: String,
    /// The files looked in, as a person names them.
    pub files: String,
}

/// Checks, as the aws CLI does, that a profile asked for by name is defined in the AWS config or
/// credentials file (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`, or their `~/.aws`
/// defaults), read with the SDK's own parser. `default` may be absent (credentials can come from
/// the environment); files that do not parse are left for the SDK to report.
pub async fn check_profile(profile: &str) -> Result<(), MissingProfile> {
    if profile == "default" {
        return Ok(());
    }
    use aws_types::os_shim_internal::{Env, Fs};
    let set = aws_config::profile::load(
        &Fs::real(),
        &Env::real(),
        &Default::default(),
        Some(profile.to_string().into()),
    )
    .await;
    match set {
        Ok(set) if set.get_profile(profile).is_some() => Ok(()),
        Err(error) => {
            tracing::debug!(%error, "the AWS profile files could not be read");
            Ok(())
        }
        Ok(_) => {
            let file = |var: &str, default: &str| {
                std::env::var(var)
                    .ok()
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| format!("{v} ({var})"))
                    .unwrap_or_else(|| default.to_string())
            };
            Err(MissingProfile {
                profile: profile.to_string(),
                files: format!(
                    "{} or {}",
                    file("AWS_CONFIG_FILE", "~/.aws/config"),
                    file("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
                ),
            })
        }
    }
}
