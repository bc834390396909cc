//! Where finished games go: the replay window, the chunk files, the counters.
//!
//! Games reach the disk on their own clock: every `replay.flush_seconds` the
//! games taken since the last chunk are written as a new one (atomically),
//! whether or not training has started or a checkpoint is due, so a run killed
//! at any moment loses at most that much self-play.

use crate::RunError;
use crate::metrics::Metrics;
use crate::report::Out;
use crate::run_dir::RunDir;
use az_experiment::{Experiment, ManifestError};
use az_game::{Game, Outcome, Player};
use az_record::GameRecord;
use az_record::remote::Delivery;
use az_replay::{ReplayBuffer, ReplayStore, decode_chunk};
use az_train::CheckpointMeta;
use flume::Receiver;
use std::time::{Duration, Instant};

/// What became of a delivery's games.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// `new` games (of `positions` positions) added to the window; `repeated`
    /// already in its chunks or queue, dropped.
    Games {
        new: u32,
        repeated: u32,
        positions: u32,
    },
    /// Not trainable here, for the reason given: all dropped.
    Rejected(String),
}

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
    /// Tags of remote games taken since the last chunk (acknowledged once written).
    unstored: Vec<u64>,
    /// Tags of remote games now in a chunk on disk, to acknowledge.
    stored: Vec<u64>,
}

/// `model.ownership` for a game that cannot have it.
fn ownership_error(exp: &Experiment, why: &str) -> ManifestError {
    ManifestError::Invalid {
        path: exp.path.clone(),
        key: "model.ownership".to_owned(),
        value: "true".to_owned(),
        allowed: format!("false: {why}"),
    }
}

/// Checks that the game can have `exp`'s ownership head, if it asks for one.
///
/// # Errors
/// [`ManifestError::Invalid`] naming `model.ownership` for a game without cell
/// owners ([`Game::owners`]).
pub(crate) fn check_ownership<G: Game>(exp: &Experiment) -> Result<(), ManifestError> {
    let mut cells = vec![0.0; G::SHAPE.cells()];
    match !exp.manifest.model.ownership || G::new().owners(Player::First, &mut cells) {
        true => Ok(()),
        false => Err(ownership_error(
            exp,
            &format!("{} defines no cell owners (Game::owners)", G::NAME),
        )),
    }
}

impl<G: Game> Intake<G> {
    /// Opens the chunk store of `dir` into a window of `exp`'s `replay.capacity`
    /// positions (with ownership targets where `model.ownership` asks).
    /// The counters go on from `meta` (the checkpoint resumed from) or from the
    /// chunks, whichever counts more: games flushed after the newest checkpoint,
    /// or with none at all, are on disk only.
    ///
    /// # Errors
    /// [`RunError::Replay`] naming the first chunk that cannot be read;
    /// [`RunError::Manifest`] for an ownership head on a game without owners.
    pub fn open(
        dir: &RunDir,
        exp: &Experiment,
        meta: &CheckpointMeta,
        out: &Out,
    ) -> Result<Self, RunError> {
        let replay = &exp.manifest.replay;
        let (capacity, flush_seconds) = (replay.capacity, replay.flush_seconds);
        let mut buffer =
            ReplayBuffer::<G>::new(capacity).with_value_q_weight(replay.value_q_weight);
        if exp.manifest.model.ownership {
            buffer = buffer
                .with_ownership()
                .map_err(|why| ownership_error(exp, &why))?;
        }
        let store = ReplayStore::open(&dir.replay(), &mut buffer)?;
        if !buffer.is_empty() {
            out.line(&format!(
                "replay: {} positions from {} chunks",
                buffer.len(),
                store.chunk_count()
            ));
        }
        Ok(Intake {
            positions_total: meta.replay_added.max(buffer.added()),
            games_total: meta.games.max(buffer.games()),
            games_session: 0,
            unstored: Vec::new(),
            stored: Vec::new(),
            buffer,
            store,
            capacity,
            flush_every: Duration::from_secs_f64(flush_seconds),
            last_flush: Instant::now(),
        })
    }

    /// Takes one finished game.
    pub fn add(&mut self, r: GameRecord<G>, metrics: &mut Metrics) {
        self.buffer.add_game(&r);
        self.positions_total += r.training_len() as u64;
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

    /// Takes the games of a delivery from an actor, but those the window's
    /// chunks or queue hold already (a delivery repeated after a restart or a
    /// late acknowledgement); none if they cannot be trained on (another
    /// game's, a damaged payload, not the games announced: rejected, with the
    /// reason). Its tag is acknowledged once the chunks are written, whatever
    /// became of its games, so that the stream does not deliver it again.
    pub fn add_delivery(&mut self, d: &Delivery, metrics: &mut Metrics) -> Taken {
        let (tag, shipped) = (d.tag, &d.game);
        self.unstored.push(tag);
        let what = format!("stored games from {} (delivery {tag})", shipped.id);
        if shipped.game != G::NAME {
            let why = format!("games of {}; this learner trains {}", shipped.game, G::NAME);
            return Taken::Rejected(format!("{what}: {why}"));
        }
        let games = match decode_chunk::<G>(&shipped.payload, std::path::Path::new(&what)) {
            Ok(games) => games,
            Err(e) => return Taken::Rejected(e.to_string()),
        };
        let announced = games.len() == shipped.games as usize
            && games
                .iter()
                .map(|g| g.origin.map(|o| o.id))
                .eq(shipped.ids().map(Some));
        if !announced {
            let why = format!("its payload is not the {} games announced", shipped.games);
            return Taken::Rejected(format!("{what}: {why}"));
        }
        let (mut new, mut positions) = (0, 0);
        for record in games {
            let id = record.origin.map(|o| o.id).expect("checked above");
            if self.store.contains(&id) {
                continue;
            }
            new += 1;
            positions += record.len() as u32;
            self.add(record, metrics);
        }
        Taken::Games {
            new,
            repeated: shipped.games - new,
            positions,
        }
    }

    /// Tags of remote games written to disk since the last call: safe to acknowledge.
    pub fn take_stored(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.stored)
    }

    /// Takes every game waiting in `games`.
    pub fn take_waiting(&mut self, games: &Receiver<GameRecord<G>>, metrics: &mut Metrics) {
        while let Ok(r) = games.try_recv() {
            self.add(r, metrics);
        }
    }

    /// Writes the games taken since the last chunk as a new one, if
    /// `replay.flush_seconds` have passed since.
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
        self.store.flush(self.capacity)?;
        // Taken games are now on disk; repeated ones were already.
        self.stored.append(&mut self.unstored);
        Ok(())
    }

    /// Positions in the window and the bytes they take.
    pub fn window(&self) -> (usize, usize) {
        (self.buffer.len(), self.buffer.memory_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use az_tictactoe::TicTacToe;

    /// A game of pseudo-random moves (from `seed`) with uniform policy targets.
    fn random_game(seed: &mut u64) -> GameRecord<TicTacToe> {
        let mut position = TicTacToe::new();
        let mut moves = Vec::new();
        let outcome = loop {
            if let Some(o) = position.outcome() {
                break o;
            }
            let legal = position.legal_moves();
            *seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let mv = legal[(*seed >> 33) as usize % legal.len()];
            position.apply_unchecked(mv);
            moves.push(mv);
        };
        let n = moves.len();
        GameRecord {
            policies: vec![1.0 / TicTacToe::NUM_ACTIONS as f32; n * TicTacToe::NUM_ACTIONS],
            root_values: vec![0.0; n],
            moves,
            outcome,
            random_plies: 0,
            resigned: None,
            resign_disabled: false,
            would_have_resigned: None,
            worker: 0,
            game_index: 0,
            origin: None,
        }
    }

    fn window(capacity: usize, flush_seconds: f64) -> Experiment {
        let text = format!(
            "[game]\nname = \"tictactoe\"\n[replay]\ncapacity = {capacity}\n\
             flush_seconds = {flush_seconds:?}\n"
        );
        Experiment::from_toml(&text, std::path::Path::new("t.toml"), &[], &["tictactoe"]).unwrap()
    }

    fn scratch(name: &str) -> RunDir {
        let root = std::env::temp_dir().join(format!("az-intake-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        RunDir::new(root)
    }

    fn meta(replay_added: u64, games: u64) -> CheckpointMeta {
        CheckpointMeta {
            game: "tictactoe".to_owned(),
            step: 0,
            replay_added,
            games,
            samples: 0,
            net: Vec::new(),
            elapsed_seconds: 0.0,
            evaluations: 0,
        }
    }

    /// A run killed before its first checkpoint: the counters come from the chunks.
    #[test]
    fn counters_go_on_from_the_chunks_without_a_checkpoint() {
        let dir = scratch("nockpt");
        let out = Out::new(dir.clone(), false);
        let mut seed = 7;
        let mut buffer = ReplayBuffer::<TicTacToe>::new(100_000);
        let mut store = ReplayStore::open(&dir.replay(), &mut buffer).unwrap();
        let mut positions = 0;
        for chunk in 0..3 {
            for _ in 0..4 + chunk {
                let g = random_game(&mut seed);
                positions += g.training_len() as u64;
                store.push(g);
            }
            store.flush(100_000).unwrap();
        }
        let fresh = meta(0, 0);
        let intake = Intake::<TicTacToe>::open(&dir, &window(100_000, 5.0), &fresh, &out).unwrap();
        assert_eq!(intake.positions_total, positions);
        assert_eq!(intake.games_total, 4 + 5 + 6);
        assert_eq!(intake.buffer.len() as u64, positions);
        let log = std::fs::read_to_string(dir.log()).unwrap();
        assert!(
            log.contains(&format!("replay: {positions} positions from 3 chunks")),
            "{log}"
        );
        // A checkpoint that counted more (chunks pruned from the window) wins.
        let intake =
            Intake::<TicTacToe>::open(&dir, &window(100_000, 5.0), &meta(10_000, 900), &out);
        let intake = intake.unwrap();
        assert_eq!((intake.positions_total, intake.games_total), (10_000, 900));
        std::fs::remove_dir_all(dir.root()).unwrap();
    }

    /// Games are written on the flush clock, not only with a checkpoint.
    #[test]
    fn flushes_on_its_own_clock() {
        let dir = scratch("clock");
        let out = Out::new(dir.clone(), false);
        let writer = az_monitor::EventWriter::create(&dir.events()).unwrap();
        let mut metrics = Metrics::new(writer, 1);
        let mut intake =
            Intake::<TicTacToe>::open(&dir, &window(1000, 0.05), &meta(0, 0), &out).unwrap();
        let mut seed = 8;
        intake.add(random_game(&mut seed), &mut metrics);
        intake.flush_if_due().unwrap();
        let chunks = || std::fs::read_dir(dir.replay()).unwrap().count();
        assert_eq!(chunks(), 0, "written before its time");
        std::thread::sleep(Duration::from_millis(60));
        intake.flush_if_due().unwrap();
        assert_eq!(chunks(), 1);
        // Nothing taken since: no empty chunk.
        std::thread::sleep(Duration::from_millis(60));
        intake.flush_if_due().unwrap();
        assert_eq!(chunks(), 1);
        assert_eq!((intake.games_total, intake.games_session), (1, 1));
        std::fs::remove_dir_all(dir.root()).unwrap();
    }
}
