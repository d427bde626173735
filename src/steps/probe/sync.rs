//! The lock helper of the probe's shared state (permits, recorded chains, connections).

use std::sync::{Mutex, MutexGuard};

/// The guard of `mutex`, taken even when a thread panicked while holding it (poisoned).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
