//! One served certificate as a person (and the report) needs to see it.

use sha1::{Digest, Sha1};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::report::CertificateInfo;

/// Lowercase hex SHA-1 of `der`: the thumbprint form IAM uses.
pub fn sha1_hex(der: &[u8]) -> String {
    hex::encode(Sha1::digest(der))
}

/// Subject, issuer, SHA-1 and validity of one DER certificate.
///
/// A certificate x509-parser cannot read still gets its SHA-1 (the thumbprint does not need
/// parsing); its names say it is unreadable and its validity is the Unix epoch, and the verifier
/// rejects it anyway (BadEncoding).
pub fn certificate_info(der: &[u8]) -> CertificateInfo {
    let sha1 = sha1_hex(der);
    match X509Certificate::from_der(der) {
        Ok((_, cert)) => CertificateInfo {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            sha1,
            not_before: utc(cert.validity().not_before.to_datetime()),
            not_after: utc(cert.validity().not_after.to_datetime()),
        },
        Err(e) => CertificateInfo {
            subject: format!("<unreadable certificate: {e}>"),
            issuer: String::new(),
            sha1,
            not_before: OffsetDateTime::UNIX_EPOCH,
            not_after: OffsetDateTime::UNIX_EPOCH,
        },
    }
}

fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(time::UtcOffset::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_is_lowercase_hex_of_the_bytes() {
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn garbage_still_has_a_thumbprint() {
        let info = certificate_info(b"not a certificate");
        assert_eq!(info.sha1, sha1_hex(b"not a certificate"));
        assert!(info.subject.contains("unreadable"));
    }
}
