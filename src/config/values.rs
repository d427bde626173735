//! The typed values of the settings: modes, rules, region lists, host globs.

use std::str::FromStr;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use super::error::{invalid, ConfigError};
use super::parse::list_items;

/// Default of `REMEDIATION_ALLOWED_HOSTS`.
pub const DEFAULT_ALLOWED_HOSTS: &str = "oidc.eks.*.amazonaws.com";

/// When to publish to SNS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyRule {
    /// When there is a warning, a critical finding or a change.
    #[default]
    Findings,
    /// When a finding is new, its severity rose or a finding was resolved, and every
    /// `REMIND_HOURS` for a still-open critical finding (needs `STATE_TABLE`).
    Changes,
    /// Every run (a heartbeat).
    Always,
    /// Never.
    Never,
}

impl NotifyRule {
    /// Allowed spellings, for error messages.
    pub const ALLOWED: &'static str = "one of findings, changes, always, never";
}

impl FromStr for NotifyRule {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.trim() {
            "findings" => Ok(NotifyRule::Findings),
            "changes" => Ok(NotifyRule::Changes),
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
    /// These regions (at least one, no duplicates).
    List(Vec<String>),
}

/// Host globs whose thumbprints may be added automatically.
#[derive(Debug, Clone)]
pub struct HostGlobs {
    patterns: Vec<String>,
    set: GlobSet,
}

impl HostGlobs {
    /// The variable these globs come from, named in errors.
    const VAR: &'static str = "REMEDIATION_ALLOWED_HOSTS";

    /// Parses a comma-separated list of globs (case-insensitive; `*` spans dots). A blank list
    /// allows no host; an empty element (`a,,b`, a trailing comma) is an error.
    pub fn parse(list: &str) -> Result<Self, ConfigError> {
        let expected = |problem: String| {
            format!("comma-separated host globs such as {DEFAULT_ALLOWED_HOSTS} ({problem})")
        };
        let mut builder = GlobSetBuilder::new();
        let mut patterns = Vec::new();
        let items = if list.trim().is_empty() {
            Vec::new()
        } else {
            list_items(Self::VAR, list, &expected("no empty element".into()))?
        };
        for pattern in items {
            let glob = GlobBuilder::new(pattern)
                .case_insensitive(true)
                .literal_separator(false)
                .build()
                .map_err(|e| {
                    invalid(
                        Self::VAR,
                        list,
                        expected(format!("'{pattern}' is not a valid glob: {e}")),
                    )
                })?;
            builder.add(glob);
            patterns.push(pattern.to_string());
        }
        let set = builder
            .build()
            .map_err(|e| invalid(Self::VAR, list, expected(e.to_string())))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_eks_hosts_only() {
        let globs = HostGlobs::parse(DEFAULT_ALLOWED_HOSTS).unwrap();
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
    fn a_blank_host_list_allows_no_host() {
        for blank in ["", "  "] {
            let globs = HostGlobs::parse(blank).unwrap();
            assert!(globs.patterns().is_empty());
            assert!(!globs.matches("oidc.eks.us-east-1.amazonaws.com"));
        }
    }

    #[test]
    fn an_empty_glob_element_is_an_error() {
        for bad in [",", "a.example,,b.example", "a.example,", " , a.example"] {
            let err = HostGlobs::parse(bad).unwrap_err();
            assert_eq!(err.variable(), Some("REMEDIATION_ALLOWED_HOSTS"), "{bad}");
            assert!(err.to_string().contains(&format!("'{bad}'")), "{err}");
        }
    }

    #[test]
    fn rules_round_trip() {
        assert_eq!("changes".parse(), Ok(NotifyRule::Changes));
        assert_eq!("sometimes".parse::<NotifyRule>(), Err(()));
    }
}
