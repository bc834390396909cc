//! Where finished games go: the replay window, the chunk files, the counters.

use crate::RunError;
use crate::metrics::Metrics;
use crate::report::Out;
use crate::run_dir::RunDir;
use az_game::{Game, Outcome, Player};
use az_record::GameRecord;
use az_replay::{ReplayBuffer, ReplayStore};
use az_train::CheckpointMeta;
use flume::Receiver;
use std::time::{Duration, Instant};

/// Finished games are written to a chunk at least this often (and with every checkpoint).
const REPLAY_FLUSH_EVERY: Duration = Duration::from_secs(60);

/// The replay window, its chunk store and the run's counters of games.
#[derive(Debug)]
pub(crate) struct Intake<G: Game> {
    /// The window trained on.
    pub buffer: ReplayBuffer<G>,
    store: ReplayStore<G>,
    capacity: usize,
    flush_every: Duration,
    last_flush: Instant,
    /// Positions ever added to the run's window (all sessions).
    pub positions_total: u64,
    /// Games finished in the run (all sessions).
    pub games_total: u64,
    /// Games finished in this session.
    pub games_session: u64,
}

impl<G: Game> Intake<G> {
    /// Opens the chunk store of `dir` into a window of `capacity` positions;
    /// the counters go on from `meta` (the checkpoint resumed from).
    ///
    /// # Errors
    /// [`RunError::Replay`] naming the first chunk that cannot be read.
    pub fn open(
        dir: &RunDir,
        capacity: usize,
        meta: &CheckpointMeta,
        out: &Out,
    ) -> Result<Self, RunError> {
        let mut buffer = ReplayBuffer::<G>::new(capacity);
        let store = ReplayStore::open(&dir.replay(), &mut buffer)?;
        if !buffer.is_empty() {
            out.line(&format!(
                "replay: {} positions from {} chunks",
                buffer.len(),
                store.chunk_count()
            ));
        }
        Ok(Intake {
            positions_total: meta.replay_added.max(buffer.len() as u64),
            games_total: meta.games,
            games_session: 0,
            buffer,
            store,
            capacity,
            flush_every: REPLAY_FLUSH_EVERY,
            last_flush: Instant::now(),
        })
    }

    /// Takes one finished game.
    pub fn add(&mut self, r: GameRecord<G>, metrics: &mut Metrics) {
        self.buffer.add_game(&r);
        self.positions_total += r.len() as u64;
        self.games_total += 1;
        self.games_session += 1;
        let g = &mut metrics.game_sums;
        g.games += 1;
        match r.outcome {
            Outcome::Win(Player::First) => g.first_wins += 1,
            Outcome::Draw => g.draws += 1,
            Outcome::Win(_) => {}
        }
        self.store.push(r);
    }

    /// Takes every game waiting in `games`.
    pub fn take_waiting(&mut self, games: &Receiver<GameRecord<G>>, metrics: &mut Metrics) {
        while let Ok(r) = games.try_recv() {
            self.add(r, metrics);
        }
    }

    /// Writes the games taken since the last chunk as a new one, if
    /// [`REPLAY_FLUSH_EVERY`] has passed since.
    ///
    /// # Errors
    /// [`RunError::Replay`] naming the file; the games stay queued.
    pub fn flush_if_due(&mut self) -> Result<(), RunError> {
        if self.last_flush.elapsed() >= self.flush_every {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the games taken since the last chunk as a new one now.
    ///
    /// # Errors
    /// [`RunError::Replay`] naming the file; the games stay queued.
    pub fn flush(&mut self) -> Result<(), RunError> {
        self.last_flush = Instant::now();
        Ok(self.store.flush(self.capacity)?)
    }

    /// Positions in the window and the bytes they take.
    pub fn window(&self) -> (usize, usize) {
        (self.buffer.len(), self.buffer.memory_bytes())
    }
}
