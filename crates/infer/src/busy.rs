//! The device's busy time: wall time with at least one forward pass in flight,
//! over all the threads of a server (two threads' overlapping passes count once).

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct State {
    in_flight: usize,
    since: Option<Instant>,
    busy: Duration,
}

/// Shared by a server's threads; each forward pass holds a [`Running`] guard.
#[derive(Debug, Default)]
pub(crate) struct BusyClock {
    state: Mutex<State>,
}

/// A forward pass in flight; the clock stops when the last one ends.
pub(crate) struct Running<'a>(&'a BusyClock);

impl BusyClock {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks a forward pass as started until the guard is dropped.
    pub(crate) fn start(&self) -> Running<'_> {
        let mut s = self.lock();
        if s.in_flight == 0 {
            s.since = Some(Instant::now());
        }
        s.in_flight += 1;
        Running(self)
    }

    /// Busy time so far, the pass in flight now included.
    pub(crate) fn total(&self) -> Duration {
        let s = self.lock();
        s.busy + s.since.map_or(Duration::ZERO, |t| t.elapsed())
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.in_flight -= 1;
        if s.in_flight == 0
            && let Some(t) = s.since.take()
        {
            s.busy += t.elapsed();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_passes_count_once() {
        let clock = BusyClock::default();
        let a = clock.start();
        std::thread::sleep(Duration::from_millis(30));
        let b = clock.start();
        std::thread::sleep(Duration::from_millis(30));
        drop(a);
        std::thread::sleep(Duration::from_millis(30));
        drop(b);
        let busy = clock.total();
        std::thread::sleep(Duration::from_millis(40)); // idle: not counted
        assert_eq!(clock.total(), busy);
        // 90 ms of passes in flight, 120 ms of pass time summed over threads.
        assert!(busy >= Duration::from_millis(90), "{busy:?}");
        assert!(busy < Duration::from_millis(120), "{busy:?}");
    }
}
