//! Test support shared by the end-to-end tests: local TLS issuers, the AWS emulator and the
//! environment harness that combines them, and for the in-cluster reads a fake Kubernetes API
//! (`kube_api`) and an EKS shim in front of moto (`eks_shim`).
#![allow(dead_code)]

pub mod aws_proxy;
pub mod certs;
pub mod eks_shim;
pub mod env;
pub mod issuer;
pub mod kube_api;
pub mod moto;
pub mod peer;
pub mod scenario;

/// Runs `scenario` on a thread with a 32 MiB stack and its own multi-thread runtime: in a debug
/// build, futures holding several SDK clients (DynamoDB, Security Hub) do not fit a test thread's
/// default 2 MiB.
pub fn on_a_large_stack<F: std::future::Future<Output = ()> + 'static>(scenario: fn() -> F) {
    std::thread::Builder::new()
        .stack_size(32 * 1024 * 1024)
        .spawn(move || {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(scenario())
        })
        .expect("thread")
        .join()
        .expect("the scenario passed");
}
