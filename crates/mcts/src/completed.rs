//! Gumbel search's completed Q-values and their σ transform (Danihelka et al.,
//! "Policy improvement by planning with Gumbel", ICLR 2022, section 4 and
//! appendix D), shared by the Gumbel root (move scores, the policy target) and
//! the selection below it.
//!
//! A visited child's `q̂` is its mean value; an unvisited one gets the *mixed
//! value*: the node's own network value blended with the prior-weighted mean of
//! the visited children's values. The completed values are rescaled to `[0, 1]`
//! by their minimum and maximum, then
//! `σ(q̂) = (c_visit + max_b N(b)) · c_scale · q̂`.

use crate::node::Node;

/// The smallest prior taken for a logarithm (a prior of exactly 0 stays finite).
const MIN_PRIOR: f32 = 1e-30;
/// The smallest range the rescaling divides by.
const MIN_RANGE: f32 = 1e-8;

/// `ln P`, with `P` floored so that it stays finite.
#[inline]
pub(crate) fn logit(prior: f32) -> f32 {
    prior.max(MIN_PRIOR).ln()
}

/// The σ transform of one node's children, from the view of its player to move.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Sigma {
    /// The completed value of the unvisited children.
    mixed: f32,
    /// The smallest completed value (maps to 0).
    low: f32,
    /// `(c_visit + max N) · c_scale / (max − min)` of the completed values.
    scale: f32,
}

impl Sigma {
    /// The transform for `children` (all of one node's, values stored from the
    /// view of the node's player to move), whose node has the network value
    /// `raw` for that player.
    #[inline]
    pub(crate) fn new(children: &[Node], raw: f32, c_visit: f32, c_scale: f32) -> Sigma {
        let (mut visits, mut max_visits) = (0u32, 0u32);
        let (mut prior_sum, mut weighted_q) = (0.0f32, 0.0f32);
        let (mut low, mut high) = (f32::INFINITY, f32::NEG_INFINITY);
        let mut unvisited = false;
        for c in children {
            if c.visits == 0 {
                unvisited = true;
                continue;
            }
            let q = c.q();
            let p = c.prior.max(MIN_PRIOR);
            visits += c.visits;
            max_visits = max_visits.max(c.visits);
            prior_sum += p;
            weighted_q += p * q;
            low = low.min(q);
            high = high.max(q);
        }
        let mixed = if visits == 0 {
            raw
        } else {
            let n = visits as f32;
            (raw + n * weighted_q / prior_sum) / (n + 1.0)
        };
        if unvisited {
            low = low.min(mixed);
            high = high.max(mixed);
        }
        Sigma {
            mixed,
            low,
            scale: (c_visit + max_visits as f32) * c_scale / (high - low).max(MIN_RANGE),
        }
    }

    /// `σ(q̂)` of one of the children.
    #[inline]
    pub(crate) fn of(&self, child: &Node) -> f32 {
        let q = if child.visits == 0 {
            self.mixed
        } else {
            child.q()
        };
        (q - self.low) * self.scale
    }

    /// The mixed value (what an unvisited child is completed with).
    #[cfg(test)]
    pub(crate) fn mixed(&self) -> f32 {
        self.mixed
    }
}

/// The network's own value of a node for its player to move: every completed
/// visit of an expanded node but its first (the expansion) went through one of
/// its children, so the node's sum minus its children's sums is that first
/// value. `sign` is +1 when the node's sum is stored from its mover's view
/// (the root; or the chooser of its edge moves again), −1 otherwise.
#[inline]
pub(crate) fn raw_value(node: &Node, children: &[Node], sign: f32) -> f32 {
    let below: f32 = children.iter().map(|c| c.value_sum).sum();
    (sign * node.value_sum - below).clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(prior: f32, visits: u32, q: f32) -> Node {
        let mut n = Node::new(0, prior);
        n.visits = visits;
        n.value_sum = q * visits as f32;
        n
    }

    #[test]
    fn the_mixed_value_blends_the_raw_value_with_the_visited_children() {
        // raw 0.2; visited: p 0.5 q 0.6 (2 visits), p 0.25 q -0.2 (1 visit).
        let kids = [
            child(0.5, 2, 0.6),
            child(0.25, 1, -0.2),
            child(0.25, 0, 0.0),
        ];
        let s = Sigma::new(&kids, 0.2, 50.0, 0.1);
        let weighted = (0.5 * 0.6 + 0.25 * -0.2) / 0.75;
        let mixed = (0.2 + 3.0 * weighted) / 4.0;
        assert!((s.mixed() - mixed).abs() < 1e-6);
        // Rescaled over {0.6, -0.2, mixed}: -0.2 -> 0, 0.6 -> (50 + 2) * 0.1.
        assert!(s.of(&kids[1]).abs() < 1e-6);
        assert!((s.of(&kids[0]) - 5.2).abs() < 1e-5);
        let m = (mixed + 0.2) / 0.8 * 5.2;
        assert!((s.of(&kids[2]) - m).abs() < 1e-5);
    }

    #[test]
    fn an_unvisited_node_completes_every_child_with_its_raw_value() {
        let kids = [child(0.7, 0, 0.0), child(0.3, 0, 0.0)];
        let s = Sigma::new(&kids, -0.4, 50.0, 0.1);
        assert_eq!(s.mixed(), -0.4);
        assert_eq!(s.of(&kids[0]), 0.0);
    }

    #[test]
    fn the_raw_value_is_the_sum_less_the_childrens() {
        let kids = [child(0.5, 2, 0.6), child(0.5, 1, -0.2)];
        let mut node = Node::new(0, 1.0);
        node.visits = 4;
        // Stored from the other player's view: -(0.3 + 1.2 - 0.2).
        node.value_sum = -(0.3 + 1.0);
        assert!((raw_value(&node, &kids, -1.0) - 0.3).abs() < 1e-6);
    }
}
