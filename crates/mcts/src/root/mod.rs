//! The root's algorithm, one named choice of the search config
//! ([`SearchConfig::root`](crate::SearchConfig::root)).
//!
//! A root policy decides what happens at the root and only there: how the root's
//! priors are prepared before descents (noise), which move is played when the
//! search ends, and which policy target is recorded for training. Below the root
//! every policy uses the tree's selection (PUCT). Each policy is a module of its
//! own; a new one is a variant here, its module, and a manifest value
//! (`[mcts] root`).

mod gumbel;
mod puct;

pub use gumbel::{GumbelRoot, halving_schedule};
pub use puct::PuctRoot;

use crate::tree::{RootPick, Tree};
use az_game::Game;
use rand::rngs::SmallRng;

/// The root's algorithm and its settings.
#[derive(Clone, Debug, PartialEq)]
pub enum RootPolicy {
    /// AlphaZero's root: PUCT selection, Dirichlet noise mixed into the priors,
    /// the move sampled by visits with a temperature, visit counts as the target.
    Puct(PuctRoot),
    /// Gumbel AlphaZero's root: Gumbel-top-k candidates, sequential halving,
    /// completed-Q policy targets; below the root, the paper's deterministic
    /// selection instead of PUCT.
    Gumbel(GumbelRoot),
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
            RootPolicy::Gumbel(_) => "gumbel",
        }
    }

    /// Whether a move's budget counts the visits its root kept from the last
    /// move (PUCT: yes, as AlphaZero; Gumbel: no, its schedule plans every
    /// simulation of the move).
    pub fn counts_reused_visits(&self) -> bool {
        matches!(self, RootPolicy::Puct(_))
    }

    /// The same policy for a fast search of playout cap randomization: no root
    /// noise, no forced playouts (the move is still sampled as configured).
    pub fn without_exploration(&self) -> RootPolicy {
        match self {
            RootPolicy::Puct(p) => RootPolicy::Puct(PuctRoot {
                dirichlet_epsilon: 0.0,
                forced_playouts: None,
                ..p.clone()
            }),
            RootPolicy::Gumbel(g) => RootPolicy::Gumbel(g.clone()),
        }
    }

    /// The same policy for evaluation and analysis: no noise, no sampling.
    pub fn deterministic(&self) -> RootPolicy {
        match self {
            RootPolicy::Puct(p) => RootPolicy::Puct(PuctRoot {
                dirichlet_epsilon: 0.0,
                temperature: crate::TemperatureSchedule { moves: 0 },
                forced_playouts: None,
                ..p.clone()
            }),
            RootPolicy::Gumbel(g) => RootPolicy::Gumbel(GumbelRoot {
                sample_plies: 0,
                ..g.clone()
            }),
        }
    }
}

/// A root policy with its state for the current root.
#[derive(Clone, Debug)]
pub(crate) enum RootState {
    Puct(PuctRoot, puct::State),
    Gumbel(GumbelRoot, gumbel::State),
}

impl RootState {
    /// The state of a new root whose move makes `simulations` root descents.
    pub(crate) fn new(policy: &RootPolicy, simulations: u32) -> Self {
        match policy {
            RootPolicy::Puct(p) => RootState::Puct(p.clone(), puct::State::default()),
            RootPolicy::Gumbel(g) => RootState::Gumbel(g.clone(), gumbel::State::new(simulations)),
        }
    }

    /// Called before every gather and once the root is expanded: the root's
    /// priors (noise) and candidates as the policy wants them.
    #[inline]
    pub(crate) fn prepare<G: Game>(&mut self, tree: &mut Tree<G>, rng: &mut SmallRng) {
        match self {
            RootState::Puct(p, s) => s.prepare(p, tree, rng),
            RootState::Gumbel(g, s) => s.prepare(g, tree, rng),
        }
    }

    /// The root child whose move is played (`None` before the root is expanded).
    pub(crate) fn choose<G: Game>(&self, tree: &Tree<G>, rng: &mut SmallRng) -> Option<usize> {
        match self {
            RootState::Puct(p, _) => puct::choose(p, tree, rng),
            RootState::Gumbel(g, s) => s.choose(g, tree),
        }
    }

    /// The policy target over `NUM_ACTIONS`, written into `out`.
    pub(crate) fn policy_target<G: Game>(&self, tree: &Tree<G>, out: &mut [f32]) {
        match self {
            RootState::Puct(p, _) => puct::policy_target(p, tree, out),
            RootState::Gumbel(g, s) => s.policy_target(g, tree, out),
        }
    }
}

impl<G: Game> RootPick<G> for RootState {
    /// The root child the next descent takes, or `None` for the tree's own
    /// selection (PUCT without forced playouts; any policy before the root is
    /// expanded).
    #[inline]
    fn pick(&mut self, tree: &Tree<G>) -> Option<usize> {
        match self {
            RootState::Puct(p, _) => puct::forced_child(p, tree),
            RootState::Gumbel(g, s) => s.pick(g, tree),
        }
    }

    /// Takes back a [`pick`](RootPick::pick) whose descent was abandoned.
    #[inline]
    fn undo(&mut self, child: usize) {
        if let RootState::Gumbel(_, s) = self {
            s.undo(child);
        }
    }
}
