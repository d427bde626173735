//! Rendering a synthetic large report for SNS and as a table.

use std::time::{Duration, Instant};

use crate::measure::{mib, millis, ms, spread, Figures, Memory};
use crate::support::moto::{self};
use crate::RENDER_PROVIDERS;
use serde_json::{json, Value};
use thumbprint_guard::config::RemediationMode;
use thumbprint_guard::report::{
    CertificateInfo, ClusterReport, Endpoint, Finding, FindingCode, ProviderReport, Remediation,
    RemediationOutcome, Report, RunReport, Severity, SCHEMA_VERSION,
};
use thumbprint_guard::{notify, render};
use time::OffsetDateTime;

/// A report shaped like a large account's: every provider with a two-certificate chain, a tenth
/// stale, some expiring, some without the STS audience, roles trusting without `:sub`.
pub fn synthetic_report(providers: usize) -> Report {
    let now = thumbprint_guard::report::whole_seconds(OffsetDateTime::now_utc());
    let sha1 = |seed: usize| {
        format!(
            "{:040x}",
            (seed as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
        )
    };
    let cert = |subject: String, seed: usize, days: i64| CertificateInfo {
        subject,
        issuer: "CN=Amazon RSA 2048 M02,O=Amazon,C=US".into(),
        sha1: sha1(seed),
        not_before: Some(now - time::Duration::days(200)),
        not_after: Some(now + time::Duration::days(days)),
    };
    let mut report = Report {
        resolved: Vec::new(),
        schema_version: SCHEMA_VERSION,
        account_id: moto::ACCOUNT_ID.into(),
        generated_at: now,
        remediation_mode: RemediationMode::Add,
        providers: Vec::new(),
        clusters: Vec::new(),
        findings: Vec::new(),
        summary: Default::default(),
    };
    for i in 0..providers {
        let region = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"][i % 4];
        let host = format!("oidc.eks.{region}.amazonaws.com");
        let id = format!("{:032X}", i as u128 * 7_919);
        let url = format!("https://{host}/id/{id}");
        let arn = format!(
            "arn:aws:iam::{}:oidc-provider/{host}/id/{id}",
            moto::ACCOUNT_ID
        );
        let top = sha1(1_000_000 + i % 4);
        let stale = i % 10 == 0;
        let leaf_days = if i % 20 == 5 { 12 } else { 300 };
        let mut configured = vec![if stale {
            sha1(2_000_000 + i)
        } else {
            top.clone()
        }];
        let mut remediation = None;
        if stale {
            if i % 20 == 0 {
                configured.push(top.clone());
                remediation = Some(Remediation {
                    outcome: RemediationOutcome::Applied,
                    added: vec![top.clone()],
                    reason: format!(
                        "{host} matches REMEDIATION_ALLOWED_HOSTS (oidc.eks.*.amazonaws.com)"
                    ),
                });
                report.findings.push(
                    Finding::new(
                        FindingCode::ThumbprintAdded,
                        &arn,
                        format!("added {top} to {arn}"),
                    )
                    .with_details(json!({"thumbprint": top})),
                );
            } else {
                report.findings.push(
                    Finding::new(
                        FindingCode::ThumbprintMismatch,
                        &arn,
                        format!("{host} serves top certificate {top}, which is not among the provider's thumbprints"),
                    )
                    .with_severity(Severity::Warning)
                    .with_details(json!({"thumbprint": top, "address": "203.0.113.10:443"})),
                );
            }
        }
        if leaf_days < 30 {
            report.findings.push(
                Finding::new(
                    FindingCode::CertExpiring,
                    &arn,
                    format!(
                        "the certificate CN={host} served by {host} expires in {leaf_days} days"
                    ),
                )
                .with_details(json!({"sha1": sha1(i), "days_left": leaf_days})),
            );
        }
        let client_ids = if i % 25 == 3 {
            report.findings.push(Finding::new(
                FindingCode::AudienceMissing,
                &arn,
                format!("sts.amazonaws.com is not in the ClientIDList of {arn}"),
            ));
            vec!["other-audience".to_string()]
        } else {
            vec!["sts.amazonaws.com".to_string()]
        };
        if i % 16 == 7 {
            let role = format!("arn:aws:iam::{}:role/irsa-workload-{i}", moto::ACCOUNT_ID);
            report.findings.push(
                Finding::new(
                    FindingCode::TrustPolicyNoSub,
                    role,
                    format!("the role trusts {arn} without a :sub condition: any service account could assume it"),
                )
                .with_details(json!({"provider_arn": arn})),
            );
        }
        let chain = vec![
            cert(format!("CN={host}"), i, leaf_days),
            cert(
                "CN=Amazon RSA 2048 M02,O=Amazon,C=US".into(),
                1_000_000 + i % 4,
                2_000,
            ),
        ];
        report.providers.push(ProviderReport {
            arn: arn.clone(),
            url: url.clone(),
            client_ids,
            configured_thumbprints: configured,
            jwks_uri: Some(format!("{url}/keys")),
            endpoints: (0..2)
                .map(|a| Endpoint {
                    host: "127.0.0.1:443".into(),
                    serves: vec![thumbprint_guard::report::Fetch::Jwks],
                    address: format!("203.0.113.{}:443", 10 + a),
                    chain: chain.clone(),
                    top_thumbprint: Some(top.clone()),
                    trusted: true,
                    tls13_only: false,
                    error: None,
                })
                .collect(),
            served_thumbprints: vec![top.clone()],
            thumbprint_enforced: false,
            remediation,
        });
        report.clusters.push(ClusterReport {
            arn: String::new(),
            name: format!("cluster-{i}"),
            region: region.into(),
            issuer: Some(url),
            provider_arn: Some(arn),
            kubernetes: None,
        });
    }
    thumbprint_guard::report::sort_findings(&mut report.findings);
    report.recount();
    report
}

/// Calls `f` at least 5 times and for at least `budget`; returns the median time per call.
pub fn time_per_call(budget: Duration, mut f: impl FnMut()) -> (Duration, usize) {
    let mut samples = Vec::new();
    let started = Instant::now();
    while samples.len() < 5 || (started.elapsed() < budget && samples.len() < 500) {
        let call = Instant::now();
        f();
        samples.push(call.elapsed());
    }
    let calls = samples.len();
    (spread(&mut samples).0, calls)
}

pub fn rendering(figures: &mut Figures) -> Value {
    let memory = Memory::new();
    let report = synthetic_report(RENDER_PROVIDERS);
    let json_bytes = serde_json::to_vec(&report).map_or(0, |v| v.len());
    figures.line(format!(
        "## Rendering a {RENDER_PROVIDERS}-provider report ({} findings, {} KiB of report JSON; pure, one thread)",
        report.findings.len(),
        json_bytes / 1024
    ));
    figures.line("");
    figures.line("| call                                   | median per call | calls | output                               | peak MiB |");
    figures.line("|----------------------------------------|----------------:|------:|--------------------------------------|---------:|");

    let run = RunReport::Account(report.clone());
    let notes = notify::RunNotes::default();
    let render_messages =
        |run: &RunReport| notify::render_run(run, &notes, notify::PUBLISH_BUDGET_BYTES);
    memory.start_phase();
    let messages = render_messages(&run);
    let total: usize = messages.iter().map(|m| m.publish_size()).sum();
    let largest = messages.iter().map(|m| m.publish_size()).max().unwrap_or(0);
    let (per_call, calls) = time_per_call(Duration::from_secs(2), || {
        std::hint::black_box(render_messages(std::hint::black_box(&run)));
    });
    let notify_ms = millis(per_call);
    let notify_peak = memory.peak();
    figures.line(format!(
        "| notify::render_run (SNS messages)      | {:>12} ms | {calls:>5} | {:<36} | {:>8} |",
        ms(per_call),
        format!(
            "{} part(s), {} KiB, largest {} KiB",
            messages.len(),
            total / 1024,
            largest / 1024
        ),
        mib(memory.peak())
    ));
    figures.check(largest <= notify::PUBLISH_BUDGET_BYTES, || {
        format!("a rendered part is {largest} bytes")
    });

    memory.start_phase();
    let now = OffsetDateTime::now_utc();
    let table_bytes = render::table(&run, now, render::Terminal::default()).len();
    let (per_call, calls) = time_per_call(Duration::from_secs(1), || {
        std::hint::black_box(render::table(
            std::hint::black_box(&run),
            now,
            render::Terminal::default(),
        ));
    });
    let table_ms = millis(per_call);
    figures.line(format!(
        "| render::table (terminal)               | {:>12} ms | {calls:>5} | {:<36} | {:>8} |",
        ms(per_call),
        format!("{} KiB of text", table_bytes / 1024),
        mib(memory.peak())
    ));
    figures.line("");
    json!({
        "providers": RENDER_PROVIDERS,
        "findings": report.findings.len(),
        "notify_render_ms": notify_ms,
        "notify_parts": messages.len(),
        "notify_largest_part_bytes": largest,
        "notify_peak_rss_mib_of_the_bench_process": notify_peak.map(|k| (k as f64 / 10.24).round() / 100.0),
        "render_table_ms": table_ms,
        "table_bytes": table_bytes,
    })
}
