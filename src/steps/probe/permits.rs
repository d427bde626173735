//! `PROBE_CONCURRENCY`: one permit per open TLS connection over every host and address, built
//! once per process (in [`super::context::ProbeContext`]). Hosts no provider is using keep their
//! connections for later providers until a permit is wanted; then the least recently idle one is
//! closed ([`Idle`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::sync::lock;

/// How long a permit waiter gives a closed idle host to hand its permits back before it looks again.
const SETTLE: Duration = Duration::from_millis(50);
/// A wait with no bound of its own (the run's deadline bounds it from outside).
const FAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// Something holding connections that nobody is using at the moment (a host between providers).
pub(crate) trait Idle: Send + Sync {
    /// Closes the connections if still unused; false when a user came back meanwhile.
    fn close_if_idle(&self) -> bool;
}

/// `PROBE_CONCURRENCY`: one permit per open TLS connection, over every host and address, for the
/// life of the connection. Built once per process; each run's idle hosts queue here.
pub(crate) struct Permits {
    semaphore: Arc<Semaphore>,
    idle: Mutex<VecDeque<Weak<dyn Idle>>>,
}

impl std::fmt::Debug for Permits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permits")
            .field("available", &self.semaphore.available_permits())
            .finish_non_exhaustive()
    }
}

impl Permits {
    /// `size` permits.
    pub fn new(size: usize) -> Self {
        Permits {
            semaphore: Arc::new(Semaphore::new(size)),
            idle: Mutex::new(VecDeque::new()),
        }
    }

    /// Permits free right now.
    pub fn available(&self) -> usize {
        self.semaphore.available_permits()
    }

    /// `count` permits, closing idle hosts (least recently idle first) while none are free; waits
    /// at most `wait` when nothing idle is left to close. `None` when the wait ran out.
    pub async fn acquire(&self, count: u32, wait: Duration) -> Option<OwnedSemaphorePermit> {
        let now = tokio::time::Instant::now();
        let give_up = now.checked_add(wait).unwrap_or(now + FAR);
        loop {
            if let Ok(permits) = self.semaphore.clone().try_acquire_many_owned(count) {
                return Some(permits);
            }
            let closed = self.close_one_idle();
            let settle = if closed {
                SETTLE
            } else {
                // Nothing idle yet: look again soon, a host may go idle meanwhile.
                SETTLE * 4
            };
            let until = (tokio::time::Instant::now() + settle).min(give_up);
            let attempt = self.semaphore.clone().acquire_many_owned(count);
            match tokio::time::timeout_at(until, attempt).await {
                Ok(Ok(permits)) => return Some(permits),
                Ok(Err(_closed)) => return None,
                Err(_) if tokio::time::Instant::now() >= give_up => return None,
                Err(_) => {}
            }
        }
    }

    /// Queues `host` as idle; closes it at once when no permit is free (someone is likely waiting).
    pub fn idle(&self, host: Weak<dyn Idle>) {
        if self.available() == 0 {
            if let Some(host) = host.upgrade() {
                host.close_if_idle();
            }
            return;
        }
        let mut idle = lock(&self.idle);
        idle.retain(|h| h.strong_count() > 0);
        idle.push_back(host);
    }

    /// Queues `host` as idle whatever the permits (tests build the queue this way).
    #[cfg(test)]
    fn queue_idle_for_test(&self, host: Weak<dyn Idle>) {
        lock(&self.idle).push_back(host);
    }

    fn close_one_idle(&self) -> bool {
        loop {
            let next = lock(&self.idle).pop_front();
            let Some(host) = next else { return false };
            if let Some(host) = host.upgrade() {
                if host.close_if_idle() {
                    return true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A host holding one permit until it is closed; `busy` refuses the close.
    struct FakeHost {
        permit: Mutex<Option<OwnedSemaphorePermit>>,
        busy: AtomicBool,
    }

    impl Idle for FakeHost {
        fn close_if_idle(&self) -> bool {
            if self.busy.load(Ordering::SeqCst) {
                return false;
            }
            lock(&self.permit).take();
            true
        }
    }

    async fn host_holding(permits: &Permits, busy: bool) -> Arc<FakeHost> {
        let permit = permits.acquire(1, Duration::from_secs(1)).await;
        assert!(permit.is_some(), "a free permit");
        Arc::new(FakeHost {
            permit: Mutex::new(permit),
            busy: AtomicBool::new(busy),
        })
    }

    #[tokio::test]
    async fn an_idle_host_is_closed_when_a_permit_is_wanted_and_a_busy_one_is_not() {
        let permits = Permits::new(2);
        let busy = host_holding(&permits, true).await;
        let idle = host_holding(&permits, false).await;
        for host in [&busy, &idle] {
            let host: Arc<dyn Idle> = host.clone();
            permits.queue_idle_for_test(Arc::downgrade(&host));
        }
        assert_eq!(permits.available(), 0);

        let third = permits.acquire(1, Duration::from_secs(2)).await;

        assert!(
            third.is_some(),
            "the idle host's permit went to the new connection"
        );
        assert!(lock(&idle.permit).is_none(), "the idle host was closed");
        assert!(
            lock(&busy.permit).is_some(),
            "the busy host kept its connection"
        );
        // Nothing idle is left: a fourth waits out its bound and gets nothing.
        assert!(permits
            .acquire(1, Duration::from_millis(300))
            .await
            .is_none());
    }

    #[tokio::test]
    async fn a_host_going_idle_when_no_permit_is_free_is_closed_at_once() {
        let permits = Permits::new(1);
        let host = host_holding(&permits, false).await;
        let idle: Arc<dyn Idle> = host.clone();
        permits.idle(Arc::downgrade(&idle));
        assert!(lock(&host.permit).is_none());
        assert_eq!(permits.available(), 1);
    }
}
