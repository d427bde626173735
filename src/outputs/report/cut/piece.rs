//! One part of a cut report.

use crate::report::account::Report;

/// One part of a cut report, as the renderers see it.
#[derive(Debug, Clone)]
pub struct Piece {
    /// 1-based position among the parts.
    pub index: usize,
    /// How many parts the report took.
    pub count: usize,
    /// A valid report with this part's providers, clusters and findings (summary recounted).
    /// When `count == 1` it equals the whole report (unless condensed).
    pub report: Report,
    /// The part was condensed to fit (certificate chains and finding details left out; the full
    /// report is in the logs).
    pub condensed: bool,
}
