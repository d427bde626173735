//! State between runs: each account's open findings in DynamoDB (one item per account, a
//! `version` for conditional writes), what changed since the previous run (pure), and the state
//! step of a run.

mod model;
mod step;
mod store;

pub use model::{changes_warrant_notification, reconcile, Changes, OpenFinding, State};
pub use step::{record, StateOutcome};
pub use store::{load, remember, save, StateError, MAX_ATTEMPTS};
