//! Helpers shared by the search tests.
#![allow(dead_code)]

use az_game::Game;
use az_mcts::{Evaluations, Evaluator, EvaluatorGone, Leaf, SearchConfig};

/// A deterministic "network": priors and value from the position hash, so that
/// trees are uneven and any difference in search order shows.
pub fn hash_eval<G: Game>(position: &G, policy: &mut [f32]) -> f32 {
    let h = position.position_hash();
    for (i, p) in policy[..G::NUM_ACTIONS].iter_mut().enumerate() {
        let x = az_game::mix64(h ^ i as u64);
        *p = 0.05 + (x >> 40) as f32 / (1u64 << 24) as f32;
    }
    ((az_game::mix64(h) >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
}

/// [`hash_eval`] as a batch evaluator.
#[derive(Clone, Debug, Default)]
pub struct HashEval {
    policy: Vec<f32>,
    values: Vec<f32>,
}

impl<G: Game> Evaluator<G> for HashEval {
    fn evaluate(&mut self, leaves: &[Leaf<G>]) -> Result<Evaluations<'_>, EvaluatorGone> {
        let a = G::NUM_ACTIONS;
        self.policy.resize(leaves.len() * a, 0.0);
        self.values.resize(leaves.len(), 0.0);
        for (i, leaf) in leaves.iter().enumerate() {
            self.values[i] = hash_eval(leaf.position(), &mut self.policy[i * a..(i + 1) * a]);
        }
        Ok(Evaluations::new(&self.policy, &self.values, a))
    }
}

/// `base` with `simulations` per move and `k` leaves per pass.
pub fn budget(base: SearchConfig, simulations: u32, k: usize) -> SearchConfig {
    SearchConfig {
        simulations,
        searches_per_game: k,
        ..base
    }
}
