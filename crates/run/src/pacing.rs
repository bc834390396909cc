//! The pacing step: when to train and when to stop taking games (the train
//! ratio), and when the session ends (interrupt, time limit, step limit).
//!
//! Training and self-play are kept at `train.train_ratio` samples per new
//! position both ways: the trainer waits for positions, and when it falls far
//! behind it leaves finished games in the bounded channel, so the workers block
//! until it catches up and the CPU goes to training.

use az_experiment::Manifest;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// What the loop does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pace {
    /// Take a training step now.
    pub train: bool,
    /// Take the finished games waiting in the channel (false: far behind).
    pub take_games: bool,
}

/// The train ratio's settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pacing {
    batch_size: usize,
    /// `train.min_replay`: positions before the ratio starts counting.
    min_replay: u64,
    /// Positions the window must hold before the first step (at most its capacity).
    ready_at: usize,
    ratio: f64,
}

impl Pacing {
    /// The pacing of manifest `m`.
    pub fn new(m: &Manifest) -> Self {
        let t = &m.train;
        Pacing {
            batch_size: t.batch_size,
            min_replay: t.min_replay as u64,
            ready_at: t.min_replay.min(m.replay.capacity).max(t.batch_size),
            ratio: t.train_ratio,
        }
    }

    /// The next move with `window` positions held, `positions` ever added and
    /// `samples` trained on.
    pub fn pace(&self, window: usize, positions: u64, samples: u64) -> Pace {
        let ready = window >= self.ready_at;
        let target = self.ratio * positions.saturating_sub(self.min_replay) as f64;
        let deficit = target - samples as f64;
        let behind = ready && deficit >= self.batch_size as f64;
        Pace {
            train: behind,
            take_games: !(behind && deficit > 4.0 * self.batch_size as f64),
        }
    }
}

/// Seconds of the session and of the run (all sessions).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    started: Instant,
    /// Seconds of the run before this session (from its checkpoint).
    before: f64,
}

impl Clock {
    /// A session starting now.
    pub fn start() -> Self {
        Clock {
            started: Instant::now(),
            before: 0.0,
        }
    }

    /// Counts `seconds` of earlier sessions into the run's time.
    pub fn resumed_after(&mut self, seconds: f64) {
        self.before = seconds;
    }

    /// Seconds of this session.
    pub fn session(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Seconds of the run over all sessions.
    pub fn run(&self) -> f64 {
        self.before + self.session()
    }
}

/// When the session ends without a failure.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    /// The least of `--max-seconds` and `run.max_seconds`.
    seconds: Option<f64>,
    max_steps: Option<u64>,
    max_evaluations: Option<u64>,
    stop: Arc<AtomicBool>,
}

impl Limits {
    /// The limits of manifest `m`, `max_seconds` of this session and the `stop` flag.
    pub fn new(m: &Manifest, max_seconds: Option<f64>, stop: Arc<AtomicBool>) -> Self {
        Limits {
            seconds: max_seconds
                .into_iter()
                .chain(m.run.max_seconds.map(|s| s as f64))
                .reduce(f64::min),
            max_steps: m.run.max_steps,
            max_evaluations: m.run.max_evaluations,
            stop,
        }
    }

    /// Whether a stop was asked for (Ctrl-C).
    pub fn interrupted(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Why the session ends now, if it does, after `step` training steps and
    /// `evaluations` network evaluations of self-play.
    pub fn reached(&self, clock: &Clock, step: u64, evaluations: u64) -> Option<String> {
        if self.interrupted() {
            return Some("interrupted (Ctrl-C)".to_owned());
        }
        if let Some(limit) = self.seconds
            && clock.session() >= limit
        {
            return Some(format!("time limit of {limit} s"));
        }
        if let Some(max) = self.max_evaluations
            && evaluations >= max
        {
            return Some(format!("run.max_evaluations = {max} reached"));
        }
        match self.max_steps {
            Some(max) if step >= max => Some(format!("run.max_steps = {max} reached")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pacing() -> Pacing {
        Pacing {
            batch_size: 100,
            min_replay: 1000,
            ready_at: 1000,
            ratio: 2.0,
        }
    }

    #[test]
    fn waits_for_the_window_then_keeps_the_ratio() {
        let p = pacing();
        let idle = Pace {
            train: false,
            take_games: true,
        };
        // Not ready: the window holds fewer than min_replay positions.
        assert_eq!(p.pace(999, 5000, 0), idle);
        // Ready, but 2 × (1040 − 1000) = 80 samples owed: less than a batch.
        assert_eq!(p.pace(1040, 1040, 0), idle);
        // 2 × 100 = 200 owed: train, and keep taking games.
        let train = Pace {
            train: true,
            take_games: true,
        };
        assert_eq!(p.pace(1100, 1100, 0), train);
        assert_eq!(p.pace(1100, 1100, 101), idle);
        // More than four batches behind: train and leave the games waiting.
        assert_eq!(
            p.pace(1300, 1300, 0),
            Pace {
                train: true,
                take_games: false
            }
        );
    }

    #[test]
    fn limits_name_their_reason() {
        let stop = Arc::new(AtomicBool::new(false));
        let mut m = Manifest::default();
        m.run.max_seconds = None;
        m.run.max_steps = Some(10);
        let limits = Limits::new(&m, Some(3600.0), Arc::clone(&stop));
        let clock = Clock::start();
        assert_eq!(limits.reached(&clock, 9, 0), None);
        assert_eq!(
            limits.reached(&clock, 10, 0).as_deref(),
            Some("run.max_steps = 10 reached")
        );
        let limits = Limits::new(&m, Some(0.0), Arc::clone(&stop));
        assert_eq!(
            limits.reached(&clock, 0, 0).as_deref(),
            Some("time limit of 0 s")
        );
        stop.store(true, Ordering::Release);
        assert_eq!(
            limits.reached(&clock, 0, 0).as_deref(),
            Some("interrupted (Ctrl-C)")
        );
    }
}
