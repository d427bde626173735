//! Issuer probing: the issuer's host (every address), discovery over one of its verified
//! connections, then the `jwks_uri` host (the same connections when it is the same host) and the
//! JWKS over one of its trusted connections; the whole within 3 × `PROBE_TIMEOUT_SECS`.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tokio::time::Instant;
use url::Url;

use super::context::ProbeContext;
use super::documents::{check_discovery, check_issuer_url, discovery_url, usable_signing_keys};
use super::facts::{
    capped, ChainVerdict, DiscoveryProblem, HostProbe, IssuerProbe, JwksProblem, ProbeFailure,
    ProbeIssue, Step,
};
use super::fetch::{Connection, FetchError};
use super::host::{HostCache, HostEntry};
use crate::report::Fetch;

/// What an issuer probe has learned so far and the step it is in (read when the bound cuts it).
struct Progress {
    step: Step,
    probe: IssuerProbe,
}

fn lock(progress: &Mutex<Progress>) -> std::sync::MutexGuard<'_, Progress> {
    progress
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Probes one issuer (see [`probe_issuer_by`]), bounded by 3 × `PROBE_TIMEOUT_SECS` only.
pub async fn probe_issuer(ctx: &ProbeContext, issuer_url: &str, cache: &HostCache) -> IssuerProbe {
    probe_issuer_by(ctx, issuer_url, cache, None).await
}

/// Probes one issuer: TLS to every address of its host, the discovery document, TLS to every
/// address of the `jwks_uri` host (through `cache`, so providers sharing a host share its probe
/// and connections), then the JWKS. Every failure is a [`ProbeIssue`].
///
/// The whole probe ends by 3 × `PROBE_TIMEOUT_SECS` or `deadline`, whichever comes first; then
/// what was learned is kept and one ISSUER_UNREACHABLE names the step still running. Dropping
/// the future cancels it cleanly (its connections close when no other provider uses them).
pub async fn probe_issuer_by(
    ctx: &ProbeContext,
    issuer_url: &str,
    cache: &HostCache,
    deadline: Option<Instant>,
) -> IssuerProbe {
    let bound = Instant::now() + ctx.issuer_bound();
    let until = deadline.map_or(bound, |d| d.min(bound));
    let progress = Mutex::new(Progress {
        step: Step::IssuerHost,
        probe: IssuerProbe {
            issuer: issuer_url.to_string(),
            ..IssuerProbe::default()
        },
    });
    let finished = tokio::time::timeout_at(until, run(ctx, issuer_url, cache, &progress))
        .await
        .is_ok();
    let Progress { step, mut probe } = progress
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !finished {
        let why = if until < bound {
            "the caller's deadline came".to_string()
        } else {
            format!(
                "it did not finish within {}s (3 × PROBE_TIMEOUT_SECS)",
                ctx.issuer_bound().as_secs_f32()
            )
        };
        probe.issues.push(ProbeIssue::new(
            ProbeFailure::Unreachable { step },
            format!(
                "the probe of {issuer_url} was cut short: {why} while {step} was still running"
            ),
            json!({"issuer": issuer_url, "step": step.as_str()}),
        ));
    }
    probe
}

/// The probe's steps, recording into `progress` as they go.
async fn run(ctx: &ProbeContext, issuer_url: &str, cache: &HostCache, progress: &Mutex<Progress>) {
    let issue = |failure, message: String, details: Value| {
        lock(progress)
            .probe
            .issues
            .push(ProbeIssue::new(failure, message, details));
    };
    let discovery_invalid = |problem| ProbeFailure::DiscoveryInvalid { problem };
    let checked =
        check_issuer_url(issuer_url).and_then(|issuer| Ok((issuer, discovery_url(issuer_url)?)));
    let (issuer, discovery) = match checked {
        Ok(urls) => urls,
        Err(problem) => {
            issue(
                discovery_invalid(DiscoveryProblem::BadIssuerUrl),
                format!("cannot probe issuer: {problem}"),
                json!({"problem": "bad_issuer_url"}),
            );
            return;
        }
    };

    // The issuer's host: every address, then discovery over one of its verified connections.
    let (issuer_host, issuer_port) = host_and_port(&issuer);
    let issuer_lease = cache.lease(issuer_host, issuer_port);
    let issuer_entry = issuer_lease.entry(ctx, issuer_host, issuer_port).await;
    record_host(progress, &issuer_entry, Fetch::Discovery);
    let verified = issuer_entry.connections(false);
    if verified.is_empty() {
        let rejected = issuer_entry
            .probe
            .endpoints
            .iter()
            .find_map(|e| match &e.verdict {
                ChainVerdict::Expired(why) | ChainVerdict::Untrusted(why) => Some(why.clone()),
                ChainVerdict::Trusted | ChainVerdict::NotReceived => None,
            });
        // Otherwise nothing answered: each address's failure (or the refusal) is reported already.
        if let Some(why) = rejected {
            issue(
                discovery_invalid(DiscoveryProblem::CertificateRejected),
                format!(
                    "the discovery document {discovery} could not be fetched over verified TLS (the server's \
                     certificate was rejected: {why})"
                ),
                json!({"url": discovery.as_str(), "error": why, "cause": "certificate_rejected"}),
            );
        }
        return;
    }
    lock(progress).step = Step::Discovery;
    let document = match fetch(&verified, &discovery, ctx).await {
        Ok(document) => document,
        Err(FetchError::Unreachable(why)) => {
            issue(
                ProbeFailure::Unreachable {
                    step: Step::Discovery,
                },
                format!("cannot fetch {discovery}: {why}"),
                json!({"url": discovery.as_str(), "error": capped(&why)}),
            );
            return;
        }
        Err(error) => {
            let problem = match error {
                FetchError::Redirected { .. } => DiscoveryProblem::Redirected,
                FetchError::TooLarge(_) => DiscoveryProblem::TooLarge,
                FetchError::NotJson(_) => DiscoveryProblem::NotJson,
                FetchError::Status(_) | FetchError::Unreachable(_) => DiscoveryProblem::Status,
            };
            issue(
                discovery_invalid(problem),
                format!(
                    "discovery document: {discovery} {}",
                    capped(&error.to_string())
                ),
                fetch_details(&discovery, &error),
            );
            return;
        }
    };
    let jwks_url = match check_discovery(issuer_url, &document) {
        Ok(url) => url,
        Err((problem, message, details)) => {
            issue(
                discovery_invalid(problem),
                format!("discovery document {discovery}: {message}"),
                details,
            );
            return;
        }
    };
    let served_jwks_uri = document
        .get("jwks_uri")
        .and_then(Value::as_str)
        .unwrap_or(jwks_url.as_str());
    lock(progress).probe.jwks_uri = Some(capped(served_jwks_uri));

    // The JWKS host: the same entry when it is the same host (no second handshake).
    let (jwks_host, jwks_port) = host_and_port(&jwks_url);
    let jwks_lease = cache.lease(jwks_host, jwks_port);
    let (jwks_entry, _issuer_lease) = if jwks_lease.authority() == issuer_lease.authority() {
        drop(jwks_lease);
        lock(progress).probe.hosts[0].serves.push(Fetch::Jwks);
        (issuer_entry, Some(issuer_lease))
    } else {
        // Done with the issuer host: let its connections go before opening others.
        drop(verified);
        drop(issuer_entry);
        drop(issuer_lease);
        lock(progress).step = Step::JwksHost;
        let entry = jwks_lease.entry(ctx, jwks_host, jwks_port).await;
        record_host(progress, &entry, Fetch::Jwks);
        (entry, None)
    };
    let jwks_invalid = |problem| ProbeFailure::JwksInvalid { problem };
    let trusted = jwks_entry.connections(true);
    if trusted.is_empty() {
        issue(
            jwks_invalid(JwksProblem::NoVerifiedConnection),
            format!(
                "the JWKS {jwks_url} was not fetched: no address of {} completed a verified TLS handshake \
                 with every served certificate valid (see the chain, expiry and reachability findings)",
                jwks_entry.probe.authority
            ),
            json!({"url": jwks_url.as_str()}),
        );
        return;
    }
    lock(progress).step = Step::Jwks;
    match fetch(&trusted, &jwks_url, ctx).await {
        Ok(jwks) => match usable_signing_keys(&jwks) {
            Ok(count) => lock(progress).probe.jwks_keys = Some(count),
            Err(problem) => {
                lock(progress).probe.jwks_keys = Some(0);
                issue(
                    jwks_invalid(JwksProblem::NoUsableKey),
                    format!("{jwks_url}: {problem}"),
                    json!({"url": jwks_url.as_str()}),
                );
            }
        },
        Err(error) => {
            let problem = match error {
                FetchError::Redirected { .. } => JwksProblem::Redirected,
                FetchError::TooLarge(_) => JwksProblem::TooLarge,
                FetchError::NotJson(_) => JwksProblem::NotJson,
                FetchError::Status(_) | FetchError::Unreachable(_) => JwksProblem::Status,
            };
            issue(
                jwks_invalid(problem),
                format!(
                    "cannot fetch the JWKS {jwks_url}: {}",
                    capped(&error.to_string())
                ),
                fetch_details(&jwks_url, &error),
            );
        }
    }
}

/// Adds a host's probe to the result, serving `fetch`; its unreachable issues name the step.
fn record_host(progress: &Mutex<Progress>, entry: &HostEntry, fetch: Fetch) {
    let step = match fetch {
        Fetch::Discovery => Step::IssuerHost,
        Fetch::Jwks => Step::JwksHost,
    };
    let mut host: HostProbe = entry.probe.clone();
    host.serves = vec![fetch];
    for issue in &mut host.issues {
        if let ProbeFailure::Unreachable { step: s } = &mut issue.failure {
            *s = step;
        }
    }
    lock(progress).probe.hosts.push(host);
}

/// GETs `url` over the first of `connections` that carries the exchange (the next one when a
/// connection fails), bounded per part by the step bound.
async fn fetch(
    connections: &[Arc<Connection>],
    url: &Url,
    ctx: &ProbeContext,
) -> Result<Value, FetchError> {
    let mut last = FetchError::Unreachable("no connection".to_string());
    for connection in connections {
        match connection.get_json(url, ctx.timeout).await {
            Err(FetchError::Unreachable(why)) => last = FetchError::Unreachable(why),
            answered => return answered,
        }
    }
    Err(last)
}

fn fetch_details(url: &Url, error: &FetchError) -> Value {
    match error {
        FetchError::Redirected { status, location } => {
            json!({"url": url.as_str(), "status": status, "location": capped(location)})
        }
        FetchError::Status(status) => json!({"url": url.as_str(), "status": status}),
        FetchError::TooLarge(_) => {
            json!({"url": url.as_str(), "limit_bytes": super::facts::MAX_BODY_BYTES})
        }
        FetchError::NotJson(_) | FetchError::Unreachable(_) => json!({"url": url.as_str()}),
    }
}

/// Host (IPv6 in brackets) and port (443 unless given) of an https URL.
fn host_and_port(url: &Url) -> (&str, u16) {
    (
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(443),
    )
}
