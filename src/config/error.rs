//! What can be wrong with a configuration value.

use std::path::PathBuf;

use crate::report::{RemediationMode, REMEDIATION_TAG};

/// Who asked for a setting for one run, on top of the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverrideSource {
    /// A flag of the `thumbprint-guard` CLI.
    Cli,
    /// A field of the Lambda's event.
    LambdaEvent,
}

impl std::fmt::Display for OverrideSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OverrideSource::Cli => "a CLI flag",
            OverrideSource::LambdaEvent => "a Lambda event",
        })
    }
}

/// A configuration value that cannot be used. Every message names the variable, the value and
/// what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    /// A setting that only works together with another one, which is unset.
    #[error("{var}={value} needs {needs} ({why}); {needs} is unset")]
    Requires {
        /// The variable that was set.
        var: &'static str,
        /// Its value.
        value: String,
        /// The variable it needs.
        needs: &'static str,
        /// What the needed variable is for.
        why: &'static str,
    },
    /// A variable that this kind of override may not change.
    #[error("{var} cannot be changed by {by} (it can be set in the environment only); {by} may change {allowed}")]
    NotOverridable {
        /// The variable.
        var: &'static str,
        /// Who tried.
        by: OverrideSource,
        /// What that source may change, comma-separated.
        allowed: String,
    },
    /// A Lambda event asks for a mode that writes while the function's own mode does not.
    #[error("REMEDIATION_MODE={requested} asked for by {by} exceeds the function's REMEDIATION_MODE={configured}: it may ask for dry-run or off, and for add only when the function is configured with add")]
    RaisesRemediation {
        /// Who asked.
        by: OverrideSource,
        /// The mode of the function's environment.
        configured: RemediationMode,
        /// The mode asked for.
        requested: RemediationMode,
    },
    /// A provider's remediation tag holds an unknown value.
    #[error(
        "tag {REMEDIATION_TAG} must be {}; got '{value}'",
        RemediationMode::ALLOWED
    )]
    Tag {
        /// The tag's value.
        value: String,
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

impl ConfigError {
    /// The variable the error is about (`None` for a tag or the TLS set-up).
    pub fn variable(&self) -> Option<&'static str> {
        match self {
            ConfigError::Invalid { var, .. }
            | ConfigError::File { var, .. }
            | ConfigError::Requires { var, .. }
            | ConfigError::NotOverridable { var, .. } => Some(var),
            ConfigError::RaisesRemediation { .. } => Some("REMEDIATION_MODE"),
            ConfigError::Tag { .. } | ConfigError::Tls { .. } => None,
        }
    }
}

/// Shorthand for [`ConfigError::Invalid`].
pub(super) fn invalid(var: &'static str, value: &str, expected: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        value: value.to_string(),
        expected: expected.into(),
    }
}
