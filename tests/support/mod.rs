//! Test support shared by the end-to-end tests: local TLS issuers and the AWS emulator.
#![allow(dead_code)]

pub mod issuer;
pub mod moto;
pub mod scenario;
