//! Moving the root: starting over, or keeping the chosen subtree (tree reuse).

use crate::node::Node;
use crate::tree::Tree;
use az_game::Game;

impl<G: Game> Tree<G> {
    /// Starts over at `root`, keeping the allocated memory. Leaves still in
    /// flight are forgotten: they must not be applied to the new tree.
    pub fn reset(&mut self, root: G) {
        self.in_flight = 0;
        self.paths.clear();
        self.root = root;
        self.fresh_arena();
    }

    /// An arena holding only an unexpanded root.
    fn fresh_arena(&mut self) {
        self.nodes.clear();
        self.nodes.push(Node::new(0, 1.0));
    }

    /// Plays `mv` at the root and keeps its subtree (tree reuse).
    ///
    /// # Panics
    /// If leaves are in flight, or `mv` is illegal at the root (debug builds).
    pub fn advance(&mut self, mv: G::Move) {
        assert_eq!(self.in_flight(), 0, "advance with leaves in flight");
        let old_mover = self.root.to_move();
        let action = self.root.move_index(mv);
        self.root.apply_unchecked(mv);
        self.paths.clear();
        let child = self
            .children(0)
            .find(|(_, n)| n.action as usize == action)
            .map(|(i, _)| i);
        let Some(child) = child.filter(|&c| self.nodes[c].visits > 0) else {
            self.fresh_arena();
            return;
        };
        // Copy the subtree breadth first into the spare arena: each node's children
        // are appended together, so they stay contiguous.
        self.scratch.clear();
        // The arenas swap roles: give the spare the same room, once, so the tree
        // never shrinks and searches after re-rooting do not reallocate.
        self.scratch.reserve(self.nodes.capacity());
        let mut root = self.nodes[child];
        if old_mover != self.root.to_move() {
            root.value_sum = -root.value_sum;
        }
        self.scratch.push(root);
        let mut i = 0;
        while i < self.scratch.len() {
            let range = self.scratch[i].children();
            if !range.is_empty() {
                self.scratch[i].first_child = self.scratch.len() as u32;
                self.scratch.extend_from_slice(&self.nodes[range]);
            }
            i += 1;
        }
        std::mem::swap(&mut self.nodes, &mut self.scratch);
    }
}
