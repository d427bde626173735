//! The union written to IAM: the fresh list first, then the new entries, never more than five.

use super::reason::SkipReason;
use crate::report::MAX_THUMBPRINTS;

/// Whether `value` is a thumbprint as we write it: exactly 40 lowercase hex characters.
pub fn is_thumbprint(value: &str) -> bool {
    value.len() == 40
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Distinct entries of `list` (case-insensitively), lowercased, in order.
pub(super) fn distinct_lowercase(list: &[String]) -> Vec<String> {
    let mut distinct: Vec<String> = Vec::new();
    for entry in list {
        let entry = entry.trim().to_ascii_lowercase();
        if !distinct.contains(&entry) {
            distinct.push(entry);
        }
    }
    distinct
}

/// The thumbprint list to write: the fresh list, then the new entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    /// Every entry to write: the fresh list's entries first, in their order, then the new ones.
    pub thumbprints: Vec<String>,
    /// The entries of `thumbprints` that the fresh list did not hold (empty: nothing to write).
    pub added: Vec<String>,
}

/// Why a union cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// The union would exceed IAM's five entries.
    #[error("{}", list_full(*.configured, .adding))]
    Full {
        /// Distinct entries in the fresh list.
        configured: usize,
        /// The entries that would have to be added.
        adding: Vec<String>,
    },
    /// An entry is not 40 lowercase hex characters (moto does not check; IAM would refuse).
    #[error("refusing to write '{0}': a thumbprint is exactly 40 lowercase hex characters")]
    Malformed(String),
}

fn list_full(configured: usize, adding: &[String]) -> SkipReason {
    SkipReason::ListFull {
        configured,
        adding: adding.to_vec(),
    }
}

/// The union of `fresh` (the list IAM holds now) and `wanted`: never drops an entry, dedupes
/// case-insensitively, writes lowercase, and refuses more than [`MAX_THUMBPRINTS`] or a malformed
/// entry.
pub fn merge_thumbprints(fresh: &[String], wanted: &[String]) -> Result<Merge, MergeError> {
    let mut thumbprints = distinct_lowercase(fresh);
    let configured = thumbprints.len();
    let added: Vec<String> = distinct_lowercase(wanted)
        .into_iter()
        .filter(|t| !thumbprints.contains(t))
        .collect();
    if configured + added.len() > MAX_THUMBPRINTS && !added.is_empty() {
        return Err(MergeError::Full {
            configured,
            adding: added,
        });
    }
    thumbprints.extend(added.iter().cloned());
    if let Some(malformed) = thumbprints.iter().find(|t| !is_thumbprint(t)) {
        return Err(MergeError::Malformed(malformed.clone()));
    }
    Ok(Merge { thumbprints, added })
}
