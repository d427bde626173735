//! THUMBPRINT_ADDED and THUMBPRINT_LIST_FULL from the typed outcome.

use super::*;

#[test]
fn an_applied_addition_yields_one_info_finding_per_thumbprint() {
    let (a, b) = (thumbprint('a'), thumbprint('b'));
    let decision = Decision::Add {
        thumbprints: vec![a.clone(), b.clone()],
        reason: "why".to_string(),
    };
    let applied = Outcome::Applied {
        added: vec![a.clone(), b.clone()],
        thumbprints: vec![OLD.to_string(), a.clone(), b.clone()],
        reason: "added".to_string(),
    };
    let found = findings(&provider(&[OLD], None), &decision, Some(&applied));
    assert_eq!(found.len(), 2);
    for (finding, expected) in found.iter().zip([a, b]) {
        assert_eq!(finding.code, FindingCode::ThumbprintAdded);
        assert_eq!(finding.severity, Severity::Info);
        assert_eq!(finding.resource, ARN);
        assert_eq!(finding.details["thumbprint"], expected);
    }
}

#[test]
fn planned_skipped_and_failed_add_nothing() {
    let decision = Decision::Add {
        thumbprints: vec![thumbprint('a')],
        reason: "why".to_string(),
    };
    for remediation in [
        Outcome::Planned {
            thumbprints: vec![thumbprint('a')],
            reason: "dry-run".to_string(),
        },
        Outcome::Skipped(SkipReason::AlreadyPresent {
            thumbprints: vec![thumbprint('a')],
        }),
        Outcome::Failed {
            reason: "AccessDenied".to_string(),
        },
    ] {
        assert!(findings(&provider(&[OLD], None), &decision, Some(&remediation)).is_empty());
    }
    assert!(findings(&provider(&[OLD], None), &Decision::Nothing, None).is_empty());
}

#[test]
fn a_full_list_yields_a_warning() {
    let decision = Decision::Skip {
        thumbprints: vec![thumbprint('a')],
        reason: SkipReason::ListFull {
            configured: 5,
            adding: vec![thumbprint('a')],
        },
        list_full: true,
    };
    let remediation = decision.without_writing();
    let found = findings(&provider(&[OLD], None), &decision, remediation.as_ref());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, FindingCode::ThumbprintListFull);
    assert_eq!(found[0].severity, Severity::Warning);
    assert_eq!(found[0].details["thumbprints"][0], thumbprint('a'));
}

#[test]
fn a_list_found_full_only_at_write_time_yields_a_warning() {
    let decision = Decision::Add {
        thumbprints: vec![thumbprint('a')],
        reason: "why".to_string(),
    };
    let skipped = Outcome::Skipped(SkipReason::ListFull {
        configured: 5,
        adding: vec![thumbprint('a')],
    });
    let found = findings(&provider(&[OLD], None), &decision, Some(&skipped));
    assert_eq!(
        found.iter().map(|f| f.code).collect::<Vec<_>>(),
        [FindingCode::ThumbprintListFull]
    );
}
