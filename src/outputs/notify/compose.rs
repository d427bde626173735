//! One account's message: its report cut into parts that fit a publish, each part's subject,
//! e-mail, Chatbot document and JSON payload.

use super::message::{severity_label, MessageAttributes, MessageContext, SnsMessage};
use super::{chatbot, email, part, parts, text};
use crate::report::Report;

/// The SNS messages of one account's report: one, or several numbered parts when one would exceed
/// `budget` bytes. Pure.
pub(crate) fn render_parts(
    report: &Report,
    budget: usize,
    context: &MessageContext,
) -> Vec<SnsMessage> {
    parts::split(report, budget, |part| compose(report, part, context))
}

/// One publish for one part of `report`.
fn compose(report: &Report, part: &part::Part, context: &MessageContext) -> SnsMessage {
    let subject = text::account_subject(
        report,
        part.index,
        part.count,
        context.account_alias.as_deref(),
    );
    let email = email::email(report, part, context);
    let chatbot = chatbot::notification(report, part, &subject, context);
    let payload = report_json(&part.report);
    SnsMessage {
        subject,
        message: protocol_document(email, chatbot, payload),
        attributes: MessageAttributes {
            severity: severity_label(report),
            account_id: report.account_id.clone(),
            organization_id: None,
            part: part.index,
            parts: part.count,
        },
        providers: part
            .report
            .providers
            .iter()
            .map(|p| p.arn.clone())
            .collect(),
    }
}

/// The `MessageStructure=json` document: the text for `default` and `email`, the Chatbot document
/// for `https`, the JSON payload for `sqs` and `lambda`.
pub(crate) fn protocol_document(email: String, chatbot: String, payload: String) -> String {
    let mut document = serde_json::Map::new();
    document.insert("default".into(), email.clone().into());
    document.insert("email".into(), email.into());
    document.insert("https".into(), chatbot.into());
    document.insert("sqs".into(), payload.clone().into());
    document.insert("lambda".into(), payload.into());
    serde_json::Value::Object(document).to_string()
}

/// The report as compact JSON; a report that cannot be serialized (a date outside RFC 3339) still
/// yields a JSON object naming the problem, so the other protocols are published.
fn report_json(report: &Report) -> String {
    serde_json::to_string(report).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the report cannot be serialized for SNS");
        serde_json::json!({
            "schema_version": report.schema_version,
            "account_id": report.account_id,
            "error": format!("the report could not be serialized: {e}"),
        })
        .to_string()
    })
}
