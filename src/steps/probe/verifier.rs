//! The recording verifier: rustls' WebPKI verifier, plus a note of what the server presented.
//!
//! It never weakens verification: every method delegates to [`WebPkiServerVerifier`] and returns
//! its answer unchanged, so a handshake only completes with a peer the trust store accepts. What
//! it adds is a record of the chain as served and of the verdict, so an untrusted, expired or
//! wrong-name chain (whose handshake rustls aborts) is still captured with its real thumbprint.
//!
//! # One recorder per connection
//! rustls gives a verifier no connection identity, so a shared recorder could not tell two
//! concurrent handshakes apart. Each connection therefore gets its own [`RecordingVerifier`] inside
//! its own `ClientConfig`, cloned from a template built once (the clone copies a few `Arc`s and
//! small vectors; the provider and the WebPKI verifier are shared). The template has resumption
//! disabled, so every handshake is a full one and the server always presents its chain.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use time::format_description::well_known::Rfc3339;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::certificate::{certificate_info, first_unparseable};
use super::facts::ChainVerdict;

/// What one handshake presented and how the verifier judged it.
#[derive(Debug, Clone)]
pub(crate) struct Presented {
    /// End entity first, then the intermediates exactly as served.
    pub chain: Vec<CertificateDer<'static>>,
    /// The name the chain was checked against.
    pub server_name: ServerName<'static>,
    /// The verification time.
    pub now: UnixTime,
    /// The WebPKI verifier's answer (also what the handshake got).
    pub outcome: Result<(), rustls::Error>,
}

/// A [`ServerCertVerifier`] that delegates to WebPKI and records the presented chain.
#[derive(Debug)]
pub(crate) struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    presented: Mutex<Option<Presented>>,
}

impl RecordingVerifier {
    /// A fresh recorder (one per connection) in front of the shared `inner` verifier.
    pub fn new(inner: Arc<WebPkiServerVerifier>) -> Self {
        RecordingVerifier {
            inner,
            presented: Mutex::new(None),
        }
    }

    /// What the server presented, if the handshake got that far.
    pub fn take(&self) -> Option<Presented> {
        self.presented
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.clone().into_owned())
            .collect();
        *self
            .presented
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Presented {
            chain,
            server_name: server_name.to_owned(),
            now,
            outcome: verdict.as_ref().map(|_| ()).map_err(Clone::clone),
        });
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        self.inner.root_hint_subjects()
    }
}

/// Whether `verifier` accepts the recorded chain for the same name at the same time (used with the
/// Mozilla-only verifier to decide whether IAM would trust the chain without a thumbprint).
pub(crate) fn accepts(verifier: &WebPkiServerVerifier, presented: &Presented) -> bool {
    let Some((end_entity, intermediates)) = presented.chain.split_first() else {
        return false;
    };
    verifier
        .verify_server_cert(
            end_entity,
            intermediates,
            &presented.server_name,
            &[],
            presented.now,
        )
        .is_ok()
}

/// Our verdict for what one handshake presented: WebPKI's verdict, except that a chain WebPKI
/// accepted is [`ChainVerdict::Expired`] when any certificate the server *served* is outside its
/// validity period at the verification time.
///
/// WebPKI validates a path and ignores served certificates the path does not need, e.g. an
/// expired cross-signed root sent after the intermediate (the 2020 AddTrust case). Such a
/// certificate is still served, and when it is the last one its SHA-1 is the thumbprint IAM
/// would use; DESIGN's remediation condition 3 ("no expired certificate") covers it.
///
/// A served certificate that cannot be parsed makes the chain untrusted ("certificate N cannot be
/// parsed"), whatever WebPKI said: its dates are unknown, so nothing vouches for it.
pub(crate) fn chain_verdict(presented: &Presented) -> ChainVerdict {
    if let Some((n, why)) = first_unparseable(&presented.chain) {
        return ChainVerdict::Untrusted(format!("certificate {n} cannot be parsed ({why})"));
    }
    match verdict(&presented.outcome) {
        ChainVerdict::Trusted => match served_outside_validity(&presented.chain, presented.now) {
            Some(problem) => ChainVerdict::Expired(problem),
            None => ChainVerdict::Trusted,
        },
        other => other,
    }
}

/// Which served certificates are outside their validity period at `now` (as WebPKI judges time:
/// expired when `now` is after `notAfter`, not yet valid when before `notBefore`), named by
/// subject, SHA-1 and the date that fails; `None` when all are valid. A certificate that cannot
/// be parsed has no dates to judge and is left to the verifier.
pub(crate) fn served_outside_validity(
    chain: &[CertificateDer<'_>],
    now: UnixTime,
) -> Option<String> {
    let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let problems: Vec<String> = chain
        .iter()
        .enumerate()
        .filter_map(|(index, der)| {
            let (_, cert) = X509Certificate::from_der(der).ok()?;
            let validity = cert.validity();
            let (when, what) = if now > validity.not_after.timestamp() {
                (validity.not_after.to_datetime(), "expired")
            } else if now < validity.not_before.timestamp() {
                (validity.not_before.to_datetime(), "is not valid before")
            } else {
                return None;
            };
            let info = certificate_info(der);
            let when = when
                .to_offset(time::UtcOffset::UTC)
                .format(&Rfc3339)
                .unwrap_or_else(|_| when.to_string());
            Some(format!(
                "served certificate #{} {} (SHA-1 {}) {what} {when}",
                index + 1,
                info.subject,
                info.sha1
            ))
        })
        .collect();
    if problems.is_empty() {
        return None;
    }
    Some(format!(
        "a served certificate is outside its validity period, although the verifier built a valid \
         path without it: {}",
        problems.join("; ")
    ))
}

/// Our verdict for a WebPKI outcome.
pub(crate) fn verdict(outcome: &Result<(), rustls::Error>) -> ChainVerdict {
    match outcome {
        Ok(()) => ChainVerdict::Trusted,
        Err(rustls::Error::InvalidCertificate(e)) => certificate_verdict(e),
        Err(other) => ChainVerdict::Untrusted(format!("the chain was rejected: {other}")),
    }
}

#[allow(deprecated)] // UnsupportedSignatureAlgorithm: still produced by older verifiers
fn certificate_verdict(error: &CertificateError) -> ChainVerdict {
    use CertificateError::*;
    let untrusted = |why: &str| ChainVerdict::Untrusted(why.to_string());
    match error {
        Expired | ExpiredContext { .. } | NotValidYet | NotValidYetContext { .. } => {
            ChainVerdict::Expired(format!("a certificate of the chain is outside its validity period ({error})"))
        }
        UnknownIssuer => untrusted(
            "the chain does not lead to a trusted root (unknown issuer: a missing intermediate, a private CA \
             not in the trust store, or a self-signed certificate)",
        ),
        BadSignature => untrusted("a certificate's signature does not verify (bad signature)"),
        NotValidForName | NotValidForNameContext { .. } => {
            ChainVerdict::Untrusted(format!("the certificate is not valid for this host name ({error})"))
        }
        BadEncoding => untrusted("a certificate of the chain is malformed (bad encoding)"),
        Revoked => untrusted("a certificate of the chain is revoked"),
        InvalidPurpose | InvalidPurposeContext { .. } => ChainVerdict::Untrusted(format!(
            "the certificate is not allowed for TLS server authentication ({error})"
        )),
        UnsupportedSignatureAlgorithm
        | UnsupportedSignatureAlgorithmContext { .. }
        | UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => ChainVerdict::Untrusted(format!(
            "a certificate uses a signature algorithm the verifier does not support ({error})"
        )),
        UnhandledCriticalExtension => {
            untrusted("a certificate has a critical extension the verifier does not understand")
        }
        other => ChainVerdict::Untrusted(format!("the chain was rejected: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A self-signed certificate named `name`, valid from `not_before` to `not_after` (Unix
    /// seconds).
    fn certificate(name: &str, not_before: i64, not_after: i64) -> CertificateDer<'static> {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.not_before = time::OffsetDateTime::from_unix_timestamp(not_before).unwrap();
        params.not_after = time::OffsetDateTime::from_unix_timestamp(not_after).unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    const NOW: u64 = 1_800_000_000; // 2027-01-15
    const DAY: i64 = 86_400;

    fn presented(
        chain: Vec<CertificateDer<'static>>,
        outcome: Result<(), rustls::Error>,
    ) -> Presented {
        Presented {
            chain,
            server_name: ServerName::try_from("a.example").unwrap(),
            now: UnixTime::since_unix_epoch(Duration::from_secs(NOW)),
            outcome,
        }
    }

    #[test]
    fn a_trusted_path_with_an_expired_served_certificate_is_expired() {
        let now = NOW as i64;
        let leaf = certificate("leaf.example", now - DAY, now + 90 * DAY);
        let intermediate = certificate("intermediate", now - DAY, now + 900 * DAY);
        let old_root = certificate("old cross-signed root", now - 900 * DAY, now - 2 * DAY);
        let old_sha1 = crate::probe::certificate::sha1_hex(&old_root);

        let all_valid = presented(vec![leaf.clone(), intermediate.clone()], Ok(()));
        assert_eq!(chain_verdict(&all_valid), ChainVerdict::Trusted);

        let with_old_root = presented(vec![leaf.clone(), intermediate.clone(), old_root], Ok(()));
        let ChainVerdict::Expired(why) = chain_verdict(&with_old_root) else {
            panic!("{:?}", chain_verdict(&with_old_root));
        };
        assert!(why.contains(&old_sha1), "{why}");
        assert!(why.contains("CN=old cross-signed root"), "{why}");
        assert!(why.contains("#3"), "{why}");
        assert!(why.contains("expired 2027-01-13T"), "{why}");

        let not_yet = certificate("future", now + DAY, now + 90 * DAY);
        let with_future = presented(vec![leaf.clone(), intermediate.clone(), not_yet], Ok(()));
        let ChainVerdict::Expired(why) = chain_verdict(&with_future) else {
            panic!("{:?}", chain_verdict(&with_future));
        };
        assert!(why.contains("is not valid before 2027-01-16T"), "{why}");

        // WebPKI's own rejection is kept as it is.
        let rejected = presented(
            vec![leaf, certificate("stale", now - 9 * DAY, now - DAY)],
            Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
        );
        assert!(matches!(
            chain_verdict(&rejected),
            ChainVerdict::Untrusted(_)
        ));
    }

    #[test]
    fn unreadable_served_certificates_are_left_to_the_verifier() {
        let now = NOW as i64;
        let leaf = certificate("leaf.example", now - DAY, now + 90 * DAY);
        let garbage = CertificateDer::from(b"not a certificate".to_vec());
        assert_eq!(
            served_outside_validity(
                &[leaf, garbage],
                UnixTime::since_unix_epoch(Duration::from_secs(NOW))
            ),
            None
        );
    }

    #[test]
    fn an_unparseable_served_certificate_is_untrusted_even_when_webpki_accepts() {
        let now = NOW as i64;
        let leaf = certificate("leaf.example", now - DAY, now + 90 * DAY);
        let garbage = CertificateDer::from(b"not a certificate".to_vec());
        let ChainVerdict::Untrusted(why) = chain_verdict(&presented(vec![leaf, garbage], Ok(())))
        else {
            panic!("expected untrusted");
        };
        assert!(why.starts_with("certificate 2 cannot be parsed"), "{why}");
    }

    #[test]
    fn expiry_variants_map_to_expired() {
        let t = UnixTime::since_unix_epoch(std::time::Duration::from_secs(100));
        for e in [
            CertificateError::Expired,
            CertificateError::NotValidYet,
            CertificateError::ExpiredContext {
                time: t,
                not_after: t,
            },
            CertificateError::NotValidYetContext {
                time: t,
                not_before: t,
            },
        ] {
            let v = verdict(&Err(rustls::Error::InvalidCertificate(e)));
            assert!(matches!(v, ChainVerdict::Expired(_)), "{v:?}");
        }
    }

    #[test]
    fn other_failures_are_untrusted_with_a_reason() {
        let v = verdict(&Err(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        )));
        assert!(matches!(&v, ChainVerdict::Untrusted(why) if why.contains("unknown issuer")));
        let v = verdict(&Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForNameContext {
                expected: ServerName::try_from("a.example").unwrap(),
                presented: vec!["DnsName(\"b.example\")".into()],
            },
        )));
        assert!(matches!(&v, ChainVerdict::Untrusted(why) if why.contains("not valid for")));
        let v = verdict(&Err(rustls::Error::InvalidCertificate(
            CertificateError::ApplicationVerificationFailure,
        )));
        assert!(matches!(v, ChainVerdict::Untrusted(_)));
        assert_eq!(verdict(&Ok(())), ChainVerdict::Trusted);
    }
}
