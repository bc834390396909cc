//! AlphaZero's root: Dirichlet noise once per root, the move sampled by visits
//! with a temperature by ply, visit counts as the policy target. Optionally
//! KataGo's forced playouts with policy target pruning (Wu 2019, "Accelerating
//! Self-Play Learning in Go", section 3.2).

use crate::TemperatureSchedule;
use crate::node::Node;
use crate::noise::{mix_dirichlet, sample_weighted};
use crate::select::c_sqrt;
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
    /// Forced playouts with policy target pruning, with this `k` (KataGo: 2):
    /// a root child with fewer than `√(k · P · ΣN)` visits is chosen at once,
    /// and the policy target takes back from every child but the most visited
    /// the visits it got beyond what PUCT would have given it (children left
    /// with one visit are pruned). `None`: off.
    pub forced_playouts: Option<f32>,
}

impl Default for PuctRoot {
    fn default() -> Self {
        PuctRoot {
            dirichlet_alpha: 0.3,
            dirichlet_epsilon: 0.0,
            temperature: TemperatureSchedule { moves: 0 },
            forced_playouts: None,
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

/// With forced playouts: the root child furthest below its forced count
/// `√(k · P · ΣN)` (pending visits counted), if any is below it.
#[inline]
pub(crate) fn forced_child<G: Game>(p: &PuctRoot, tree: &Tree<G>) -> Option<usize> {
    let k = p.forced_playouts?;
    if !tree.root_expanded() {
        return None;
    }
    let count = |c: &Node| c.visits as f32 + f32::from(c.pending);
    let total: f32 = tree.children(0).map(|(_, c)| count(c)).sum();
    let mut best = None;
    let mut best_gap = 0.0;
    for (i, c) in tree.children(0) {
        let gap = (k * c.prior * total).sqrt() - count(c);
        if gap > best_gap {
            best_gap = gap;
            best = Some(i);
        }
    }
    best
}

/// The visit distribution, pruned when forced playouts are on: every child but
/// the most visited `c*` gives back up to its forced count, as long as its PUCT
/// score with the visits left stays below `c*`'s; a child left with one visit
/// or none gets no share.
pub(crate) fn policy_target<G: Game>(p: &PuctRoot, tree: &Tree<G>, out: &mut [f32]) {
    let Some(k) = p.forced_playouts else {
        return tree.visit_distribution(out);
    };
    out[..G::NUM_ACTIONS].fill(0.0);
    let Some(best) = tree.most_visited_child(0) else {
        return;
    };
    let total: u32 = tree.children(0).map(|(_, c)| c.visits).sum();
    let cfg = tree.config();
    let explore = c_sqrt(tree.nodes[0].visits as f32, cfg.c_init, cfg.c_base);
    let b = &tree.nodes[best];
    let bar = b.q() + explore * b.prior / (1.0 + b.visits as f32);
    let mut sum = 0.0;
    for (i, c) in tree.children(0) {
        let n = c.visits as f32;
        let kept = if i == best {
            n
        } else {
            let forced = (k * c.prior * total as f32).sqrt().floor();
            // The fewest visits at which PUCT would still have preferred c*.
            let least = if bar > c.q() {
                (explore * c.prior / (bar - c.q()) - 1.0).ceil().max(0.0)
            } else {
                n
            };
            let kept = (n - forced).max(least).min(n);
            if kept <= 1.0 { 0.0 } else { kept }
        };
        out[c.action()] = kept;
        sum += kept;
    }
    out[..G::NUM_ACTIONS].iter_mut().for_each(|x| *x /= sum);
}
