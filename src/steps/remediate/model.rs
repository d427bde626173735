//! The typed values remediation passes along: what to do for one provider ([`Decision`], from the
//! pure policy) and how it ended ([`Outcome`], from the IAM write or without one), with the
//! report's `remediation` entry.

use super::reason::SkipReason;
use crate::report::{Remediation, RemediationOutcome};

/// What remediation should do for one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Every served top thumbprint is configured (or nothing was served): the report's
    /// `remediation` is null.
    Nothing,
    /// Effective mode `add` and the policy allows it: add these thumbprints.
    Add {
        /// Lowercase thumbprints to add, in first-served order.
        thumbprints: Vec<String>,
        /// Why they may be added.
        reason: String,
    },
    /// Effective mode `dry-run` and the policy would allow it: report these as planned.
    Plan {
        /// Lowercase thumbprints that would be added.
        thumbprints: Vec<String>,
        /// Why they would be added.
        reason: String,
    },
    /// Thumbprints are needed but the policy does not allow adding them.
    Skip {
        /// The served thumbprints that are not configured.
        thumbprints: Vec<String>,
        /// The first condition that blocked the addition.
        reason: SkipReason,
        /// The list has no room for them (a fact, reported as THUMBPRINT_LIST_FULL whatever
        /// condition blocked first).
        list_full: bool,
    },
}

impl Decision {
    /// The thumbprints this decision is about (empty for `Nothing`).
    pub fn thumbprints(&self) -> &[String] {
        match self {
            Decision::Nothing => &[],
            Decision::Add { thumbprints, .. }
            | Decision::Plan { thumbprints, .. }
            | Decision::Skip { thumbprints, .. } => thumbprints,
        }
    }

    /// The outcome of every decision that needs no IAM call: `None` for `Nothing`, `Planned` for
    /// `Plan`, `Skipped` for `Skip`; `None` for `Add` too (only [`apply`](super::apply) knows how a write ends).
    pub(crate) fn without_writing(&self) -> Option<Outcome> {
        match self {
            Decision::Nothing | Decision::Add { .. } => None,
            Decision::Plan {
                thumbprints,
                reason,
            } => Some(Outcome::Planned {
                thumbprints: thumbprints.clone(),
                reason: reason.clone(),
            }),
            Decision::Skip { reason, .. } => Some(Outcome::Skipped(reason.clone())),
        }
    }
}

/// How remediation ended for one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Written and read back.
    Applied {
        /// The thumbprints this run added.
        added: Vec<String>,
        /// The whole list as read back after the write.
        thumbprints: Vec<String>,
        /// Why, for people.
        reason: String,
    },
    /// Dry-run: these would have been written.
    Planned {
        /// The thumbprints that would be added.
        thumbprints: Vec<String>,
        /// Why, for people.
        reason: String,
    },
    /// The policy (or the fresh list at write time) did not allow the change.
    Skipped(SkipReason),
    /// An AWS call failed, a value was malformed, or the read-back lacks an entry.
    Failed {
        /// The AWS error or the problem, for people.
        reason: String,
    },
}

impl Outcome {
    /// The report's `remediation` entry.
    pub fn remediation(&self) -> Remediation {
        let (outcome, added, reason) = match self {
            Outcome::Applied { added, reason, .. } => {
                (RemediationOutcome::Applied, added.clone(), reason.clone())
            }
            Outcome::Planned {
                thumbprints,
                reason,
            } => (
                RemediationOutcome::Planned,
                thumbprints.clone(),
                reason.clone(),
            ),
            Outcome::Skipped(reason) => {
                (RemediationOutcome::Skipped, Vec::new(), reason.to_string())
            }
            Outcome::Failed { reason } => (RemediationOutcome::Failed, Vec::new(), reason.clone()),
        };
        Remediation {
            outcome,
            added,
            reason,
        }
    }

    /// The thumbprints written this run (empty unless applied).
    pub fn applied(&self) -> &[String] {
        match self {
            Outcome::Applied { added, .. } => added,
            _ => &[],
        }
    }
}
