//! The run's progress over every target: the sweeps' ticks summed into `(done, read)`.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::sweep::Tick;

/// Sums the [`Tick`]s of every target's sweep and tells the watcher `(providers done, providers
/// read)` after each.
pub struct RunProgress<'a> {
    watcher: Option<&'a (dyn Fn(usize, usize) + Sync)>,
    read: AtomicUsize,
    done: AtomicUsize,
}

impl<'a> RunProgress<'a> {
    /// Progress told to `watcher` (none: counted only); tells it `(0, 0)` at once.
    pub fn new(watcher: Option<&'a (dyn Fn(usize, usize) + Sync)>) -> Self {
        if let Some(watcher) = watcher {
            watcher(0, 0);
        }
        RunProgress {
            watcher,
            read: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
        }
    }

    /// One sweep's tick.
    pub fn tick(&self, tick: Tick) {
        match tick {
            Tick::Read => {
                self.read.fetch_add(1, Ordering::Relaxed);
            }
            Tick::Done => {
                let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
                if let Some(watcher) = self.watcher {
                    watcher(done, self.read.load(Ordering::Relaxed).max(done));
                }
            }
        }
    }
}
