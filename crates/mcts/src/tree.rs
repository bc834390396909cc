//! The search tree: an arena of nodes, `gather` (descents with virtual loss)
//! and `apply` (expansion and backup). Selection is in `select.rs`, re-rooting
//! in `reroot.rs`, what the tree reports in `results.rs`.

use crate::config::SearchConfig;
use crate::node::{EXPANDED, IN_FLIGHT, NEW, Node, TERMINAL};
use crate::root::RootPolicy;
use crate::select::exploration_table;
use az_game::{Game, Player};
use std::sync::Arc;

/// High bit of a path entry: the player who chose the edge into the node.
const CHOOSER_BIT: u32 = 1 << 31;

#[inline]
fn path_entry(node: usize, chooser: Player) -> u32 {
    debug_assert!(node < CHOOSER_BIT as usize);
    node as u32
        | if chooser == Player::Second {
            CHOOSER_BIT
        } else {
            0
        }
}

#[inline]
fn entry_parts(entry: u32) -> (usize, Player) {
    let chooser = if entry & CHOOSER_BIT != 0 {
        Player::Second
    } else {
        Player::First
    };
    ((entry & !CHOOSER_BIT) as usize, chooser)
}

/// A leaf gathered for evaluation: encode its position (and legal-move mask),
/// evaluate it, and hand the result back with [`Tree::apply`].
#[derive(Clone, Debug)]
pub struct Leaf<G: Game> {
    position: G,
    /// The legal moves of `position`, generated once: for the evaluator's mask
    /// and for the expansion.
    moves: G::Moves,
    /// `position_hash`, when an evaluation cache asked for it (0 otherwise).
    pub(crate) hash: u64,
    node: u32,
    path_start: u32,
    path_len: u32,
}

impl<G: Game> Leaf<G> {
    /// The position at the leaf (never terminal).
    pub fn position(&self) -> &G {
        &self.position
    }

    /// Its legal moves (never empty).
    pub fn moves(&self) -> &[G::Move] {
        &self.moves
    }

    /// Arena index of the leaf node (distinct for the leaves in flight).
    pub fn node(&self) -> usize {
        self.node as usize
    }
}

/// Who chooses the root child of each descent: the root's algorithm (Gumbel's
/// sequential halving, forced playouts) or, when it returns `None`, the tree's
/// own selection.
pub(crate) trait RootPick<G: Game> {
    /// The root child of the next descent, or `None`.
    fn pick(&mut self, tree: &Tree<G>) -> Option<usize>;
    /// The descent into `child` was abandoned (a collision): take the pick back.
    fn undo(&mut self, child: usize);
}

/// The tree's own selection at the root too.
struct TreeSelects;

impl<G: Game> RootPick<G> for TreeSelects {
    #[inline]
    fn pick(&mut self, _: &Tree<G>) -> Option<usize> {
        None
    }
    #[inline]
    fn undo(&mut self, _: usize) {}
}

enum Descent<G: Game> {
    Leaf(Leaf<G>),
    Terminal,
    Collision,
}

/// What one [`Tree::gather`] call did.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Gathered {
    /// Leaves returned for evaluation.
    pub leaves: u32,
    /// Descents that ended in a terminal position, backed up at once.
    pub terminals: u32,
    /// Descents that reached a leaf already waiting for its evaluation.
    pub collisions: u32,
}

/// Counters over the tree's life (not reset by re-rooting).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct TreeStats {
    /// Leaves gathered.
    pub leaves: u64,
    /// Terminal positions reached and backed up without evaluation.
    pub terminals: u64,
    /// Descents abandoned because their leaf was already in flight.
    pub collisions: u64,
}

/// A search tree for one game, reused across moves.
///
/// A tree never calls a network: [`gather`](Tree::gather) descends with virtual
/// loss and returns leaves, [`apply`](Tree::apply) takes their evaluations. The
/// per-move loop around them is [`Search`](crate::Search)'s. Value convention
/// and layout: crates/mcts/DESIGN.md.
#[derive(Debug)]
pub struct Tree<G: Game> {
    pub(crate) config: SearchConfig,
    pub(crate) nodes: Vec<Node>,
    pub(crate) root: G,
    /// Path entries of the leaves in flight (node index + chooser bit).
    pub(crate) paths: Vec<u32>,
    pub(crate) in_flight: u32,
    stats: TreeStats,
    /// Spare arena for re-rooting, kept to reuse its memory.
    pub(crate) scratch: Vec<Node>,
    /// `c(N)·√N` of PUCT for small parent counts (see `select.rs`).
    pub(crate) exploration: Arc<[f32]>,
    /// `(c_visit, c_scale)` when the root is Gumbel's: the selection below the
    /// root is then the paper's, not PUCT.
    pub(crate) gumbel: Option<(f32, f32)>,
}

impl<G: Game> Tree<G> {
    /// A tree at `root` with room for `capacity` nodes before it reallocates.
    /// Of `config`, the tree uses the selection settings (PUCT, first-play
    /// urgency, virtual loss, collision limit).
    pub fn with_capacity(root: G, config: SearchConfig, capacity: usize) -> Self {
        let mut nodes = Vec::with_capacity(capacity.max(1));
        nodes.push(Node::new(0, 1.0));
        let gumbel = match &config.root {
            RootPolicy::Gumbel(g) => Some((g.c_visit, g.c_scale)),
            RootPolicy::Puct(_) => None,
        };
        Tree {
            exploration: exploration_table(&config),
            gumbel,
            config,
            nodes,
            root,
            paths: Vec::new(),
            in_flight: 0,
            stats: TreeStats::default(),
            scratch: Vec::new(),
        }
    }

    /// A tree at `root`.
    pub fn new(root: G, config: SearchConfig) -> Self {
        Self::with_capacity(root, config, 1024)
    }

    /// The root position.
    pub fn root(&self) -> &G {
        &self.root
    }

    /// The settings.
    pub fn config(&self) -> &SearchConfig {
        &self.config
    }

    /// Nodes in the arena.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Bytes held by the arena and its buffers (capacity, not just length).
    pub fn memory_bytes(&self) -> usize {
        (self.nodes.capacity() + self.scratch.capacity()) * size_of::<Node>()
            + self.paths.capacity() * size_of::<u32>()
    }

    /// Lifetime counters.
    pub fn stats(&self) -> TreeStats {
        self.stats
    }

    /// Leaves gathered and not yet applied.
    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// Completed visits of the root (its own expansion included).
    pub fn root_visits(&self) -> u32 {
        self.nodes[0].visits
    }

    /// Mean value of the root for the player to move there.
    pub fn root_value(&self) -> f32 {
        self.nodes[0].q()
    }

    /// The arena, for tests and analysis (index 0 is the root).
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Children of node `index` as `(child index, node)` pairs.
    pub fn children(&self, index: usize) -> impl Iterator<Item = (usize, &Node)> {
        let range = self.nodes[index].children();
        range.clone().zip(&self.nodes[range])
    }

    /// Whether the root has been expanded (its children exist).
    pub fn root_expanded(&self) -> bool {
        self.nodes[0].state == EXPANDED
    }

    /// Sum of pending (virtual) visits over the whole tree; 0 whenever no leaf is in flight.
    pub fn total_pending(&self) -> u64 {
        self.nodes.iter().map(|n| u64::from(n.pending)).sum()
    }

    /// Descends up to `k` times from the root, applying virtual loss along each
    /// path, and appends the leaves to evaluate to `out`.
    ///
    /// Each descent ends in one of three ways: a new leaf (returned, its path
    /// holding one pending visit per node until [`apply`](Tree::apply)); a terminal
    /// position (scored by the rules and backed up at once, never returned); or a
    /// collision with a leaf already in flight (abandoned and counted; the round
    /// stops after `collision_limit` of them).
    pub fn gather(&mut self, k: usize, out: &mut Vec<Leaf<G>>) -> Gathered {
        self.gather_with(k, out, &mut TreeSelects)
    }

    /// [`gather`](Tree::gather) with the root child of each descent chosen by `root`.
    pub(crate) fn gather_with<R: RootPick<G>>(
        &mut self,
        k: usize,
        out: &mut Vec<Leaf<G>>,
        root: &mut R,
    ) -> Gathered {
        if self.in_flight == 0 {
            self.paths.clear();
        }
        // Room for k paths of the longest game up front: a deeper tree later never
        // reallocates in the middle of a search (no-op once the capacity is there).
        self.paths.reserve(k * (G::MAX_GAME_LENGTH + 1));
        out.reserve(k);
        let mut g = Gathered::default();
        for _ in 0..k {
            let first = root.pick(self);
            match self.descend(first) {
                Descent::Leaf(leaf) => {
                    out.push(leaf);
                    g.leaves += 1;
                }
                Descent::Terminal => g.terminals += 1,
                Descent::Collision => {
                    if let Some(child) = first {
                        root.undo(child);
                    }
                    g.collisions += 1;
                    if g.collisions >= self.config.collision_limit.max(1) {
                        break;
                    }
                }
            }
        }
        self.stats.leaves += u64::from(g.leaves);
        self.stats.terminals += u64::from(g.terminals);
        self.stats.collisions += u64::from(g.collisions);
        g
    }

    /// One descent from the root (see [`gather`](Tree::gather)), into root
    /// child `first` when given.
    fn descend(&mut self, mut first: Option<usize>) -> Descent<G> {
        let start = self.paths.len();
        let mut position = self.root.clone();
        let mut index = 0;
        // The root's value is kept from the view of its own player to move.
        let mut chooser = position.to_move();
        self.paths.push(path_entry(0, chooser));
        loop {
            let node = self.nodes[index];
            match node.state {
                EXPANDED => {
                    let mover = position.to_move();
                    let child = match first.take() {
                        Some(child) => child,
                        None => self.select_child(index, chooser, mover),
                    };
                    let action = self.nodes[child].action as usize;
                    let mv = position
                        .index_move(action)
                        .expect("tree holds only legal moves");
                    position.apply_unchecked(mv);
                    index = child;
                    chooser = mover;
                    self.paths.push(path_entry(child, chooser));
                }
                IN_FLIGHT => {
                    self.paths.truncate(start);
                    return Descent::Collision;
                }
                TERMINAL => {
                    // The mean of a terminal node is its exact result, from the
                    // view of the player who chose the edge into it.
                    self.backup(start, chooser, node.q(), false);
                    self.paths.truncate(start);
                    return Descent::Terminal;
                }
                _ => {
                    debug_assert_eq!(node.state, NEW);
                    let moves = position.legal_moves();
                    if moves.is_empty() {
                        let mover = position.to_move();
                        let outcome = position.outcome().expect("no legal move: the game is over");
                        self.nodes[index].state = TERMINAL;
                        self.backup(start, mover, outcome.value_for(mover), false);
                        self.paths.truncate(start);
                        return Descent::Terminal;
                    }
                    self.nodes[index].state = IN_FLIGHT;
                    for &entry in &self.paths[start..] {
                        self.nodes[entry_parts(entry).0].pending += 1;
                    }
                    self.in_flight += 1;
                    return Descent::Leaf(Leaf {
                        position,
                        moves,
                        hash: 0,
                        node: index as u32,
                        path_start: start as u32,
                        path_len: (self.paths.len() - start) as u32,
                    });
                }
            }
        }
    }

    /// Adds one visit of `value` (from the view of `leaf_mover`) along the path
    /// entries from `start` to the end of `paths`.
    #[inline]
    fn backup(&mut self, start: usize, leaf_mover: Player, value: f32, was_pending: bool) {
        self.backup_range(start, self.paths.len(), leaf_mover, value, was_pending);
    }

    #[inline]
    fn backup_range(
        &mut self,
        start: usize,
        end: usize,
        leaf_mover: Player,
        value: f32,
        was_pending: bool,
    ) {
        for &entry in &self.paths[start..end] {
            let (index, chooser) = entry_parts(entry);
            let node = &mut self.nodes[index];
            node.visits += 1;
            node.value_sum += if chooser == leaf_mover { value } else { -value };
            if was_pending {
                debug_assert!(node.pending > 0);
                node.pending -= 1;
            }
        }
    }

    /// Expands `leaf` with `policy` (over `NUM_ACTIONS`; entries of illegal moves
    /// are ignored, the rest renormalised, uniform if they sum to nothing) and
    /// backs up `value` (for the player to move at the leaf), removing the path's
    /// virtual loss.
    ///
    /// # Panics
    /// If `policy` is shorter than `NUM_ACTIONS` or `leaf` was already applied.
    pub fn apply(&mut self, leaf: &Leaf<G>, policy: &[f32], value: f32) {
        let index = leaf.node as usize;
        assert_eq!(
            self.nodes[index].state, IN_FLIGHT,
            "leaf applied twice or not gathered"
        );
        debug_assert!(value.is_finite(), "non-finite value {value}");
        let moves = &leaf.moves;
        let position = &leaf.position;
        // Children first with their raw priors, then normalised in place: one
        // `move_index` per move.
        let first = self.nodes.len();
        let mut sum = 0.0;
        for &mv in moves.iter() {
            let a = position.move_index(mv);
            let p = policy[a].max(0.0);
            sum += p;
            self.nodes.push(Node::new(a as u16, p));
        }
        let children = &mut self.nodes[first..];
        if sum > 0.0 && sum.is_finite() {
            let scale = 1.0 / sum;
            children.iter_mut().for_each(|c| c.prior *= scale);
        } else {
            let uniform = 1.0 / children.len() as f32;
            children.iter_mut().for_each(|c| c.prior = uniform);
        }
        let node = &mut self.nodes[index];
        node.first_child = first as u32;
        node.num_children = moves.len() as u16;
        node.state = EXPANDED;
        let start = leaf.path_start as usize;
        let end = start + leaf.path_len as usize;
        self.backup_range(start, end, position.to_move(), value, true);
        self.in_flight -= 1;
    }

    /// The root's children, for the root policy (noise).
    pub(crate) fn root_children_mut(&mut self) -> &mut [Node] {
        let range = self.nodes[0].children();
        &mut self.nodes[range]
    }
}
