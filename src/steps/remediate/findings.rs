//! THUMBPRINT_ADDED and THUMBPRINT_LIST_FULL, from the typed decision and outcome.

use super::merge::distinct_lowercase;
use super::model::{Decision, Outcome};
use super::reason::SkipReason;
use crate::inventory::OidcProvider;
use crate::report::{Discriminator, Finding, FindingCode, MAX_THUMBPRINTS};

/// THUMBPRINT_ADDED (one per thumbprint an applied outcome wrote) and THUMBPRINT_LIST_FULL (when
/// the decision, or the fresh read at write time, found no room) for one provider.
pub fn findings(
    provider: &OidcProvider,
    decision: &Decision,
    outcome: Option<&Outcome>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(Outcome::Applied { added, reason, .. }) = outcome {
        for thumbprint in added {
            findings.push(
                Finding::new(
                    FindingCode::ThumbprintAdded,
                    &provider.arn,
                    format!(
                        "Added thumbprint {thumbprint} to the OIDC provider for {}: {reason}",
                        provider.url
                    ),
                )
                .with_discriminator(Discriminator::Thumbprint(thumbprint.clone()))
                .with_details(serde_json::json!({
                    "thumbprint": thumbprint,
                    "url": provider.url,
                })),
            );
        }
    }
    let full_at_write = matches!(outcome, Some(Outcome::Skipped(SkipReason::ListFull { .. })));
    let full_at_decision = matches!(
        decision,
        Decision::Skip {
            list_full: true,
            ..
        }
    );
    if full_at_decision || full_at_write {
        let needed = decision.thumbprints();
        let configured = distinct_lowercase(&provider.thumbprints);
        findings.push(
            Finding::new(
                FindingCode::ThumbprintListFull,
                &provider.arn,
                format!(
                    "The OIDC provider for {} needs {} but its thumbprint list has no room (IAM keeps at most {MAX_THUMBPRINTS}); remove a thumbprint no address serves any more.",
                    provider.url,
                    needed.join(", ")
                ),
            )
            .with_details(serde_json::json!({
                "thumbprints": needed,
                "configured_thumbprints": configured,
                "max": MAX_THUMBPRINTS,
            })),
        );
    }
    findings
}
