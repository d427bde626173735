//! The issuer URL argument: `https://` added when missing, anything that cannot be an issuer URL
//! a usage error in the words the person typed.

use url::Url;

use super::model::InspectError;

/// An example of what `inspect` takes, for usage errors.
const EXAMPLE_ISSUER: &str = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE";

/// The issuer URL to probe: `https://` is added when the argument has no scheme (IAM shows URLs
/// without it); any other scheme, no host, a query or a fragment is a usage error, explained in
/// the words a person typed (not the URL parser's).
pub fn issuer_url(argument: &str) -> Result<String, InspectError> {
    let argument = argument.trim();
    let usage = |why: &str| {
        InspectError::Usage(format!(
            "\"{argument}\" {why}: give the issuer URL, e.g. {EXAMPLE_ISSUER}"
        ))
    };
    if argument.is_empty() {
        return Err(InspectError::Usage(format!(
            "no issuer URL given: give the issuer URL, e.g. {EXAMPLE_ISSUER}"
        )));
    }
    let url = if argument.contains("://") {
        argument.to_string()
    } else {
        format!("https://{argument}")
    };
    if argument.chars().any(char::is_whitespace) {
        return Err(usage("is not an https URL (a URL has no spaces)"));
    }
    let Ok(parsed) = Url::parse(&url) else {
        return Err(usage("is not an https URL"));
    };
    if parsed.scheme() != "https" {
        return Err(usage(&format!(
            "uses {}: an issuer URL must use https",
            parsed.scheme()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(usage("has no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(usage(
            "has a query or fragment, which an issuer URL never has",
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://oidc.example/id/X";

    #[test]
    fn urls_get_https_and_bad_ones_are_usage_errors() {
        assert_eq!(issuer_url("oidc.example/id/X").unwrap(), URL);
        assert_eq!(issuer_url(" https://oidc.example/id/X ").unwrap(), URL);
        for bad in [
            "http://oidc.example",
            "https://",
            "https://a.example/?q=1",
            "ftp://x",
        ] {
            let err = issuer_url(bad).unwrap_err();
            assert!(matches!(err, InspectError::Usage(_)), "{bad}");
        }
    }

    #[test]
    fn a_bad_url_is_explained_in_the_words_typed() {
        let err = issuer_url("not a url").unwrap_err().to_string();
        assert_eq!(
            err,
            "\"not a url\" is not an https URL (a URL has no spaces): give the issuer URL, e.g. https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"
        );
        let err = issuer_url("http://oidc.example/id/X")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("\"http://oidc.example/id/X\" uses http: an issuer URL must use https"),
            "{err}"
        );
        for bad in ["https://", "https://[::1", "https://a b/c"] {
            let err = issuer_url(bad).unwrap_err().to_string();
            assert!(!err.contains("international"), "{bad}: {err}");
            assert!(err.contains("e.g. https://oidc.eks."), "{bad}: {err}");
        }
    }
}
