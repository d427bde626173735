//! The manual's reference tables stay in step with the code: every configuration variable the code
//! reads is a row of docs/configuration.md's table and every row is a variable the code reads; every
//! finding code is a row of docs/findings.md's table, with the severity the code gives it, and every
//! row is a code. Plain file reads, no network.

use std::collections::BTreeMap;

use thumbprint_guard::config::VARIABLES;
use thumbprint_guard::report::FindingCode;

const CONFIGURATION: &str = include_str!("../docs/configuration.md");
const FINDINGS: &str = include_str!("../docs/findings.md");

/// The rows of the first Markdown table in `page` whose header row starts with `header` (its first
/// columns, e.g. `| code | severity |`): each row's cells, trimmed, in order. Panics when the page
/// has no such table.
fn table_rows(page: &str, header: &str) -> Vec<Vec<String>> {
    let mut lines = page.lines().skip_while(|line| !line.starts_with(header));
    assert!(
        lines.next().is_some(),
        "no table whose header starts with {header:?}"
    );
    lines
        .skip(1) // the | --- | separator row
        .take_while(|line| line.starts_with('|'))
        .map(|row| {
            row.trim()
                .trim_matches('|')
                .split('|')
                .map(|cell| cell.trim().to_string())
                .collect()
        })
        .collect()
}

/// The first column of `rows` without its backticks, mapped to the row's other cells. Panics on a
/// name listed twice.
fn by_name(rows: Vec<Vec<String>>, page: &str) -> BTreeMap<String, Vec<String>> {
    let mut named = BTreeMap::new();
    for mut cells in rows {
        let name = cells.remove(0).trim_matches('`').to_string();
        assert!(
            named.insert(name.clone(), cells).is_none(),
            "{page} lists {name} twice"
        );
    }
    named
}

#[test]
fn the_configuration_table_lists_exactly_the_variables_the_code_reads() {
    let documented = by_name(
        table_rows(CONFIGURATION, "| variable | flag | default |"),
        "docs/configuration.md",
    );
    for variable in VARIABLES {
        assert!(
            documented.contains_key(variable),
            "the code reads {variable}, docs/configuration.md's table has no row for it"
        );
    }
    for variable in documented.keys() {
        assert!(
            VARIABLES.contains(&variable.as_str()),
            "docs/configuration.md's table lists {variable}, which the code does not read"
        );
    }
}

#[test]
fn the_findings_table_lists_exactly_the_codes_with_their_severity() {
    let documented = by_name(
        table_rows(FINDINGS, "| code | severity |"),
        "docs/findings.md",
    );
    for code in FindingCode::ALL {
        let Some(cells) = documented.get(code.as_str()) else {
            panic!("{code} is a finding code, docs/findings.md's table has no row for it");
        };
        // The severity cell starts with the code's severity; THUMBPRINT_MISMATCH's goes on to say
        // when it is lowered ("critical if `thumbprint_enforced`, else warning").
        let severity = cells
            .first()
            .and_then(|cell| cell.split_whitespace().next());
        assert_eq!(
            severity,
            Some(code.default_severity().as_str()),
            "{code}'s severity in docs/findings.md"
        );
    }
    for name in documented.keys() {
        assert!(
            FindingCode::from_name(name).is_some(),
            "docs/findings.md's table lists {name}, which is not a finding code"
        );
    }
}
