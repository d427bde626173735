//! The serial baseline: the AWS knowledge-center procedure by hand (scripts/
//! knowledge-center-thumbprints.sh: openssl s_client, openssl x509, aws iam
//! get-open-id-connect-provider, one provider after another) on the first providers of the
//! distinct-host fleet, against the same issuers (same latency) and the same moto.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Instant;

use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::cases::{register, reset_moto, CaseResult};
use crate::fleet::Host;
use crate::measure::{secs, Figures};
use crate::support::moto;
use crate::{Bench, REGION};

pub async fn run(
    bench: &Bench,
    figures: &mut Figures,
    fleet: &[Host],
    cases: &[CaseResult],
) -> Value {
    let n = bench.settings.baseline_providers.min(fleet.len());
    let aws = moto::root().join(".venv/bin/aws");
    if !aws.exists() {
        figures.line(format!(
            "baseline: skipped: {} is missing (make venv installs awscli from requirements-dev.txt)",
            aws.display()
        ));
        return json!({"skipped": "no aws CLI in .venv"});
    }
    reset_moto(bench).await;
    let providers: Vec<(String, String)> = fleet[..n]
        .iter()
        .enumerate()
        .map(|(i, h)| {
            (
                h.server.issuer_url(&format!("/id/BENCH{i:04}")),
                h.top.clone(),
            )
        })
        .collect();
    let arns = register(&bench.iam, &providers).await;
    let mut input = String::new();
    let mut expected = HashMap::new();
    for ((host, arn), (_, top)) in fleet[..n].iter().zip(&arns).zip(&providers) {
        let address = host.server.addr();
        input.push_str(&format!("{} {} {arn}\n", address.ip(), address.port()));
        expected.insert(arn.clone(), top.clone());
    }
    let mut command =
        tokio::process::Command::new(moto::root().join("scripts/knowledge-center-thumbprints.sh"));
    command
        .arg(&bench.moto.endpoint)
        .env("AWS_CLI", &aws)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = Instant::now();
    let mut child = command.spawn().expect("run the baseline script");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(input.as_bytes())
        .await
        .expect("write providers");
    drop(stdin);
    let out = child.wait_with_output().await.expect("baseline output");
    let wall = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let matched = stdout
        .lines()
        .filter(|line| {
            let mut fields = line.split_whitespace();
            let (Some(arn), Some(served)) = (fields.next(), fields.next()) else {
                return false;
            };
            expected.get(arn).is_some_and(|top| top == served)
        })
        .count();
    figures.check(out.status.success() && matched == n, || {
        format!(
            "baseline: exit {:?}, {matched} of {n} thumbprints match what the hosts serve:\n{stdout}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let per_provider = wall.as_secs_f64() / n.max(1) as f64;
    let ours = |providers: usize| {
        cases
            .iter()
            .find(|c| c.name == format!("distinct-hosts-{providers}"))
            .map(|c| c.wall_s)
    };
    let same = ours(n);
    let hundred = ours(100);
    let speedup = same.map(|s| wall.as_secs_f64() / s);
    let extrapolated_100 = per_provider * 100.0;
    let speedup_100 = hundred.map(|s| extrapolated_100 / s);
    figures.line(format!(
        "baseline (knowledge-center procedure, serial) {n} providers: {:.2} s ({per_provider:.2} s per provider); \
         thumbprint-guard {}: speed-up x{}; 100 providers extrapolated {extrapolated_100:.0} s vs thumbprint-guard {}: x{}",
        wall.as_secs_f64(),
        same.map_or("n/a".into(), |s| format!("{s:.3} s")),
        speedup.map_or("n/a".into(), |s| format!("{s:.1}")),
        hundred.map_or("n/a".into(), |s| format!("{s:.3} s")),
        speedup_100.map_or("n/a".into(), |s| format!("{s:.1}")),
    ));
    json!({
        "method": "scripts/knowledge-center-thumbprints.sh: per provider, in series: openssl s_client -servername HOST -showcerts -connect HOST:PORT </dev/null, the last certificate through openssl x509 -fingerprint -sha1 -noout, and aws iam get-open-id-connect-provider --endpoint-url MOTO (no discovery fetch: less work than the tool)",
        "providers": n,
        "wall_s": secs(wall),
        "per_provider_s": (per_provider * 1000.0).round() / 1000.0,
        "thumbprints_matching_the_hosts": matched,
        "thumbprint_guard_same_providers_s": same,
        "speedup": speedup.map(|s| (s * 10.0).round() / 10.0),
        "extrapolated_100_providers_s": extrapolated_100.round(),
        "thumbprint_guard_100_providers_s": hundred,
        "speedup_100_extrapolated": speedup_100.map(|s| (s * 10.0).round() / 10.0),
    })
}
