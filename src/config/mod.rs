//! Configuration: every variable of DESIGN's table, read once and validated.
//!
//! Values come from a lookup function (the environment, with CLI flags or a Lambda event layered on
//! top by [`layer`]), so one validation path serves the CLI, the Lambda and the tests. Every error
//! names the variable, the bad value and what is allowed.

mod anchors;
mod error;
mod layering;
mod mute;
mod parse;
mod settings;
mod values;

#[cfg(test)]
mod tests;

pub use crate::report::{RemediationMode, REMEDIATION_TAG};
pub use anchors::{
    check_trust_anchors_file, read_trust_anchors_pem, MAX_TRUST_ANCHORS_BYTES, TRUST_ANCHORS_VAR,
};
pub use error::{ConfigError, OverrideSource};
pub use layering::{layer, Overrides, EVENT_OVERRIDABLE};
pub use mute::{MuteRule, MuteRules};
pub use settings::{env_lookup, Config, OrganizationConfig, VARIABLES};
pub use values::{EksRegions, HostGlobs, NotifyRule, DEFAULT_ALLOWED_HOSTS};
