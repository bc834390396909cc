//! Evaluators that need no network: the free one and the classic rollout baseline.

use az_game::{Game, random_playout};
use rand::SeedableRng;
use rand::rngs::SmallRng;

/// Evaluates one position for the synchronous driver [`Tree::search`](crate::Tree::search).
///
/// Networks are evaluated in batches by the inference engine instead, which calls
/// [`Tree::gather`](crate::Tree::gather) and [`Tree::apply`](crate::Tree::apply) itself.
pub trait Evaluator<G: Game> {
    /// Writes priors over `NUM_ACTIONS` into `policy` (illegal entries are ignored,
    /// the rest need not sum to 1) and returns the value of `position` for the
    /// player to move, in `[-1, 1]`.
    fn evaluate(&mut self, position: &G, policy: &mut [f32]) -> f32;
}

/// Uniform priors, value 0: measures the tree alone.
#[derive(Copy, Clone, Debug, Default)]
pub struct Uniform;

impl<G: Game> Evaluator<G> for Uniform {
    #[inline]
    fn evaluate(&mut self, _position: &G, policy: &mut [f32]) -> f32 {
        policy[..G::NUM_ACTIONS].fill(1.0);
        0.0
    }
}

/// Uniform priors; value = mean result of `playouts` uniformly random games to the end.
#[derive(Clone, Debug)]
pub struct Rollout {
    playouts: u32,
    rng: SmallRng,
}

impl Rollout {
    /// `playouts` random games per evaluation (at least 1), seeded.
    pub fn new(playouts: u32, seed: u64) -> Self {
        Rollout {
            playouts: playouts.max(1),
            rng: SmallRng::seed_from_u64(seed),
        }
    }
}

impl<G: Game> Evaluator<G> for Rollout {
    #[inline]
    fn evaluate(&mut self, position: &G, policy: &mut [f32]) -> f32 {
        policy[..G::NUM_ACTIONS].fill(1.0);
        let me = position.to_move();
        let mut total = 0.0;
        for _ in 0..self.playouts {
            let (end, _) = random_playout(position, &mut self.rng);
            total += end.outcome().map_or(0.0, |o| o.value_for(me));
        }
        total / self.playouts as f32
    }
}
