//! Configuration errors through the CLI binary: exit code 2 and a message naming the variable, the
//! bad value and what is allowed, before anything reaches AWS or an issuer.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `thumbprint-guard ARGS` with only `vars` in its environment (no AWS credentials, no
/// endpoint: a configuration error must come first). Returns the exit code and stderr. A run that
/// has not ended after a minute is killed and fails the test (a hang guard, not a timing check).
fn run(args: &[&str], vars: &[(&str, &str)]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_thumbprint-guard"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_REGION", "us-east-1")
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start thumbprint-guard");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for thumbprint-guard") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().ok();
            panic!("thumbprint-guard {args:?} with {vars:?} did not end (hang)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    use std::io::Read as _;
    child
        .stderr
        .take()
        .expect("stderr piped")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    (status.code().expect("exited, not killed"), stderr)
}

fn assert_config_error(args: &[&str], vars: &[(&str, &str)], says: &[&str]) {
    let (code, stderr) = run(args, vars);
    assert_eq!(code, 2, "{args:?} {vars:?}: {stderr}");
    assert!(
        stderr.contains("thumbprint-guard: configuration error: "),
        "{stderr}"
    );
    for text in says {
        assert!(
            stderr.contains(text),
            "{args:?} {vars:?}: no {text:?} in {stderr}"
        );
    }
}

#[test]
fn an_empty_region_element_is_exit_2_naming_the_variable() {
    for value in [",", "us-east-1,,eu-west-1", "us-east-1,"] {
        assert_config_error(
            &["sweep"],
            &[("EKS_REGIONS", value)],
            &[
                "EKS_REGIONS must be",
                &format!("got '{value}'"),
                "no empty element",
            ],
        );
    }
}

#[test]
fn a_bad_new_variable_is_exit_2_naming_it() {
    assert_config_error(
        &["sweep"],
        &[("ACCOUNT_CONCURRENCY", "0")],
        &["ACCOUNT_CONCURRENCY must be a whole number from 1 to 64; got '0'"],
    );
    assert_config_error(
        &["sweep"],
        &[("SECURITY_HUB", "yes")],
        &["SECURITY_HUB must be one of off, on; got 'yes'"],
    );
    assert_config_error(
        &["sweep"],
        &[("NOTIFY", "changes")],
        &["NOTIFY=changes needs STATE_TABLE"],
    );
    assert_config_error(
        &["sweep"],
        &[("ORGANIZATION_ACCOUNTS", "111122223333")],
        &["ORGANIZATION_ACCOUNTS=111122223333 needs ORGANIZATION_ROLE_NAME"],
    );
}

#[test]
fn a_bad_flag_value_is_exit_2_naming_the_variable() {
    assert_config_error(
        &["sweep", "--mute", "CERT_EXPIRING", "--mute", "NO_SUCH_CODE"],
        &[],
        &[
            "MUTE_FINDINGS must be",
            "'NO_SUCH_CODE' is not one",
            "THUMBPRINT_MISMATCH",
        ],
    );
    assert_config_error(
        &["sweep", "--remediation-mode", "yes"],
        &[("REMEDIATION_MODE", "add")],
        &["REMEDIATION_MODE must be one of off, dry-run, add; got 'yes'"],
    );
    assert_config_error(
        &["sweep", "--organization-role-name", "path/Member"],
        &[],
        &["ORGANIZATION_ROLE_NAME must be an IAM role name"],
    );
    assert_config_error(
        &["sweep", "--notify", "changes", "--state-table", "x"],
        &[],
        &["STATE_TABLE must be a DynamoDB table name", "got 'x'"],
    );
}

#[test]
fn a_flag_overrides_a_bad_variable() {
    // NOTIFY=changes without a table is fixed by the flag; the run then fails on the next bad
    // value, which proves the flag was applied before validation.
    assert_config_error(
        &["sweep", "--notify", "never", "--eks-regions", ","],
        &[("NOTIFY", "changes")],
        &["EKS_REGIONS must be"],
    );
}

#[test]
fn a_trust_anchor_device_or_fifo_is_refused_at_once() {
    assert_config_error(
        &["inspect", "https://127.0.0.1:9/id/X"],
        &[("EXTRA_TRUST_ANCHORS_PEM", "/dev/zero")],
        &["EXTRA_TRUST_ANCHORS_PEM: /dev/zero: must be a regular PEM file of at most 1 MiB"],
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("anchors.pem");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let path = fifo.display().to_string();
    assert_config_error(
        &["sweep", "--extra-trust-anchors-pem", &path],
        &[],
        &[&format!(
            "EXTRA_TRUST_ANCHORS_PEM: {path}: must be a regular PEM file"
        )],
    );
    let big = dir.path().join("big.pem");
    std::fs::write(&big, vec![b'A'; 2 * 1024 * 1024]).expect("write");
    let path = big.display().to_string();
    assert_config_error(
        &["inspect", "https://127.0.0.1:9/id/X"],
        &[("EXTRA_TRUST_ANCHORS_PEM", &path)],
        &["at most 1 MiB; it has 2097152 bytes"],
    );
}
