//! The run's remediation mode, as the report states it and the configuration sets it.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The IAM tag on a provider that overrides `REMEDIATION_MODE` for it.
pub const REMEDIATION_TAG: &str = "thumbprint-guard/remediation";

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

    /// Whether the mode writes to IAM: only `add` does (`dry-run` plans, writes nothing).
    pub fn writes(self) -> bool {
        self == RemediationMode::Add
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_round_trip() {
        for mode in [
            RemediationMode::Off,
            RemediationMode::DryRun,
            RemediationMode::Add,
        ] {
            assert_eq!(mode.as_str().parse(), Ok(mode));
        }
        assert!(RemediationMode::Add.writes() && !RemediationMode::DryRun.writes());
    }
}
