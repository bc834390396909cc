//! Selection below the root's policy: PUCT with first-play urgency and virtual loss.

use crate::config::{Fpu, VirtualLoss};
use crate::tree::Tree;
use az_game::{Game, Player};

impl<G: Game> Tree<G> {
    /// The child of expanded node `index` with the highest PUCT score, for the
    /// player `mover` to move there; `chooser` chose the edge into `index`.
    #[inline]
    pub(crate) fn select_child(&self, index: usize, chooser: Player, mover: Player) -> usize {
        let parent = &self.nodes[index];
        let cfg = &self.config;
        let v = cfg.virtual_loss.magnitude();
        let n_parent = parent.visits as f32 + v * f32::from(parent.pending);
        let c = if cfg.c_base.is_finite() {
            ((1.0 + n_parent + cfg.c_base) / cfg.c_base).ln() + cfg.c_init
        } else {
            cfg.c_init
        };
        let c_sqrt = c * n_parent.sqrt();
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
