//! AlphaZero's root: Dirichlet noise once per root, the move sampled by visits
//! with a temperature by ply, visit counts as the policy target.

use crate::TemperatureSchedule;
use crate::noise::{mix_dirichlet, sample_weighted};
use crate::tree::Tree;
use az_game::Game;
use rand::rngs::SmallRng;

/// Settings of the PUCT root.
#[derive(Clone, Debug, PartialEq)]
pub struct PuctRoot {
    /// Dirichlet noise concentration.
    pub dirichlet_alpha: f32,
    /// Share of the root priors replaced by Dirichlet noise (0 = none).
    pub dirichlet_epsilon: f32,
    /// Temperature 1 (sample by visits) for the first plies of a game, then 0
    /// (the most visited move). The ply is the root position's [`Game::ply`].
    pub temperature: TemperatureSchedule,
}

impl Default for PuctRoot {
    fn default() -> Self {
        PuctRoot {
            dirichlet_alpha: 0.3,
            dirichlet_epsilon: 0.0,
            temperature: TemperatureSchedule { moves: 0 },
        }
    }
}

/// Whether the current root has its noise.
#[derive(Clone, Debug, Default)]
pub(crate) struct State {
    noise_applied: bool,
}

impl State {
    /// Mixes Dirichlet noise into the root priors once the root is expanded, once
    /// per root.
    #[inline]
    pub(crate) fn prepare<G: Game>(
        &mut self,
        p: &PuctRoot,
        tree: &mut Tree<G>,
        rng: &mut SmallRng,
    ) {
        if p.dirichlet_epsilon <= 0.0 || self.noise_applied || !tree.root_expanded() {
            return;
        }
        self.noise_applied = true;
        mix_dirichlet(
            tree.root_children_mut(),
            p.dirichlet_alpha,
            p.dirichlet_epsilon,
            rng,
        );
    }
}

/// The most visited root child at temperature 0, otherwise one sampled with
/// probability proportional to `visits^(1 / temperature)`; with no visited
/// child, the highest prior (the policy's argmax).
pub(crate) fn choose<G: Game>(p: &PuctRoot, tree: &Tree<G>, rng: &mut SmallRng) -> Option<usize> {
    let temperature = p.temperature.at(tree.root().ply());
    let chosen = if temperature <= 0.0 {
        tree.most_visited_child(0)
    } else {
        let t = f64::from(temperature);
        let range = tree.nodes[0].children();
        let weights = range.clone().zip(&tree.nodes[range]).map(|(i, n)| {
            let w = if n.visits == 0 {
                0.0
            } else {
                f64::from(n.visits).powf(1.0 / t)
            };
            (i, w)
        });
        sample_weighted(weights, rng)
    };
    chosen.or_else(|| tree.highest_prior_child())
}
