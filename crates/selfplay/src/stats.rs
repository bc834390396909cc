//! Time accounting: where the wall time of workers and server goes.

use az_infer::ServerStats;
use std::time::Duration;

/// Wall time of one worker by component (measured per round, not per node).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkerTimes {
    /// Descending the trees: selection, virtual loss, the game rules on the way.
    pub gather: Duration,
    /// Encoding leaves and their legal-move masks into the request.
    pub encode: Duration,
    /// Evaluation cache lookups (inserts are part of `apply`).
    pub cache: Duration,
    /// Sending requests to the server.
    pub send: Duration,
    /// Blocked, waiting for the server's answer.
    pub wait: Duration,
    /// Expanding leaves, backing up values, storing answers in the cache.
    pub apply: Duration,
    /// Choosing and playing moves, re-rooting trees, starting games.
    pub play: Duration,
    /// Building game records and sending them out.
    pub record: Duration,
}

impl WorkerTimes {
    /// Components as (name, duration).
    pub fn components(&self) -> [(&'static str, Duration); 8] {
        [
            ("gather", self.gather),
            ("encode", self.encode),
            ("cache", self.cache),
            ("send", self.send),
            ("wait", self.wait),
            ("apply", self.apply),
            ("play", self.play),
            ("record", self.record),
        ]
    }

    fn add(&mut self, o: &WorkerTimes) {
        self.gather += o.gather;
        self.encode += o.encode;
        self.cache += o.cache;
        self.send += o.send;
        self.wait += o.wait;
        self.apply += o.apply;
        self.play += o.play;
        self.record += o.record;
    }
}

/// Counters of self-play workers (summed over workers by [`WorkerStats::merge`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkerStats {
    /// Workers merged into these counters.
    pub workers: usize,
    /// Games finished.
    pub games: u64,
    /// Moves played.
    pub moves: u64,
    /// Of those, moves of a fast search (playout cap randomization): no policy target.
    pub fast_moves: u64,
    /// Moves of random openings, played without a search (not in `moves`).
    pub random_plies: u64,
    /// Leaves sent to the network.
    pub evaluations: u64,
    /// Leaves answered by the evaluation cache.
    pub cache_hits: u64,
    /// Cache lookups.
    pub cache_lookups: u64,
    /// Terminal positions reached by descents.
    pub terminals: u64,
    /// Descents abandoned on a leaf already in flight.
    pub collisions: u64,
    /// Requests sent.
    pub requests: u64,
    /// Games ended by resignation.
    pub resignations: u64,
    /// Games that never resigned where a player would have.
    pub resign_checks: u64,
    /// Of those, games the would-be resigner did not lose.
    pub false_resignations: u64,
    /// Sum of finished games' lengths.
    pub game_length_sum: u64,
    /// Where the time went.
    pub time: WorkerTimes,
}

impl WorkerStats {
    /// Adds `o` into `self`.
    pub fn merge(&mut self, o: &WorkerStats) {
        self.workers += o.workers;
        self.games += o.games;
        self.moves += o.moves;
        self.fast_moves += o.fast_moves;
        self.random_plies += o.random_plies;
        self.evaluations += o.evaluations;
        self.cache_hits += o.cache_hits;
        self.cache_lookups += o.cache_lookups;
        self.terminals += o.terminals;
        self.collisions += o.collisions;
        self.requests += o.requests;
        self.resignations += o.resignations;
        self.resign_checks += o.resign_checks;
        self.false_resignations += o.false_resignations;
        self.game_length_sum += o.game_length_sum;
        self.time.add(&o.time);
    }

    /// Cache hits / lookups.
    pub fn cache_hit_rate(&self) -> f64 {
        if self.cache_lookups == 0 {
            0.0
        } else {
            self.cache_hits as f64 / self.cache_lookups as f64
        }
    }

    /// Mean length of finished games.
    pub fn mean_game_length(&self) -> f64 {
        if self.games == 0 {
            0.0
        } else {
            self.game_length_sum as f64 / self.games as f64
        }
    }
}

/// Shares of wall time by component, workers and server together.
///
/// Worker components are divided by `wall × workers`, server components by
/// `wall × server threads`, so each side's shares sum to about 1.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeSplit {
    /// (component, share): `worker.*` and `server.*` entries.
    pub shares: Vec<(String, f64)>,
}

impl TimeSplit {
    /// Splits `wall` from the counters of `workers` and of a `server` with `server_threads`.
    pub fn new(
        workers: &WorkerStats,
        server: &ServerStats,
        server_threads: usize,
        wall: Duration,
    ) -> Self {
        let w = wall.as_secs_f64().max(1e-9);
        let wt = w * workers.workers.max(1) as f64;
        let st = w * server_threads.max(1) as f64;
        let mut shares: Vec<(String, f64)> = workers
            .time
            .components()
            .iter()
            .map(|(n, d)| (format!("worker.{n}"), d.as_secs_f64() / wt))
            .collect();
        for (n, d) in [
            ("forward", server.forward),
            ("pack", server.pack),
            ("reply", server.reply),
            ("collect", server.collect),
            ("idle", server.idle),
        ] {
            shares.push((format!("server.{n}"), d.as_secs_f64() / st));
        }
        TimeSplit { shares }
    }
}

impl WorkerStats {
    /// The change from `earlier` to `self`, for measuring an interval.
    pub fn since(&self, earlier: &WorkerStats) -> WorkerStats {
        let t = &self.time;
        let e = &earlier.time;
        WorkerStats {
            workers: self.workers,
            games: self.games - earlier.games,
            moves: self.moves - earlier.moves,
            fast_moves: self.fast_moves - earlier.fast_moves,
            random_plies: self.random_plies - earlier.random_plies,
            evaluations: self.evaluations - earlier.evaluations,
            cache_hits: self.cache_hits - earlier.cache_hits,
            cache_lookups: self.cache_lookups - earlier.cache_lookups,
            terminals: self.terminals - earlier.terminals,
            collisions: self.collisions - earlier.collisions,
            requests: self.requests - earlier.requests,
            resignations: self.resignations - earlier.resignations,
            resign_checks: self.resign_checks - earlier.resign_checks,
            false_resignations: self.false_resignations - earlier.false_resignations,
            game_length_sum: self.game_length_sum - earlier.game_length_sum,
            time: WorkerTimes {
                gather: t.gather - e.gather,
                encode: t.encode - e.encode,
                cache: t.cache - e.cache,
                send: t.send - e.send,
                wait: t.wait - e.wait,
                apply: t.apply - e.apply,
                play: t.play - e.play,
                record: t.record - e.record,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_divide_by_wall_time_and_threads() {
        let ms = Duration::from_millis;
        let server = ServerStats {
            forward: ms(600),
            idle: ms(300),
            ..ServerStats::default()
        };
        let mut workers = WorkerStats {
            workers: 2,
            ..WorkerStats::default()
        };
        workers.time.gather = ms(200);
        let split = TimeSplit::new(&workers, &server, 1, Duration::from_secs(1));
        let share = |name: &str| split.shares.iter().find(|s| s.0 == name).unwrap().1;
        assert!(
            (share("worker.gather") - 0.1).abs() < 1e-9,
            "2 workers over 1 s"
        );
        assert!((share("server.forward") - 0.6).abs() < 1e-9);
        assert!((share("server.idle") - 0.3).abs() < 1e-9);
    }
}
