//! Assess: pure functions from (inventory, probe results, configuration, now) to findings.

pub mod chain;
pub mod eks;
