//! `make demo`: a full sweep on this machine, against moto server and two local TLS issuers.
//!
//! Starts moto (AWS emulator) and two HTTPS issuers with chains generated now (one healthy, one whose
//! chain rotated away from the configured thumbprint), registers both as IAM OIDC providers, adds an
//! EKS cluster whose Kubernetes API (a local fake) holds a service account annotated with a role that
//! trusts the wrong namespace and a pod started before its annotation, runs the real
//! `thumbprint-guard sweep --kubernetes-checks` binary against them, checks the result, and stops
//! everything.
//! Usage: `cargo run --example demo -- PATH/TO/thumbprint-guard`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::ExitCode;

use support::moto::Moto;
use support::scenario::{HealthyAndRotated, MisconfiguredCluster};
use thumbprint_guard::report::{FindingCode, Report};

const REGION: &str = "us-east-1";

#[tokio::main]
async fn main() -> ExitCode {
    let Some(cli) = std::env::args().nth(1) else {
        eprintln!("usage: demo PATH/TO/thumbprint-guard");
        return ExitCode::from(2);
    };
    println!("demo: starting moto server (AWS emulator) on 127.0.0.1 ...");
    let moto = Moto::start().await;
    let scenario = match HealthyAndRotated::start(&moto, REGION).await {
        Ok(scenario) => scenario,
        Err(e) => {
            eprintln!("demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    let HealthyAndRotated {
        trust,
        healthy,
        healthy_chain,
        rotated,
        old_chain,
        new_chain,
        healthy_arn,
        rotated_arn,
        topic_arn,
        ..
    } = &scenario;
    println!(
        "demo: issuer {} serves intermediate {}",
        healthy.url(),
        healthy_chain.top_sha1()
    );
    println!(
        "demo: issuer {} rotated from {} to {}",
        rotated.url(),
        old_chain.top_sha1(),
        new_chain.top_sha1()
    );
    println!("demo: registered {healthy_arn}\ndemo: registered {rotated_arn}");
    let cluster = match MisconfiguredCluster::start(
        &moto,
        REGION,
        healthy,
        &healthy_chain.top_sha1(),
    )
    .await
    {
        Ok(cluster) => cluster,
        Err(e) => {
            eprintln!("demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "demo: EKS cluster {} (IAM OIDC provider {}), Kubernetes API at {}:\n\
         demo:   service account payments/api -> {}, whose trust names namespace `payment`\n\
         demo:   service account orders/worker -> {}; its pod orders/worker-7c9d4 started before the annotation\n",
        cluster.cluster_arn,
        cluster.provider_arn,
        cluster.api.endpoint(),
        cluster.untrusting_role_arn,
        cluster.restart_role_arn,
    );

    // A state table, so the message says what is new since the last run.
    let dynamodb = aws_sdk_dynamodb::Client::new(&moto.sdk_config(REGION).await);
    support::moto::create_state_table(&dynamodb, "thumbprint-guard-state").await;
    // AWS through the EKS shim (the cluster's endpoint, CA and issuer; the rest goes on to moto).
    let mut env = moto.env(REGION);
    env.retain(|(k, _)| k != "AWS_ENDPOINT_URL");
    env.push((
        "AWS_ENDPOINT_URL".to_string(),
        cluster.aws_endpoint().to_string(),
    ));
    env.push(("SNS_TOPIC_ARN".to_string(), topic_arn.clone()));
    env.push((
        "STATE_TABLE".to_string(),
        "thumbprint-guard-state".to_string(),
    ));
    for (k, v) in [
        (
            "EXTRA_TRUST_ANCHORS_PEM",
            trust.path().to_string_lossy().as_ref(),
        ),
        ("ALLOW_PRIVATE_ADDRESSES", "true"),
        ("PROBE_TIMEOUT_SECS", "5"),
        ("KUBERNETES_CHECKS", "on"),
    ] {
        env.push((k.to_string(), v.to_string()));
    }
    let command = || {
        let mut cmd = tokio::process::Command::new(&cli);
        cmd.env_remove("AWS_PROFILE")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        cmd
    };

    println!("$ KUBERNETES_CHECKS=on thumbprint-guard sweep");
    let status = match command().arg("sweep").status().await {
        Ok(status) => status,
        Err(e) => {
            eprintln!("demo: cannot run {cli}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "(exit code {}: 1 means at least one critical finding)\n",
        status.code().unwrap_or(-1)
    );

    let sent = moto.sent_notifications(topic_arn).await;
    let message = sent
        .first()
        .and_then(|n| n[1].as_str())
        .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok());
    let body = |protocol: &str| {
        message
            .as_ref()
            .and_then(|m| m[protocol].as_str().map(str::to_owned))
    };
    match body("email") {
        Some(text) => {
            println!(
                "demo: the sweep published to SNS topic {topic_arn}; its e-mail reads:\n\n{text}\n"
            );
            let chatbot = body("https")
                .and_then(|doc| serde_json::from_str::<serde_json::Value>(&doc).ok())
                .and_then(|doc| serde_json::to_string_pretty(&doc).ok())
                .unwrap_or_default();
            println!("demo: and its Chatbot document (https) reads:\n\n{chatbot}\n");
            // The report as SQS and Lambda subscribers get it, abridged to the rotated provider.
            let report = body("sqs")
                .and_then(|doc| serde_json::from_str::<serde_json::Value>(&doc).ok())
                .map(|mut doc| {
                    if let Some(providers) = doc["providers"].as_array_mut() {
                        providers.retain(|p| p["arn"] == rotated_arn.as_str());
                    }
                    serde_json::to_string_pretty(&doc).unwrap_or_default()
                })
                .unwrap_or_default();
            println!("demo: and its sqs/lambda body (the report, abridged to the rotated provider):\n\n{report}\n");
        }
        None => {
            eprintln!("demo: no notification reached SNS topic {topic_arn}");
            return ExitCode::FAILURE;
        }
    }

    let json = match command()
        .args(["sweep", "--json", "--notify", "never"])
        .output()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("demo: cannot run {cli}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report: Report = match serde_json::from_slice(&json.stdout) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "demo: sweep --json did not print a report ({e}):\n{}",
                String::from_utf8_lossy(&json.stderr)
            );
            return ExitCode::FAILURE;
        }
    };
    let mismatch: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::ThumbprintMismatch)
        .collect();
    let healthy_clean = report
        .findings
        .iter()
        .all(|f| &f.resource != healthy_arn && f.resource != cluster.provider_arn);
    let right_mismatch = mismatch.len() == 1
        && &mismatch[0].resource == rotated_arn
        && mismatch[0].details["thumbprint"] == new_chain.top_sha1().as_str();
    let in_cluster = in_cluster_findings(&report, &cluster);
    let expected_in_cluster = [
        (
            FindingCode::ServiceAccountRoleUntrusted,
            cluster.cluster_arn.clone(),
            "payments/api".to_string(),
        ),
        (
            FindingCode::PodNeedsRestart,
            cluster.cluster_arn.clone(),
            "orders/worker-7c9d4".to_string(),
        ),
        (
            FindingCode::TrustPolicyUnknownServiceAccount,
            cluster.untrusting_role_arn.clone(),
            "payment/api".to_string(),
        ),
    ];
    let right_in_cluster = in_cluster.len() == expected_in_cluster.len()
        && expected_in_cluster.iter().all(|e| in_cluster.contains(e));
    if status.code() == Some(1) && healthy_clean && right_mismatch && right_in_cluster {
        println!(
            "demo: OK: {healthy_arn} is healthy; {rotated_arn} needs {} added",
            new_chain.top_sha1()
        );
        println!(
            "demo: OK: cluster {}: payments/api's role trusts the wrong namespace, orders/worker-7c9d4 needs a restart",
            MisconfiguredCluster::NAME
        );
        println!("demo: stopping moto, the issuers, the EKS shim and the Kubernetes API");
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "demo: unexpected result: {}",
            String::from_utf8_lossy(&json.stdout)
        );
        ExitCode::FAILURE
    }
}

/// The findings about the cluster or its roles, as (code, resource, `namespace/name`).
fn in_cluster_findings(
    report: &Report,
    cluster: &MisconfiguredCluster,
) -> Vec<(FindingCode, String, String)> {
    let roles = [&cluster.untrusting_role_arn, &cluster.restart_role_arn];
    report
        .findings
        .iter()
        .filter(|f| f.resource == cluster.cluster_arn || roles.contains(&&f.resource))
        .map(|f| {
            let workload = format!(
                "{}/{}",
                f.details["namespace"].as_str().unwrap_or_default(),
                f.details["name"].as_str().unwrap_or_default()
            );
            (f.code, f.resource.clone(), workload)
        })
        .collect()
}
