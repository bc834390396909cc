//! The window of recent positions and sampling from it.

use crate::TrainBatch;
use az_game::{Game, Shape, Symmetry};
use az_record::GameRecord;
use rand::{Rng, RngExt};

/// The most recent `capacity` positions of self-play, each with its policy and
/// value targets, in a ring: adding past the capacity drops the oldest.
///
/// Positions are kept as the game's own small position values (not encoded
/// planes): 24–32 bytes instead of `SHAPE.len()` floats, encoded when sampled.
#[derive(Clone, Debug)]
pub struct ReplayBuffer<G: Game> {
    capacity: usize,
    positions: Vec<G>,
    policies: Vec<f32>,
    values: Vec<f32>,
    /// The last position of each position's game (ownership targets).
    finals: Vec<G>,
    /// Next slot to write in the ring.
    head: usize,
    /// Positions ever added.
    added: u64,
    games: u64,
    symmetries: Vec<Symmetry>,
    scratch: Vec<f32>,
    /// Weight of the root value in the value target (0: the result alone).
    q_weight: f32,
    /// Whether samples carry ownership targets.
    ownership: bool,
}

impl<G: Game> ReplayBuffer<G> {
    /// An empty window of `capacity` positions (at least 1).
    pub fn new(capacity: usize) -> Self {
        ReplayBuffer {
            capacity: capacity.max(1),
            positions: Vec::new(),
            policies: Vec::new(),
            values: Vec::new(),
            finals: Vec::new(),
            head: 0,
            added: 0,
            games: 0,
            symmetries: (0..G::NUM_SYMMETRIES).map(G::symmetry).collect(),
            scratch: vec![0.0; G::SHAPE.len()],
            q_weight: 0.0,
            ownership: false,
        }
    }

    /// The same window with ownership targets in every sample
    /// ([`TrainBatch::owners`]): who holds each cell of the position's game's
    /// last position, from the view of the position's player to move.
    ///
    /// # Errors
    /// The game's name, if it defines no cell owners ([`Game::owners`]).
    pub fn with_ownership(mut self) -> Result<Self, String> {
        if !G::new().owners(az_game::Player::First, &mut self.scratch) {
            return Err(format!(
                "{} defines no cell owners (Game::owners), so it has no ownership target",
                G::NAME
            ));
        }
        self.ownership = true;
        Ok(self)
    }

    /// The same window with value targets `(1 − w)·z + w·q`: the game's result
    /// `z` mixed with the search's root value `q` at the position, `w` in `[0, 1]`.
    pub fn with_value_q_weight(mut self, w: f32) -> Self {
        self.q_weight = w.clamp(0.0, 1.0);
        self
    }

    /// Positions held.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// Whether no position is held.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// Most positions held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Positions ever added (the window's position in the stream of self-play).
    pub fn added(&self) -> u64 {
        self.added
    }

    /// Games ever added.
    pub fn games(&self) -> u64 {
        self.games
    }

    /// Bytes held by the stored samples.
    pub fn memory_bytes(&self) -> usize {
        (self.positions.capacity() + self.finals.capacity()) * size_of::<G>()
            + (self.policies.capacity() + self.values.capacity()) * 4
    }

    /// Adds one position with its targets.
    ///
    /// # Panics
    /// If `policy` is not `NUM_ACTIONS` long.
    pub fn push(&mut self, position: G, policy: &[f32], value: f32, last: &G) {
        assert_eq!(policy.len(), G::NUM_ACTIONS);
        let a = G::NUM_ACTIONS;
        if self.positions.len() < self.capacity {
            self.positions.push(position);
            self.policies.extend_from_slice(policy);
            self.values.push(value);
            self.finals.push(last.clone());
        } else {
            self.positions[self.head] = position;
            self.policies[self.head * a..(self.head + 1) * a].copy_from_slice(policy);
            self.values[self.head] = value;
            self.finals[self.head] = last.clone();
        }
        self.head = (self.head + 1) % self.capacity;
        self.added += 1;
    }

    /// Adds every training position of a finished game (those after its random
    /// opening, if it had one).
    pub fn add_game(&mut self, game: &GameRecord<G>) {
        let skip = game.random_plies;
        let w = self.q_weight;
        let last = game.final_position();
        for (i, (position, z)) in game.positions().enumerate().skip(skip) {
            let value = (1.0 - w) * z + w * game.root_values[i];
            self.push(position, game.policy(i), value, &last);
        }
        self.games += 1;
    }

    /// Position `i` (0 = oldest held) with its policy and value targets.
    pub fn get(&self, i: usize) -> (&G, &[f32], f32) {
        let n = self.positions.len();
        let slot = if n < self.capacity {
            i
        } else {
            (self.head + i) % n
        };
        let a = G::NUM_ACTIONS;
        (
            &self.positions[slot],
            &self.policies[slot * a..(slot + 1) * a],
            self.values[slot],
        )
    }

    /// Appends `n` samples drawn uniformly (with replacement) from the window to
    /// `out`, each under a uniformly drawn board symmetry applied to the encoding,
    /// the legal-move mask, the policy target and the ownership target together.
    ///
    /// # Panics
    /// If the buffer is empty.
    pub fn sample<R: Rng + ?Sized>(&mut self, n: usize, rng: &mut R, out: &mut TrainBatch) {
        assert!(
            !self.positions.is_empty(),
            "sampling from an empty replay buffer"
        );
        let (len, a) = (G::SHAPE.len(), G::NUM_ACTIONS);
        for _ in 0..n {
            let slot = rng.random_range(0..self.positions.len());
            let sym = &self.symmetries[rng.random_range(0..self.symmetries.len())];
            let position = &self.positions[slot];
            position.encode(&mut self.scratch);
            let base = out.inputs.len();
            out.inputs.resize(base + len, 0.0);
            sym.apply_encoding(G::SHAPE, &self.scratch, &mut out.inputs[base..]);
            let base = out.masks.len();
            out.masks.resize(base + a, 0.0);
            for &mv in position.legal_moves().iter() {
                out.masks[base + sym.actions[position.move_index(mv)] as usize] = 1.0;
            }
            let base = out.policies.len();
            out.policies.resize(base + a, 0.0);
            sym.apply_policy(
                &self.policies[slot * a..(slot + 1) * a],
                &mut out.policies[base..],
            );
            out.values.push(self.values[slot]);
            if self.ownership {
                let cells = G::SHAPE.cells();
                self.finals[slot].owners(position.to_move(), &mut self.scratch);
                let base = out.owners.len();
                out.owners.resize(base + cells, 0.0);
                let plane = Shape {
                    planes: 1,
                    ..G::SHAPE
                };
                sym.apply_encoding(plane, &self.scratch, &mut out.owners[base..]);
            }
            out.n += 1;
        }
    }
}
