//! Expiry findings: CERT_EXPIRED or CERT_EXPIRING once per distinct served certificate (listing
//! every address that served it), and CERT_EXPIRED for an address whose chain the verifier judged
//! outside its validity when no certificate's dates say so (e.g. not yet valid).

use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::rejection::{with_consequence, NotFetched};
use super::trust::place;
use crate::probe::{ChainVerdict, IssuerProbe};
use crate::report::{rfc3339, CertificateInfo, Discriminator, Finding, FindingCode};

/// The expiry findings of `probe` at `now`: the dated ones per certificate, then the verifier's
/// verdicts no dated finding covers.
pub(super) fn expiry_findings(
    resource: &str,
    probe: &IssuerProbe,
    expiry_warning_days: u32,
    now: OffsetDateTime,
    not_fetched: &[(NotFetched, &str)],
) -> Vec<Finding> {
    let served = served_certificates(probe);
    let (mut findings, expired_shas) =
        dated_findings(resource, &served, expiry_warning_days, now, not_fetched);
    findings.extend(verdict_findings(
        resource,
        probe,
        &expired_shas,
        not_fetched,
    ));
    findings
}

/// Each distinct served certificate once, with every address that served it and the host of the
/// first.
fn served_certificates(probe: &IssuerProbe) -> Vec<(&CertificateInfo, Vec<String>, &str)> {
    let mut served: Vec<(&CertificateInfo, Vec<String>, &str)> = Vec::new();
    for (served_host, endpoint) in probe.endpoints() {
        for cert in &endpoint.chain {
            let address = endpoint.address.to_string();
            match served.iter_mut().find(|(c, _, _)| c.sha1 == cert.sha1) {
                Some((_, addresses, _)) => {
                    if !addresses.contains(&address) {
                        addresses.push(address)
                    }
                }
                None => served.push((cert, vec![address], served_host.authority.as_str())),
            }
        }
    }
    served
}

/// CERT_EXPIRED for each certificate expired at `now`, CERT_EXPIRING for each expiring within
/// the window; and the SHA-1s of the expired ones.
fn dated_findings<'p>(
    resource: &str,
    served: &[(&'p CertificateInfo, Vec<String>, &str)],
    expiry_warning_days: u32,
    now: OffsetDateTime,
    not_fetched: &[(NotFetched, &str)],
) -> (Vec<Finding>, Vec<&'p str>) {
    let mut findings = Vec::new();
    let window = Duration::days(i64::from(expiry_warning_days));
    let mut expired_shas: Vec<&str> = Vec::new();
    for (cert, addresses, host) in served {
        // An unparseable certificate has no dates: it is CHAIN_UNTRUSTED, never CERT_EXPIRED.
        let Some(cert_not_after) = cert.not_after else {
            continue;
        };
        let left = cert_not_after - now;
        let days_left = left.whole_days();
        let not_after = rfc3339(cert_not_after);
        let details = json!({
            "host": host,
            "subject": cert.subject,
            "sha1": cert.sha1,
            "not_after": not_after,
            "days_left": days_left,
            "addresses": addresses,
        });
        if cert_not_after <= now {
            expired_shas.push(&cert.sha1);
            findings.push(with_consequence(
                Finding::new(
                    FindingCode::CertExpired,
                    resource,
                    format!(
                        "{host} serves an expired certificate: {} (SHA-1 {}) expired {not_after}",
                        cert.subject, cert.sha1
                    ),
                )
                .with_discriminator(Discriminator::Thumbprint(cert.sha1.clone()))
                .with_details(details),
                host,
                not_fetched,
            ));
        } else if left <= window {
            findings.push(
                Finding::new(
                    FindingCode::CertExpiring,
                    resource,
                    format!(
                        "{host} serves a certificate expiring in {}: {} (SHA-1 {}) on {not_after}",
                        crate::report::count(days_left, "day", "days"),
                        cert.subject,
                        cert.sha1
                    ),
                )
                .with_discriminator(Discriminator::Thumbprint(cert.sha1.clone()))
                .with_details(details),
            );
        }
    }
    (findings, expired_shas)
}

/// CERT_EXPIRED for each address whose chain the verifier judged expired when none of its
/// certificates is among `expired_shas` (the dated findings).
fn verdict_findings(
    resource: &str,
    probe: &IssuerProbe,
    expired_shas: &[&str],
    not_fetched: &[(NotFetched, &str)],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (served_host, endpoint) in probe.endpoints() {
        let host = &served_host.authority;
        if let ChainVerdict::Expired(reason) = &endpoint.verdict {
            let covered = endpoint
                .chain
                .iter()
                .any(|c| expired_shas.contains(&c.sha1.as_str()));
            if !covered {
                let address = endpoint.address.to_string();
                findings.push(with_consequence(
                    Finding::new(
                        FindingCode::CertExpired,
                        resource,
                        format!(
                            "{} serves a chain outside its validity period: {reason}",
                            place(host, &address)
                        ),
                    )
                    .with_discriminator(Discriminator::Address(address.clone()))
                    .with_details(json!({
                        "host": host,
                        "address": address,
                        "top_thumbprint": endpoint.top_thumbprint(),
                        "reason": reason,
                    })),
                    host,
                    not_fetched,
                ));
            }
        }
    }
    findings
}
