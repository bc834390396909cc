//! Self-play for az: worker threads play many games at once, each game gathering
//! several leaves per round with virtual loss; a worker sends one request per
//! round and group to the inference server, and runs its groups in turn so that
//! tree work overlaps the network. Finished games leave on a channel as
//! [`GameRecord`]s. Every worker accounts its wall time per component
//! ([`WorkerTimes`]), per round, always on.
//!
//! With one worker and a fixed seed, self-play is bit-reproducible (given a
//! deterministic model).

mod config;
mod stats;
mod worker;

pub use az_record::GameRecord;
pub use config::{PlayoutCap, RandomOpening, SelfPlayConfig};
pub use stats::{TimeSplit, WorkerStats, WorkerTimes};
pub use worker::StopReason;

use az_game::Game;
use az_infer::Client;
use flume::Sender;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use worker::{Shared, Worker};

/// Running self-play workers.
#[derive(Debug)]
pub struct SelfPlay {
    threads: Vec<JoinHandle<StopReason>>,
    stats: Vec<Arc<Mutex<WorkerStats>>>,
    shared: Arc<Shared>,
}

impl SelfPlay {
    /// Starts `config.workers` workers (at least 1) for game `G`, sending requests
    /// through `client` and finished games to `records`.
    pub fn start<G: Game>(
        config: &SelfPlayConfig,
        client: &Client,
        records: &Sender<GameRecord<G>>,
    ) -> SelfPlay {
        let workers = config.workers.max(1);
        let games = config.parallel_games.max(workers);
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            started: AtomicU64::new(0),
        });
        let mut threads = Vec::new();
        let mut stats = Vec::new();
        for w in 0..workers {
            let n = games / workers + usize::from(w < games % workers);
            let s = Arc::new(Mutex::new(WorkerStats::default()));
            stats.push(Arc::clone(&s));
            let worker = Worker::<G>::new(
                w,
                n,
                config.clone(),
                client.clone(),
                records.clone(),
                Arc::clone(&shared),
                s,
            );
            let handle = std::thread::Builder::new()
                .name(format!("az-selfplay-{w}"))
                .spawn(move || worker.run())
                .expect("spawning a self-play worker");
            threads.push(handle);
        }
        SelfPlay {
            threads,
            stats,
            shared,
        }
    }

    /// Asks the workers to stop after their current round.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::Release);
    }

    /// Counters so far, summed over workers.
    pub fn stats(&self) -> WorkerStats {
        let mut total = WorkerStats::default();
        for s in &self.stats {
            total.merge(&s.lock().unwrap_or_else(PoisonError::into_inner));
        }
        total
    }

    /// Network evaluations asked for so far (as flushed by the workers once a round).
    pub fn evaluations(&self) -> u64 {
        self.stats
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).evaluations)
            .sum()
    }

    /// Whether every worker has ended.
    pub fn is_finished(&self) -> bool {
        self.threads.iter().all(JoinHandle::is_finished)
    }

    /// Waits for the workers; returns why each stopped and the final counters.
    ///
    /// # Errors
    /// The message of a worker that panicked.
    pub fn join(self) -> Result<(Vec<StopReason>, WorkerStats), String> {
        let mut reasons = Vec::new();
        for t in self.threads {
            match t.join() {
                Ok(r) => reasons.push(r),
                Err(p) => {
                    let msg = az_infer::panic_message(p.as_ref());
                    return Err(format!("self-play worker panicked: {msg}"));
                }
            }
        }
        let mut total = WorkerStats::default();
        for s in &self.stats {
            total.merge(&s.lock().unwrap_or_else(PoisonError::into_inner));
        }
        Ok((reasons, total))
    }
}
