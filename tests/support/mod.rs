//! Test support shared by the end-to-end tests: local TLS issuers, the AWS emulator and the
//! environment harness that combines them.
#![allow(dead_code)]

pub mod certs;
pub mod env;
pub mod issuer;
pub mod moto;
pub mod scenario;
