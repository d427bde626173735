//! Human rendering of a report: the terminal table and the manual fix for each finding.
//!
//! Pure functions of the report (and `now` for "days left"), shared by the CLI and the e-mail text.

use std::fmt::Write as _;

use time::OffsetDateTime;

use crate::report::{Finding, FindingCode, ProviderReport, RemediationOutcome, Report, Severity};

/// IAM's limit on thumbprints per provider.
pub const MAX_THUMBPRINTS: usize = 5;

/// The audience STS expects for IRSA.
pub const STS_AUDIENCE: &str = "sts.amazonaws.com";

fn provider<'a>(report: &'a Report, arn: &str) -> Option<&'a ProviderReport> {
    report.providers.iter().find(|p| p.arn == arn)
}

/// The role name of a role ARN (`arn:aws:iam::1:role/path/NAME` → `NAME`).
fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Distinct top thumbprints served by endpoints whose chain was trusted: the only ones a person
/// should be told to add (an untrusted chain may be a man in the middle).
pub fn trusted_served_thumbprints(provider: &ProviderReport) -> Vec<&String> {
    let mut trusted: Vec<&String> = Vec::new();
    for top in provider
        .endpoints
        .iter()
        .filter(|e| e.trusted)
        .filter_map(|e| e.top_thumbprint.as_ref())
    {
        if !trusted.contains(&top) {
            trusted.push(top);
        }
    }
    trusted
}

/// The exact thumbprint list a person should write: what is configured (still served entries first
/// when the list is full), then every thumbprint a trusted chain serves that is missing, at most five.
pub fn repaired_thumbprint_list(provider: &ProviderReport) -> Vec<String> {
    let missing: Vec<&String> = trusted_served_thumbprints(provider)
        .into_iter()
        .filter(|t| !provider.configured_thumbprints.contains(t))
        .collect();
    let room = MAX_THUMBPRINTS.saturating_sub(missing.len());
    let mut keep: Vec<&String> = provider.configured_thumbprints.iter().collect();
    if keep.len() > room {
        // Drop configured entries that no address serves any more, oldest last-listed first.
        let (served, stale): (Vec<&String>, Vec<&String>) = keep
            .iter()
            .partition(|t| provider.served_thumbprints.contains(t));
        keep = served.into_iter().chain(stale).take(room).collect();
        keep.sort_by_key(|t| provider.configured_thumbprints.iter().position(|c| c == *t));
    }
    keep.into_iter().chain(missing).cloned().collect()
}

/// The command (or short procedure) that fixes `finding` by hand; `None` when there is nothing to do.
pub fn manual_fix(finding: &Finding, report: &Report) -> Option<String> {
    let arn = finding.resource.as_str();
    let detail = |key: &str| {
        finding
            .details
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let url = provider(report, arn)
        .map(|p| p.url.clone())
        .or_else(|| detail("url"));
    match finding.code {
        FindingCode::ThumbprintMismatch => {
            let p = provider(report, arn)?;
            let untrusted = detail("thumbprint")
                .filter(|t| !trusted_served_thumbprints(p).contains(&t));
            if let Some(thumbprint) = untrusted {
                return Some(format!(
                    "do not add {thumbprint}: the chain that serves it is not trusted or has expired (see the CHAIN_UNTRUSTED / CERT_EXPIRED finding), so it may be a man in the middle. Fix the chain, or verify the issuer out of band (`thumbprint-guard inspect {}`), first",
                    p.url
                ));
            }
            Some(format!(
                "aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn {arn} --thumbprint-list {}",
                repaired_thumbprint_list(p).join(" ")
            ))
        }
        FindingCode::ThumbprintListFull => {
            let p = provider(report, arn)?;
            Some(format!(
                "remove thumbprints no address serves any more, keeping the served ones: aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn {arn} --thumbprint-list {}",
                repaired_thumbprint_list(p).join(" ")
            ))
        }
        FindingCode::OrphanProvider => Some(format!(
            "if no cluster uses it any more: aws iam delete-open-id-connect-provider --open-id-connect-provider-arn {arn}"
        )),
        FindingCode::AudienceMissing => Some(format!(
            "aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn {arn} --client-id {STS_AUDIENCE}"
        )),
        FindingCode::ChainUntrusted => Some(format!(
            "fix the certificate chain served by the issuer's JWKS host (see `thumbprint-guard inspect {}`); for a privately anchored issuer add its CA to EXTRA_TRUST_ANCHORS_PEM",
            url.unwrap_or_else(|| arn.to_string())
        )),
        FindingCode::CertExpired | FindingCode::CertExpiring => Some(format!(
            "renew the certificate on the issuer's JWKS host (for an EKS issuer AWS rotates it: open a support case); then check with `thumbprint-guard inspect {}`",
            url.unwrap_or_else(|| arn.to_string())
        )),
        FindingCode::IssuerUnreachable | FindingCode::DiscoveryInvalid | FindingCode::JwksInvalid => {
            let url = url.unwrap_or_else(|| arn.to_string());
            Some(format!(
                "check the issuer by hand: curl -sS {}/.well-known/openid-configuration (and `thumbprint-guard inspect {url}`)",
                url.trim_end_matches('/')
            ))
        }
        FindingCode::AddressRefused => Some(
            "the host resolves to a loopback, private, link-local or metadata address: fix its DNS, or set ALLOW_PRIVATE_ADDRESSES=true if the issuer really is private".to_string(),
        ),
        FindingCode::ClusterWithoutProvider => {
            let cluster = report.clusters.iter().find(|c| arn.ends_with(&format!("cluster/{}", c.name)));
            Some(match cluster {
                Some(c) => format!(
                    "eksctl utils associate-iam-oidc-provider --cluster {} --region {} --approve",
                    c.name, c.region
                ),
                None => "eksctl utils associate-iam-oidc-provider --cluster NAME --region REGION --approve".to_string(),
            })
        }
        FindingCode::RoleTrustsMissingProvider
        | FindingCode::TrustPolicyNoSub
        | FindingCode::TrustPolicyNoAud
        | FindingCode::TrustPolicyBroadSub
        | FindingCode::TrustPolicyForeignCondition => {
            let role = role_name(arn);
            Some(format!(
                "aws iam get-role --role-name {role} --query Role.AssumeRolePolicyDocument > trust.json; fix the statement (see README, \"Trust policies\"); aws iam update-assume-role-policy --role-name {role} --policy-document file://trust.json"
            ))
        }
        FindingCode::ProbeSkipped => Some(
            "raise the function's timeout or PROBE_CONCURRENCY, or lower PROBE_TIMEOUT_SECS, so the sweep reaches every provider".to_string(),
        ),
        FindingCode::InventoryIncomplete => Some(
            "check the credentials' IAM/EKS read permissions (README, \"Permissions\") and run the sweep again".to_string(),
        ),
        FindingCode::AccountUnreachable => Some(
            "check that the member role exists in that account, trusts this function's role (and the external id), and that the account's region is enabled; then run the sweep again".to_string(),
        ),
        FindingCode::ThumbprintAdded => None,
    }
}

/// Days from `now` until `at`, rounded down (negative when past).
pub fn days_left(at: OffsetDateTime, now: OffsetDateTime) -> i64 {
    (at - now).whole_days()
}

/// The earliest `not_after` of any certificate a provider's endpoints served.
pub fn nearest_expiry(provider: &ProviderReport) -> Option<OffsetDateTime> {
    provider
        .endpoints
        .iter()
        .flat_map(|e| e.chain.iter())
        .filter_map(|c| c.not_after)
        .min()
}

fn provider_status(report: &Report, provider: &ProviderReport) -> &'static str {
    match report
        .findings
        .iter()
        .filter(|f| f.resource == provider.arn)
        .map(|f| f.severity)
        .max()
    {
        Some(Severity::Critical) => "CRITICAL",
        Some(Severity::Warning) => "WARNING",
        _ => "OK",
    }
}

fn short(thumbprint: &str) -> &str {
    thumbprint.get(..8).unwrap_or(thumbprint)
}

/// The report as a person reads it in a terminal: one line per provider, then the clusters, then
/// each finding with its manual fix.
pub fn table(report: &Report, now: OffsetDateTime) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "thumbprint-guard sweep of account {} at {} (remediation: {})",
        report.account_id,
        report
            .generated_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        report.remediation_mode
    );
    let _ = writeln!(out);
    if report.providers.is_empty() {
        let _ = writeln!(out, "No IAM OIDC providers in this account.");
    } else {
        let _ = writeln!(
            out,
            "{:<9} {:<58} {:<20} {:<20} NEAREST EXPIRY",
            "STATUS", "PROVIDER", "CONFIGURED", "SERVED"
        );
        for p in &report.providers {
            let list = |l: &[String]| {
                if l.is_empty() {
                    "-".to_string()
                } else {
                    l.iter().map(|t| short(t)).collect::<Vec<_>>().join(",")
                }
            };
            let expiry = nearest_expiry(p)
                .map(|at| format!("{} ({}d)", at.date(), days_left(at, now)))
                .unwrap_or_else(|| "-".to_string());
            let remediation = match &p.remediation {
                Some(r) if r.outcome == RemediationOutcome::Applied => {
                    format!("  [added {}]", r.added.join(","))
                }
                Some(r) if r.outcome == RemediationOutcome::Planned => {
                    format!("  [would add {}]", r.added.join(","))
                }
                Some(r) if r.outcome == RemediationOutcome::Failed => {
                    "  [remediation failed]".to_string()
                }
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "{:<9} {:<58} {:<20} {:<20} {}{}",
                provider_status(report, p),
                p.url.trim_start_matches("https://"),
                list(&p.configured_thumbprints),
                list(&p.served_thumbprints),
                expiry,
                remediation
            );
        }
    }
    if !report.clusters.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{:<24} {:<16} PROVIDER", "CLUSTER", "REGION");
        for c in &report.clusters {
            let _ = writeln!(
                out,
                "{:<24} {:<16} {}",
                c.name,
                c.region,
                c.provider_arn.as_deref().unwrap_or("(none)")
            );
        }
    }
    let _ = writeln!(out);
    if report.findings.is_empty() {
        let _ = writeln!(
            out,
            "No findings: every provider matches what its issuer serves."
        );
    } else {
        let _ = writeln!(out, "Findings:");
        for f in &report.findings {
            let _ = writeln!(
                out,
                "  {:<8} {}  {}",
                f.severity.as_str().to_uppercase(),
                f.code,
                f.resource
            );
            let _ = writeln!(out, "           {}", f.message);
            if let Some(fix) = manual_fix(f, report) {
                let _ = writeln!(out, "           fix: {fix}");
            }
        }
    }
    let s = &report.summary;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} providers, {} clusters: {} critical, {} warning, {} info; {} thumbprints added",
        s.providers, s.clusters, s.critical, s.warning, s.info, s.thumbprints_added
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RemediationMode;
    use crate::report::{Summary, SCHEMA_VERSION};
    use time::macros::datetime;

    fn endpoint(top: &str, trusted: bool) -> crate::report::Endpoint {
        crate::report::Endpoint {
            host: "127.0.0.1:443".into(),
            serves: vec![crate::report::Fetch::Jwks],
            address: "203.0.113.10:443".into(),
            chain: vec![],
            top_thumbprint: Some(top.to_string()),
            trusted,
            error: None,
        }
    }

    fn provider(configured: &[&str], served: &[&str]) -> ProviderReport {
        ProviderReport {
            arn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/A"
                .into(),
            url: "https://oidc.eks.us-east-1.amazonaws.com/id/A".into(),
            client_ids: vec![STS_AUDIENCE.into()],
            configured_thumbprints: configured.iter().map(|s| s.to_string()).collect(),
            jwks_uri: None,
            endpoints: served.iter().map(|s| endpoint(s, true)).collect(),
            served_thumbprints: served.iter().map(|s| s.to_string()).collect(),
            thumbprint_enforced: true,
            remediation: None,
        }
    }

    fn report(p: ProviderReport, findings: Vec<Finding>) -> Report {
        let mut r = Report {
            resolved: Vec::new(),
            schema_version: SCHEMA_VERSION,
            account_id: "123456789012".into(),
            generated_at: datetime!(2026-11-22 10:00:00 UTC),
            remediation_mode: RemediationMode::Off,
            providers: vec![p],
            clusters: vec![],
            findings,
            summary: Summary::default(),
        };
        r.recount();
        r
    }

    #[test]
    fn repaired_list_keeps_configured_and_adds_missing() {
        let p = provider(&["a", "b"], &["c"]);
        assert_eq!(repaired_thumbprint_list(&p), ["a", "b", "c"]);
    }

    #[test]
    fn repaired_list_drops_stale_entries_when_full() {
        let p = provider(&["a", "b", "c", "d", "e"], &["c", "f"]);
        // c is still served and kept; four stale entries compete for three places, in list order.
        assert_eq!(repaired_thumbprint_list(&p), ["a", "b", "c", "d", "f"]);
    }

    #[test]
    fn mismatch_fix_is_the_exact_update_command() {
        let p = provider(&["aa"], &["bb"]);
        let f = Finding::new(FindingCode::ThumbprintMismatch, p.arn.clone(), "m")
            .with_details(serde_json::json!({"thumbprint": "bb"}));
        let r = report(p, vec![f.clone()]);
        assert_eq!(
            manual_fix(&f, &r).unwrap(),
            "aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/A --thumbprint-list aa bb"
        );
    }

    #[test]
    fn no_command_adds_a_thumbprint_from_an_untrusted_chain() {
        let mut p = provider(&["aa"], &["bb", "cc"]);
        p.endpoints[1].trusted = false; // cc comes from an untrusted chain
        assert_eq!(repaired_thumbprint_list(&p), ["aa", "bb"]);
        let untrusted = Finding::new(FindingCode::ThumbprintMismatch, p.arn.clone(), "m")
            .with_details(serde_json::json!({"thumbprint": "cc"}));
        let trusted = Finding::new(FindingCode::ThumbprintMismatch, p.arn.clone(), "m")
            .with_details(serde_json::json!({"thumbprint": "bb"}));
        let r = report(p, vec![untrusted.clone(), trusted.clone()]);
        let fix = manual_fix(&untrusted, &r).unwrap();
        assert!(fix.starts_with("do not add cc"), "{fix}");
        assert!(
            !fix.contains("update-open-id-connect-provider-thumbprint"),
            "{fix}"
        );
        assert!(manual_fix(&trusted, &r)
            .unwrap()
            .ends_with("--thumbprint-list aa bb"));
    }

    #[test]
    fn table_names_status_thumbprints_and_fix() {
        let p = provider(&["1111111111"], &["2222222222"]);
        let f = Finding::new(
            FindingCode::ThumbprintMismatch,
            p.arn.clone(),
            "served 2222 is not configured",
        )
        .with_details(serde_json::json!({"thumbprint": "2222222222"}));
        let r = report(p, vec![f]);
        let text = table(&r, datetime!(2026-11-22 10:00:00 UTC));
        assert!(
            text.contains("CRITICAL  oidc.eks.us-east-1.amazonaws.com/id/A"),
            "{text}"
        );
        assert!(text.contains("11111111"), "{text}");
        assert!(
            text.contains("fix: aws iam update-open-id-connect-provider-thumbprint"),
            "{text}"
        );
        assert!(
            text.contains("1 providers, 0 clusters: 1 critical"),
            "{text}"
        );
    }
}
