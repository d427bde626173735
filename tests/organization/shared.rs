//! Issuer hosts shared by every account, accounts swept one at a time (DESIGN, "Organization
//! mode"): every provider is clean, each shared address is connected at most twice per run, and
//! each member is assumed once (`sts:AssumeRole` counted by a proxy between the SDK and moto).

use std::time::Duration;

use super::support::aws_proxy::AwsProxy;
use super::support::issuer::{ChainSpec, IssuerServer};
use super::support::moto::{self, ACCOUNT_ID};
use super::support::peer::{PeerIssuer, PeerOptions};
use super::{settings, Env, REGION, STS};
use thumbprint_guard::organization::{OrganizationClients, OrganizationSettings};

const MEMBERS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_hosts_are_connected_at_most_twice_and_each_member_assumed_once_per_run() {
    let env = Env::new().await;
    moto::create_organization(&env.sdk).await;
    let mut members = Vec::new();
    for i in 0..MEMBERS {
        members.push(moto::create_account(&env.sdk, &format!("member{i}")).await);
    }

    // Two hosts every account uses, each account with its own issuer path on both (as EKS serves
    // every cluster of a region from one host): a Python http.server (HTTP/1.1 keep-alive) and
    // our hyper issuer.
    let peer_chain = env.ca.chain(ChainSpec::default());
    let peer_top = peer_chain.top_sha1();
    let peer = PeerIssuer::start(&peer_chain, &PeerOptions::default());
    let server_chain = env.ca.chain(ChainSpec::default());
    let server_top = server_chain.top_sha1();
    let server = IssuerServer::start(server_chain.clone()).await;
    let accounts: Vec<String> = std::iter::once(ACCOUNT_ID.to_string())
        .chain(members.iter().cloned())
        .collect();
    for (i, account) in accounts.iter().enumerate() {
        let iam = env.iam(account).await;
        let name = format!("ACCOUNT{i}");
        moto::create_provider(&iam, &peer.issuer_url(&name), &[STS], &[&peer_top], &[]).await;
        let url = server.issuer_url(&format!("/id/{name}"));
        moto::create_provider(&iam, &url, &[STS], &[&server_top], &[]).await;
    }

    let proxy = AwsProxy::start(&env.moto.endpoint, Duration::ZERO).await;
    let through_proxy = env
        .moto
        .sdk_config(REGION)
        .await
        .to_builder()
        .endpoint_url(&proxy.endpoint)
        .build();
    let clients = OrganizationClients::new(&through_proxy, &env.config);
    let one_at_a_time = OrganizationSettings {
        account_concurrency: 1,
        ..settings(None)
    };

    let report = env.run(&clients, &one_at_a_time).await.expect("run");

    let stats = peer.stats();
    let assumed = proxy.count("sts:AssumeRole");
    let counts = format!(
        "{} accounts; peer {}: {} TCP connections, {} TLS handshakes; hyper issuer {}: {} TCP connections, {} TLS handshakes; sts:AssumeRole {assumed} for {MEMBERS} members",
        accounts.len(),
        peer.address(),
        stats.connections,
        stats.handshakes,
        server.addr(),
        server.connections(),
        server.handshakes(),
    );
    assert_eq!(report.summary.accounts, accounts.len(), "{counts}");
    assert_eq!(report.summary.accounts_unreachable, 0, "{counts}");
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    for account in &accounts {
        let swept = report.account(account).expect("account swept");
        assert!(
            swept.findings.is_empty(),
            "account {account}: {:#?}\n{counts}",
            swept.findings
        );
        let mut served: Vec<Vec<String>> = swept
            .providers
            .iter()
            .map(|p| p.served_thumbprints.clone())
            .collect();
        served.sort();
        let mut expected = vec![vec![peer_top.clone()], vec![server_top.clone()]];
        expected.sort();
        assert_eq!(served, expected, "account {account}: {counts}");
    }
    assert!(
        stats.connections <= 2 && server.connections() <= 2,
        "each shared address connected at most twice per run: {counts}"
    );
    assert_eq!(assumed, MEMBERS, "one sts:AssumeRole per member: {counts}");
}
