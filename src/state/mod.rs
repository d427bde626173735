//! State between runs: each account's open findings in DynamoDB (one item per account, a
//! `version` for conditional writes), and what changed since the previous run (pure).

mod model;
mod store;

pub use model::{changes_warrant_notification, reconcile, Changes, OpenFinding, State};
pub use store::{load, remember, save, StateError, MAX_ATTEMPTS};
