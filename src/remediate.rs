//! Remediation: the pure per-provider decision and the IAM write that applies it.
//!
//! [`decide`] turns (provider, probe, configuration) into a [`Decision`] without any I/O, following
//! DESIGN's remediation policy: a served top thumbprint is added only when the effective mode is
//! `add`, the JWKS host is allowed (or the provider's tag opts it in), every probed address served a
//! trusted, unexpired chain, and the list has room. [`apply`] carries the decision out: only an
//! `Add` decision touches IAM, re-reading the list right before writing the union and reading it
//! back afterwards. [`findings`] reports THUMBPRINT_ADDED and THUMBPRINT_LIST_FULL.

use url::{Host, Url};

use crate::config::{Config, RemediationMode, REMEDIATION_TAG};
use crate::inventory::OidcProvider;
use crate::probe::{ChainVerdict, IssuerProbe};
use crate::report::{Finding, FindingCode, Remediation, RemediationOutcome};

mod iam;

pub use iam::{apply, LAST_ADDED_TAG};

/// IAM's limit on thumbprints per provider.
pub const MAX_THUMBPRINTS: usize = 5;

/// Start of every reason that says the list has no room; [`findings`] recognises a list found full
/// only at write time by it (the report's `remediation` has no other field to carry it).
const NO_ROOM: &str = "no room: ";

/// What remediation should do for one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Every served top thumbprint is configured (or nothing was served): the report's
    /// `remediation` is null.
    Nothing,
    /// Effective mode `add` and the policy allows it: add these thumbprints.
    Add {
        /// Lowercase thumbprints to add, in first-served order.
        thumbprints: Vec<String>,
        /// Why they may be added.
        reason: String,
    },
    /// Effective mode `dry-run` and the policy would allow it: report these as planned.
    Plan {
        /// Lowercase thumbprints that would be added.
        thumbprints: Vec<String>,
        /// Why they would be added.
        reason: String,
    },
    /// Thumbprints are needed but the policy does not allow adding them.
    Skip {
        /// The served thumbprints that are not configured.
        thumbprints: Vec<String>,
        /// The first condition that blocked the addition, in words a person understands.
        reason: String,
        /// The list has no room for them (a fact, reported as THUMBPRINT_LIST_FULL whatever
        /// condition blocked first).
        list_full: bool,
    },
}

impl Decision {
    /// The thumbprints this decision is about (empty for `Nothing`).
    pub fn thumbprints(&self) -> &[String] {
        match self {
            Decision::Nothing => &[],
            Decision::Add { thumbprints, .. }
            | Decision::Plan { thumbprints, .. }
            | Decision::Skip { thumbprints, .. } => thumbprints,
        }
    }

    /// The report's `remediation` for every decision that needs no IAM call: `None` for
    /// `Nothing`, `planned` for `Plan`, `skipped` for `Skip`; `None` for `Add` too (only
    /// [`apply`] knows how a write ends).
    pub fn without_writing(&self) -> Option<Remediation> {
        match self {
            Decision::Nothing | Decision::Add { .. } => None,
            Decision::Plan {
                thumbprints,
                reason,
            } => Some(Remediation {
                outcome: RemediationOutcome::Planned,
                added: thumbprints.clone(),
                reason: reason.clone(),
            }),
            Decision::Skip { reason, .. } => Some(Remediation {
                outcome: RemediationOutcome::Skipped,
                added: Vec::new(),
                reason: reason.clone(),
            }),
        }
    }
}

/// Whether `value` is a thumbprint as we write it: exactly 40 lowercase hex characters.
pub fn is_thumbprint(value: &str) -> bool {
    value.len() == 40
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The host of the probe's `jwks_uri` (lowercase; IPv6 without brackets), if discovery found one.
pub fn jwks_host(probe: &IssuerProbe) -> Option<String> {
    let jwks_uri = Url::parse(probe.jwks_uri.as_deref()?).ok()?;
    match jwks_uri.host()? {
        Host::Domain(domain) => Some(domain.to_ascii_lowercase()),
        Host::Ipv4(address) => Some(address.to_string()),
        Host::Ipv6(address) => Some(address.to_string()),
    }
}

/// The provider's `thumbprint-guard/remediation` tag value, if tagged (key matched
/// case-insensitively, as IAM treats tag keys).
pub fn remediation_tag(provider: &OidcProvider) -> Option<&str> {
    provider
        .tags
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(REMEDIATION_TAG))
        .map(|(_, value)| value.as_str())
}

/// Distinct entries of `list` (case-insensitively), lowercased, in order.
fn distinct_lowercase(list: &[String]) -> Vec<String> {
    let mut distinct: Vec<String> = Vec::new();
    for entry in list {
        let entry = entry.trim().to_ascii_lowercase();
        if !distinct.contains(&entry) {
            distinct.push(entry);
        }
    }
    distinct
}

fn no_room_reason(configured: usize, adding: &[String]) -> String {
    format!(
        "{NO_ROOM}the thumbprint list holds {configured} of IAM's maximum {MAX_THUMBPRINTS} entries and {} more {} needed ({}); remove a stale thumbprint by hand and the next run adds {}",
        adding.len(),
        if adding.len() == 1 { "is" } else { "are" },
        adding.join(", "),
        if adding.len() == 1 { "it" } else { "them" },
    )
}

/// Decides, without I/O, what remediation should do for `provider` given what its JWKS host served.
///
/// The reason of a `Skip` names the first blocking condition, checked in this order: the tag's
/// value, the effective mode, every address (probed, served a chain, trusted, unexpired, completed
/// the handshake), the JWKS host (known from a valid discovery document, allowed or opted in), the
/// thumbprints' form, room in the list. Chains come before the host so that an untrusted issuer,
/// whose discovery document cannot be fetched either, is reported as untrusted.
pub fn decide(provider: &OidcProvider, probe: &IssuerProbe, config: &Config) -> Decision {
    let needed = crate::assess::missing_thumbprints(provider, probe);
    if needed.is_empty() {
        return Decision::Nothing;
    }
    let configured = distinct_lowercase(&provider.thumbprints).len();
    let list_full = configured + needed.len() > MAX_THUMBPRINTS;
    let listed = needed.join(", ");
    let skip = |reason: String| Decision::Skip {
        thumbprints: needed.clone(),
        reason,
        list_full,
    };

    let tag = remediation_tag(provider);
    let mode = match config.effective_mode(tag) {
        Ok(mode) => mode,
        Err(problem) => {
            return skip(format!(
                "{problem}; nothing is added for this provider until the tag is fixed or removed"
            ))
        }
    };
    let mode_source = match tag {
        Some(_) => format!("tag {REMEDIATION_TAG}={mode}"),
        None => format!("REMEDIATION_MODE={mode}"),
    };
    if mode == RemediationMode::Off {
        return skip(format!(
            "remediation is off ({mode_source}); {listed} must be added by hand"
        ));
    }

    let authorities: Vec<&str> = probe.hosts.iter().map(|h| h.authority.as_str()).collect();
    let authority = &authorities.join(" and ");
    if let Some(issue) = probe.hosts.iter().flat_map(|h| h.issues.iter()).next() {
        return skip(format!(
            "not every address of {authority} could be probed ({}); a thumbprint is added only when every address serves a trusted chain",
            issue.message
        ));
    }
    for (_, endpoint) in probe.endpoints() {
        let address = endpoint.address;
        if let Err(chain_break) = endpoint.contiguity {
            return skip(format!(
                "chain from {address} is not contiguous: {chain_break}; only the top of a contiguous, validated chain is vouched for"
            ));
        }
        let failure = endpoint
            .error
            .as_deref()
            .unwrap_or("no certificate received");
        match &endpoint.verdict {
            ChainVerdict::Untrusted(why) => {
                return skip(format!(
                    "chain from {address} is not trusted: {why} — adding its thumbprint could trust a man in the middle"
                ))
            }
            ChainVerdict::Expired(why) => {
                return skip(format!(
                    "chain from {address} has an expired certificate: {why} — a thumbprint is added only for a valid, unexpired chain"
                ))
            }
            ChainVerdict::NotReceived => {
                return skip(format!(
                    "no chain from {address}: {failure}; a thumbprint is added only when every address of {authority} serves a trusted chain"
                ))
            }
            ChainVerdict::Trusted if endpoint.error.is_some() || endpoint.chain.is_empty() => {
                return skip(format!(
                    "{address} presented a trusted chain but did not complete the TLS handshake ({failure}); a server without the certificate's key could be a man in the middle"
                ))
            }
            ChainVerdict::Trusted => {}
        }
    }

    if let Some(issue) = probe
        .issues
        .iter()
        .find(|i| i.code() == FindingCode::DiscoveryInvalid)
    {
        return skip(format!(
            "the discovery document is invalid ({}), so its jwks_uri cannot be relied on",
            issue.message
        ));
    }
    let Some(host) = jwks_host(probe) else {
        return skip(
            "the JWKS host is unknown (discovery did not yield a jwks_uri), so no thumbprint can be vouched for"
                .to_string(),
        );
    };
    let allowed_by = if tag.is_some() {
        format!("the provider opts in with {mode_source}")
    } else if config.remediation_allowed_hosts.matches(&host) {
        format!(
            "{host} matches REMEDIATION_ALLOWED_HOSTS ({})",
            config.remediation_allowed_hosts.patterns().join(",")
        )
    } else {
        return skip(format!(
            "JWKS host {host} is not in REMEDIATION_ALLOWED_HOSTS ({}); tag the provider {REMEDIATION_TAG}=add to allow it",
            config.remediation_allowed_hosts.patterns().join(",")
        ));
    };

    if let Some(malformed) = needed.iter().find(|t| !is_thumbprint(t)) {
        return skip(format!(
            "'{malformed}' is not a thumbprint (40 lowercase hex characters); nothing is written"
        ));
    }
    if list_full {
        return skip(no_room_reason(configured, &needed));
    }

    let addresses = probe.endpoints().count();
    let reason = format!(
        "every address of {authority} ({addresses}) serves a chain trusted for {host}, and {listed} {} not configured; {allowed_by}",
        if needed.len() == 1 { "is" } else { "are" },
    );
    match mode {
        RemediationMode::Add => Decision::Add {
            thumbprints: needed,
            reason,
        },
        RemediationMode::DryRun => Decision::Plan {
            thumbprints: needed,
            reason: format!("dry-run ({mode_source}): would add {listed}: {reason}"),
        },
        RemediationMode::Off => Decision::Nothing,
    }
}

/// The thumbprint list to write: the fresh list, then the new entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    /// Every entry to write: the fresh list's entries first, in their order, then the new ones.
    pub thumbprints: Vec<String>,
    /// The entries of `thumbprints` that the fresh list did not hold (empty: nothing to write).
    pub added: Vec<String>,
}

/// Why a union cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// The union would exceed IAM's five entries.
    #[error("{}", no_room_reason(*.configured, .adding))]
    Full {
        /// Distinct entries in the fresh list.
        configured: usize,
        /// The entries that would have to be added.
        adding: Vec<String>,
    },
    /// An entry is not 40 lowercase hex characters (moto does not check; IAM would refuse).
    #[error("refusing to write '{0}': a thumbprint is exactly 40 lowercase hex characters")]
    Malformed(String),
}

/// The union of `fresh` (the list IAM holds now) and `wanted`: never drops an entry, dedupes
/// case-insensitively, writes lowercase, and refuses more than [`MAX_THUMBPRINTS`] or a malformed
/// entry.
pub fn merge_thumbprints(fresh: &[String], wanted: &[String]) -> Result<Merge, MergeError> {
    let mut thumbprints = distinct_lowercase(fresh);
    let configured = thumbprints.len();
    let added: Vec<String> = distinct_lowercase(wanted)
        .into_iter()
        .filter(|t| !thumbprints.contains(t))
        .collect();
    if configured + added.len() > MAX_THUMBPRINTS && !added.is_empty() {
        return Err(MergeError::Full {
            configured,
            adding: added,
        });
    }
    thumbprints.extend(added.iter().cloned());
    if let Some(malformed) = thumbprints.iter().find(|t| !is_thumbprint(t)) {
        return Err(MergeError::Malformed(malformed.clone()));
    }
    Ok(Merge { thumbprints, added })
}

/// THUMBPRINT_ADDED (one per thumbprint an `applied` remediation wrote) and THUMBPRINT_LIST_FULL
/// (when the decision, or the fresh read at write time, found no room) for one provider.
pub fn findings(
    provider: &OidcProvider,
    decision: &Decision,
    remediation: Option<&Remediation>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(applied) = remediation.filter(|r| r.outcome == RemediationOutcome::Applied) {
        for thumbprint in &applied.added {
            findings.push(
                Finding::new(
                    FindingCode::ThumbprintAdded,
                    &provider.arn,
                    format!(
                        "Added thumbprint {thumbprint} to the OIDC provider for {}: {}",
                        provider.url, applied.reason
                    ),
                )
                .with_details(serde_json::json!({
                    "thumbprint": thumbprint,
                    "url": provider.url,
                })),
            );
        }
    }
    let full_at_write = matches!(decision, Decision::Add { .. })
        && remediation.is_some_and(|r| {
            r.outcome == RemediationOutcome::Skipped && r.reason.starts_with(NO_ROOM)
        });
    let full_at_decision = matches!(
        decision,
        Decision::Skip {
            list_full: true,
            ..
        }
    );
    if full_at_decision || full_at_write {
        let needed = decision.thumbprints();
        let configured = distinct_lowercase(&provider.thumbprints);
        findings.push(
            Finding::new(
                FindingCode::ThumbprintListFull,
                &provider.arn,
                format!(
                    "The OIDC provider for {} needs {} but its thumbprint list has no room (IAM keeps at most {MAX_THUMBPRINTS}); remove a thumbprint no address serves any more.",
                    provider.url,
                    needed.join(", ")
                ),
            )
            .with_details(serde_json::json!({
                "thumbprints": needed,
                "configured_thumbprints": configured,
                "max": MAX_THUMBPRINTS,
            })),
        );
    }
    findings
}

#[cfg(test)]
mod tests;
