//! The synchronous driver: gather, evaluate one by one, apply.

use crate::{Evaluator, Tree};
use az_game::Game;

/// What one [`Tree::search`] call did.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchReport {
    /// Simulations completed (evaluated leaves plus terminal positions).
    pub simulations: u32,
    /// Gather rounds.
    pub rounds: u32,
    /// Descents abandoned on a leaf already in flight.
    pub collisions: u32,
}

impl<G: Game> Tree<G> {
    /// Runs `simulations` more simulations from the root, gathering up to `k`
    /// leaves per round (virtual loss keeps them apart), evaluating each with
    /// `evaluator` and applying the results before the next round. With `k = 1`
    /// this is the sequential algorithm exactly.
    ///
    /// # Panics
    /// If leaves gathered by the caller are still in flight.
    pub fn search<E: Evaluator<G>>(
        &mut self,
        evaluator: &mut E,
        simulations: u32,
        k: usize,
    ) -> SearchReport {
        assert_eq!(self.in_flight(), 0, "search with leaves in flight");
        let mut leaves = std::mem::take(&mut self.leaf_buf);
        let mut policy = std::mem::take(&mut self.policy_buf);
        let mut report = SearchReport::default();
        while report.simulations < simulations {
            leaves.clear();
            let want = (simulations - report.simulations).min(k.max(1) as u32);
            let g = self.gather(want as usize, &mut leaves);
            report.rounds += 1;
            report.collisions += g.collisions;
            report.simulations += g.terminals;
            for leaf in &leaves {
                let value = evaluator.evaluate(&leaf.position, &mut policy);
                self.apply(leaf, &policy, value);
                report.simulations += 1;
            }
            if g.leaves == 0 && g.terminals == 0 {
                break; // nothing can progress (cannot happen with all leaves applied)
            }
        }
        leaves.clear();
        self.leaf_buf = leaves;
        self.policy_buf = policy;
        report
    }
}
