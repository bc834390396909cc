//! One tree node, which is also the edge into it (see crates/mcts/DESIGN.md).

/// Expansion state of a node.
pub(crate) const NEW: u8 = 0;
/// Gathered as a leaf; waiting for its evaluation.
pub(crate) const IN_FLIGHT: u8 = 1;
/// Children allocated.
pub(crate) const EXPANDED: u8 = 2;
/// The game is over here: every visit backs up the same value, so the node's
/// mean is the exact result and later visits need no game rules.
pub(crate) const TERMINAL: u8 = 3;

/// A node of the arena, holding the statistics of the edge that leads into it.
///
/// 24 bytes: children are stored contiguously (`first_child .. first_child +
/// num_children`), so a node needs no list of its own and the "share of edges"
/// per node is the node itself.
#[derive(Copy, Clone, Debug, PartialEq)]
#[repr(C)]
pub struct Node {
    /// Index of the first child; meaningful when `num_children > 0`.
    pub(crate) first_child: u32,
    /// Completed visits through this edge.
    pub(crate) visits: u32,
    /// Sum of backed-up values, from the view of the player who chose this edge.
    pub(crate) value_sum: f32,
    /// Prior probability of this edge (after root noise, if any).
    pub(crate) prior: f32,
    /// Policy index of the move into this node.
    pub(crate) action: u16,
    /// Descents through this edge waiting for their leaf's evaluation.
    pub(crate) pending: u16,
    /// Number of children.
    pub(crate) num_children: u16,
    /// `NEW`, `IN_FLIGHT`, `EXPANDED` or `TERMINAL`.
    pub(crate) state: u8,
}

impl Node {
    pub(crate) fn new(action: u16, prior: f32) -> Node {
        Node {
            first_child: 0,
            visits: 0,
            value_sum: 0.0,
            prior,
            action,
            pending: 0,
            num_children: 0,
            state: NEW,
        }
    }

    /// Children index range.
    #[inline]
    pub(crate) fn children(&self) -> std::ops::Range<usize> {
        let f = self.first_child as usize;
        f..f + self.num_children as usize
    }

    /// Completed visits.
    pub fn visits(&self) -> u32 {
        self.visits
    }

    /// Pending (virtual) visits.
    pub fn pending(&self) -> u16 {
        self.pending
    }

    /// Mean value from the view of the player who chose this edge (0 if unvisited).
    pub fn q(&self) -> f32 {
        if self.visits == 0 {
            0.0
        } else {
            self.value_sum / self.visits as f32
        }
    }

    /// Prior probability.
    pub fn prior(&self) -> f32 {
        self.prior
    }

    /// Policy index of the move into this node.
    pub fn action(&self) -> usize {
        self.action as usize
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn node_is_24_bytes() {
        // The aim is <= 32 bytes per node including its share of edges; a node is its edge.
        assert_eq!(size_of::<super::Node>(), 24);
    }
}
