//! Helpers shared by the search tests.
#![allow(dead_code)]

use az_game::Game;
use az_mcts::Evaluator;

/// A deterministic "network": priors and value from the position hash, so that
/// trees are uneven and any difference in search order shows.
#[derive(Clone, Debug, Default)]
pub struct HashEval;

impl<G: Game> Evaluator<G> for HashEval {
    fn evaluate(&mut self, position: &G, policy: &mut [f32]) -> f32 {
        let h = position.position_hash();
        for (i, p) in policy[..G::NUM_ACTIONS].iter_mut().enumerate() {
            let x = az_game::mix64(h ^ i as u64);
            *p = 0.05 + (x >> 40) as f32 / (1u64 << 24) as f32;
        }
        ((az_game::mix64(h) >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}
