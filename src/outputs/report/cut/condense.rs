//! A part too large for its budget on its own, condensed: first without certificate chains below
//! the top one and without finding details, then without endpoints and with messages shortened.

use super::piece::Piece;
use super::units::{part_report, Unit};
use crate::report::account::Report;

/// One unit too large for a part on its own (a provider whose issuer serves many long
/// certificates on many addresses), rendered condensed: first without certificate chains below the
/// top one and without finding details, then without endpoints and with messages shortened. `None`
/// when even that does not fit (logged).
pub(super) fn condensed_to_fit<T>(
    report: &Report,
    group: &[&Unit],
    index: usize,
    count: usize,
    budget: usize,
    compose: &impl Fn(&Piece) -> T,
    size: &impl Fn(&T) -> usize,
) -> Option<T> {
    for level in [Condense::Chains, Condense::Endpoints] {
        let message = compose(&Piece {
            index,
            count,
            report: condense(part_report(report, group), level),
            condensed: true,
        });
        if size(&message) <= budget {
            return Some(message);
        }
    }
    tracing::warn!(
        budget,
        "one provider's findings exceed a part even condensed; the part may be refused"
    );
    None
}

/// How much [`condense`] leaves out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Condense {
    /// Each endpoint keeps only its top certificate; findings lose their details.
    Chains,
    /// Endpoints are left out; messages are shortened to 300 characters.
    Endpoints,
}

fn condense(mut part: Report, level: Condense) -> Report {
    let message_max = match level {
        Condense::Chains => 1024,
        Condense::Endpoints => 300,
    };
    for provider in &mut part.providers {
        match level {
            Condense::Chains => {
                for endpoint in &mut provider.endpoints {
                    let top = endpoint.chain.pop();
                    endpoint.chain = top.into_iter().collect();
                    endpoint.error = endpoint
                        .error
                        .as_deref()
                        .map(|e| e.chars().take(message_max).collect());
                }
            }
            Condense::Endpoints => provider.endpoints.clear(),
        }
    }
    for finding in &mut part.findings {
        finding.details = serde_json::Value::Object(serde_json::Map::new());
        if finding.message.chars().count() > message_max {
            finding.message = finding
                .message
                .chars()
                .take(message_max)
                .collect::<String>()
                + "…";
        }
    }
    part
}
