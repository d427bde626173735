//! `MUTE_FINDINGS`: finding codes, optionally limited to resources by an ARN glob.

use globset::{GlobBuilder, GlobMatcher};

use super::error::{invalid, ConfigError};
use super::parse::list_items;
use crate::report::FindingCode;

const VAR: &str = "MUTE_FINDINGS";

/// One `CODE` or `CODE@ARN-GLOB` of `MUTE_FINDINGS`.
#[derive(Debug, Clone)]
pub struct MuteRule {
    /// The muted code.
    pub code: FindingCode,
    /// The ARN glob as given (`*` also spans `/` and `:`), `None`: every resource.
    pub resource_glob: Option<String>,
    matcher: Option<GlobMatcher>,
}

impl MuteRule {
    /// Whether this rule mutes a finding with `code` about `resource`.
    pub fn matches(&self, code: FindingCode, resource: &str) -> bool {
        self.code == code
            && self
                .matcher
                .as_ref()
                .is_none_or(|matcher| matcher.is_match(resource))
    }
}

impl PartialEq for MuteRule {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code && self.resource_glob == other.resource_glob
    }
}

/// The rules of `MUTE_FINDINGS`; empty when it is unset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MuteRules {
    rules: Vec<MuteRule>,
}

impl MuteRules {
    /// Parses `MUTE_FINDINGS`: comma-separated `CODE` or `CODE@ARN-GLOB`, codes as DESIGN spells
    /// them (`CERT_EXPIRING`), globs matched case-sensitively against the whole ARN.
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let codes: Vec<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
        let shape = "comma-separated CODE or CODE@ARN-GLOB";
        let mut rules = Vec::new();
        for item in list_items(VAR, value, shape)? {
            let (name, glob) = match item.split_once('@') {
                Some((name, glob)) => (name.trim(), Some(glob.trim())),
                None => (item, None),
            };
            let code = FindingCode::from_name(name).ok_or_else(|| {
                invalid(
                    VAR,
                    value,
                    format!(
                        "{shape} where CODE is one of {} ('{name}' is not one)",
                        codes.join(", ")
                    ),
                )
            })?;
            let matcher = match glob {
                None => None,
                Some("") => {
                    return Err(invalid(
                        VAR,
                        value,
                        format!("{shape} ('{item}' has nothing after '@')"),
                    ))
                }
                Some(glob) => Some(
                    GlobBuilder::new(glob)
                        .literal_separator(false)
                        .build()
                        .map_err(|e| {
                            invalid(
                                VAR,
                                value,
                                format!("{shape} ('{glob}' is not a valid glob: {e})"),
                            )
                        })?
                        .compile_matcher(),
                ),
            };
            rules.push(MuteRule {
                code,
                resource_glob: glob.map(str::to_string),
                matcher,
            });
        }
        Ok(MuteRules { rules })
    }

    /// Whether any rule mutes a finding with `code` about `resource` (an ARN).
    pub fn is_muted(&self, code: FindingCode, resource: &str) -> bool {
        self.rules.iter().any(|rule| rule.matches(code, resource))
    }

    /// The rules, in the order given.
    pub fn rules(&self) -> &[MuteRule] {
        &self.rules
    }

    /// Whether no finding is muted.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVIDER: &str =
        "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE";
    const ROLE: &str = "arn:aws:iam::123456789012:role/legacy/ci-deployer";

    #[test]
    fn a_code_alone_mutes_it_everywhere() {
        let rules = MuteRules::parse("ORPHAN_PROVIDER").unwrap();
        assert!(rules.is_muted(FindingCode::OrphanProvider, PROVIDER));
        assert!(rules.is_muted(FindingCode::OrphanProvider, ROLE));
        assert!(!rules.is_muted(FindingCode::CertExpiring, PROVIDER));
    }

    #[test]
    fn a_glob_limits_the_mute_to_matching_resources() {
        let rules =
            MuteRules::parse("TRUST_POLICY_NO_AUD@arn:aws:iam::123456789012:role/legacy/*, CERT_EXPIRING@*/id/EXAMPLE")
                .unwrap();
        assert!(rules.is_muted(FindingCode::TrustPolicyNoAud, ROLE));
        assert!(!rules.is_muted(
            FindingCode::TrustPolicyNoAud,
            "arn:aws:iam::123456789012:role/prod"
        ));
        assert!(!rules.is_muted(FindingCode::TrustPolicyNoSub, ROLE));
        assert!(rules.is_muted(FindingCode::CertExpiring, PROVIDER));
        assert!(!rules.is_muted(FindingCode::CertExpiring, &format!("{PROVIDER}2")));
        // ARNs are case-sensitive.
        assert!(!rules.is_muted(FindingCode::CertExpiring, &PROVIDER.to_lowercase()));
        assert_eq!(rules.rules().len(), 2);
        assert_eq!(
            rules.rules()[1].resource_glob.as_deref(),
            Some("*/id/EXAMPLE")
        );
    }

    #[test]
    fn every_code_of_the_report_can_be_muted() {
        for code in FindingCode::ALL {
            let rules = MuteRules::parse(code.as_str()).unwrap();
            assert!(rules.is_muted(code, ROLE), "{code}");
        }
        assert!(MuteRules::default().is_empty());
    }

    #[test]
    fn bad_entries_name_the_variable_and_the_allowed_codes() {
        let err = MuteRules::parse("CERT_EXPIRNG").unwrap_err().to_string();
        assert!(err.starts_with("MUTE_FINDINGS must be"), "{err}");
        assert!(
            err.contains("'CERT_EXPIRNG'") && err.contains("CERT_EXPIRING, ISSUER_UNREACHABLE"),
            "{err}"
        );
        let err = MuteRules::parse("cert_expiring").unwrap_err().to_string();
        assert!(err.contains("'cert_expiring' is not one"), "{err}");
        for bad in [
            "CERT_EXPIRING@",
            "CERT_EXPIRING,",
            "CERT_EXPIRING,,ORPHAN_PROVIDER",
            "@arn:*",
            "CERT_EXPIRING@arn:[",
            ",",
        ] {
            let err = MuteRules::parse(bad).unwrap_err();
            assert_eq!(err.variable(), Some("MUTE_FINDINGS"), "{bad}");
            assert!(err.to_string().contains(&format!("got '{bad}'")), "{err}");
        }
    }
}
