//! `apply` against an IAM faked with aws-smithy-mocks: the paths moto cannot produce (throttling,
//! a list that changes between reads, a write that does not stick).

use std::sync::{Arc, Mutex};

use aws_sdk_iam::operation::get_open_id_connect_provider::GetOpenIdConnectProviderOutput;
use aws_sdk_iam::operation::tag_open_id_connect_provider::TagOpenIdConnectProviderOutput;
use aws_sdk_iam::operation::update_open_id_connect_provider_thumbprint::UpdateOpenIdConnectProviderThumbprintOutput;
use aws_sdk_iam::Client;
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use time::macros::datetime;

use super::{provider, thumbprint, OLD};
use crate::remediate::{apply, findings, Decision, LAST_ADDED_TAG};
use crate::report::{FindingCode, RemediationOutcome};
use crate::test_mocks::mock_client;

const NOW: time::OffsetDateTime = datetime!(2026-11-22 10:00:00.5 UTC);

/// How the fake IAM's UpdateOpenIDConnectProviderThumbprint behaves.
#[derive(Clone, Copy, PartialEq)]
enum Write {
    /// Stores the list.
    Stores,
    /// Answers success but keeps the old list (a write that does not stick).
    Loses,
    /// HTTP 400 Throttling, every time.
    Throttles,
    /// HTTP 403 AccessDenied.
    Denies,
}

/// IAM for one provider: its thumbprint list and tags, and every write it received.
#[derive(Default)]
struct FakeIam {
    thumbprints: Mutex<Vec<String>>,
    writes: Mutex<Vec<Vec<String>>>,
    tags: Mutex<Vec<(String, String)>>,
}

fn iam_error(status: u16, code: &str, message: &str) -> HttpResponse {
    let body = format!(
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>4a1b2c3d</RequestId></ErrorResponse>"
    );
    HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body))
}

struct Harness {
    state: Arc<FakeIam>,
    client: Client,
    get: Rule,
    update: Rule,
    tag: Rule,
}

/// A client whose IAM holds `fresh` and answers writes and tags as told.
fn harness(fresh: &[&str], write: Write, tag_denied: bool) -> Harness {
    let state = Arc::new(FakeIam::default());
    *state.thumbprints.lock().unwrap() = fresh.iter().map(|t| t.to_string()).collect();

    let read_state = state.clone();
    let get = mock!(Client::get_open_id_connect_provider).then_compute_output(move |_| {
        GetOpenIdConnectProviderOutput::builder()
            .url("oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE")
            .client_id_list("sts.amazonaws.com")
            .set_thumbprint_list(Some(read_state.thumbprints.lock().unwrap().clone()))
            .build()
    });
    // Error rules ignore the request: on a retry the mock has no typed input to compute from.
    let update = match write {
        Write::Throttles => mock!(Client::update_open_id_connect_provider_thumbprint)
            .then_http_response(|| iam_error(400, "Throttling", "Rate exceeded")),
        Write::Denies => mock!(Client::update_open_id_connect_provider_thumbprint)
            .then_http_response(|| {
                iam_error(
                    403,
                    "AccessDenied",
                    "User: arn:aws:iam::123456789012:user/guard is not authorized to perform: iam:UpdateOpenIDConnectProviderThumbprint",
                )
            }),
        Write::Stores | Write::Loses => {
            let write_state = state.clone();
            mock!(Client::update_open_id_connect_provider_thumbprint).then_compute_output(
                move |request| {
                    let list = request.thumbprint_list().to_vec();
                    write_state.writes.lock().unwrap().push(list.clone());
                    if write == Write::Stores {
                        *write_state.thumbprints.lock().unwrap() = list;
                    }
                    UpdateOpenIdConnectProviderThumbprintOutput::builder().build()
                },
            )
        }
    };
    let tag = if tag_denied {
        mock!(Client::tag_open_id_connect_provider).then_http_response(|| {
            iam_error(
                403,
                "AccessDenied",
                "not authorized to perform: iam:TagOpenIDConnectProvider",
            )
        })
    } else {
        let tag_state = state.clone();
        mock!(Client::tag_open_id_connect_provider).then_compute_output(move |request| {
            for tag in request.tags() {
                tag_state
                    .tags
                    .lock()
                    .unwrap()
                    .push((tag.key().to_string(), tag.value().to_string()));
            }
            TagOpenIdConnectProviderOutput::builder().build()
        })
    };
    let client = client_with(&[&get, &update, &tag]);
    Harness {
        state,
        client,
        get,
        update,
        tag,
    }
}

/// An IAM client answered only by `rules` (any other call panics), retrying fast.
fn client_with(rules: &[&Rule]) -> Client {
    mock_client!(aws_sdk_iam, rules.iter().copied(), 3)
}

fn add(thumbprints: &[String]) -> Decision {
    Decision::Add {
        thumbprints: thumbprints.to_vec(),
        reason: "every address serves a trusted chain".to_string(),
    }
}

#[tokio::test]
async fn success_writes_the_union_reads_it_back_and_tags() {
    let new = thumbprint('a');
    let h = harness(&[OLD], Write::Stores, false);
    let remediation = apply(
        &h.client,
        &provider(&[OLD], None),
        &add(std::slice::from_ref(&new)),
        NOW,
    )
    .await
    .unwrap()
    .remediation();
    assert_eq!(
        remediation.outcome,
        RemediationOutcome::Applied,
        "{remediation:?}"
    );
    assert_eq!(remediation.added, vec![new.clone()]);
    assert_eq!(
        *h.state.writes.lock().unwrap(),
        vec![vec![OLD.to_string(), new.clone()]]
    );
    assert_eq!(
        *h.state.thumbprints.lock().unwrap(),
        vec![OLD.to_string(), new.clone()]
    );
    assert_eq!(h.get.num_calls(), 2, "re-read before, read back after");
    assert_eq!(h.update.num_calls(), 1);
    assert_eq!(
        *h.state.tags.lock().unwrap(),
        vec![(
            LAST_ADDED_TAG.to_string(),
            format!("{new} 2026-11-22T10:00:00Z")
        )]
    );
}

#[tokio::test]
async fn a_list_changed_since_the_sweep_read_it_is_kept_in_the_union() {
    let new = thumbprint('a');
    let someone_elses = thumbprint('c');
    let h = harness(&[OLD, &someone_elses], Write::Stores, false);
    // The sweep's provider still says [OLD].
    let remediation = apply(
        &h.client,
        &provider(&[OLD], None),
        &add(std::slice::from_ref(&new)),
        NOW,
    )
    .await
    .unwrap()
    .remediation();
    assert_eq!(
        remediation.outcome,
        RemediationOutcome::Applied,
        "{remediation:?}"
    );
    assert_eq!(
        *h.state.thumbprints.lock().unwrap(),
        vec![OLD.to_string(), someone_elses, new]
    );
}

#[tokio::test]
async fn thumbprints_added_by_someone_else_meanwhile_are_not_written_again() {
    let new = thumbprint('a');
    let h = harness(&[OLD, &new], Write::Stores, false);
    let remediation = apply(&h.client, &provider(&[OLD], None), &add(&[new]), NOW)
        .await
        .unwrap()
        .remediation();
    assert_eq!(remediation.outcome, RemediationOutcome::Skipped);
    assert!(
        remediation.reason.starts_with("already present"),
        "{}",
        remediation.reason
    );
    assert_eq!(h.update.num_calls(), 0);
    assert_eq!(h.tag.num_calls(), 0);
}

#[tokio::test]
async fn a_list_filled_meanwhile_is_skipped_as_list_full() {
    let five = ['1', '2', '3', '4', '5'].map(thumbprint);
    let five: Vec<&str> = five.iter().map(String::as_str).collect();
    let h = harness(&five, Write::Stores, false);
    let decision = add(&[thumbprint('a')]);
    let sweep_view = provider(&five[..4], None);
    let outcome = apply(&h.client, &sweep_view, &decision, NOW).await.unwrap();
    let remediation = outcome.remediation();
    assert_eq!(remediation.outcome, RemediationOutcome::Skipped);
    assert_eq!(h.update.num_calls(), 0);
    let found = findings(&sweep_view, &decision, Some(&outcome));
    assert_eq!(
        found.iter().map(|f| f.code).collect::<Vec<_>>(),
        [FindingCode::ThumbprintListFull]
    );
}

#[tokio::test]
async fn throttling_on_the_write_fails_after_the_sdk_retries() {
    let h = harness(&[OLD], Write::Throttles, false);
    let remediation = apply(
        &h.client,
        &provider(&[OLD], None),
        &add(&[thumbprint('a')]),
        NOW,
    )
    .await
    .unwrap()
    .remediation();
    assert_eq!(remediation.outcome, RemediationOutcome::Failed);
    assert!(
        remediation
            .reason
            .contains("nothing was added: Throttling: Rate exceeded"),
        "{}",
        remediation.reason
    );
    assert!(remediation.added.is_empty());
    assert_eq!(h.update.num_calls(), 3, "the SDK retries throttling");
    assert_eq!(*h.state.thumbprints.lock().unwrap(), vec![OLD.to_string()]);
    assert_eq!(h.tag.num_calls(), 0);
}

#[tokio::test]
async fn access_denied_on_the_write_fails_with_the_aws_error() {
    let h = harness(&[OLD], Write::Denies, false);
    let remediation = apply(
        &h.client,
        &provider(&[OLD], None),
        &add(&[thumbprint('a')]),
        NOW,
    )
    .await
    .unwrap()
    .remediation();
    assert_eq!(remediation.outcome, RemediationOutcome::Failed);
    assert!(
        remediation.reason.contains("AccessDenied"),
        "{}",
        remediation.reason
    );
    assert!(remediation
        .reason
        .contains("iam:UpdateOpenIDConnectProviderThumbprint"));
    assert_eq!(h.update.num_calls(), 1);
    assert_eq!(*h.state.thumbprints.lock().unwrap(), vec![OLD.to_string()]);
    assert!(findings(
        &provider(&[OLD], None),
        &add(&[thumbprint('a')]),
        Some(&crate::remediate::Outcome::Failed {
            reason: remediation.reason.clone()
        })
    )
    .is_empty());
}

#[tokio::test]
async fn a_read_back_without_the_new_entry_fails() {
    let h = harness(&[OLD], Write::Loses, false);
    let remediation = apply(
        &h.client,
        &provider(&[OLD], None),
        &add(&[thumbprint('a')]),
        NOW,
    )
    .await
    .unwrap()
    .remediation();
    assert_eq!(remediation.outcome, RemediationOutcome::Failed);
    assert!(
        remediation.reason.contains("lacks"),
        "{}",
        remediation.reason
    );
    assert_eq!(h.state.writes.lock().unwrap().len(), 1);
    assert_eq!(h.tag.num_calls(), 0);
}

#[tokio::test]
async fn a_failed_tag_does_not_fail_the_addition() {
    let h = harness(&[OLD], Write::Stores, true);
    let remediation = apply(
        &h.client,
        &provider(&[OLD], None),
        &add(&[thumbprint('a')]),
        NOW,
    )
    .await
    .unwrap()
    .remediation();
    assert_eq!(remediation.outcome, RemediationOutcome::Applied);
    assert!(
        remediation.reason.contains(LAST_ADDED_TAG),
        "{}",
        remediation.reason
    );
    assert!(
        remediation.reason.contains("AccessDenied"),
        "{}",
        remediation.reason
    );
}

#[tokio::test]
async fn a_failed_re_read_writes_nothing() {
    let get = mock!(Client::get_open_id_connect_provider)
        .then_http_response(|| iam_error(404, "NoSuchEntity", "OpenIDConnect provider not found"));
    let client = client_with(&[&get]);
    let remediation = apply(
        &client,
        &provider(&[OLD], None),
        &add(&[thumbprint('a')]),
        NOW,
    )
    .await
    .unwrap()
    .remediation();
    assert_eq!(remediation.outcome, RemediationOutcome::Failed);
    assert!(
        remediation.reason.contains("NoSuchEntity"),
        "{}",
        remediation.reason
    );
    assert!(remediation.reason.contains("nothing was written"));
}

#[tokio::test]
async fn a_malformed_thumbprint_is_never_written() {
    let h = harness(&[OLD], Write::Stores, false);
    let remediation = apply(
        &h.client,
        &provider(&[OLD], None),
        &add(&["not-hex".to_string()]),
        NOW,
    )
    .await
    .unwrap()
    .remediation();
    assert_eq!(remediation.outcome, RemediationOutcome::Failed);
    assert!(
        remediation.reason.contains("'not-hex'"),
        "{}",
        remediation.reason
    );
    assert_eq!(h.update.num_calls(), 0);
}

#[tokio::test]
async fn plan_skip_and_nothing_make_no_aws_call() {
    // No rules: any call would panic.
    let client = client_with(&[]);
    let p = provider(&[OLD], None);
    assert_eq!(apply(&client, &p, &Decision::Nothing, NOW).await, None);
    let planned = apply(
        &client,
        &p,
        &Decision::Plan {
            thumbprints: vec![thumbprint('a')],
            reason: "dry-run".to_string(),
        },
        NOW,
    )
    .await
    .unwrap()
    .remediation();
    assert_eq!(planned.outcome, RemediationOutcome::Planned);
    assert_eq!(planned.added, vec![thumbprint('a')]);
    let skipped = apply(
        &client,
        &p,
        &Decision::Skip {
            thumbprints: vec![thumbprint('a')],
            reason: crate::remediate::SkipReason::ModeOff {
                source: "REMEDIATION_MODE=off".to_string(),
                thumbprints: vec![thumbprint('a')],
            },
            list_full: false,
        },
        NOW,
    )
    .await
    .unwrap()
    .remediation();
    assert_eq!(skipped.outcome, RemediationOutcome::Skipped);
    assert_eq!(
        skipped.reason,
        format!(
            "remediation is off (REMEDIATION_MODE=off); {} must be added by hand",
            thumbprint('a')
        )
    );
}
