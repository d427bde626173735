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

use super::ChainVerdict;

/// What one handshake presented and how the verifier judged it.
#[derive(Debug, Clone)]
pub struct Presented {
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
pub struct RecordingVerifier {
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
pub fn accepts(verifier: &WebPkiServerVerifier, presented: &Presented) -> bool {
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

/// Our verdict for a WebPKI outcome.
pub fn verdict(outcome: &Result<(), rustls::Error>) -> ChainVerdict {
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
