//! The terminal table as a person sees it: real EKS-length provider URLs at fixed widths, rows by
//! severity then name, plurals, and no colour unless asked for by a terminal (never with
//! NO_COLOR); through the binary, no progress line and no escape byte when output is piped.

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use support::env::{cli, Env};
use support::issuer::ChainSpec;
use thumbprint_guard::config::RemediationMode;
use thumbprint_guard::render::{self, Terminal};
use thumbprint_guard::report::RunReport;
use thumbprint_guard::report::{
    CertificateInfo, ClusterReport, Endpoint, Fetch, Finding, FindingCode, ProviderReport, Report,
    Severity, Summary,
};
use time::macros::datetime;
use time::OffsetDateTime;

/// One account's table, as `sweep` prints a single-account run.
fn table_for(report: &Report, now: time::OffsetDateTime, terminal: Terminal) -> String {
    render::table(&RunReport::Account(report.clone()), now, terminal)
}

const NOW: OffsetDateTime = datetime!(2026-11-22 10:00:00 UTC);
const ACCOUNT: &str = "111122223333";

/// A real EKS issuer's provider URL without `https://` (the length IAM shows: 68 to 73).
fn eks_host_path(region: &str, id: &str) -> String {
    format!("oidc.eks.{region}.amazonaws.com/id/{id}")
}

fn provider(region: &str, id: &str, configured: &[&str], served: &[&str]) -> ProviderReport {
    let host_path = eks_host_path(region, id);
    let cert = CertificateInfo {
        subject: "CN=*.execute-api.us-east-1.amazonaws.com".into(),
        issuer: "CN=Amazon RSA 2048 M02, O=Amazon, C=US".into(),
        sha1: "06b25927c42a721631c1efd9431e648fa62e1e39".into(),
        not_before: Some(datetime!(2026-06-01 0:00 UTC)),
        not_after: Some(datetime!(2027-06-30 23:59:59 UTC)),
    };
    ProviderReport {
        arn: format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{host_path}"),
        url: format!("https://{host_path}"),
        client_ids: vec!["sts.amazonaws.com".into()],
        configured_thumbprints: configured.iter().map(|s| s.to_string()).collect(),
        jwks_uri: Some(format!("https://{host_path}/keys")),
        endpoints: served
            .iter()
            .map(|top| Endpoint {
                host: format!("oidc.eks.{region}.amazonaws.com:443"),
                serves: vec![Fetch::Discovery, Fetch::Jwks],
                address: "203.0.113.10:443".into(),
                chain: vec![cert.clone()],
                top_thumbprint: Some(top.to_string()),
                trusted: true,
                tls13_only: false,
                error: None,
            })
            .collect(),
        served_thumbprints: served.iter().map(|s| s.to_string()).collect(),
        thumbprint_enforced: false,
        remediation: None,
    }
}

const OLD: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";
const NEW: &str = "06b25927c42a721631c1efd9431e648fa62e1e39";

/// Three EKS providers (one rotated, one without the STS audience, one healthy) and two clusters.
fn eks_report() -> Report {
    let healthy = provider(
        "us-east-1",
        "EXAMPLED539D4633E53DE1B71EXAMPLE",
        &[OLD],
        &[OLD],
    );
    let rotated = provider(
        "ap-southeast-1",
        "A1B2C3D4E5F60718293A4B5C6D7E8F90",
        &[OLD],
        &[NEW],
    );
    let mut no_audience = provider(
        "eu-central-1",
        "0F1E2D3C4B5A69788796A5B4C3D2E1F0",
        &[NEW],
        &[NEW],
    );
    no_audience.client_ids = vec!["my-app".into()];
    let findings = vec![
        Finding::new(
            FindingCode::ThumbprintMismatch,
            rotated.arn.clone(),
            format!("the JWKS host oidc.eks.ap-southeast-1.amazonaws.com:443 serves top certificate {NEW} (at 203.0.113.10:443), which is not among the configured thumbprints"),
        )
        .with_severity(Severity::Critical),
        Finding::new(
            FindingCode::AudienceMissing,
            no_audience.arn.clone(),
            "sts.amazonaws.com is not in the provider's audiences (my-app); IRSA pods fail with \"Incorrect token audience\"",
        ),
    ];
    let clusters = vec![
        ClusterReport {
            arn: format!("arn:aws:eks:us-east-1:{ACCOUNT}:cluster/prod"),
            name: "prod".into(),
            region: "us-east-1".into(),
            issuer: Some(healthy.url.clone()),
            provider_arn: Some(healthy.arn.clone()),
            kubernetes: None,
        },
        ClusterReport {
            arn: format!("arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/staging"),
            name: "staging".into(),
            region: "eu-west-1".into(),
            issuer: Some(format!(
                "https://{}",
                eks_host_path("eu-west-1", "FFFFEEEEDDDDCCCCBBBBAAAA99998888")
            )),
            provider_arn: None,
            kubernetes: None,
        },
    ];
    let mut report = Report {
        schema_version: 1,
        account_id: ACCOUNT.into(),
        generated_at: NOW,
        remediation_mode: RemediationMode::Off,
        providers: vec![healthy, rotated, no_audience],
        clusters,
        findings,
        resolved: vec![],
        summary: Summary::default(),
    };
    report.recount();
    report
}

fn width_of(line: &str) -> usize {
    line.chars().count()
}

/// The provider rows' first column, top to bottom.
fn statuses(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| !l.starts_with("STATUS"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| ["OK", "INFO", "WARNING", "CRITICAL"].contains(w))
        .collect()
}

#[test]
fn a_wide_terminal_keeps_each_eks_url_on_its_row() {
    let report = eks_report();
    for width in [160u16, 200] {
        let text = table_for(
            &report,
            NOW,
            Terminal {
                width: Some(width),
                colour: false,
            },
        );
        let table: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("STATUS"))
            .take_while(|l| !l.is_empty())
            .collect();
        assert_eq!(
            table.len(),
            4,
            "a header and one line per provider:\n{text}"
        );
        for p in &report.providers {
            let url = p.url.trim_start_matches("https://");
            let row = table
                .iter()
                .find(|l| l.contains(url))
                .unwrap_or_else(|| panic!("{url} whole on one line:\n{text}"));
            // The URL starts in the PROVIDER column on every row: no row is shifted.
            assert_eq!(row.find(url), table[0].find("PROVIDER"), "{text}");
        }
        for line in table {
            assert!(width_of(line) <= usize::from(width), "{line}");
        }
    }
}

#[test]
fn a_narrow_terminal_puts_the_path_under_the_host_and_no_table_line_overflows() {
    let report = eks_report();
    for width in [80u16, 100] {
        let text = table_for(
            &report,
            NOW,
            Terminal {
                width: Some(width),
                colour: false,
            },
        );
        let lines: Vec<&str> = text.lines().collect();
        for p in &report.providers {
            let url = p.url.trim_start_matches("https://");
            let (host, path) = url.split_at(url.find('/').unwrap());
            let at = lines
                .iter()
                .position(|l| l.contains(host))
                .unwrap_or_else(|| panic!("{host} on a line:\n{text}"));
            assert!(
                lines[at + 1].contains(path),
                "{path} right under {host}:\n{text}"
            );
            let column = lines[at].find(host).unwrap();
            assert_eq!(lines[at + 1].find(path), Some(column), "{text}");
        }
        // Every line fits the width but the two a person copies, never wrapped: a fix command,
        // and a finding's first line ending in its resource's ARN.
        for line in &lines {
            let copied = line.trim_start().starts_with("fix: ")
                || (line.starts_with("  ") && line.contains("  arn:aws:"));
            if !copied {
                assert!(
                    width_of(line) <= usize::from(width),
                    "{} > {width}: {line}\n{text}",
                    width_of(line)
                );
            }
        }
        let fix = lines
            .iter()
            .find(|l| l.contains("fix: aws iam update-open-id-connect-provider-thumbprint"))
            .expect("the mismatch's fix");
        assert!(
            fix.ends_with(&format!("--thumbprint-list {OLD} {NEW}")),
            "{fix}"
        );
    }
}

#[test]
fn rows_go_by_severity_then_name() {
    let text = table_for(&eks_report(), NOW, Terminal::default());
    assert_eq!(statuses(&text), ["CRITICAL", "WARNING", "OK"], "{text}");
    let clusters: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("CLUSTER"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        clusters,
        ["staging", "prod"],
        "the cluster without a provider first:\n{text}"
    );
    let findings: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  CRITICAL") || l.starts_with("  WARNING"))
        .collect();
    assert!(findings[0].contains("THUMBPRINT_MISMATCH"), "{text}");
    assert!(findings[1].contains("AUDIENCE_MISSING"), "{text}");
}

#[test]
fn counts_take_the_singular_and_the_plural() {
    let mut report = eks_report();
    let text = table_for(&report, NOW, Terminal::default());
    assert!(
        text.contains(
            "3 providers, 2 clusters: 1 critical, 1 warning, 0 info; 0 thumbprints added"
        ),
        "{text}"
    );
    report.providers.truncate(1);
    report.clusters.truncate(1);
    report.findings.clear();
    report.recount();
    report.summary.thumbprints_added = 1;
    let text = table_for(&report, NOW, Terminal::default());
    assert!(
        text.contains("1 provider, 1 cluster: 0 critical, 0 warnings, 0 info; 1 thumbprint added"),
        "{text}"
    );
}

#[test]
fn colour_only_when_asked_and_the_layout_is_the_same() {
    let report = eks_report();
    let plain = Terminal {
        width: Some(120),
        colour: false,
    };
    let coloured = Terminal {
        colour: true,
        ..plain
    };
    let text = table_for(&report, NOW, plain);
    assert!(!text.contains('\u{1b}'), "{text}");
    let colour = table_for(&report, NOW, coloured);
    assert!(
        colour.contains("\u{1b}["),
        "a terminal that wants colour gets it"
    );
    assert_eq!(strip_ansi(&colour), text);
}

/// `text` without its SGR sequences (`ESC [ … m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Through the binary with stdout and stderr piped: no escape byte even when colour is forced
/// but NO_COLOR is set, and no progress line although the sweep takes longer than a second.
#[tokio::test]
async fn piped_output_has_no_escape_byte_and_no_progress_line() {
    let env = Env::new("terminal").await;
    let chain = env.ca.chain(ChainSpec::default());
    let (server, _arn) = env.issuer(&chain, "SLOW", &[&chain.top_sha1()], &[]).await;
    server.set_delay(Duration::from_millis(700));

    let mut vars = env.cli_env();
    vars.push(("NO_COLOR".into(), "1".into()));
    vars.push(("CLICOLOR_FORCE".into(), "1".into()));
    vars.push(("RUST_LOG".into(), "info".into()));
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = cli(&vars, &["sweep"]).await;
    assert!(
        started.elapsed() > Duration::from_secs(1),
        "the sweep is slow"
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("1 provider, 0 clusters"), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    assert!(!stderr.contains("probing issuers"), "{stderr}");

    // CLICOLOR_FORCE alone colours the table: the NO_COLOR check above is not vacuous.
    let mut forced = env.cli_env();
    forced.push(("CLICOLOR_FORCE".into(), "1".into()));
    server.set_delay(Duration::ZERO);
    let (_, stdout, _) = cli(&forced, &["sweep"]).await;
    assert!(stdout.contains("\u{1b}["), "{stdout:?}");
}

/// Narrower than the table can go without cutting a word: it is wider than the terminal (which
/// wraps it) but no thumbprint, date or host is cut.
#[test]
fn a_terminal_too_narrow_for_the_table_cuts_no_word() {
    let report = eks_report();
    let text = table_for(
        &report,
        NOW,
        Terminal {
            width: Some(50),
            colour: false,
        },
    );
    for p in &report.providers {
        let url = p.url.trim_start_matches("https://");
        let host = &url[..url.find('/').unwrap()];
        assert!(text.lines().any(|l| l.contains(host)), "{host}:\n{text}");
    }
    for thumbprint in [OLD, NEW] {
        assert!(text.contains(&thumbprint[..8]), "{text}");
    }
    assert!(text.contains("2027-06-30"), "{text}");
}
