//! One `cargo lambda invoke`, and reading what it returned: remediation, EMF lines, notifications.

use std::path::Path;
use std::time::Duration;

use crate::support::moto::{self, Moto};
use crate::watch::Watch;
use crate::{Mismatch, FUNCTION};
use serde_json::Value;

/// One `cargo lambda invoke`: `Ok(response)` or `Err(what it printed)` when the function failed.
pub async fn invoke(
    cargo_lambda: &Path,
    watch: &Watch,
    data: InvokeData<'_>,
    timeout: Duration,
) -> Result<Result<Value, String>, Mismatch> {
    let mut command = tokio::process::Command::new(cargo_lambda);
    command
        .args(["lambda", "invoke", FUNCTION, "--output-format", "json"])
        .args(["--invoke-address", &watch.address.ip().to_string()])
        .args(["--invoke-port", &watch.address.port().to_string()])
        .current_dir(moto::root())
        .kill_on_drop(true);
    match data {
        InvokeData::File(path) => command.arg("--data-file").arg(path),
        InvokeData::Ascii(text) => command.args(["--data-ascii", text]),
    };
    let out = tokio::time::timeout(timeout, command.output())
        .await
        .map_err(|_| {
            format!(
                "cargo lambda invoke gave no answer within {timeout:?}; watch printed:\n{}",
                watch.output()
            )
        })?
        .map_err(|e| format!("cannot run cargo lambda invoke: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Ok(Err(format!("{stdout}{stderr}")));
    }
    serde_json::from_str(&stdout)
        .map(Ok)
        .map_err(|e| format!("the response is not JSON ({e}):\n{stdout}\n{stderr}"))
}

/// The payload of one invocation.
pub enum InvokeData<'a> {
    /// `--data-file`, relative to the repository.
    File(&'a str),
    /// `--data-ascii`.
    Ascii(&'a str),
}

/// The remediation of provider `arn` in a report: `(outcome, added)`.
pub fn remediation(report: &Value, arn: &str) -> Result<(String, Vec<String>), Mismatch> {
    let provider = report["providers"]
        .as_array()
        .and_then(|providers| providers.iter().find(|p| p["arn"] == arn))
        .ok_or_else(|| format!("provider {arn} is not in the report:\n{report:#}"))?;
    let outcome = provider["remediation"]["outcome"]
        .as_str()
        .unwrap_or("null")
        .to_string();
    let added = provider["remediation"]["added"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Ok((outcome, added))
}

/// The EMF documents (namespace ThumbprintGuard) among the output's lines, in order.
pub fn emf_lines(output: &str) -> Vec<Value> {
    output
        .lines()
        .filter_map(|line| line.find('{').map(|start| &line[start..]))
        .filter_map(|json| serde_json::from_str::<Value>(json).ok())
        .filter(|doc| doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ThumbprintGuard")
        .collect()
}

/// How many notifications moto holds for `topic_arn`.
pub async fn notifications(moto: &Moto, topic_arn: &str) -> usize {
    moto.sent_notifications(topic_arn).await.len()
}

pub fn check(condition: bool, what: impl FnOnce() -> String) -> Result<(), Mismatch> {
    if condition {
        Ok(())
    } else {
        Err(what())
    }
}
