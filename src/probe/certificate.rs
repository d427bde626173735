//! One served certificate as a person (and the report) needs to see it.

use sha1::{Digest, Sha1};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::report::CertificateInfo;

/// Lowercase hex SHA-1 of `der`: the thumbprint form IAM uses.
pub fn sha1_hex(der: &[u8]) -> String {
    hex::encode(Sha1::digest(der))
}

/// Longest subject or issuer name kept, in characters. Names are issuer-controlled and can be
/// huge (a DN may carry many long attributes); one hostile issuer must not bloat the report or
/// the notification.
pub const MAX_NAME_CHARS: usize = 512;

/// `name` cut to [`MAX_NAME_CHARS`] characters (on a character boundary) with "…" appended when
/// cut.
pub fn cap_name(name: String) -> String {
    match name.char_indices().nth(MAX_NAME_CHARS) {
        Some((cut, _)) => {
            let mut capped = name;
            capped.truncate(cut);
            capped.push('…');
            capped
        }
        None => name,
    }
}

/// Subject, issuer, SHA-1 and validity of one DER certificate. Subject and issuer are capped at
/// [`MAX_NAME_CHARS`] characters.
///
/// A certificate x509-parser cannot read still gets its SHA-1 (the thumbprint does not need
/// parsing); its names say it is unreadable and its validity is the Unix epoch, and the verifier
/// rejects it anyway (BadEncoding).
pub fn certificate_info(der: &[u8]) -> CertificateInfo {
    let sha1 = sha1_hex(der);
    match X509Certificate::from_der(der) {
        Ok((_, cert)) => CertificateInfo {
            subject: cap_name(cert.subject().to_string()),
            issuer: cap_name(cert.issuer().to_string()),
            sha1,
            not_before: utc(cert.validity().not_before.to_datetime()),
            not_after: utc(cert.validity().not_after.to_datetime()),
        },
        Err(e) => CertificateInfo {
            subject: cap_name(format!("<unreadable certificate: {e}>")),
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
    fn names_are_capped_on_character_boundaries() {
        let short = "CN=short".to_string();
        assert_eq!(cap_name(short.clone()), short);
        let exact = "é".repeat(MAX_NAME_CHARS);
        assert_eq!(cap_name(exact.clone()), exact);
        // Two-byte characters: the cap counts characters, not bytes, and never splits one.
        let long = format!("CN={}", "é".repeat(2 * MAX_NAME_CHARS));
        let capped = cap_name(long.clone());
        assert_eq!(capped.chars().count(), MAX_NAME_CHARS + 1);
        assert!(capped.ends_with('…'), "{capped}");
        assert!(long.starts_with(capped.trim_end_matches('…')));
        let ascii = "x".repeat(10 * MAX_NAME_CHARS);
        assert_eq!(cap_name(ascii), format!("{}…", "x".repeat(MAX_NAME_CHARS)));
    }

    #[test]
    fn huge_certificate_names_are_capped_in_the_info() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["a.example".to_string()]).unwrap();
        let huge = "Ω".repeat(3000);
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, huge.clone());
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, huge);
        let cert = params.self_signed(&key).unwrap();
        let info = certificate_info(cert.der());
        for name in [&info.subject, &info.issuer] {
            assert_eq!(name.chars().count(), MAX_NAME_CHARS + 1, "{name}");
            assert!(name.ends_with('…'));
            assert!(name.starts_with("CN=ΩΩ"), "{name}");
        }
        assert_eq!(info.sha1, sha1_hex(cert.der()));
    }

    #[test]
    fn garbage_still_has_a_thumbprint() {
        let info = certificate_info(b"not a certificate");
        assert_eq!(info.sha1, sha1_hex(b"not a certificate"));
        assert!(info.subject.contains("unreadable"));
    }
}
