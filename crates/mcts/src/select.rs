//! Selection below the root's policy: PUCT with first-play urgency and virtual
//! loss, or, under a Gumbel root, the paper's deterministic selection.

use crate::completed::{Sigma, logit, raw_value};
use crate::config::{Fpu, SearchConfig, VirtualLoss};
use crate::tree::Tree;
use az_game::{Game, Player};
use std::sync::{Arc, Mutex, PoisonError};

/// Parent visit counts with a precomputed exploration factor: the first 4 096
/// (16 KB of `f32`, shared by every tree of the same `c_init` and `c_base`).
const TABLE_LEN: usize = 4096;

/// `c(N)·√N` of PUCT, with `c(N) = ln((1 + N + c_base) / c_base) + c_init`.
#[inline]
pub(crate) fn c_sqrt(n: f32, c_init: f32, c_base: f32) -> f32 {
    let c = if c_base.is_finite() {
        ((1.0 + n + c_base) / c_base).ln() + c_init
    } else {
        c_init
    };
    c * n.sqrt()
}

/// `c(N)·√N` for the integer parent counts `N < TABLE_LEN`, computed exactly as
/// [`c_sqrt`] does (so a lookup and the formula give the same bits); a `ln` and
/// a `sqrt` per tree level were the largest single cost of a descent.
pub(crate) fn exploration_table(config: &SearchConfig) -> Arc<[f32]> {
    /// The tables made so far, by the bits of `(c_init, c_base)`.
    type Tables = Vec<((u32, u32), Arc<[f32]>)>;
    static TABLES: Mutex<Tables> = Mutex::new(Vec::new());
    let key = (config.c_init.to_bits(), config.c_base.to_bits());
    let mut tables = TABLES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, table)) = tables.iter().find(|(k, _)| *k == key) {
        return Arc::clone(table);
    }
    let table: Arc<[f32]> = (0..TABLE_LEN)
        .map(|n| c_sqrt(n as f32, config.c_init, config.c_base))
        .collect();
    tables.push((key, Arc::clone(&table)));
    table
}

impl<G: Game> Tree<G> {
    /// The child of expanded node `index` with the highest PUCT score, for the
    /// player `mover` to move there; `chooser` chose the edge into `index`.
    #[inline]
    pub(crate) fn select_child(&self, index: usize, chooser: Player, mover: Player) -> usize {
        if let Some((c_visit, c_scale)) = self.gumbel {
            return self.select_child_gumbel(index, chooser == mover, c_visit, c_scale);
        }
        let parent = &self.nodes[index];
        let cfg = &self.config;
        let v = cfg.virtual_loss.magnitude();
        let n_parent = parent.visits as f32 + v * f32::from(parent.pending);
        // With a virtual loss of magnitude 1 the parent count is an integer.
        let counted = parent.visits as usize + usize::from(parent.pending);
        let c_sqrt = match self.exploration.get(counted) {
            Some(&x) if v == 1.0 => x,
            _ => c_sqrt(n_parent, cfg.c_init, cfg.c_base),
        };
        let fpu = match cfg.fpu {
            Fpu::Absolute(x) => x,
            Fpu::Reduction(r) => {
                let q = parent.q();
                (if chooser == mover { q } else { -q }) - r
            }
        };
        let loss_form = matches!(cfg.virtual_loss, VirtualLoss::Loss(_));
        let range = parent.children();
        let first = range.start;
        let mut best = first;
        let mut best_score = f32::NEG_INFINITY;
        for (i, child) in self.nodes[range].iter().enumerate() {
            let pending = v * f32::from(child.pending);
            let visits = child.visits as f32;
            let q = if child.visits == 0 && (pending == 0.0 || !loss_form) {
                fpu
            } else if loss_form {
                (child.value_sum - pending) / (visits + pending)
            } else {
                child.value_sum / visits
            };
            let score = q + c_sqrt * child.prior / (1.0 + visits + pending);
            if score > best_score {
                best_score = score;
                best = first + i;
            }
        }
        best
    }
}

impl<G: Game> Tree<G> {
    /// Gumbel AlphaZero's selection below the root (Danihelka et al. 2022,
    /// eq. 14): the child maximising `π'(a) − n(a) / (1 + Σ n)`, with
    /// `π' = softmax(ln P + σ(q̂))` from completed visits and `n` counting
    /// pending visits too (times the virtual-loss magnitude), so the descents
    /// of one gather spread out. `same_view`: the node's sum is kept from the
    /// view of its player to move.
    #[inline]
    fn select_child_gumbel(
        &self,
        index: usize,
        same_view: bool,
        c_visit: f32,
        c_scale: f32,
    ) -> usize {
        let parent = &self.nodes[index];
        let range = parent.children();
        let children = &self.nodes[range.clone()];
        let raw = raw_value(parent, children, if same_view { 1.0 } else { -1.0 });
        let sigma = Sigma::new(children, raw, c_visit, c_scale);
        let v = self.config.virtual_loss.magnitude();
        let count = |c: &crate::Node| c.visits as f32 + v * f32::from(c.pending);
        // Online softmax: the running maximum and the sum scaled to it.
        let (mut top, mut sum, mut total) = (f32::NEG_INFINITY, 0.0f32, 0.0f32);
        for c in children {
            let l = logit(c.prior) + sigma.of(c);
            if l > top {
                sum = sum * (top - l).exp() + 1.0;
                top = l;
            } else {
                sum += (l - top).exp();
            }
            total += count(c);
        }
        let mut best = range.start;
        let mut best_score = f32::NEG_INFINITY;
        for (i, c) in children.iter().enumerate() {
            let p = (logit(c.prior) + sigma.of(c) - top).exp() / sum;
            let score = p - count(c) / (1.0 + total);
            if score > best_score {
                best_score = score;
                best = range.start + i;
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_the_formulas_bits() {
        for (c_init, c_base) in [(1.25, 19652.0), (2.0, f32::INFINITY), (0.5, 10.0)] {
            let config = SearchConfig {
                c_init,
                c_base,
                ..SearchConfig::default()
            };
            let table = exploration_table(&config);
            assert_eq!(table.len(), TABLE_LEN);
            for n in [0, 1, 2, 7, 100, 799, 4095] {
                assert_eq!(
                    table[n].to_bits(),
                    c_sqrt(n as f32, c_init, c_base).to_bits()
                );
            }
            assert!(Arc::ptr_eq(&table, &exploration_table(&config)), "shared");
        }
    }
}
