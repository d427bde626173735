//! The pure decision: DESIGN's remediation policy applied to one provider's probe.

use url::{Host, Url};

use super::merge::{distinct_lowercase, is_thumbprint};
use super::model::Decision;
use super::reason::SkipReason;
use crate::assess::MissingThumbprint;
use crate::config::{Config, RemediationMode, REMEDIATION_TAG};
use crate::inventory::OidcProvider;
use crate::probe::{ChainVerdict, IssuerProbe};
use crate::report::{FindingCode, MAX_THUMBPRINTS};

/// The host of `url` (lowercase; IPv6 without brackets), as REMEDIATION_ALLOWED_HOSTS matches it.
fn url_host(url: &str) -> Option<String> {
    match Url::parse(url).ok()?.host()? {
        Host::Domain(domain) => Some(domain.to_ascii_lowercase()),
        Host::Ipv4(address) => Some(address.to_string()),
        Host::Ipv6(address) => Some(address.to_string()),
    }
}

/// The host of the probe's `jwks_uri` (lowercase; IPv6 without brackets), if discovery found one.
pub fn jwks_host(probe: &IssuerProbe) -> Option<String> {
    url_host(probe.jwks_uri.as_deref()?)
}

/// The host of the issuer URL (lowercase; IPv6 without brackets).
pub(crate) fn issuer_host(probe: &IssuerProbe) -> Option<String> {
    url_host(&probe.issuer)
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

/// Decides, without I/O, what remediation should do for `provider`, whose issuer `probe` served
/// the `missing` thumbprints (assess's output).
///
/// The reason of a `Skip` names the first blocking condition, checked in this order: the tag's
/// value, every served chain contiguous (CHAIN_ORDER), the effective mode, every address (probed,
/// served a chain, trusted, unexpired, completed the handshake), the JWKS host (known from a valid
/// discovery document, allowed or opted in), the thumbprints' form, room in the list. Chains come
/// before the host so that an untrusted issuer, whose discovery document cannot be fetched either,
/// is reported as untrusted. Order comes before the mode, so that no mode's reason ("must be added
/// by hand") ever asks for the top of a chain STS rejects whatever the list holds.
pub fn decide(
    provider: &OidcProvider,
    probe: &IssuerProbe,
    missing: &[MissingThumbprint],
    config: &Config,
) -> Decision {
    let needed: Vec<String> = missing.iter().map(|m| m.thumbprint.clone()).collect();
    if needed.is_empty() {
        return Decision::Nothing;
    }
    let configured = distinct_lowercase(&provider.thumbprints).len();
    // The top of a chain out of order is never needed in the list (STS rejects that chain anyway),
    // so it does not make the list full.
    let addable = missing.iter().filter(|m| !m.tops_broken_chain).count();
    let list_full = configured + addable > MAX_THUMBPRINTS;
    let skip = |reason: SkipReason| Decision::Skip {
        thumbprints: needed.clone(),
        reason,
        list_full,
    };

    let tag = remediation_tag(provider);
    let mode = match config.effective_mode(tag) {
        Ok(mode) => mode,
        Err(problem) => return skip(SkipReason::BadTag { problem }),
    };
    let mode_source = match tag {
        Some(_) => format!("tag {REMEDIATION_TAG}={mode}"),
        None => format!("REMEDIATION_MODE={mode}"),
    };
    if let Some(reason) = not_contiguous(probe) {
        return skip(reason);
    }
    if mode == RemediationMode::Off {
        return skip(SkipReason::ModeOff {
            source: mode_source,
            thumbprints: needed.clone(),
        });
    }

    let authorities: Vec<&str> = probe.hosts.iter().map(|h| h.authority.as_str()).collect();
    let authority = &authorities.join(" and ");
    if let Some(reason) = not_vouched(probe, authority) {
        return skip(reason);
    }
    let (host, allowed_by) = match allowed_host(probe, config, tag, &mode_source) {
        Ok(allowed) => allowed,
        Err(reason) => return skip(reason),
    };

    if let Some(malformed) = needed.iter().find(|t| !is_thumbprint(t)) {
        return skip(SkipReason::Malformed {
            value: malformed.clone(),
        });
    }
    if list_full {
        return skip(SkipReason::ListFull {
            configured,
            adding: needed.clone(),
        });
    }

    let listed = needed.join(", ");
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

/// The first served chain that is not contiguous (CHAIN_ORDER), as the reason nothing is added.
fn not_contiguous(probe: &IssuerProbe) -> Option<SkipReason> {
    let (address, chain_break, top) = probe.endpoints().find_map(|(_, e)| {
        let chain_break = e.order_break()?;
        Some((
            e.address,
            chain_break,
            e.top_thumbprint().unwrap_or_default(),
        ))
    })?;
    Some(SkipReason::NotContiguous {
        address: address.to_string(),
        chain_break,
        top: top.to_string(),
    })
}

/// The first reason an address of `authority`'s hosts does not vouch for its chain: a host not
/// probed on every address, or an address whose chain is untrusted, expired, missing, or whose
/// handshake did not complete.
fn not_vouched(probe: &IssuerProbe, authority: &str) -> Option<SkipReason> {
    if let Some(issue) = probe.hosts.iter().flat_map(|h| h.issues.iter()).next() {
        return Some(SkipReason::HostNotProbed {
            authority: authority.to_string(),
            problem: issue.message.clone(),
        });
    }
    for (_, endpoint) in probe.endpoints() {
        let address = endpoint.address.to_string();
        let failure = endpoint
            .error
            .clone()
            .unwrap_or_else(|| "no certificate received".to_string());
        match &endpoint.verdict {
            ChainVerdict::Untrusted(why) => {
                return Some(SkipReason::Untrusted {
                    address,
                    why: why.clone(),
                })
            }
            ChainVerdict::Expired(why) => {
                return Some(SkipReason::Expired {
                    address,
                    why: why.clone(),
                })
            }
            ChainVerdict::NotReceived => {
                return Some(SkipReason::NoChain {
                    address,
                    failure,
                    authority: authority.to_string(),
                })
            }
            ChainVerdict::Trusted if endpoint.error.is_some() || endpoint.chain.is_empty() => {
                return Some(SkipReason::HandshakeIncomplete { address, failure })
            }
            ChainVerdict::Trusted => {}
        }
    }
    None
}

/// The JWKS host from a valid discovery document and why it may be written for: the provider
/// opts in with its tag (`mode_source`), or the JWKS and issuer hosts both match
/// REMEDIATION_ALLOWED_HOSTS. Otherwise the reason nothing is added.
fn allowed_host(
    probe: &IssuerProbe,
    config: &Config,
    tag: Option<&str>,
    mode_source: &str,
) -> Result<(String, String), SkipReason> {
    if let Some(issue) = probe
        .issues
        .iter()
        .find(|i| i.code() == FindingCode::DiscoveryInvalid)
    {
        return Err(SkipReason::DiscoveryInvalid {
            problem: issue.message.clone(),
        });
    }
    let Some(host) = jwks_host(probe) else {
        return Err(SkipReason::JwksHostUnknown);
    };
    let allowed_by = if tag.is_some() {
        format!("the provider opts in with {mode_source}")
    } else if config.remediation_allowed_hosts.matches(&host) {
        // DESIGN's condition 2: the issuer's host must match too (it serves discovery).
        match issuer_host(probe) {
            Some(issuer) if config.remediation_allowed_hosts.matches(&issuer) => {}
            Some(issuer) => {
                return Err(SkipReason::HostNotAllowed {
                    host: issuer,
                    role: "issuer",
                    patterns: config.remediation_allowed_hosts.patterns().to_vec(),
                })
            }
            None => return Err(SkipReason::JwksHostUnknown),
        }
        format!(
            "{host} matches REMEDIATION_ALLOWED_HOSTS ({})",
            config.remediation_allowed_hosts.patterns().join(",")
        )
    } else {
        return Err(SkipReason::HostNotAllowed {
            host,
            role: "JWKS",
            patterns: config.remediation_allowed_hosts.patterns().to_vec(),
        });
    };
    Ok((host, allowed_by))
}
