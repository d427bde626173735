//! Organization mode's own part of a run: which accounts it covers (every ACTIVE account of the
//! AWS Organization, or those of `ORGANIZATION_ACCOUNTS`) and how each is reached.
//!
//! The caller's own account is swept with its own credentials; every other account through
//! `sts:AssumeRole` into `arn:PARTITION:iam::ACCOUNT:role/ROLE_NAME` with refreshing credentials,
//! and one that cannot be assumed is an [`Unreachable`] (an ACCOUNT_UNREACHABLE finding). The run
//! itself (`crate::run`) sweeps each account exactly as a single-account run; only an unreadable
//! account list is an `Err` (exit code 3).

mod accounts;
mod member;
mod settings;

pub use accounts::{AccountList, MEMBER_SESSION_NAME};
pub use member::{member_clients, Unreachable, UnreachableReason};
pub use settings::{OrganizationClients, OrganizationError, OrganizationSettings};
