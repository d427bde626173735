//! Property tests (proptest; cargo-fuzz needs a nightly toolchain this project does not install):
//! whatever an issuer or a provider's creator sends, the checks that read it never panic, terminate,
//! and keep their promises. Each property runs a bounded number of cases so `make test` stays fast;
//! `PROPTEST_CASES=100000 cargo test --test fuzz` runs longer campaigns.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::Value;
use sha1::{Digest, Sha1};
use thumbprint_guard::probe::{
    certificate_info, check_discovery, check_issuer_url, usable_signing_keys,
};
use thumbprint_guard::report::{cap, escape, ISSUER_TEXT_MAX};
use thumbprint_guard::trust_policy::{audit_role, decode_document, Role};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        ..ProptestConfig::default()
    }
}

/// Arbitrary JSON, nested at most 6 deep, with the keys the checks look for among random ones.
fn json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("issuer".to_string()),
        Just("jwks_uri".to_string()),
        Just("keys".to_string()),
        Just("kty".to_string()),
        Just("use".to_string()),
        Just("n".to_string()),
        Just("e".to_string()),
        Just("crv".to_string()),
        Just("x".to_string()),
        Just("y".to_string()),
        Just("Statement".to_string()),
        Just("Effect".to_string()),
        Just("Principal".to_string()),
        Just("Federated".to_string()),
        Just("Action".to_string()),
        Just("Condition".to_string()),
        Just("StringLike".to_string()),
        "[a-zA-Z:/._*?-]{0,40}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,80}".prop_map(Value::String),
        prop_oneof![
            Just("https://issuer.example/id/X".to_string()),
            Just("https://issuer.example/id/X/keys".to_string()),
            Just("RSA".to_string()),
            Just("sig".to_string()),
            Just("sts:AssumeRoleWithWebIdentity".to_string()),
            Just("arn:aws:iam::111122223333:oidc-provider/issuer.example/id/X".to_string()),
            Just("system:serviceaccount:*".to_string()),
            Just("repo:*".to_string()),
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 256, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn escaped_text_has_no_control_character_and_capped_text_stays_bounded(text in any::<String>()) {
        let escaped = escape(&text);
        prop_assert!(!escaped.chars().any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}'), "{escaped:?}");
        prop_assert!(!escaped.contains('\n') && !escaped.contains('\r'));
        if !text.chars().any(char::is_control) && !text.contains(['\u{2028}', '\u{2029}']) && !text.chars().any(|c| ('\u{202a}'..='\u{202e}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c) || c == '\u{200e}' || c == '\u{200f}') {
            prop_assert_eq!(escaped.as_ref(), text.as_str());
        }
        prop_assert!(cap(&text).chars().count() <= ISSUER_TEXT_MAX);
    }

    #[test]
    fn the_discovery_check_never_panics_and_only_yields_https(issuer in ".{0,60}", document in json()) {
        if let Ok(url) = check_discovery(&issuer, &document) {
            prop_assert_eq!(url.scheme(), "https");
            prop_assert_eq!(document.get("issuer").and_then(Value::as_str), Some(issuer.as_str()));
        }
        let with_issuer = match document.clone() {
            Value::Object(mut map) => {
                map.insert("issuer".into(), Value::String("https://issuer.example/id/X".into()));
                Value::Object(map)
            }
            other => other,
        };
        let _ = check_discovery("https://issuer.example/id/X", &with_issuer);
    }

    #[test]
    fn the_jwks_check_never_panics_or_counts_more_keys_than_there_are(jwks in json()) {
        if let Ok(count) = usable_signing_keys(&jwks) {
            let keys = jwks.get("keys").and_then(Value::as_array).map(Vec::len).unwrap_or(0);
            prop_assert!(count >= 1 && count <= keys, "{count} of {keys}");
        }
    }

    #[test]
    fn an_issuer_url_is_accepted_only_without_credentials_query_or_fragment(url in ".{0,80}") {
        if let Ok(parsed) = check_issuer_url(&url) {
            prop_assert_eq!(parsed.scheme(), "https");
            prop_assert!(parsed.username().is_empty() && parsed.password().is_none());
            prop_assert!(parsed.query().is_none() && parsed.fragment().is_none());
        }
    }

    #[test]
    fn any_bytes_as_a_certificate_keep_their_thumbprint_and_never_panic(der in prop::collection::vec(any::<u8>(), 0..2048)) {
        let info = certificate_info(&der);
        let expected: String = Sha1::digest(&der).iter().map(|b| format!("{b:02x}")).collect();
        prop_assert_eq!(&info.sha1, &expected);
        prop_assert!(info.subject.chars().count() <= ISSUER_TEXT_MAX);
        prop_assert_eq!(info.not_before.is_some(), info.not_after.is_some());
    }

    #[test]
    fn any_trust_document_is_audited_without_panicking(document in json(), raw in ".{0,200}") {
        let existing: BTreeSet<String> =
            ["arn:aws:iam::111122223333:oidc-provider/issuer.example/id/X".to_string()].into();
        let encoded = document.to_string();
        let percent = percent_encoding::utf8_percent_encode(&encoded, percent_encoding::NON_ALPHANUMERIC).to_string();
        for text in [encoded, percent, raw] {
            let _ = decode_document(&text);
            let role = Role { arn: "arn:aws:iam::111122223333:role/fuzz".into(), trust_policy: text };
            for finding in audit_role(&role, &existing) {
                prop_assert_eq!(finding.resource.as_str(), "arn:aws:iam::111122223333:role/fuzz");
            }
        }
    }
}
