//! Players that choose a move for a position: baselines, the perfect player, and
//! the network agent.

use crate::agent::Agent;
use az_game::{Game, Oracle, optimal_moves};
use az_mcts::{Evaluator, Rollout, Search, SearchConfig};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// Something that plays: chooses a legal move of a position that is not over.
pub trait Player<G: Game> {
    /// A short name for reports (`random`, `mcts:1000`, `perfect`, `network`).
    fn name(&self) -> String;
    /// The move to play at `position`.
    fn choose(&mut self, position: &G) -> G::Move;
}

/// Uniformly random legal moves.
#[derive(Debug)]
pub struct RandomPlayer(SmallRng);

impl RandomPlayer {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        RandomPlayer(SmallRng::seed_from_u64(seed))
    }
}

impl<G: Game> Player<G> for RandomPlayer {
    fn name(&self) -> String {
        "random".to_owned()
    }

    fn choose(&mut self, position: &G) -> G::Move {
        let moves = position.legal_moves();
        moves[self.0.random_range(0..moves.len())]
    }
}

/// The classic baseline: MCTS with uniform priors and one random playout per leaf.
#[derive(Debug)]
pub struct MctsPlayer {
    simulations: u32,
    rollout: Rollout,
    seed: u64,
}

impl MctsPlayer {
    /// `simulations` per move, seeded.
    pub fn new(simulations: u32, seed: u64) -> Self {
        MctsPlayer {
            simulations,
            rollout: Rollout::new(1, seed),
            seed,
        }
    }
}

impl<G: Game> Player<G> for MctsPlayer {
    fn name(&self) -> String {
        format!("mcts:{}", self.simulations)
    }

    fn choose(&mut self, position: &G) -> G::Move {
        self.seed = self.seed.wrapping_add(1);
        let config = SearchConfig {
            simulations: self.simulations.max(1),
            searches_per_game: 1,
            c_init: 2.0,
            c_base: f32::INFINITY,
            seed: self.seed,
            ..SearchConfig::default()
        };
        let mut search = Search::new(position.clone(), config);
        if let Err(e) = search.run(&mut self.rollout) {
            unreachable!("rollouts always answer: {e}");
        }
        search
            .result()
            .chosen
            .unwrap_or_else(|| position.legal_moves()[0])
    }
}

/// Plays a uniformly random move among those that keep the best result.
pub struct PerfectPlayer<G: Game> {
    oracle: Box<dyn Oracle<G>>,
    rng: SmallRng,
}

impl<G: Game> std::fmt::Debug for PerfectPlayer<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PerfectPlayer")
    }
}

impl<G: Game> PerfectPlayer<G> {
    /// With `oracle`, seeded.
    pub fn new(oracle: Box<dyn Oracle<G>>, seed: u64) -> Self {
        PerfectPlayer {
            oracle,
            rng: SmallRng::seed_from_u64(seed),
        }
    }
}

impl<G: Game> Player<G> for PerfectPlayer<G> {
    fn name(&self) -> String {
        "perfect".to_owned()
    }

    fn choose(&mut self, position: &G) -> G::Move {
        let (moves, _) = optimal_moves(self.oracle.as_mut(), position);
        moves[self.rng.random_range(0..moves.len())]
    }
}

/// # Panics
/// `choose` panics if the agent's evaluator stops answering (a network in this
/// process never does).
impl<G: Game, E: Evaluator<G>> Player<G> for Agent<E> {
    fn name(&self) -> String {
        format!("network({} sims)", self.config().simulations)
    }

    fn choose(&mut self, position: &G) -> G::Move {
        match self.analyze(position) {
            Ok(result) => result.chosen.expect("a position not over has a move"),
            Err(e) => panic!("the agent's evaluator stopped: {e}"),
        }
    }
}
