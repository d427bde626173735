//! Issuer probing: the issuer's host (every address), discovery over its verified connections,
//! then the `jwks_uri` host (the same host entry when it is the same host) and the JWKS over its
//! trusted connections; the provider's own exchanges bounded by 3 × `PROBE_TIMEOUT_SECS`.

use std::sync::Arc;

use serde_json::{json, Value};
use url::Url;

use super::context::ProbeContext;
use super::documents::{check_discovery, check_issuer_url, discovery_url, usable_signing_keys};
use super::facts::{
    capped, DiscoveryProblem, IssuerProbe, JwksProblem, ProbeFailure, ProbeIssue, Step,
};
use super::fetch::{get_json, Budget, FetchError, Spent};
use super::host::{HostCache, HostEntry, HostLease};
use super::pool::Link;
use crate::report::Fetch;

/// Attempts of one fetch on one address when its connection breaks (each on a new connection)
/// before the next address is tried.
const ATTEMPTS_PER_ADDRESS: usize = 3;

/// Probes one issuer: TLS to every address of its host, the discovery document, TLS to every
/// address of the `jwks_uri` host (through `cache`, so providers sharing a host share its probe
/// and its connections), then the JWKS. Every failure is a [`ProbeIssue`].
///
/// The provider's own exchanges (its share of the host probes, its requests and bodies) end by
/// 3 × `PROBE_TIMEOUT_SECS`; then what was learned is kept and one ISSUER_UNREACHABLE names the
/// step still running. Waiting for a shared host's turn is not counted: the caller bounds the
/// whole by the run's deadline, and dropping the future cancels it cleanly.
pub async fn probe_issuer(ctx: &ProbeContext, issuer_url: &str, cache: &HostCache) -> IssuerProbe {
    let mut run = Run {
        ctx,
        cache,
        budget: Budget::new(ctx.timeout, ctx.issuer_bound()),
        step: Step::IssuerHost,
        probe: IssuerProbe {
            issuer: issuer_url.to_string(),
            ..IssuerProbe::default()
        },
        hosts: Vec::new(),
        turn: None,
    };
    let finished = run.steps(issuer_url).await;
    let Run {
        step,
        mut probe,
        hosts,
        ..
    } = run;
    for (entry, serves) in hosts {
        probe.hosts.push(host_probe(&entry, serves));
    }
    if finished.is_err() {
        probe.issues.push(ProbeIssue::new(
            ProbeFailure::Unreachable { step },
            format!(
                "the probe of {issuer_url} was cut short: it did not finish within {}s of its own \
                 exchanges (3 × PROBE_TIMEOUT_SECS) while {step} was still running",
                ctx.issuer_bound().as_secs_f32()
            ),
            json!({"issuer": issuer_url, "step": step.as_str()}),
        ));
    }
    probe
}

/// One issuer probe in progress.
struct Run<'a> {
    ctx: &'a ProbeContext,
    cache: &'a HostCache,
    budget: Budget,
    /// The step running (named when the bound cuts the probe).
    step: Step,
    probe: IssuerProbe,
    /// The hosts used and what each carries, recorded at the end (chains seen by then included).
    hosts: Vec<(Arc<HostEntry>, Vec<Fetch>)>,
    /// The turn this provider holds on an address, if any.
    turn: Option<Turn>,
}

impl Run<'_> {
    fn issue(&mut self, failure: ProbeFailure, message: String, details: Value) {
        self.probe
            .issues
            .push(ProbeIssue::new(failure, message, details));
    }

    /// The probe's steps; `Err(Spent)` when the provider's own bound ran out.
    async fn steps(&mut self, issuer_url: &str) -> Result<(), Spent> {
        let Some((issuer, discovery)) = self.urls(issuer_url) else {
            return Ok(());
        };
        let Some((issuer_entry, issuer_lease, jwks_url)) =
            self.discovery(issuer_url, &issuer, &discovery).await?
        else {
            return Ok(());
        };
        self.jwks(issuer_entry, issuer_lease, &jwks_url).await
    }

    /// The issuer URL and its discovery URL, or `None` once a bad issuer URL is reported.
    fn urls(&mut self, issuer_url: &str) -> Option<(Url, Url)> {
        let discovery_invalid = |problem| ProbeFailure::DiscoveryInvalid { problem };
        let checked = check_issuer_url(issuer_url)
            .and_then(|issuer| Ok((issuer, discovery_url(issuer_url)?)));
        match checked {
            Ok(urls) => Some(urls),
            Err(problem) => {
                self.issue(
                    discovery_invalid(DiscoveryProblem::BadIssuerUrl),
                    format!("cannot probe issuer: {problem}"),
                    json!({"problem": "bad_issuer_url"}),
                );
                None
            }
        }
    }

    /// The issuer's host (every address), then discovery over its verified connections: the
    /// host, its lease and the checked `jwks_uri`, or `None` once what failed is reported.
    async fn discovery(
        &mut self,
        issuer_url: &str,
        issuer: &Url,
        discovery: &Url,
    ) -> Result<Option<(Arc<HostEntry>, HostLease, Url)>, Spent> {
        let discovery_invalid = |problem| ProbeFailure::DiscoveryInvalid { problem };
        // The issuer's host: every address, then discovery over its verified connections.
        let (issuer_host, issuer_port) = host_and_port(issuer);
        let (issuer_lease, own) = self.cache.lease(self.ctx, issuer_host, issuer_port).await;
        let issuer_entry = issuer_lease.entry().clone();
        self.hosts
            .push((issuer_entry.clone(), vec![Fetch::Discovery]));
        self.budget.charge(own)?;
        let verified = issuer_entry.links(false);
        if verified.is_empty() {
            // Otherwise nothing answered: each address's failure (or the refusal) is reported.
            if let Some(why) = issuer_entry.rejection() {
                self.issue(
                    discovery_invalid(DiscoveryProblem::CertificateRejected),
                    format!(
                        "the discovery document {discovery} could not be fetched over verified TLS (the \
                         server's certificate was rejected: {why})"
                    ),
                    json!({"url": discovery.as_str(), "error": why, "cause": "certificate_rejected"}),
                );
            }
            return Ok(None);
        }
        self.step = Step::Discovery;
        let document = match fetch(&verified, discovery, &mut self.budget, &mut self.turn).await {
            Ok(document) => document,
            Err(FetchError::Spent) => return Err(Spent),
            Err(error) => {
                self.discovery_not_fetched(discovery, error);
                return Ok(None);
            }
        };
        drop(verified);
        let issuer_text = issuer_url.to_string();
        let jwks_url = match check_discovery(&issuer_text, &document) {
            Ok(url) => url,
            Err((problem, message, details)) => {
                self.issue(
                    discovery_invalid(problem),
                    format!("discovery document {discovery}: {message}"),
                    details,
                );
                return Ok(None);
            }
        };
        let served_jwks_uri = document
            .get("jwks_uri")
            .and_then(Value::as_str)
            .unwrap_or(jwks_url.as_str());
        self.probe.jwks_uri = Some(capped(served_jwks_uri));
        Ok(Some((issuer_entry, issuer_lease, jwks_url)))
    }

    /// Reports a discovery fetch that failed (other than the bound running out).
    fn discovery_not_fetched(&mut self, discovery: &Url, error: FetchError) {
        let discovery_invalid = |problem| ProbeFailure::DiscoveryInvalid { problem };
        match error {
            FetchError::Unreachable(why) | FetchError::Broken(why) => {
                self.issue(
                    ProbeFailure::Unreachable {
                        step: Step::Discovery,
                    },
                    format!("cannot fetch {discovery}: {why}"),
                    json!({"url": discovery.as_str(), "error": capped(&why)}),
                );
            }
            error => {
                let problem = match error {
                    FetchError::Redirected { .. } => DiscoveryProblem::Redirected,
                    FetchError::TooLarge(_) => DiscoveryProblem::TooLarge,
                    FetchError::NotJson(_) => DiscoveryProblem::NotJson,
                    _ => DiscoveryProblem::Status,
                };
                self.issue(
                    discovery_invalid(problem),
                    format!(
                        "discovery document: {discovery} {}",
                        capped(&error.to_string())
                    ),
                    fetch_details(discovery, &error),
                );
            }
        }
    }

    /// The JWKS host: the issuer's entry when it is the same host (no second handshake), else its
    /// own, leased once the issuer host's turn and lease are let go.
    async fn jwks_host(
        &mut self,
        issuer_entry: Arc<HostEntry>,
        issuer_lease: HostLease,
        jwks_url: &Url,
    ) -> Result<(Arc<HostEntry>, HostLease), Spent> {
        let (jwks_host, jwks_port) = host_and_port(jwks_url);
        if super::address::authority(jwks_host, jwks_port) == issuer_entry.authority() {
            self.hosts[0].1.push(Fetch::Jwks);
            Ok((issuer_entry, issuer_lease))
        } else {
            // Done with the issuer host: its turn and its lease go before this one opens.
            self.turn = None;
            drop(issuer_lease);
            self.step = Step::JwksHost;
            let (lease, own) = self.cache.lease(self.ctx, jwks_host, jwks_port).await;
            let entry = lease.entry().clone();
            self.hosts.push((entry.clone(), vec![Fetch::Jwks]));
            self.budget.charge(own)?;
            Ok((entry, lease))
        }
    }

    /// The JWKS host, then the JWKS over its trusted connections, its usable keys counted.
    async fn jwks(
        &mut self,
        issuer_entry: Arc<HostEntry>,
        issuer_lease: HostLease,
        jwks_url: &Url,
    ) -> Result<(), Spent> {
        // The JWKS host: the same entry when it is the same host (no second handshake).
        let (jwks_entry, _jwks_lease) =
            self.jwks_host(issuer_entry, issuer_lease, jwks_url).await?;
        let jwks_invalid = |problem| ProbeFailure::JwksInvalid { problem };
        let trusted = jwks_entry.links(true);
        if trusted.is_empty() {
            self.issue(
                jwks_invalid(JwksProblem::NoVerifiedConnection),
                format!(
                    "the JWKS {jwks_url} was not fetched: no address of {} completed a verified TLS handshake \
                     with every served certificate valid (see the chain, expiry and reachability findings)",
                    jwks_entry.authority()
                ),
                json!({"url": jwks_url.as_str()}),
            );
            return Ok(());
        }
        self.step = Step::Jwks;
        match fetch(&trusted, jwks_url, &mut self.budget, &mut self.turn).await {
            Ok(jwks) => match usable_signing_keys(&jwks) {
                Ok(count) => self.probe.jwks_keys = Some(count),
                Err(problem) => {
                    self.probe.jwks_keys = Some(0);
                    self.issue(
                        jwks_invalid(JwksProblem::NoUsableKey),
                        format!("{jwks_url}: {problem}"),
                        json!({"url": jwks_url.as_str()}),
                    );
                }
            },
            Err(FetchError::Spent) => return Err(Spent),
            Err(error) => {
                let problem = match error {
                    FetchError::Redirected { .. } => JwksProblem::Redirected,
                    FetchError::TooLarge(_) => JwksProblem::TooLarge,
                    FetchError::NotJson(_) => JwksProblem::NotJson,
                    _ => JwksProblem::Status,
                };
                self.issue(
                    jwks_invalid(problem),
                    format!(
                        "cannot fetch the JWKS {jwks_url}: {}",
                        capped(&error.to_string())
                    ),
                    fetch_details(jwks_url, &error),
                );
            }
        }
        Ok(())
    }
}

/// A host's facts as this issuer reports them: what it served so far, serving `serves`; its
/// unreachable issues name the host's step.
fn host_probe(entry: &HostEntry, serves: Vec<Fetch>) -> super::facts::HostProbe {
    let step = if serves.contains(&Fetch::Discovery) {
        Step::IssuerHost
    } else {
        Step::JwksHost
    };
    let mut host = entry.probe();
    host.serves = serves;
    for issue in &mut host.issues {
        if let ProbeFailure::Unreachable { step: s } = &mut issue.failure {
            *s = step;
        }
    }
    host
}

/// A provider's turn on one address, held from its first request there until it moves to another
/// address or its probe ends.
struct Turn {
    /// The link's address in memory: compared for identity only (the host keeps its links for the
    /// run), so a plain number.
    link: usize,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Turn {
    fn new(link: &Link, permit: tokio::sync::OwnedSemaphorePermit) -> Self {
        Turn {
            link: link as *const Link as usize,
            _permit: permit,
        }
    }

    fn is_for(&self, link: &Link) -> bool {
        self.link == link as *const Link as usize
    }
}

/// GETs `url` over the first of `links` that carries the exchange, taking that address's turn
/// (or keeping the one `turn` holds there): a broken connection is replaced (up to
/// [`ATTEMPTS_PER_ADDRESS`] attempts) before the next address is tried, and a timeout moves on to
/// the next address.
async fn fetch(
    links: &[&Link],
    url: &Url,
    budget: &mut Budget,
    turn: &mut Option<Turn>,
) -> Result<Value, FetchError> {
    // The address this provider already holds a turn on goes first: a provider's exchanges with a
    // host run back to back, so providers queued on a busy host finish one by one instead of all
    // at the end (and a run deadline cuts the queue, not every provider).
    let mut ordered: Vec<&Link> = links.to_vec();
    if let Some(held) = turn.as_ref() {
        if let Some(index) = ordered.iter().position(|link| held.is_for(link)) {
            let link = ordered.remove(index);
            ordered.insert(0, link);
        }
    }
    let mut last = FetchError::Unreachable("no connection".to_string());
    for link in ordered {
        if !turn.as_ref().is_some_and(|held| held.is_for(link)) {
            // Never wait for one address's turn while holding another's.
            *turn = None;
            let Some(permit) = link.turn().await else {
                last = FetchError::Broken(format!("{}: the address was closed", link.address));
                continue;
            };
            *turn = Some(Turn::new(link, permit));
        }
        for _attempt in 0..ATTEMPTS_PER_ADDRESS {
            match get_json(link, url, budget).await {
                Err(FetchError::Broken(why)) => last = FetchError::Broken(why),
                Err(FetchError::Unreachable(why)) => {
                    last = FetchError::Unreachable(why);
                    break;
                }
                answered => return answered,
            }
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
        FetchError::NotJson(_)
        | FetchError::Unreachable(_)
        | FetchError::Broken(_)
        | FetchError::Spent => json!({"url": url.as_str()}),
    }
}

/// Host (IPv6 in brackets) and port (443 unless given) of an https URL.
fn host_and_port(url: &Url) -> (&str, u16) {
    (
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(443),
    )
}
