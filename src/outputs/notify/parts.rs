//! An account's report cut into parts that each fit one SNS publish (see [`crate::report::cut`]):
//! a unit weighs its text twice (`default`, `email`) and its JSON twice (`sqs`, `lambda`), each
//! escaped inside the message document.

use crate::report::cut::{cut, escaped_len, json_len, Cut, Piece, Unit};
use crate::report::Report;

use super::finding::finding_block;
use super::message::SnsMessage;

/// What a unit adds to a publish: its text twice (`default`, `email`) and its JSON twice (`sqs`,
/// `lambda`), each escaped inside the message document.
pub(super) fn sns_weight(report: &Report, unit: &Unit) -> usize {
    let text: usize = unit
        .findings
        .iter()
        .map(|&i| escaped_len(&finding_block(report, &report.findings[i], 9999, 9999)))
        .sum();
    let json: usize = unit
        .providers
        .iter()
        .map(|&i| json_len(&report.providers[i]))
        .sum::<usize>()
        + unit
            .clusters
            .iter()
            .map(|&i| json_len(&report.clusters[i]))
            .sum::<usize>()
        + unit
            .findings
            .iter()
            .map(|&i| json_len(&report.findings[i]))
            .sum::<usize>();
    2 * text + 2 * json
}

/// Room kept in every part for the Chatbot document, whose description is capped but escaped
/// twice (once in its own JSON, once in the message document).
const CHATBOT_RESERVE: usize = 20 * 1024;

/// Splits `report` into messages of at most `budget` bytes each (see [`SnsMessage::publish_size`]),
/// rendering each part with `compose`. A single unit larger than the budget still gets a part of
/// its own (SNS will refuse it; the report is in the logs).
pub(crate) fn split(
    report: &Report,
    budget: usize,
    compose: impl Fn(&Piece) -> SnsMessage,
) -> Vec<SnsMessage> {
    let sns = Cut {
        budget,
        reserve: CHATBOT_RESERVE,
        weight: sns_weight,
        condense: true,
    };
    cut(report, &sns, compose, SnsMessage::publish_size)
}
