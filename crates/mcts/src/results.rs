//! What a tree reports about its root: per-move statistics, the visit
//! distribution, the principal variation.

use crate::node::Node;
use crate::tree::Tree;
use az_game::Game;

/// Statistics of one root move.
#[derive(Clone, Debug, PartialEq)]
pub struct MoveStat<M> {
    /// The move.
    pub mv: M,
    /// Its policy index.
    pub index: usize,
    /// Completed visits.
    pub visits: u32,
    /// Mean value for the player to move at the root (0 if unvisited).
    pub q: f32,
    /// Prior (after noise).
    pub prior: f32,
}

impl<G: Game> Tree<G> {
    /// Writes the visit distribution of the root's moves over `NUM_ACTIONS` into
    /// `out`; all zero before the root has a visited child.
    pub fn visit_distribution(&self, out: &mut [f32]) {
        out[..G::NUM_ACTIONS].fill(0.0);
        let total: u32 = self.children(0).map(|(_, n)| n.visits).sum();
        if total == 0 {
            return;
        }
        for (_, n) in self.children(0) {
            out[n.action as usize] = n.visits as f32 / total as f32;
        }
    }

    /// Per root move: visits, Q (for the root player), prior; most visited first
    /// (then by prior), written into `out` (cleared first).
    pub fn root_stats_into(&self, out: &mut Vec<MoveStat<G::Move>>) {
        out.clear();
        out.extend(self.children(0).map(|(_, n)| MoveStat {
            mv: self.root.index_move(n.action as usize).expect("legal move"),
            index: n.action as usize,
            visits: n.visits,
            q: n.q(),
            prior: n.prior,
        }));
        out.sort_by(|a, b| b.visits.cmp(&a.visits).then(b.prior.total_cmp(&a.prior)));
    }

    /// Per root move: visits, Q (for the root player), prior; most visited first.
    pub fn root_stats(&self) -> Vec<MoveStat<G::Move>> {
        let mut stats = Vec::new();
        self.root_stats_into(&mut stats);
        stats
    }

    /// The most visited line from the root, at most `max_len` moves, written into
    /// `out` (cleared first).
    pub fn principal_variation_into(&self, max_len: usize, out: &mut Vec<G::Move>) {
        out.clear();
        let mut position = self.root.clone();
        let mut index = 0;
        while out.len() < max_len {
            let Some(child) = self.most_visited_child(index) else {
                break;
            };
            let mv = position
                .index_move(self.nodes[child].action as usize)
                .expect("legal move");
            position.apply_unchecked(mv);
            out.push(mv);
            index = child;
        }
    }

    /// The most visited line from the root, at most `max_len` moves.
    pub fn principal_variation(&self, max_len: usize) -> Vec<G::Move> {
        let mut line = Vec::new();
        self.principal_variation_into(max_len, &mut line);
        line
    }

    /// The visited child of `index` with the most visits (ties: the higher prior,
    /// then the first); `None` if no child was visited.
    pub(crate) fn most_visited_child(&self, index: usize) -> Option<usize> {
        let mut best: Option<(usize, &Node)> = None;
        for (i, n) in self.children(index) {
            if n.visits == 0 {
                continue;
            }
            let better = match best {
                None => true,
                Some((_, b)) => (n.visits, n.prior) > (b.visits, b.prior),
            };
            if better {
                best = Some((i, n));
            }
        }
        best.map(|(i, _)| i)
    }

    /// The root child with the highest prior (the first of equals); `None` before
    /// the root is expanded.
    pub(crate) fn highest_prior_child(&self) -> Option<usize> {
        let mut best: Option<(usize, f32)> = None;
        for (i, n) in self.children(0) {
            if best.is_none_or(|(_, p)| n.prior > p) {
                best = Some((i, n.prior));
            }
        }
        best.map(|(i, _)| i)
    }
}
