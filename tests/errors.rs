//! What a person reads when the sweep cannot run, through the binary: one line naming the call,
//! what failed and what to do, with the profile, region and endpoint in use; the whole SDK error
//! chain at RUST_LOG=debug. Nothing here reaches AWS: the endpoint is a closed local port, or the
//! run stops before any call.

use std::process::Command;

/// Runs `thumbprint-guard ARGS` with only `vars` (and PATH, and a HOME without AWS files) in its
/// environment; returns the exit code and stderr.
fn run(args: &[&str], vars: &[(&str, &str)]) -> (i32, String) {
    let home = tempfile::tempdir().expect("a HOME without ~/.aws");
    let out = Command::new(env!("CARGO_BIN_EXE_thumbprint-guard"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .envs(vars.iter().copied())
        .output()
        .expect("run thumbprint-guard");
    (
        out.status.code().expect("exited"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The port of a listener that was closed again: nothing accepts there.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

const DUMMY_KEYS: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
    (
        "AWS_SECRET_ACCESS_KEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
];

fn assert_one_line(stderr: &str) {
    assert_eq!(stderr.lines().count(), 1, "one line:\n{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no escape byte when piped: {stderr:?}"
    );
}

#[test]
fn an_endpoint_url_on_a_closed_port_names_it_and_aws_endpoint_url() {
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let mut vars = vec![("AWS_REGION", "us-east-1"), ("AWS_ENDPOINT_URL", &endpoint)];
    vars.extend(DUMMY_KEYS);
    let (code, stderr) = run(&["sweep"], &vars);
    assert_eq!(code, 3, "{stderr}");
    assert_one_line(&stderr);
    // The identity and the provider list are read at once: whichever fails first is named.
    assert!(
        stderr.contains("sts:GetCallerIdentity")
            || stderr.contains("iam:ListOpenIDConnectProviders"),
        "no operation named in {stderr}"
    );
    for says in [
        "thumbprint-guard: the sweep could not run: ",
        &format!("cannot connect to {endpoint}"),
        "Connection refused",
        "AWS_ENDPOINT_URL",
        "profile default, region us-east-1",
    ] {
        assert!(stderr.contains(says), "no {says:?} in {stderr}");
    }
}

#[test]
fn the_full_error_chain_is_kept_at_rust_log_debug() {
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let mut vars = vec![
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", &endpoint),
        ("RUST_LOG", "thumbprint_guard=debug"),
    ];
    vars.extend(DUMMY_KEYS);
    let (code, stderr) = run(&["sweep"], &vars);
    assert_eq!(code, 3, "{stderr}");
    let chain = stderr
        .lines()
        .find(|l| l.contains("AWS call failed"))
        .unwrap_or_else(|| panic!("the debug line: {stderr}"));
    assert!(chain.contains("DispatchFailure"), "{chain}");
    assert!(chain.contains("ConnectorError"), "{chain}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no ANSI in piped logs: {stderr:?}"
    );
}

#[test]
fn no_credentials_says_how_to_configure_them() {
    let (code, stderr) = run(&["sweep", "--region", "eu-west-1"], &[]);
    assert_eq!(code, 3, "{stderr}");
    assert_one_line(&stderr);
    assert!(
        stderr.contains("sts:GetCallerIdentity")
            || stderr.contains("iam:ListOpenIDConnectProviders"),
        "no operation named in {stderr}"
    );
    for says in [
        "Unable to locate credentials",
        "\"aws configure\"",
        "AWS_ACCESS_KEY_ID",
        "profile default, region eu-west-1",
    ] {
        assert!(stderr.contains(says), "no {says:?} in {stderr}");
    }
}

#[test]
fn a_missing_profile_is_named_with_the_files_looked_in() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, "[profile other]\nregion = eu-west-1\n").unwrap();
    let config = config.to_str().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::write(&credentials, "").unwrap();
    let credentials = credentials.to_str().unwrap();
    for (args, vars) in [
        (
            vec!["sweep", "--profile", "nope"],
            vec![
                ("AWS_CONFIG_FILE", config),
                ("AWS_SHARED_CREDENTIALS_FILE", credentials),
            ],
        ),
        (
            vec!["sweep"],
            vec![
                ("AWS_CONFIG_FILE", config),
                ("AWS_SHARED_CREDENTIALS_FILE", credentials),
                ("AWS_PROFILE", "nope"),
            ],
        ),
    ] {
        let (code, stderr) = run(&args, &vars);
        assert_eq!(code, 3, "{stderr}");
        assert_one_line(&stderr);
        for says in [
            "the AWS profile \"nope\" could not be found",
            &format!("{config} (AWS_CONFIG_FILE)"),
            "aws configure --profile nope",
        ] {
            assert!(stderr.contains(says), "no {says:?} in {stderr}");
        }
    }
}

#[test]
fn a_profile_that_exists_is_used_with_its_region() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        "[profile audit]\nregion = ap-southeast-2\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n",
    )
    .unwrap();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let (code, stderr) = run(
        &["sweep", "--profile", "audit"],
        &[
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_ENDPOINT_URL", &endpoint),
        ],
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("profile audit, region ap-southeast-2"),
        "{stderr}"
    );
}

#[test]
fn no_region_says_where_to_give_one() {
    let mut vars = vec![];
    vars.extend(DUMMY_KEYS);
    let (code, stderr) = run(&["sweep"], &vars);
    assert_eq!(code, 2, "{stderr}");
    assert_one_line(&stderr);
    assert!(stderr.contains("--region"), "{stderr}");
    assert!(stderr.contains("AWS_REGION"), "{stderr}");
}

#[test]
fn inspect_explains_a_bad_url_in_the_words_typed() {
    let (code, stderr) = run(&["inspect", "not a url"], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert_one_line(&stderr);
    assert!(
        stderr.contains("\"not a url\" is not an https URL"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "give the issuer URL, e.g. https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("international"), "{stderr}");
}

#[test]
fn sweep_help_speaks_to_users_and_has_profile_and_region() {
    let out = Command::new(env!("CARGO_BIN_EXE_thumbprint-guard"))
        .args(["sweep", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{help}");
    assert!(!help.contains("DESIGN"), "{help}");
    for flag in [
        "--profile <NAME>",
        "--region <REGION>",
        "--output <OUTPUT>",
        "--json",
    ] {
        assert!(help.contains(flag), "no {flag} in\n{help}");
    }
}
