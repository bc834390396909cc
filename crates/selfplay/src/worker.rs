//! One self-play worker thread: many searches, one request per group of games.
//!
//! The worker owns its games' [`Search`]es and splits them into groups that
//! alternate: while the server evaluates one group's request, the worker applies
//! the answers of another, plays the moves that are due, and gathers that
//! group's next leaves ([`Pass`]) into its next request.

use crate::{GameRecord, SelfPlayConfig, WorkerStats};
use az_game::{Game, Outcome, Player};
use az_infer::{Batch, Client};
use az_mcts::{EvalCache, Pass, Search, SearchConfig};
use flume::{Receiver, Sender};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// Shared between the workers and their owner.
#[derive(Debug)]
pub(crate) struct Shared {
    pub stop: AtomicBool,
    /// Games started over all workers (for `max_games`).
    pub started: AtomicU64,
}

/// The record of one game in flight (its search is kept apart, in `searches`).
struct GameInPlay<G: Game> {
    moves: Vec<G::Move>,
    policies: Vec<f32>,
    values: Vec<f32>,
    resign_disabled: bool,
    would_resign: Option<Player>,
    game_index: u64,
    active: bool,
    /// This move is searched fast (playout cap randomization): its policy
    /// target is not recorded.
    fast: bool,
    /// Leading moves played at random (no search, no targets).
    random_plies: usize,
}

/// Games that share one request per round.
struct Group<G: Game> {
    games: std::ops::Range<usize>,
    /// Leaves in flight, in request order.
    pass: Pass<G>,
    /// The request buffers; `None` while they are at the server.
    batch: Option<Batch>,
    /// Where the answer to the request in flight arrives.
    reply: Option<Receiver<Batch>>,
}

pub(crate) struct Worker<G: Game> {
    id: usize,
    config: SelfPlayConfig,
    client: Client,
    records: Sender<GameRecord<G>>,
    shared: Arc<Shared>,
    stats_out: Arc<Mutex<WorkerStats>>,
    /// One search per game slot; `games[s]` is its record.
    searches: Vec<Search<G>>,
    games: Vec<GameInPlay<G>>,
    groups: Vec<Group<G>>,
    cache: EvalCache,
    rng: SmallRng,
    stats: WorkerStats,
    games_played: u64,
}

/// Why a worker stopped.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// `stop()` was called.
    Stopped,
    /// `max_games` games were finished.
    Done,
    /// The inference server went away.
    ServerGone,
    /// Nobody receives game records any more.
    RecordsDropped,
}

fn slot_seed(seed: u64, worker: usize, slot: usize) -> u64 {
    az_game::mix64(seed ^ az_game::mix64((worker as u64) << 32 | slot as u64))
}

impl<G: Game> Worker<G> {
    pub(crate) fn new(
        id: usize,
        games: usize,
        config: SelfPlayConfig,
        client: Client,
        records: Sender<GameRecord<G>>,
        shared: Arc<Shared>,
        stats_out: Arc<Mutex<WorkerStats>>,
    ) -> Self {
        let groups_n = config.groups.max(1).min(games.max(1));
        let k = config.search.searches_per_game.max(1);
        let capacity = (config.search.simulations as usize + 1) * 8;
        let searches = (0..games)
            .map(|s| {
                let search = SearchConfig {
                    seed: slot_seed(config.seed, id, s),
                    ..config.search.clone()
                };
                Search::with_capacity(G::new(), search, capacity)
            })
            .collect();
        let in_play = (0..games)
            .map(|_| GameInPlay {
                moves: Vec::new(),
                policies: Vec::new(),
                values: Vec::new(),
                resign_disabled: false,
                would_resign: None,
                game_index: 0,
                active: false,
                fast: false,
                random_plies: 0,
            })
            .collect();
        let groups = (0..groups_n)
            .map(|g| {
                let (a, b) = (g * games / groups_n, (g + 1) * games / groups_n);
                Group {
                    games: a..b,
                    pass: Pass::with_capacity((b - a) * k),
                    batch: Some(Batch::new(G::SHAPE.len(), G::NUM_ACTIONS, (b - a) * k)),
                    reply: None,
                }
            })
            .collect();
        let cache_size = config.cache_size / config.workers.max(1);
        Worker {
            id,
            cache: EvalCache::new(cache_size, G::NUM_ACTIONS),
            rng: SmallRng::seed_from_u64(slot_seed(config.seed, id, usize::MAX)),
            config,
            client,
            records,
            shared,
            stats_out,
            searches,
            games: in_play,
            groups,
            stats: WorkerStats {
                workers: 1,
                ..WorkerStats::default()
            },
            games_played: 0,
        }
    }

    /// Claims a game from the `max_games` budget and resets slot `s` to the start.
    fn start_game(&mut self, s: usize) -> bool {
        if let Some(max) = self.config.max_games
            && self.shared.started.fetch_add(1, Ordering::AcqRel) >= max
        {
            self.games[s].active = false;
            return false;
        }
        let disabled = self.config.resign_threshold.is_some()
            && self.rng.random::<f32>() < self.config.resign_check_share;
        let game = &mut self.games[s];
        game.moves.clear();
        game.policies.clear();
        game.values.clear();
        let start = random_opening(self.config.random_opening, &mut self.rng, &mut game.moves);
        game.random_plies = game.moves.len();
        game.policies.resize(game.moves.len() * G::NUM_ACTIONS, 0.0);
        game.values.resize(game.moves.len(), 0.0);
        self.stats.random_plies += game.moves.len() as u64;
        self.searches[s].reset(start);
        game.resign_disabled = disabled;
        game.would_resign = None;
        game.game_index = self.games_played;
        game.active = true;
        self.games_played += 1;
        self.choose_budget(s);
        true
    }

    /// Playout cap randomization: whether slot `s`'s next move gets the full
    /// search or a fast one (no root noise, no policy target).
    fn choose_budget(&mut self, s: usize) {
        let Some(cap) = self.config.playout_cap else {
            return;
        };
        let fast = self.rng.random::<f32>() >= cap.full_share;
        self.games[s].fast = fast;
        if fast {
            self.searches[s].set_move_budget(cap.fast_simulations, false);
        }
    }

    pub(crate) fn run(mut self) -> StopReason {
        for s in 0..self.games.len() {
            self.start_game(s);
        }
        let reason = loop {
            if self.shared.stop.load(Ordering::Acquire) {
                break StopReason::Stopped;
            }
            let mut busy = false;
            for g in 0..self.groups.len() {
                match self.step(g) {
                    Ok(active) => busy |= active,
                    Err(reason) => {
                        self.flush_stats();
                        return reason;
                    }
                }
            }
            self.flush_stats();
            if !busy {
                break StopReason::Done;
            }
        };
        self.flush_stats();
        reason
    }

    fn flush_stats(&mut self) {
        let mut out = self
            .stats_out
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        out.merge(&self.stats);
        self.stats = WorkerStats::default();
    }

    /// One round of group `g`: take its answers, play the moves that are due,
    /// gather new leaves and send them. Returns whether the group has games left.
    fn step(&mut self, g: usize) -> Result<bool, StopReason> {
        // 1. The answer to this group's last request.
        if let Some(reply) = self.groups[g].reply.take() {
            let t = Instant::now();
            let batch = self.client.receive(&reply).ok_or(StopReason::ServerGone)?;
            let t2 = Instant::now();
            self.stats.time.wait += t2 - t;
            let group = &mut self.groups[g];
            group
                .pass
                .apply(&mut self.searches, &batch.evaluations(), &mut self.cache);
            group.batch = Some(batch);
            self.stats.time.apply += t2.elapsed();
        }
        // 2. Moves that have their simulations.
        let t = Instant::now();
        let range = self.groups[g].games.clone();
        for s in range.clone() {
            if self.games[s].active && self.searches[s].is_done() {
                self.play_move(s)?;
            }
        }
        self.stats.time.play += t.elapsed();
        // 3. Gather and send.
        self.gather_and_send(g)?;
        Ok(range.into_iter().any(|s| self.games[s].active))
    }

    fn gather_and_send(&mut self, g: usize) -> Result<(), StopReason> {
        let group = &mut self.groups[g];
        debug_assert!(group.pass.is_empty());
        let t = Instant::now();
        for s in group.games.clone() {
            if self.games[s].active {
                let got = group.pass.gather(s, &mut self.searches[s]);
                self.stats.terminals += u64::from(got.terminals);
                self.stats.collisions += u64::from(got.collisions);
            }
        }
        let t2 = Instant::now();
        self.stats.time.gather += t2 - t;
        if self.cache.is_on() {
            let gathered = group.pass.len() as u64;
            let hits = group
                .pass
                .answer_from_cache(&mut self.searches, &mut self.cache);
            self.stats.cache_lookups += gathered;
            self.stats.cache_hits += u64::from(hits);
            self.stats.time.cache += t2.elapsed();
        }

        let t = Instant::now();
        let mut batch = group.batch.take().expect("the group's batch is home");
        batch.clear();
        batch.push_leaves(group.pass.leaves());
        self.stats.time.encode += t.elapsed();
        if batch.is_empty() {
            group.batch = Some(batch);
            return Ok(());
        }
        let t = Instant::now();
        self.stats.evaluations += batch.len() as u64;
        self.stats.requests += 1;
        // A fresh channel per request (one allocation per round, not per leaf), so a
        // request lost in a failing server disconnects its receiver.
        let (tx, rx) = flume::bounded(1);
        let sent = self.client.send(batch, tx);
        group.reply = Some(rx);
        self.stats.time.send += t.elapsed();
        sent.map_err(|_| StopReason::ServerGone)
    }

    /// Plays the move of slot `s` once its search is done; finishes the game
    /// if it ended (by the rules or by resignation).
    fn play_move(&mut self, s: usize) -> Result<(), StopReason> {
        let search = &mut self.searches[s];
        let game = &mut self.games[s];
        let start = game.policies.len();
        game.policies.resize(start + G::NUM_ACTIONS, 0.0);
        let (chosen, value) = search.decide(&mut game.policies[start..]);
        if game.fast {
            // Trains the value only: an all-zero policy target.
            game.policies[start..].fill(0.0);
            self.stats.fast_moves += 1;
        }
        let mover = search.position().to_move();
        if self.config.resign_threshold.is_some_and(|th| value < th) {
            if game.resign_disabled {
                game.would_resign.get_or_insert(mover);
            } else {
                // The resigning position has no move: it is not recorded.
                game.policies.truncate(start);
                return self.finish(s, Outcome::Win(mover.other()), Some(mover));
            }
        }
        game.values.push(value);
        let mv = chosen.expect("a searched root has a move");
        game.moves.push(mv);
        search.play(mv);
        self.stats.moves += 1;
        if let Some(outcome) = search.position().outcome() {
            return self.finish(s, outcome, None);
        }
        self.choose_budget(s);
        Ok(())
    }

    fn finish(
        &mut self,
        s: usize,
        outcome: Outcome,
        resigned: Option<Player>,
    ) -> Result<(), StopReason> {
        let t = Instant::now();
        let game = &mut self.games[s];
        let record = GameRecord {
            moves: std::mem::take(&mut game.moves),
            policies: std::mem::take(&mut game.policies),
            root_values: std::mem::take(&mut game.values),
            outcome,
            random_plies: game.random_plies,
            resigned,
            resign_disabled: game.resign_disabled,
            would_have_resigned: game.would_resign,
            worker: self.id,
            game_index: game.game_index,
            origin: None,
        };
        self.stats.games += 1;
        self.stats.game_length_sum += record.moves.len() as u64;
        self.stats.resignations += u64::from(resigned.is_some());
        if let Some(false_resign) = record.false_resignation() {
            self.stats.resign_checks += 1;
            self.stats.false_resignations += u64::from(false_resign);
        }
        let sent = self.records.send(record);
        self.stats.time.record += t.elapsed();
        sent.map_err(|_| StopReason::RecordsDropped)?;
        self.start_game(s);
        Ok(())
    }
}

/// The start of a game: the initial position, or (for a share of games) the
/// position after a uniformly drawn number of uniformly random moves, which are
/// appended to `moves`. A random move that would end the game is not played
/// (the opening then stops short), so the game always has a move to search.
fn random_opening<G: Game>(
    opening: Option<crate::RandomOpening>,
    rng: &mut SmallRng,
    moves: &mut Vec<G::Move>,
) -> G {
    let mut position = G::new();
    let Some(o) = opening.filter(|o| rng.random::<f32>() < o.share) else {
        return position;
    };
    let plies = rng.random_range(1..=o.max_plies.max(1));
    for _ in 0..plies {
        let legal = position.legal_moves();
        let mv = legal[rng.random_range(0..legal.len())];
        let mut next = position.clone();
        next.apply_unchecked(mv);
        if next.is_terminal() {
            break;
        }
        moves.push(mv);
        position = next;
    }
    position
}
