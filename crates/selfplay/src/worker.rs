//! One self-play worker thread: its games, split into groups that alternate.

use crate::{GameRecord, SelfPlayConfig, WorkerStats};
use az_game::{Game, Outcome, Player};
use az_infer::{Batch, Client, EvalCache};
use az_mcts::{Leaf, SearchConfig, Tree};
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

/// One game in flight.
struct Slot<G: Game> {
    tree: Tree<G>,
    moves: Vec<G::Move>,
    policies: Vec<f32>,
    values: Vec<f32>,
    /// Simulations done for the current move.
    sims: u32,
    resign_disabled: bool,
    would_resign: Option<Player>,
    game_index: u64,
    active: bool,
}

/// Games that share one request per round.
struct Group<G: Game> {
    slots: std::ops::Range<usize>,
    /// Leaves in flight with their slot, in request order.
    leaves: Vec<(u32, Leaf<G>)>,
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
    slots: Vec<Slot<G>>,
    groups: Vec<Group<G>>,
    cache: EvalCache,
    rng: SmallRng,
    stats: WorkerStats,
    games_played: u64,
    /// Leaves of one tree's gather, before the cache sorts them.
    fresh: Vec<Leaf<G>>,
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
        let k = config.searches_per_game.max(1);
        let capacity = (config.simulations as usize + 1) * 8;
        let slots = (0..games)
            .map(|s| {
                let search = SearchConfig {
                    seed: slot_seed(config.seed, id, s),
                    ..config.search.clone()
                };
                Slot {
                    tree: Tree::with_capacity(G::new(), search, capacity),
                    moves: Vec::new(),
                    policies: Vec::new(),
                    values: Vec::new(),
                    sims: 0,
                    resign_disabled: false,
                    would_resign: None,
                    game_index: 0,
                    active: false,
                }
            })
            .collect();
        let groups = (0..groups_n)
            .map(|g| {
                let (a, b) = (g * games / groups_n, (g + 1) * games / groups_n);
                Group {
                    slots: a..b,
                    leaves: Vec::with_capacity((b - a) * k),
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
            slots,
            groups,
            stats: WorkerStats {
                workers: 1,
                ..WorkerStats::default()
            },
            games_played: 0,
            fresh: Vec::with_capacity(k),
        }
    }

    /// Claims a game from the `max_games` budget and resets slot `s` to the start.
    fn start_game(&mut self, s: usize) -> bool {
        if let Some(max) = self.config.max_games {
            if self.shared.started.fetch_add(1, Ordering::AcqRel) >= max {
                self.slots[s].active = false;
                return false;
            }
        }
        let disabled = self.config.resign_threshold.is_some()
            && self.rng.random::<f32>() < self.config.resign_check_share;
        let slot = &mut self.slots[s];
        slot.tree.reset(G::new());
        slot.moves.clear();
        slot.policies.clear();
        slot.values.clear();
        slot.sims = 0;
        slot.resign_disabled = disabled;
        slot.would_resign = None;
        slot.game_index = self.games_played;
        slot.active = true;
        self.games_played += 1;
        true
    }

    pub(crate) fn run(mut self) -> StopReason {
        for s in 0..self.slots.len() {
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
            self.stats.time.wait += t.elapsed();
            self.apply_answers(g, &batch);
            self.groups[g].batch = Some(batch);
        }
        // 2. Moves that have their simulations.
        let t = Instant::now();
        let range = self.groups[g].slots.clone();
        for s in range.clone() {
            if self.slots[s].active && self.slots[s].sims >= self.config.simulations {
                self.play_move(s)?;
            }
        }
        self.stats.time.play += t.elapsed();
        // 3. Gather and send.
        self.gather_and_send(g)?;
        Ok(range.into_iter().any(|s| self.slots[s].active))
    }

    fn apply_answers(&mut self, g: usize, batch: &Batch) {
        let t = Instant::now();
        let group = &mut self.groups[g];
        for (i, (s, leaf)) in group.leaves.iter().enumerate() {
            let (policy, value) = batch.output(i);
            let slot = &mut self.slots[*s as usize];
            slot.tree.apply(leaf, policy, value);
            slot.sims += 1;
        }
        self.stats.time.apply += t.elapsed();
        if self.cache.capacity() > 0 {
            let t = Instant::now();
            for (i, (_, leaf)) in group.leaves.iter().enumerate() {
                let (policy, value) = batch.output(i);
                self.cache
                    .insert(leaf.position.position_hash(), policy, value);
            }
            self.stats.time.cache += t.elapsed();
        }
        group.leaves.clear();
    }

    fn gather_and_send(&mut self, g: usize) -> Result<(), StopReason> {
        let k = self.config.searches_per_game.max(1);
        let range = self.groups[g].slots.clone();
        let mut fresh = std::mem::take(&mut self.fresh);
        let group = &mut self.groups[g];
        debug_assert!(group.leaves.is_empty());
        let mut gather_time = std::time::Duration::ZERO;
        let mut cache_time = std::time::Duration::ZERO;
        for s in range {
            let slot = &mut self.slots[s];
            if !slot.active {
                continue;
            }
            let want = (self.config.simulations.saturating_sub(slot.sims) as usize).min(k);
            if want == 0 {
                continue;
            }
            let t = Instant::now();
            let got = slot.tree.gather(want, &mut fresh);
            slot.sims += got.terminals;
            self.stats.terminals += u64::from(got.terminals);
            self.stats.collisions += u64::from(got.collisions);
            let t2 = Instant::now();
            gather_time += t2 - t;
            if self.cache.capacity() == 0 {
                group.leaves.extend(fresh.drain(..).map(|l| (s as u32, l)));
                continue;
            }
            for leaf in fresh.drain(..) {
                self.stats.cache_lookups += 1;
                match self.cache.get(leaf.position.position_hash()) {
                    Some((policy, value)) => {
                        slot.tree.apply(&leaf, policy, value);
                        slot.sims += 1;
                        self.stats.cache_hits += 1;
                    }
                    None => group.leaves.push((s as u32, leaf)),
                }
            }
            cache_time += t2.elapsed();
        }
        self.fresh = fresh;
        self.stats.time.gather += gather_time;
        self.stats.time.cache += cache_time;

        let t = Instant::now();
        let mut batch = group.batch.take().expect("the group's batch is home");
        batch.clear();
        for (_, leaf) in &group.leaves {
            let (input, mask) = batch.push();
            leaf.position.encode(input);
            for &mv in leaf.position.legal_moves().iter() {
                mask[leaf.position.move_index(mv)] = 1.0;
            }
        }
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

    /// Plays the move of slot `s` once its simulations are done; finishes the game
    /// if it ended (by the rules or by resignation).
    fn play_move(&mut self, s: usize) -> Result<(), StopReason> {
        let cfg = &self.config;
        let slot = &mut self.slots[s];
        let ply = slot.moves.len();
        let start = slot.policies.len();
        slot.policies.resize(start + G::NUM_ACTIONS, 0.0);
        slot.tree.policy_target(&mut slot.policies[start..]);
        let value = slot.tree.root_value();
        slot.values.push(value);
        let mover = slot.tree.root().to_move();
        if cfg.resign_threshold.is_some_and(|th| value < th) {
            if slot.resign_disabled {
                slot.would_resign.get_or_insert(mover);
            } else {
                // The policy row of the resigning position has no move: drop it.
                slot.policies.truncate(start);
                slot.values.pop();
                return self.finish(s, Outcome::Win(mover.other()), Some(mover));
            }
        }
        let mv = slot
            .tree
            .choose_move(cfg.temperature.at(ply))
            .expect("a searched root has a visited move");
        slot.moves.push(mv);
        if cfg.tree_reuse {
            slot.tree.advance(mv);
            slot.sims = slot.tree.root_visits().min(cfg.simulations);
        } else {
            let mut next = slot.tree.root().clone();
            next.apply_unchecked(mv);
            slot.tree.reset(next);
            slot.sims = 0;
        }
        self.stats.moves += 1;
        if let Some(outcome) = slot.tree.root().outcome() {
            return self.finish(s, outcome, None);
        }
        Ok(())
    }

    fn finish(
        &mut self,
        s: usize,
        outcome: Outcome,
        resigned: Option<Player>,
    ) -> Result<(), StopReason> {
        let t = Instant::now();
        let slot = &mut self.slots[s];
        let record = GameRecord {
            moves: std::mem::take(&mut slot.moves),
            policies: std::mem::take(&mut slot.policies),
            root_values: std::mem::take(&mut slot.values),
            outcome,
            resigned,
            resign_disabled: slot.resign_disabled,
            would_have_resigned: slot.would_resign,
            worker: self.id,
            game_index: slot.game_index,
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
