//! The pieces every table is made of: status cells, the borderless table, URLs, thumbprints, a
//! finding with its fix, wrapped paragraphs.

use comfy_table::presets::NOTHING;
use comfy_table::{Attribute, Cell, Color, ColumnConstraint, ContentArrangement, Table, Width};

use crate::report::{escape, Finding, Severity};

/// What the table is rendered for: the terminal's width and whether it shows colour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Terminal {
    /// Columns available; `None` (not a terminal): every line as long as its content.
    pub width: Option<u16>,
    /// Colour the severities (only for a terminal that wants it: never with `NO_COLOR`).
    pub colour: bool,
}

/// The highest severity among the unmuted findings about `resource`.
pub(super) fn severity_of(findings: &[Finding], resource: &str) -> Option<Severity> {
    findings
        .iter()
        .filter(|f| f.resource == resource && f.counts())
        .map(|f| f.severity)
        .max()
}

pub(super) fn status_label(severity: Option<Severity>) -> &'static str {
    match severity {
        Some(Severity::Critical) => "CRITICAL",
        Some(Severity::Warning) => "WARNING",
        Some(Severity::Info) => "INFO",
        None => "OK",
    }
}

/// A severity cell: the label, coloured when the terminal shows colour (comfy-table styles only
/// tables that enforce styling, see [`new_table`]).
pub(super) fn status_cell(severity: Option<Severity>) -> Cell {
    let cell = Cell::new(status_label(severity)).fg(match severity {
        Some(Severity::Critical) => Color::Red,
        Some(Severity::Warning) => Color::Yellow,
        Some(Severity::Info) => Color::Cyan,
        None => Color::Green,
    });
    if severity == Some(Severity::Critical) {
        cell.add_attribute(Attribute::Bold)
    } else {
        cell
    }
}

/// A table without borders, columns two spaces apart, laid out for `terminal`.
pub(super) fn new_table(terminal: Terminal, header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_style(NOTHING).force_no_tty();
    table.style_text_only();
    if terminal.colour {
        table.enforce_styling();
    }
    match terminal.width {
        Some(width) => {
            table
                .set_width(width)
                .set_content_arrangement(ContentArrangement::Dynamic);
        }
        None => {
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    if !header.is_empty() {
        table.set_header(header.iter().copied());
    }
    table
}

/// The rendered table: columns two spaces apart (none after the last), no column narrower than
/// its longest word (so a thumbprint, a date or a URL's host is never cut: past that, the table
/// is wider than the terminal, which wraps it), trailing spaces trimmed, one `\n` each.
pub(super) fn finish(mut table: Table) -> String {
    let last = table.column_count().saturating_sub(1);
    let longest_words: Vec<usize> = (0..=last)
        .map(|index| {
            table
                .column_cells_with_header_iter(index)
                .flatten()
                .flat_map(|cell| {
                    cell.content()
                        .split_whitespace()
                        .map(|word| word.chars().count())
                        .collect::<Vec<_>>()
                })
                .max()
                .unwrap_or(0)
        })
        .collect();
    for column in table.column_iter_mut() {
        let padding = if column.index == last { 0 } else { 2 };
        column.set_padding((0, padding));
        let least = longest_words.get(column.index).copied().unwrap_or(0) + usize::from(padding);
        column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(
            u16::try_from(least).unwrap_or(u16::MAX),
        )));
    }
    trimmed(&table)
}

pub(super) fn trimmed(table: &Table) -> String {
    let mut out = table.trim_fmt();
    out.push('\n');
    out
}

/// A URL without `https://`, escaped; `split` puts its path on a line of its own, under the host.
pub(super) fn url_text(url: &str, split: bool) -> String {
    let url = escape(url.trim_start_matches("https://")).into_owned();
    match url.find('/') {
        Some(at) if split && at > 0 => format!("{}\n{}", &url[..at], &url[at..]),
        _ => url,
    }
}

/// A table with a URL column, for `terminal`: every URL on one line when the table fits the
/// width as wide as its content, else each URL's path under its host. `build(split)` makes the
/// table.
pub(super) fn with_url_column(
    terminal: Terminal,
    build: impl Fn(Terminal, bool) -> Table,
) -> String {
    let Some(width) = terminal.width else {
        return finish(build(terminal, false));
    };
    let plain = Terminal {
        width: None,
        colour: false,
    };
    let fits = finish(build(plain, false))
        .lines()
        .all(|line| line.chars().count() <= usize::from(width));
    finish(build(terminal, !fits))
}

pub(super) fn short(thumbprint: &str) -> &str {
    thumbprint.get(..8).unwrap_or(thumbprint)
}

/// Thumbprints, eight hex digits each, one per line; `-` for none.
pub(super) fn thumbprint_lines(list: &[String]) -> String {
    if list.is_empty() {
        "-".to_string()
    } else {
        list.iter().map(|t| short(t)).collect::<Vec<_>>().join("\n")
    }
}

/// One finding: severity, code and resource on its first line, the message below it wrapped to
/// the terminal, then the fix. The resource ARN and the fix stay whole (a person copies them).
pub(super) fn finding_text(finding: &Finding, fix: Option<String>, terminal: Terminal) -> String {
    let mut label = Table::new();
    label.load_style(NOTHING).force_no_tty();
    label.style_text_only();
    if terminal.colour {
        label.enforce_styling();
    }
    label.add_row(vec![status_cell(Some(finding.severity))]);
    if let Some(column) = label.column_mut(0) {
        column.set_padding((0, 0));
        column.set_constraint(ColumnConstraint::Absolute(Width::Fixed(8)));
    }
    let muted = if finding.muted { "  (muted)" } else { "" };
    let mut out = format!(
        "  {}  {}  {}{muted}\n",
        label.to_string().trim_end_matches('\n'),
        finding.code,
        escape(&finding.resource)
    );
    for line in paragraph(
        &escape(&finding.message),
        indented(terminal, MESSAGE_INDENT),
    )
    .lines()
    {
        out.push_str(&format!(
            "{:width$}{line}\n",
            "",
            width = usize::from(MESSAGE_INDENT)
        ));
    }
    if let Some(fix) = fix {
        out.push_str(&format!(
            "{:width$}fix: {}\n",
            "",
            escape(&fix),
            width = usize::from(MESSAGE_INDENT)
        ));
    }
    out
}

/// `text` wrapped at word boundaries to the terminal's width (comfy-table's wrapping, one cell).
pub(super) fn paragraph(text: &str, terminal: Terminal) -> String {
    let mut table = new_table(terminal, &[]);
    table.add_row(vec![Cell::new(text)]);
    if let Some(column) = table.column_mut(0) {
        column.set_padding((0, 0));
    }
    trimmed(&table)
}

/// Where a finding's message and fix start: under its code.
const MESSAGE_INDENT: u16 = 12;

/// The terminal's view of `width`: the columns left after an indent of `indent` (at least 20).
pub(super) fn indented(terminal: Terminal, indent: u16) -> Terminal {
    Terminal {
        width: terminal.width.map(|w| w.saturating_sub(indent).max(20)),
        ..terminal
    }
}
