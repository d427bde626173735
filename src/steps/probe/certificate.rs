//! One served certificate as a person (and the report) needs to see it, and whether a served chain
//! is contiguous.

use sha1::{Digest, Sha1};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::facts::{capped, BreakReason, ChainBreak};
use crate::report::CertificateInfo;

/// Lowercase hex SHA-1 of `der`: the thumbprint form IAM uses.
pub fn sha1_hex(der: &[u8]) -> String {
    hex::encode(Sha1::digest(der))
}

/// Subject, issuer, SHA-1 and validity of one DER certificate; names are capped (issuer-controlled).
///
/// A certificate x509-parser cannot read still gets its SHA-1 (the thumbprint needs no parsing);
/// its names are empty and its dates `None`.
pub fn certificate_info(der: &[u8]) -> CertificateInfo {
    let sha1 = sha1_hex(der);
    match X509Certificate::from_der(der) {
        Ok((_, cert)) => CertificateInfo {
            subject: capped(&cert.subject().to_string()),
            issuer: capped(&cert.issuer().to_string()),
            sha1,
            not_before: Some(utc(cert.validity().not_before.to_datetime())),
            not_after: Some(utc(cert.validity().not_after.to_datetime())),
        },
        Err(_) => CertificateInfo {
            subject: String::new(),
            issuer: String::new(),
            sha1,
            not_before: None,
            not_after: None,
        },
    }
}

/// The first served certificate (1-based) that cannot be parsed, with the parser's complaint.
pub(crate) fn first_unparseable(chain: &[impl AsRef<[u8]>]) -> Option<(usize, String)> {
    chain.iter().enumerate().find_map(|(index, der)| {
        match X509Certificate::from_der(der.as_ref()) {
            Ok(_) => None,
            Err(e) => Some((index + 1, capped(&e.to_string()))),
        }
    })
}

/// Whether the served chain is contiguous, as STS needs it: each certificate is issued by the next
/// one (the next one's subject is its issuer name and the next one's key verifies its signature,
/// x509-parser's `verify_signature`), no certificate is served twice (same DER), and nothing
/// follows a self-signed root. The leaf alone, and a chain that ends with its self-signed root, are
/// contiguous. The first break (lowest position) is reported, with the most specific reason:
/// repeated, extra (the certificate issues nothing served before it), out of order (the previous
/// certificate's issuer is served later), else the name or signature that does not match.
pub(crate) fn contiguity(chain: &[impl AsRef<[u8]>]) -> Result<(), ChainBreak> {
    let parsed: Vec<Option<X509Certificate<'_>>> = chain
        .iter()
        .map(|der| X509Certificate::from_der(der.as_ref()).ok().map(|(_, c)| c))
        .collect();
    for index in 1..parsed.len() {
        let broken = |reason| ChainBreak { index, reason };
        if let Some(first) = chain[..index]
            .iter()
            .position(|earlier| earlier.as_ref() == chain[index].as_ref())
        {
            return Err(broken(BreakReason::Repeated { first }));
        }
        let (Some(issued), Some(issuer)) = (&parsed[index - 1], &parsed[index]) else {
            return Err(broken(BreakReason::Unparseable));
        };
        if self_signed(issued) {
            return Err(broken(BreakReason::Extra));
        }
        if issues(issuer, issued) {
            continue;
        }
        if let Some(later) = (index + 1..parsed.len())
            .find(|&later| parsed[later].as_ref().is_some_and(|c| issues(c, issued)))
        {
            return Err(broken(BreakReason::OutOfOrder { issuer: later }));
        }
        let names_an_earlier = parsed[..index]
            .iter()
            .flatten()
            .any(|earlier| earlier.issuer().as_raw() == issuer.subject().as_raw());
        if !names_an_earlier {
            return Err(broken(BreakReason::Extra));
        }
        if issued.issuer().as_raw() != issuer.subject().as_raw() {
            return Err(broken(BreakReason::NameMismatch));
        }
        return Err(broken(BreakReason::BadSignature));
    }
    if parsed.len() == 1 && parsed[0].is_none() {
        return Err(ChainBreak {
            index: 0,
            reason: BreakReason::Unparseable,
        });
    }
    Ok(())
}

/// `issuer`'s subject is `issued`'s issuer name and its key verifies `issued`'s signature.
fn issues(issuer: &X509Certificate<'_>, issued: &X509Certificate<'_>) -> bool {
    issued.issuer().as_raw() == issuer.subject().as_raw()
        && issued.verify_signature(Some(issuer.public_key())).is_ok()
}

/// A self-signed certificate (a root): it ends every path, so nothing may follow it.
fn self_signed(cert: &X509Certificate<'_>) -> bool {
    issues(cert, cert)
}

fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(time::UtcOffset::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ISSUER_TEXT_MAX;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

    #[test]
    fn sha1_is_lowercase_hex_of_the_bytes() {
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn huge_certificate_names_are_capped_in_the_info() {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["a.example".to_string()]).unwrap();
        let huge = "Ω".repeat(3000);
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, huge.clone());
        params
            .distinguished_name
            .push(DnType::OrganizationName, huge);
        let cert = params.self_signed(&key).unwrap();
        let info = certificate_info(cert.der());
        for name in [&info.subject, &info.issuer] {
            assert_eq!(name.chars().count(), ISSUER_TEXT_MAX, "{name}");
            assert!(name.ends_with('…'));
            assert!(name.starts_with("CN=ΩΩ"), "{name}");
        }
        assert_eq!(info.sha1, sha1_hex(cert.der()));
    }

    #[test]
    fn unparseable_certificates_keep_their_thumbprint_and_have_no_dates() {
        let key = KeyPair::generate().unwrap();
        let good = CertificateParams::new(vec!["a.example".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let truncated = good.der()[..good.der().len() / 2].to_vec();
        for der in [b"not a certificate".to_vec(), truncated, Vec::new()] {
            let info = certificate_info(&der);
            assert_eq!(info.sha1, sha1_hex(&der));
            assert_eq!((info.not_before, info.not_after), (None, None));
        }
        let chain = [good.der().to_vec(), b"junk".to_vec()];
        assert_eq!(first_unparseable(&chain).map(|(n, _)| n), Some(2));
        assert_eq!(first_unparseable(&chain[..1]), None);
    }

    fn ca(name: &str) -> (rcgen::Certificate, Issuer<'static, KeyPair>) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        (cert, Issuer::new(params, key))
    }

    fn leaf(issuer: &Issuer<'_, KeyPair>) -> rcgen::Certificate {
        let key = KeyPair::generate().unwrap();
        CertificateParams::new(vec!["a.example".to_string()])
            .unwrap()
            .signed_by(&key, issuer)
            .unwrap()
    }

    /// A CA named `name`, issued by `parent` (self-signed without one).
    fn ca_under(
        name: &str,
        parent: Option<&Issuer<'_, KeyPair>>,
    ) -> (rcgen::Certificate, Issuer<'static, KeyPair>) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = match parent {
            Some(parent) => params.signed_by(&key, parent).unwrap(),
            None => params.self_signed(&key).unwrap(),
        };
        (cert, Issuer::new(params, key))
    }

    fn der(c: &rcgen::Certificate) -> Vec<u8> {
        c.der().to_vec()
    }

    fn broken(index: usize, reason: BreakReason) -> Result<(), ChainBreak> {
        Err(ChainBreak { index, reason })
    }

    #[test]
    fn contiguity_names_the_certificate_that_breaks_the_chain() {
        let (root, root_issuer) = ca("root");
        let (other, _) = ca("unrelated");
        let issued = leaf(&root_issuer);
        assert_eq!(contiguity(&[der(&issued), der(&root)]), Ok(()));
        assert_eq!(contiguity(&[der(&issued)]), Ok(()));
        // Anything after a self-signed root is extra, whatever its name.
        assert_eq!(
            contiguity(&[der(&issued), der(&root), der(&other)]),
            broken(2, BreakReason::Extra)
        );
        // Same name, another key: the signature does not verify.
        let (impostor, _) = ca("root");
        assert_eq!(
            contiguity(&[der(&issued), der(&impostor)]),
            broken(1, BreakReason::BadSignature)
        );
        assert_eq!(
            contiguity(&[der(&issued), b"junk".to_vec()]),
            broken(1, BreakReason::Unparseable)
        );
        assert!(contiguity(&[b"junk".to_vec()]).is_err());
    }

    #[test]
    fn a_chain_in_order_with_or_without_its_root_is_contiguous() {
        let (root, root_issuer) = ca_under("root", None);
        let (int, int_issuer) = ca_under("intermediate", Some(&root_issuer));
        let issued = leaf(&int_issuer);
        assert_eq!(contiguity(&[der(&issued), der(&int)]), Ok(()));
        assert_eq!(contiguity(&[der(&issued), der(&int), der(&root)]), Ok(()));
        assert_eq!(contiguity(&[der(&issued)]), Ok(()));
    }

    #[test]
    fn out_of_order_repeated_and_extra_certificates_break_the_chain() {
        let (root, root_issuer) = ca_under("root", None);
        let (int, int_issuer) = ca_under("intermediate", Some(&root_issuer));
        let (unrelated, _) = ca_under("unrelated", None);
        let issued = leaf(&int_issuer);
        let out_of_order = [der(&issued), der(&root), der(&int)];
        assert_eq!(
            contiguity(&out_of_order),
            broken(1, BreakReason::OutOfOrder { issuer: 2 })
        );
        assert_eq!(
            contiguity(&[der(&issued), der(&int), der(&int)]),
            broken(2, BreakReason::Repeated { first: 1 })
        );
        // A root served twice issues itself: only the DER comparison catches it.
        assert_eq!(
            contiguity(&[der(&issued), der(&int), der(&root), der(&root)]),
            broken(3, BreakReason::Repeated { first: 2 })
        );
        assert_eq!(
            contiguity(&[der(&issued), der(&issued)]),
            broken(1, BreakReason::Repeated { first: 0 })
        );
        // An unrelated certificate after a valid chain without its root: extra.
        assert_eq!(
            contiguity(&[der(&issued), der(&int), der(&unrelated)]),
            broken(2, BreakReason::Extra)
        );
        // The wrong intermediate in place of the right one: not on the path either.
        assert_eq!(
            contiguity(&[der(&issued), der(&unrelated)]),
            broken(1, BreakReason::Extra)
        );
        // The first break is the one reported.
        assert_eq!(
            contiguity(&[der(&issued), der(&root), der(&int), der(&int)]),
            broken(1, BreakReason::OutOfOrder { issuer: 2 })
        );
        let text = contiguity(&out_of_order).unwrap_err().to_string();
        assert_eq!(
            text,
            "served certificate #2 did not issue certificate #1: its issuer is served later, as #3 (out of order)"
        );
    }
}
