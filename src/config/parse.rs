//! Parsing of single values: booleans, bounded numbers, lists, AWS names.

use std::str::FromStr;

use super::error::{invalid, ConfigError};

/// Allowed spellings of a boolean, for error messages.
pub(super) const BOOLEANS: &str = "one of true, false, yes, no, 1, 0 (any case)";

/// `true`/`false`/`yes`/`no`/`1`/`0`, any case.
pub(super) fn parse_bool(var: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(invalid(var, value, BOOLEANS)),
    }
}

/// `off`/`on`, any case.
pub(super) fn parse_switch(var: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(invalid(var, value, "one of off, on")),
    }
}

/// A whole number within `min..=max`.
pub(super) fn parse_number<T: FromStr + PartialOrd + std::fmt::Display>(
    var: &'static str,
    value: &str,
    min: T,
    max: T,
) -> Result<T, ConfigError> {
    match value.trim().parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(invalid(
            var,
            value,
            format!("a whole number from {min} to {max}"),
        )),
    }
}

/// The trimmed elements of a comma-separated list; an empty element (`,`, `a,,b`, a trailing
/// comma) is an error naming `var`, saying `expected`.
pub(super) fn list_items<'a>(
    var: &'static str,
    value: &'a str,
    expected: &str,
) -> Result<Vec<&'a str>, ConfigError> {
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    if items.iter().any(|item| item.is_empty()) {
        return Err(invalid(
            var,
            value,
            format!("{expected}, with no empty element (check for ',,' or a comma at either end)"),
        ));
    }
    Ok(items)
}

/// Keeps the first of each repeated element, in order.
pub(super) fn distinct<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.iter().any(|seen| seen == item) {
            out.push(item.to_string());
        }
    }
    out
}

/// A region name such as `us-east-1` or `us-gov-west-1`.
pub(super) fn is_region(name: &str) -> bool {
    name.len() <= 32
        && name.split('-').count() >= 3
        && name.split('-').all(|part| !part.is_empty())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// An IAM role name: 1 to 64 characters of letters, digits and `+=,.@_-`.
pub(super) fn is_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// An AWS account id: exactly 12 digits.
pub(super) fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.chars().all(|c| c.is_ascii_digit())
}

/// An `sts:ExternalId`: 2 to 1224 characters of letters, digits and `+=,.@:/_-`.
pub(super) fn is_external_id(id: &str) -> bool {
    (2..=1224).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/_-".contains(c))
}

/// A DynamoDB table name: 3 to 255 characters of letters, digits and `_.-`.
pub(super) fn is_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_boolean_spelling_in_any_case() {
        for yes in ["true", "TRUE", "True", "yes", "YES", "Yes", "1", " 1 "] {
            assert_eq!(parse_bool("X", yes), Ok(true), "{yes}");
        }
        for no in ["false", "FALSE", "False", "no", "NO", "No", "0", " 0 "] {
            assert_eq!(parse_bool("X", no), Ok(false), "{no}");
        }
        for bad in ["maybe", "on", "off", "2", "y", "t"] {
            let err = parse_bool("X", bad).unwrap_err().to_string();
            assert!(
                err.starts_with("X must be one of true, false, yes, no, 1, 0"),
                "{err}"
            );
            assert!(err.contains(&format!("'{bad}'")), "{err}");
        }
    }

    #[test]
    fn switches_are_off_or_on() {
        assert_eq!(parse_switch("S", "On"), Ok(true));
        assert_eq!(parse_switch("S", "off"), Ok(false));
        let err = parse_switch("S", "true").unwrap_err().to_string();
        assert_eq!(err, "S must be one of off, on; got 'true'");
    }

    #[test]
    fn numbers_say_their_range() {
        assert_eq!(parse_number("N", " 7 ", 1u32, 10), Ok(7));
        for bad in ["0", "11", "-1", "x", "1.5"] {
            let err = parse_number("N", bad, 1u32, 10).unwrap_err().to_string();
            assert_eq!(
                err,
                format!("N must be a whole number from 1 to 10; got '{bad}'")
            );
        }
    }

    #[test]
    fn every_empty_list_element_is_an_error() {
        for bad in [",", "a,,b", "a,", ",a", "a, ,b", " , "] {
            let err = list_items("L", bad, "names").unwrap_err().to_string();
            assert!(
                err.starts_with("L must be names, with no empty element"),
                "{err}"
            );
            assert!(err.contains(&format!("'{bad}'")), "{err}");
        }
        assert_eq!(list_items("L", "a, b", "names"), Ok(vec!["a", "b"]));
        assert_eq!(distinct(["a", "b", "a"]), ["a", "b"]);
    }

    #[test]
    fn aws_names() {
        assert!(is_region("us-east-1") && is_region("us-gov-west-1"));
        assert!(!is_region("Mars") && !is_region("us--1") && !is_region("us-east"));
        assert!(is_role_name("ThumbprintGuardMember") && is_role_name("a+=,.@_-b"));
        assert!(!is_role_name("") && !is_role_name("path/Role") && !is_role_name(&"r".repeat(65)));
        assert!(is_account_id("123456789012"));
        assert!(!is_account_id("12345678901") && !is_account_id("12345678901a"));
        assert!(is_external_id("tg-ext:42/x") && !is_external_id("a") && !is_external_id("a b"));
        assert!(is_table_name("thumbprint-guard.state_1"));
        assert!(!is_table_name("ab") && !is_table_name("a/b") && !is_table_name(&"t".repeat(256)));
    }
}
