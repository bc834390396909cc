//! The root's algorithm, one named choice of the search config
//! ([`SearchConfig::root`](crate::SearchConfig::root)).
//!
//! A root policy decides what happens at the root and only there: how the root's
//! priors are prepared before descents (noise), which move is played when the
//! search ends, and which policy target is recorded for training. Below the root
//! every policy uses the tree's selection (PUCT). Each policy is a module of its
//! own; a new one is a variant here, its module, and a manifest value
//! (`[mcts] root`).

mod puct;

pub use puct::PuctRoot;

use crate::tree::Tree;
use az_game::Game;
use rand::rngs::SmallRng;

/// The root's algorithm and its settings.
#[derive(Clone, Debug, PartialEq)]
pub enum RootPolicy {
    /// AlphaZero's root: PUCT selection, Dirichlet noise mixed into the priors,
    /// the move sampled by visits with a temperature, visit counts as the target.
    Puct(PuctRoot),
}

impl Default for RootPolicy {
    fn default() -> Self {
        RootPolicy::Puct(PuctRoot::default())
    }
}

impl RootPolicy {
    /// The policy's name as the manifest writes it (`[mcts] root`).
    pub fn name(&self) -> &'static str {
        match self {
            RootPolicy::Puct(_) => "puct",
        }
    }

    /// The same policy for evaluation and analysis: no noise, no sampling.
    pub fn deterministic(&self) -> RootPolicy {
        match self {
            RootPolicy::Puct(p) => RootPolicy::Puct(PuctRoot {
                dirichlet_epsilon: 0.0,
                temperature: crate::TemperatureSchedule { moves: 0 },
                ..p.clone()
            }),
        }
    }
}

/// A root policy with its state for the current root.
#[derive(Clone, Debug)]
pub(crate) enum RootState {
    Puct(PuctRoot, puct::State),
}

impl RootState {
    pub(crate) fn new(policy: &RootPolicy) -> Self {
        match policy {
            RootPolicy::Puct(p) => RootState::Puct(p.clone(), puct::State::default()),
        }
    }

    /// Called before every gather and once the root is expanded: the root's
    /// priors as the policy wants them.
    #[inline]
    pub(crate) fn prepare<G: Game>(&mut self, tree: &mut Tree<G>, rng: &mut SmallRng) {
        match self {
            RootState::Puct(p, s) => s.prepare(p, tree, rng),
        }
    }

    /// The root child whose move is played (`None` before the root is expanded).
    pub(crate) fn choose<G: Game>(&self, tree: &Tree<G>, rng: &mut SmallRng) -> Option<usize> {
        match self {
            RootState::Puct(p, _) => puct::choose(p, tree, rng),
        }
    }

    /// The policy target over `NUM_ACTIONS`, written into `out`.
    pub(crate) fn policy_target<G: Game>(&self, tree: &Tree<G>, out: &mut [f32]) {
        match self {
            RootState::Puct(..) => tree.visit_distribution(out),
        }
    }
}
