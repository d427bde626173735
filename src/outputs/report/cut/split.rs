//! The cut itself: units packed greedily by weight, each part rendered and measured, a part still
//! too large halved (or condensed).

use super::condense;
use super::piece::Piece;
use super::units::{self, Unit};
use crate::report::account::Report;

/// How a caller cuts: what a unit weighs, the room kept free in every part, and whether a unit too
/// large on its own may be condensed.
pub struct Cut<W: Fn(&Report, &Unit) -> usize> {
    /// Largest rendered part, as the caller's `size` measures it.
    pub budget: usize,
    /// Room kept free in every part (beyond an empty part's own size).
    pub reserve: usize,
    /// What a unit adds to a rendered part.
    pub weight: W,
    /// Whether a part still too large with one unit is rendered condensed.
    pub condense: bool,
}

/// Length of `s` once written as a JSON string (quotes excluded).
pub fn escaped_len(s: &str) -> usize {
    serde_json::to_string(s).map_or(s.len() * 2, |e| e.len().saturating_sub(2))
}

/// Length of a value's compact JSON once written as a JSON string.
pub fn json_len<T: serde::Serialize>(value: &T) -> usize {
    serde_json::to_string(value).map_or(0, |json| escaped_len(&json) + 1)
}

/// A unit's JSON alone: its weight in a log line, which carries the report once.
pub fn json_weight(report: &Report, unit: &Unit) -> usize {
    unit.providers
        .iter()
        .map(|&i| json_len(&report.providers[i]))
        .chain(unit.clusters.iter().map(|&i| json_len(&report.clusters[i])))
        .chain(unit.findings.iter().map(|&i| json_len(&report.findings[i])))
        .sum()
}

/// Cuts `report` into parts rendered by `compose`, each at most `cut.budget` bytes as `size`
/// measures it, every provider, cluster and finding in exactly one part; the whole report as one
/// part when it fits. A single unit larger than the budget still gets a part of its own.
pub fn cut<T, W: Fn(&Report, &Unit) -> usize>(
    report: &Report,
    cut: &Cut<W>,
    compose: impl Fn(&Piece) -> T,
    size: impl Fn(&T) -> usize,
) -> Vec<T> {
    let budget = cut.budget;
    let whole = Piece {
        index: 1,
        count: 1,
        report: report.clone(),
        condensed: false,
    };
    let single = compose(&whole);
    if size(&single) <= budget {
        return vec![single];
    }

    let units = units::units(report);
    let empty = compose(&Piece {
        index: 9999,
        count: 9999,
        report: units::part_report(report, &[]),
        condensed: false,
    });
    let overhead = size(&empty) + cut.reserve;
    let groups = pack(report, &units, &cut.weight, budget, overhead);
    render_halving(report, cut, groups, &compose, &size)
}

/// Greedy packing in report order: a group is closed when the next unit's weight would take it
/// over `budget` (every group starts at `overhead`); at least one group, maybe empty.
fn pack<'u>(
    report: &Report,
    units: &'u [Unit],
    weight: &impl Fn(&Report, &Unit) -> usize,
    budget: usize,
    overhead: usize,
) -> Vec<Vec<&'u Unit>> {
    let mut groups: Vec<Vec<&Unit>> = Vec::new();
    let mut current: Vec<&Unit> = Vec::new();
    let mut current_size = overhead;
    for unit in units {
        let unit_bytes = weight(report, unit);
        if !current.is_empty() && current_size + unit_bytes > budget {
            groups.push(std::mem::take(&mut current));
            current_size = overhead;
        }
        current.push(unit);
        current_size += unit_bytes;
    }
    if !current.is_empty() || groups.is_empty() {
        groups.push(current);
    }
    groups
}

/// Renders every group as a part, halving the first group of several units whose rendering is
/// too large until none is; then condenses a part of one unit still too large, when allowed.
fn render_halving<T, W: Fn(&Report, &Unit) -> usize>(
    report: &Report,
    cut: &Cut<W>,
    mut groups: Vec<Vec<&Unit>>,
    compose: &impl Fn(&Piece) -> T,
    size: &impl Fn(&T) -> usize,
) -> Vec<T> {
    let budget = cut.budget;
    loop {
        let count = groups.len();
        let messages: Vec<T> = groups
            .iter()
            .enumerate()
            .map(|(i, group)| {
                compose(&Piece {
                    index: i + 1,
                    count,
                    report: units::part_report(report, group),
                    condensed: false,
                })
            })
            .collect();
        let oversized = messages
            .iter()
            .zip(&groups)
            .position(|(m, group)| size(m) > budget && group.len() > 1);
        match oversized {
            None => {
                return messages
                    .into_iter()
                    .zip(&groups)
                    .enumerate()
                    .map(|(i, (message, group))| {
                        if size(&message) <= budget || !cut.condense {
                            return message;
                        }
                        condense::condensed_to_fit(
                            report,
                            group,
                            i + 1,
                            count,
                            budget,
                            compose,
                            size,
                        )
                        .unwrap_or(message)
                    })
                    .collect();
            }
            Some(i) => {
                let half = groups[i].len() / 2;
                let second = groups[i].split_off(half);
                groups.insert(i + 1, second);
            }
        }
    }
}
