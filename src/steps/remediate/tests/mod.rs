//! Unit tests: the pure decision and merge, findings, and `apply` against aws-smithy-mocks.
//! Fixtures live here; each child tests one part.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use time::macros::datetime;

use super::*;
use crate::config::{Config, HostGlobs, RemediationMode, REMEDIATION_TAG};
use crate::inventory::OidcProvider;
use crate::probe::{ChainVerdict, IssuerProbe};
use crate::probe::{EndpointProbe, HostProbe, ProbeIssue};
use crate::report::{CertificateInfo, Severity};
use crate::report::{FindingCode, RemediationOutcome};

const OLD: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";
const EKS_HOST: &str = "oidc.eks.us-east-1.amazonaws.com";
const ARN: &str =
    "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE";

/// A distinct, well-formed thumbprint per character.
fn thumbprint(c: char) -> String {
    c.to_string().repeat(40)
}

fn provider(thumbprints: &[&str], tag: Option<&str>) -> OidcProvider {
    let mut tags = BTreeMap::new();
    if let Some(value) = tag {
        tags.insert(REMEDIATION_TAG.to_string(), value.to_string());
    }
    OidcProvider {
        arn: ARN.to_string(),
        url: format!("https://{EKS_HOST}/id/EXAMPLE"),
        client_ids: vec!["sts.amazonaws.com".to_string()],
        thumbprints: thumbprints.iter().map(|t| t.to_string()).collect(),
        tags,
    }
}

fn certificate(sha1: &str) -> CertificateInfo {
    CertificateInfo {
        subject: format!("CN={}", &sha1[..4]),
        issuer: "CN=root".to_string(),
        sha1: sha1.to_string(),
        not_before: Some(datetime!(2026-01-01 0:00 UTC)),
        not_after: Some(datetime!(2027-01-01 0:00 UTC)),
    }
}

/// An address that served leaf + `top` with `verdict`.
fn endpoint(address: &str, top: &str, verdict: ChainVerdict) -> EndpointProbe {
    EndpointProbe {
        address: address.parse::<SocketAddr>().unwrap(),
        chain: vec![certificate(&thumbprint('f')), certificate(top)],
        verdict,
        publicly_anchored: false,
        contiguity: Ok(()),
        tls13_only: false,
        error: None,
    }
}

/// An address that could not be reached.
fn unreachable(address: &str, error: &str) -> EndpointProbe {
    EndpointProbe {
        address: address.parse::<SocketAddr>().unwrap(),
        chain: Vec::new(),
        verdict: ChainVerdict::NotReceived,
        publicly_anchored: false,
        contiguity: Ok(()),
        tls13_only: false,
        error: Some(error.to_string()),
    }
}

fn probe(host: &str, endpoints: Vec<EndpointProbe>) -> IssuerProbe {
    IssuerProbe {
        issuer: format!("https://{host}/id/EXAMPLE"),
        jwks_uri: Some(format!("https://{host}/id/EXAMPLE/keys")),
        hosts: vec![HostProbe {
            serves: vec![crate::report::Fetch::Discovery, crate::report::Fetch::Jwks],
            authority: format!("{host}:443"),
            endpoints,
            issues: Vec::new(),
        }],
        jwks_keys: Some(1),
        issues: Vec::new(),
    }
}

fn trusted(address: &str, top: &str) -> EndpointProbe {
    endpoint(address, top, ChainVerdict::Trusted)
}

fn config(mode: RemediationMode) -> Config {
    Config {
        remediation_mode: mode,
        ..Config::default()
    }
}

/// The decision for what `probe` serves, with the missing thumbprints as assess computes them.
fn decide_for(provider: &OidcProvider, probe: &IssuerProbe, config: &Config) -> Decision {
    decide(
        provider,
        probe,
        &crate::assess::missing_thumbprints(provider, probe),
        config,
    )
}

fn reason(decision: &Decision) -> String {
    match decision {
        Decision::Add { reason, .. } | Decision::Plan { reason, .. } => reason.clone(),
        Decision::Skip { reason, .. } => reason.to_string(),
        Decision::Nothing => String::new(),
    }
}

fn assert_skip(decision: &Decision, expect_full: bool, needles: &[&str]) {
    let Decision::Skip {
        reason, list_full, ..
    } = decision
    else {
        panic!("expected a skip, got {decision:?}");
    };
    let reason = reason.to_string();
    assert_eq!(*list_full, expect_full, "{reason}");
    for needle in needles {
        assert!(reason.contains(needle), "'{needle}' not in: {reason}");
    }
}

mod apply;
mod decide_chains;
mod decide_policy;
mod findings;
mod merge;
