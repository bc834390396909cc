//! Gumbel AlphaZero's root (Danihelka, Guez, Schrittwieser, Silver, ICLR 2022):
//! Gumbel-top-k sampling of the moves to consider, sequential halving over them,
//! the move with the best `g + logit + σ(q̂)` among the last ones standing, and
//! `softmax(logit + σ(q̂))` over every legal move as the policy target.
//!
//! The schedule is a list of visit levels, one per simulation: simulation `i`
//! goes to the considered move with the best score among those with exactly
//! `schedule[i]` descents so far this move. Descents are counted when they
//! start, so the several leaves a search gathers in one pass follow the
//! schedule as one-at-a-time simulations would, only with some values still
//! in flight when a phase ends.

use crate::completed::{Sigma, logit, raw_value};
use crate::tree::Tree;
use az_game::Game;
use rand::RngExt;
use rand::rngs::SmallRng;

/// Settings of the Gumbel root.
#[derive(Clone, Debug, PartialEq)]
pub struct GumbelRoot {
    /// Moves considered at most (`m` of the paper; 16 in its experiments).
    pub considered: usize,
    /// `c_visit` of the σ transform (paper: 50).
    pub c_visit: f32,
    /// `c_scale` of the σ transform, applied to values rescaled to `[0, 1]`
    /// (0.1: mctx's default with that rescaling).
    pub c_scale: f32,
    /// The Gumbel variables are sampled at roots of fewer plies than this;
    /// from this ply on they are 0 and the move is the best-scored one, as
    /// AlphaZero's temperature drops to 0 after its first moves. `usize::MAX`:
    /// every move (the paper's self-play); 0: never (evaluation and analysis).
    pub sample_plies: usize,
}

impl Default for GumbelRoot {
    fn default() -> Self {
        GumbelRoot {
            considered: 16,
            c_visit: 50.0,
            c_scale: 0.1,
            sample_plies: usize::MAX,
        }
    }
}

/// The visit level of every simulation of sequential halving over `m` moves
/// with `n` simulations: phases of `⌈log₂ m⌉`, each giving every remaining
/// move `max(1, ⌊n / (⌈log₂ m⌉ · remaining)⌋)` more visits, then halving the
/// moves (never below 2); cut at `n`. One move gets every simulation.
pub fn halving_schedule(m: usize, n: u32) -> Vec<u32> {
    let n = n as usize;
    if m <= 1 {
        return (0..n as u32).collect();
    }
    let phases = (usize::BITS - (m - 1).leading_zeros()) as usize; // ⌈log₂ m⌉
    let mut schedule = Vec::with_capacity(n);
    let (mut level, mut remaining) = (0u32, m);
    while schedule.len() < n {
        let rounds = (n / (phases * remaining)).max(1);
        for _ in 0..rounds {
            schedule.extend(std::iter::repeat_n(level, remaining));
            level += 1;
        }
        remaining = (remaining / 2).max(2);
    }
    schedule.truncate(n);
    schedule
}

/// The state of one root: its moves' scores and the schedule's progress.
#[derive(Clone, Debug, Default)]
pub(crate) struct State {
    /// Root descents this move will make (the schedule's length).
    simulations: u32,
    /// Set once the root is expanded.
    ready: bool,
    /// Arena index of the root's first child.
    first: usize,
    /// Per root child: `g + ln P` (`g` = 0 without sampling).
    base: Vec<f32>,
    /// Per root child: descents started this move.
    started: Vec<u32>,
    /// The considered children (offsets from `first`), best `base` first.
    considered: Vec<u32>,
    schedule: Vec<u32>,
    /// Simulations started (the next schedule entry).
    next: usize,
}

impl State {
    pub(crate) fn new(simulations: u32) -> State {
        State {
            simulations,
            ..State::default()
        }
    }

    /// Once the root is expanded: samples the Gumbel variables (while the
    /// root's ply is below `sample_plies`), keeps the top
    /// `considered` moves by `g + ln P`, lays out the schedule.
    pub(crate) fn prepare<G: Game>(&mut self, p: &GumbelRoot, tree: &Tree<G>, rng: &mut SmallRng) {
        if self.ready || !tree.root_expanded() {
            return;
        }
        self.ready = true;
        let range = tree.nodes[0].children();
        self.first = range.start;
        let sample = tree.root().ply() < p.sample_plies;
        self.base.clear();
        self.base.extend(tree.nodes[range].iter().map(|c| {
            let g = if sample { gumbel(rng) } else { 0.0 };
            g + logit(c.prior)
        }));
        self.started.clear();
        self.started.resize(self.base.len(), 0);
        self.considered.clear();
        self.considered.extend(0..self.base.len() as u32);
        let base = &self.base;
        self.considered
            .sort_by(|&a, &b| base[b as usize].total_cmp(&base[a as usize]));
        let m = p.considered.clamp(1, self.base.len());
        self.considered.truncate(m);
        self.schedule = halving_schedule(m, self.simulations);
        self.next = 0;
    }

    /// The root child the next descent takes (`None` before the root is expanded).
    pub(crate) fn pick<G: Game>(&mut self, p: &GumbelRoot, tree: &Tree<G>) -> Option<usize> {
        if !self.ready {
            return None;
        }
        let level = match self.schedule.get(self.next) {
            Some(&l) => l,
            None => self.top_level(), // past the schedule: keep on with the finalists
        };
        let sigma = root_sigma(p, tree);
        let best = self
            .best_at(level, &sigma, tree)
            .or_else(|| self.best_at(self.levels().min().unwrap_or(0), &sigma, tree))?;
        self.started[best] += 1;
        self.next += 1;
        Some(self.first + best)
    }

    /// Takes back a [`pick`](State::pick) whose descent was abandoned (a collision).
    pub(crate) fn undo(&mut self, child: usize) {
        if let Some(s) = self.started.get_mut(child.wrapping_sub(self.first)) {
            *s -= 1;
            self.next -= 1;
        }
    }

    /// The move played: the best `g + ln P + σ(q̂)` among the considered moves
    /// that got the most descents.
    pub(crate) fn choose<G: Game>(&self, p: &GumbelRoot, tree: &Tree<G>) -> Option<usize> {
        if !self.ready {
            return tree.highest_prior_child();
        }
        let sigma = root_sigma(p, tree);
        self.best_at(self.top_level(), &sigma, tree)
            .map(|i| self.first + i)
    }

    /// `softmax(ln P + σ(q̂))` over every root move (no Gumbel variables).
    pub(crate) fn policy_target<G: Game>(&self, p: &GumbelRoot, tree: &Tree<G>, out: &mut [f32]) {
        out[..G::NUM_ACTIONS].fill(0.0);
        if !tree.root_expanded() {
            return;
        }
        let sigma = root_sigma(p, tree);
        let children = &tree.nodes[tree.nodes[0].children()];
        let top = children
            .iter()
            .map(|c| logit(c.prior) + sigma.of(c))
            .fold(f32::NEG_INFINITY, f32::max);
        let mut total = 0.0;
        for c in children {
            let w = (logit(c.prior) + sigma.of(c) - top).exp();
            out[c.action()] = w;
            total += w;
        }
        for c in children {
            out[c.action()] /= total;
        }
    }

    /// Descents started this move, per considered move.
    fn levels(&self) -> impl Iterator<Item = u32> + '_ {
        self.considered.iter().map(|&i| self.started[i as usize])
    }

    fn top_level(&self) -> u32 {
        self.levels().max().unwrap_or(0)
    }

    /// The considered child (offset) with `level` descents and the best score.
    fn best_at<G: Game>(&self, level: u32, sigma: &Sigma, tree: &Tree<G>) -> Option<usize> {
        let mut best: Option<(usize, f32)> = None;
        for &i in &self.considered {
            let i = i as usize;
            if self.started[i] != level {
                continue;
            }
            let score = self.base[i] + sigma.of(&tree.nodes[self.first + i]);
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((i, score));
            }
        }
        best.map(|(i, _)| i)
    }
}

/// The σ transform of the root's children (the root's sum is kept from its own
/// player's view).
fn root_sigma<G: Game>(p: &GumbelRoot, tree: &Tree<G>) -> Sigma {
    let root = &tree.nodes[0];
    let children = &tree.nodes[root.children()];
    Sigma::new(
        children,
        raw_value(root, children, 1.0),
        p.c_visit,
        p.c_scale,
    )
}

/// A standard Gumbel variable, `−ln(−ln U)`.
fn gumbel(rng: &mut SmallRng) -> f32 {
    let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    (-(-u.ln()).ln()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_spends_exactly_the_budget() {
        for m in [1, 2, 3, 4, 5, 7, 8, 9, 16, 32] {
            for n in [1, 2, 3, 4, 7, 8, 16, 17, 32, 50, 64, 128, 200, 1000] {
                let s = halving_schedule(m, n);
                assert_eq!(s.len(), n as usize, "m {m} n {n}");
                // Each level is handed out to at most m moves, and levels only grow.
                assert!(s.windows(2).all(|w| w[0] <= w[1]), "m {m} n {n}: {s:?}");
                for level in 0..=s.last().copied().unwrap_or(0) {
                    let k = s.iter().filter(|&&l| l == level).count();
                    assert!(k <= m, "m {m} n {n}: level {level} {k} times");
                }
            }
        }
    }

    #[test]
    fn the_schedule_halves() {
        // 4 moves, 16 simulations: 2 phases; 2 visits each, then 4 more to 2 moves.
        assert_eq!(
            halving_schedule(4, 16),
            [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
        );
        // 16 moves and 16 simulations: one visit each (the paper's n = m case).
        assert_eq!(halving_schedule(16, 16), vec![0; 16]);
        // Fewer simulations than moves: the first n of the best-ranked.
        assert_eq!(halving_schedule(16, 4), vec![0; 4]);
        // 3 moves, 8 simulations: ⌈log₂ 3⌉ = 2 phases.
        assert_eq!(halving_schedule(3, 8), [0, 0, 0, 1, 1, 2, 2, 3]);
    }
}
