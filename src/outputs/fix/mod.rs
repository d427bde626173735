//! The manual fix of each finding: the one command (or short procedure) a person runs, for the
//! terminal table, the e-mail, Chatbot's next steps, Security Hub's recommendation and `inspect`.
//!
//! Pure: it reads typed facts (the finding's code, discriminator and remedy, the provider's entry),
//! never a finding's `details` or message.

mod cluster;

use crate::report::MAX_THUMBPRINTS;
use crate::report::{ClusterReport, Finding, FindingCode, ProviderReport, Report, STS_AUDIENCE};

/// What a fix may refer to besides the finding itself.
#[derive(Debug, Clone, Copy)]
pub struct FixContext<'a> {
    /// The issuer URL the finding is about (the provider's URL, or what `inspect` probed).
    pub issuer: Option<&'a str>,
    /// The provider's report entry, when the finding is about one.
    pub provider: Option<&'a ProviderReport>,
    /// The report's clusters.
    pub clusters: &'a [ClusterReport],
    /// Some served chain of this issuer does not validate (then discovery cannot be verified
    /// either: the chain is the thing to fix).
    pub chain_untrusted: bool,
    /// The findings of the report (or of `inspect`): a CHAIN_ORDER finding withholds its top
    /// thumbprint from every command that writes the list.
    pub findings: &'a [Finding],
}

impl<'a> FixContext<'a> {
    /// The context of `finding` within a sweep's `report`.
    pub fn in_report(report: &'a Report, finding: &Finding) -> FixContext<'a> {
        let provider = report.provider(&finding.resource);
        FixContext {
            issuer: provider.map(|p| p.url.as_str()),
            provider,
            clusters: &report.clusters,
            chain_untrusted: provider.is_some_and(|p| p.endpoints.iter().any(|e| !e.trusted)),
            findings: &report.findings,
        }
    }
}

/// The fix of `finding` within a sweep's `report`.
pub fn for_report(finding: &Finding, report: &Report) -> Option<String> {
    manual_fix(finding, FixContext::in_report(report, finding))
}

/// The top thumbprints of the chains `findings` report as CHAIN_ORDER for `resource` (their
/// discriminator): STS fails on such a chain whatever the list holds, so none is ever to be added.
pub fn chain_order_tops<'f>(findings: &'f [Finding], resource: &str) -> Vec<&'f str> {
    findings
        .iter()
        .filter(|f| f.code == FindingCode::ChainOrder && f.resource == resource)
        .filter_map(|f| f.discriminator.thumbprint())
        .collect()
}

/// Distinct top thumbprints served by endpoints whose chain was trusted, but those `withheld`
/// (the tops of chains served out of order): the only ones a person should be told to add (an
/// untrusted chain may be a man in the middle).
pub fn trusted_served_thumbprints<'p>(
    provider: &'p ProviderReport,
    withheld: &[&str],
) -> Vec<&'p String> {
    let mut trusted: Vec<&String> = Vec::new();
    for top in provider
        .endpoints
        .iter()
        .filter(|e| e.trusted)
        .filter_map(|e| e.top_thumbprint.as_ref())
        .filter(|top| !withheld.iter().any(|w| w.eq_ignore_ascii_case(top)))
    {
        if !trusted.contains(&top) {
            trusted.push(top);
        }
    }
    trusted
}

/// The exact thumbprint list a person should write: what is configured (still served entries first
/// when the list is full), then every thumbprint a trusted chain serves that is missing and not
/// `withheld`, at most five.
pub fn repaired_thumbprint_list(provider: &ProviderReport, withheld: &[&str]) -> Vec<String> {
    let missing: Vec<&String> = trusted_served_thumbprints(provider, withheld)
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

/// The role name of a role ARN (`arn:aws:iam::1:role/path/NAME` → `NAME`), for the command line.
fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The command (or short procedure) that fixes `finding` by hand; `None` when there is nothing to do.
pub fn manual_fix(finding: &Finding, context: FixContext<'_>) -> Option<String> {
    let arn = finding.resource.as_str();
    let issuer = context.issuer.unwrap_or(arn);
    let inspect = format!("`thumbprint-guard inspect {issuer}`");
    match finding.code {
        FindingCode::ThumbprintMismatch => mismatch_fix(finding, context, &inspect),
        FindingCode::ThumbprintListFull => {
            let p = context.provider?;
            let withheld = chain_order_tops(context.findings, arn);
            Some(format!(
                "remove thumbprints no address serves any more, keeping the served ones: aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn {arn} --thumbprint-list {}",
                repaired_thumbprint_list(p, &withheld).join(" ")
            ))
        }
        FindingCode::OrphanProvider => Some(format!(
            "if no cluster uses it any more: aws iam delete-open-id-connect-provider --open-id-connect-provider-arn {arn}"
        )),
        FindingCode::AudienceMissing => Some(format!(
            "aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn {arn} --client-id {STS_AUDIENCE}"
        )),
        FindingCode::ChainUntrusted => Some(format!(
            "serve a chain that validates for the host name: the leaf must name the host and the served intermediates must lead to a trusted root (check with {inspect}); for a privately anchored issuer add its CA to EXTRA_TRUST_ANCHORS_PEM"
        )),
        FindingCode::ChainOrder => Some(format!(
            "on the issuer's server, serve the chain in order: the host's certificate first, then each intermediate, each issued by the next, optionally ending with the root, and no certificate twice or off that path (for nginx, ssl_certificate holds exactly that bundle); check with {inspect}. Do not add this chain's top thumbprint to IAM: STS fails on a chain out of order whatever the list holds"
        )),
        FindingCode::CertExpired => Some(format!(
            "renew the expired certificate (for an EKS issuer AWS rotates it: open a support case), then check with {inspect} and add the new thumbprint, keeping the old one until every address serves the new chain"
        )),
        FindingCode::CertExpiring => Some(format!(
            "renew it before it expires (for an EKS issuer AWS rotates it); once the new chain is served, add its thumbprint before removing the old one (IAM keeps up to {MAX_THUMBPRINTS}); check with {inspect}"
        )),
        FindingCode::IssuerUnreachable => Some(format!(
            "check DNS, routing and firewalls between here and the host, and that it serves HTTPS on that port; raise PROBE_TIMEOUT_SECS if it is only slow; then {inspect}"
        )),
        FindingCode::DiscoveryInvalid if context.chain_untrusted => Some(
            "fix the served chain first (see the chain finding); discovery is checked once it validates"
                .to_string(),
        ),
        FindingCode::DiscoveryInvalid => {
            let base = issuer.trim_end_matches('/');
            Some(format!(
                "serve {base}/.well-known/openid-configuration directly (HTTP 200, no redirect, JSON under 64 KiB) with \"issuer\" exactly \"{issuer}\" and an https \"jwks_uri\"; check by hand: curl -sS {base}/.well-known/openid-configuration"
            ))
        }
        FindingCode::JwksInvalid => Some(format!(
            "serve the JWKS at jwks_uri (HTTP 200, JSON under 64 KiB) with at least one signing key: RSA (n, e), EC (crv, x, y) or OKP (crv, x), with \"use\" absent or \"sig\"; then {inspect}"
        )),
        FindingCode::AddressRefused => Some(
            "the host resolves to a loopback, private, link-local or metadata address: fix its DNS, or set ALLOW_PRIVATE_ADDRESSES=true for a genuinely private issuer (link-local and instance-metadata addresses are never probed)".to_string(),
        ),
        FindingCode::ClusterWithoutProvider => Some(associate_provider_fix(context, arn)),
        FindingCode::RoleTrustsMissingProvider
        | FindingCode::TrustPolicyNoSub
        | FindingCode::TrustPolicyNoAud
        | FindingCode::TrustPolicyBroadSub
        | FindingCode::TrustPolicyForeignCondition => Some(trust_policy_fix(finding.code, arn)),
        FindingCode::AccountUnreachable => Some(
            "check that the member role exists in that account, trusts this function's role (and the external id), and that the account's region is enabled; then run the sweep again".to_string(),
        ),
        FindingCode::ProbeSkipped => Some(
            "raise the function's timeout or PROBE_CONCURRENCY, or lower PROBE_TIMEOUT_SECS, so the sweep reaches every provider".to_string(),
        ),
        FindingCode::InventoryIncomplete => Some(
            "check the credentials' IAM/EKS read permissions (docs/deploying.md, \"Permissions\") and run the sweep again".to_string(),
        ),
        FindingCode::ClusterApiUnreachable
        | FindingCode::ServiceAccountAnnotationInvalid
        | FindingCode::ServiceAccountRoleMissing
        | FindingCode::ServiceAccountRoleUntrusted
        | FindingCode::PodNeedsRestart
        | FindingCode::PodRegionMissing
        | FindingCode::TrustPolicyUnknownServiceAccount
        | FindingCode::PodIdentityRoleMissing
        | FindingCode::PodIdentityRoleUntrusted
        | FindingCode::PodIdentityServiceAccountMissing
        | FindingCode::ServiceAccountDualIdentity => cluster::cluster_fix(finding),
        FindingCode::ThumbprintAdded => None,
    }
}

/// CLUSTER_WITHOUT_PROVIDER: eksctl's command for the cluster.
fn associate_provider_fix(context: FixContext<'_>, arn: &str) -> String {
    match context.clusters.iter().find(|c| c.arn == arn) {
        Some(c) => format!(
            "eksctl utils associate-iam-oidc-provider --cluster {} --region {} --approve",
            c.name, c.region
        ),
        None => "eksctl utils associate-iam-oidc-provider --cluster NAME --region REGION --approve"
            .to_string(),
    }
}

/// THUMBPRINT_MISMATCH: the update command, or why this thumbprint is not to be added.
fn mismatch_fix(finding: &Finding, context: FixContext<'_>, inspect: &str) -> Option<String> {
    let arn = finding.resource.as_str();
    let p = context.provider?;
    let withheld = chain_order_tops(context.findings, arn);
    let out_of_order = finding
        .discriminator
        .thumbprint()
        .filter(|t| withheld.iter().any(|w| w.eq_ignore_ascii_case(t)));
    if let Some(thumbprint) = out_of_order {
        return Some(format!(
            "do not add {thumbprint}: it tops a chain served out of order or with a duplicate or extra certificate (see the CHAIN_ORDER finding), and STS fails on that chain whatever the list holds. Have the issuer serve its chain in order first; then {inspect} shows the thumbprint to configure"
        ));
    }
    let untrusted = finding.discriminator.thumbprint().filter(|t| {
        !trusted_served_thumbprints(p, &withheld)
            .iter()
            .any(|s| s.as_str() == *t)
    });
    if let Some(thumbprint) = untrusted {
        return Some(format!(
            "do not add {thumbprint}: the chain that serves it is not trusted or has expired (see the CHAIN_UNTRUSTED / CERT_EXPIRED finding), so it may be a man in the middle. Fix the chain, or verify the issuer out of band ({inspect}), first"
        ));
    }
    Some(format!(
        "aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn {arn} --thumbprint-list {}",
        repaired_thumbprint_list(p, &withheld).join(" ")
    ))
}

/// The trust-policy audit's findings: read the policy, change the statement, write it back.
fn trust_policy_fix(code: FindingCode, arn: &str) -> String {
    let role = role_name(arn);
    let change = match code {
        FindingCode::RoleTrustsMissingProvider => "point the statement's Principal.Federated and its condition keys at an OIDC provider that exists (the cluster's current one)".to_string(),
        FindingCode::TrustPolicyNoSub => "add to the statement a StringEquals condition on the provider's \"ISSUER:sub\" key naming the one workload, e.g. \"system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT\"".to_string(),
        FindingCode::TrustPolicyNoAud => format!("add to the statement a StringEquals condition \"ISSUER:aud\": \"{STS_AUDIENCE}\""),
        FindingCode::TrustPolicyBroadSub => "replace the wildcard in the statement's \"ISSUER:sub\" condition with a named workload (\"system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT\", or \"repo:OWNER/REPO:...\" for GitHub)".to_string(),
        _ => "make the statement's condition keys (\"ISSUER:sub\", \"ISSUER:aud\") name the issuer of its Principal.Federated provider".to_string(),
    };
    format!(
        "aws iam get-role --role-name {role} --query Role.AssumeRolePolicyDocument --output json > trust.json; in trust.json, {change} (ISSUER is the provider ARN's part after oidc-provider/); aws iam update-assume-role-policy --role-name {role} --policy-document file://trust.json"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{provider, report};
    use crate::report::Discriminator;

    #[test]
    fn repaired_list_keeps_configured_and_adds_missing() {
        let p = provider(&["a", "b"], &["c"]);
        assert_eq!(repaired_thumbprint_list(&p, &[]), ["a", "b", "c"]);
    }

    #[test]
    fn repaired_list_drops_stale_entries_when_full() {
        let p = provider(&["a", "b", "c", "d", "e"], &["c", "f"]);
        // c is still served and kept; four stale entries compete for three places, in list order.
        assert_eq!(repaired_thumbprint_list(&p, &[]), ["a", "b", "c", "d", "f"]);
    }

    #[test]
    fn mismatch_fix_is_the_exact_update_command() {
        let p = provider(&["aa"], &["bb"]);
        let f = Finding::new(FindingCode::ThumbprintMismatch, p.arn.clone(), "m")
            .with_discriminator(Discriminator::Thumbprint("bb".into()));
        let r = report(p, vec![f.clone()]);
        assert_eq!(
            for_report(&f, &r).unwrap(),
            "aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/A --thumbprint-list aa bb"
        );
    }

    #[test]
    fn no_command_adds_a_thumbprint_from_an_untrusted_chain() {
        let mut p = provider(&["aa"], &["bb", "cc"]);
        p.endpoints[1].trusted = false; // cc comes from an untrusted chain
        assert_eq!(repaired_thumbprint_list(&p, &[]), ["aa", "bb"]);
        let untrusted = Finding::new(FindingCode::ThumbprintMismatch, p.arn.clone(), "m")
            .with_discriminator(Discriminator::Thumbprint("cc".into()));
        let trusted = Finding::new(FindingCode::ThumbprintMismatch, p.arn.clone(), "m")
            .with_discriminator(Discriminator::Thumbprint("bb".into()));
        let r = report(p, vec![untrusted.clone(), trusted.clone()]);
        let fix = for_report(&untrusted, &r).unwrap();
        assert!(fix.starts_with("do not add cc"), "{fix}");
        assert!(
            !fix.contains("update-open-id-connect-provider-thumbprint"),
            "{fix}"
        );
        assert!(for_report(&trusted, &r)
            .unwrap()
            .ends_with("--thumbprint-list aa bb"));
    }

    #[test]
    fn no_command_adds_the_top_of_a_chain_out_of_order() {
        // bb tops a trusted chain that is not contiguous; cc tops a good one.
        let p = provider(&["aa"], &["bb", "cc"]);
        let order = Finding::new(FindingCode::ChainOrder, p.arn.clone(), "m")
            .with_discriminator(Discriminator::Thumbprint("bb".into()));
        let broken = Finding::new(FindingCode::ThumbprintMismatch, p.arn.clone(), "m")
            .with_discriminator(Discriminator::Thumbprint("bb".into()));
        let good = Finding::new(FindingCode::ThumbprintMismatch, p.arn.clone(), "m")
            .with_discriminator(Discriminator::Thumbprint("cc".into()));
        let full = Finding::new(FindingCode::ThumbprintListFull, p.arn.clone(), "m");
        let r = report(
            p,
            vec![order.clone(), broken.clone(), good.clone(), full.clone()],
        );
        let fix = for_report(&broken, &r).unwrap();
        assert!(fix.starts_with("do not add bb"), "{fix}");
        assert!(fix.contains("CHAIN_ORDER"), "{fix}");
        assert!(
            !fix.contains("update-open-id-connect-provider-thumbprint"),
            "{fix}"
        );
        // The other mismatch's command and the list-full command leave bb out.
        assert!(for_report(&good, &r)
            .unwrap()
            .ends_with("--thumbprint-list aa cc"));
        assert!(for_report(&full, &r)
            .unwrap()
            .ends_with("--thumbprint-list aa cc"));
        let chain_fix = for_report(&order, &r).unwrap();
        assert!(
            chain_fix.starts_with("on the issuer's server, serve the chain in order"),
            "{chain_fix}"
        );
        assert!(
            !chain_fix.contains("update-open-id-connect-provider-thumbprint"),
            "{chain_fix}"
        );
    }

    #[test]
    fn role_fixes_read_the_policy_as_json_and_say_what_to_change_without_the_readme() {
        let p = provider(&["aa"], &["aa"]);
        let role = "arn:aws:iam::123456789012:role/irsa/app";
        for (code, says) in [
            (
                FindingCode::RoleTrustsMissingProvider,
                "Principal.Federated",
            ),
            (FindingCode::TrustPolicyNoSub, "\"ISSUER:sub\" key"),
            (
                FindingCode::TrustPolicyNoAud,
                "\"ISSUER:aud\": \"sts.amazonaws.com\"",
            ),
            (FindingCode::TrustPolicyBroadSub, "replace the wildcard"),
            (FindingCode::TrustPolicyForeignCondition, "name the issuer"),
        ] {
            let f = Finding::new(code, role, "m");
            let r = report(p.clone(), vec![f.clone()]);
            let fix = for_report(&f, &r).unwrap();
            assert!(
                fix.starts_with("aws iam get-role --role-name app --query Role.AssumeRolePolicyDocument --output json > trust.json; "),
                "{fix}"
            );
            assert!(fix.contains(says), "{code}: {fix}");
            assert!(!fix.contains("README"), "{fix}");
        }
    }
}
