//! How long an invocation may probe: the Lambda's deadline minus a reserve for logging and
//! publishing the report.

use time::OffsetDateTime;
use tokio::time::Instant;

/// Turns the Lambda context's deadline (ms since the epoch) into an `Instant` for the probes, keeping
/// up to `reserve_ms` (at most a fifth of the time left) for logging the report and publishing it.
pub fn probe_deadline(deadline_ms: u64, reserve_ms: u64) -> Option<Instant> {
    let now_ms =
        u64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).ok()?;
    let Some(probing) = probe_budget_ms(deadline_ms, now_ms, reserve_ms) else {
        tracing::warn!(
            deadline_ms,
            now_ms,
            "the invocation's deadline is not a time since the epoch (a local emulator?); probing without a deadline"
        );
        return None;
    };
    Some(Instant::now() + std::time::Duration::from_millis(probing))
}

/// Milliseconds the probes may take: the time left minus the reserve, the reserve being at most a
/// fifth of the time left (a short timeout still leaves most of it to the probes). A deadline
/// already passed gives 0 ("probe nothing"). `None` when `deadline_ms` is not a time since the
/// epoch at all (more than a day in the past: some local emulators send a relative value).
pub fn probe_budget_ms(deadline_ms: u64, now_ms: u64, reserve_ms: u64) -> Option<u64> {
    const DAY_MS: u64 = 86_400_000;
    if deadline_ms < now_ms.saturating_sub(DAY_MS) {
        return None;
    }
    let left = deadline_ms.saturating_sub(now_ms);
    Some(left.saturating_sub(reserve_ms.min(left / 5)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_budget_keeps_a_reserve_but_never_disappears() {
        let now = 1_795_000_000_000; // 2026, in ms since the epoch
                                     // 300 s left: the full 15 s reserve.
        assert_eq!(probe_budget_ms(now + 300_000, now, 15_000), Some(285_000));
        // 3 s left (Lambda's default timeout): a fifth is kept, 2.4 s are probed.
        assert_eq!(probe_budget_ms(now + 3_000, now, 15_000), Some(2_400));
        // Already passed: probe nothing.
        assert_eq!(probe_budget_ms(now - 5_000, now, 15_000), Some(0));
        // Not a time since the epoch (cargo lambda watch sends 600000): no deadline.
        assert_eq!(probe_budget_ms(600_000, now, 15_000), None);
    }
}
