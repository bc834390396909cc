//! The search tree: an arena of nodes, `gather` / `apply`, re-rooting, outputs.

use crate::config::{Fpu, SearchConfig, VirtualLoss};
use crate::node::{EXPANDED, IN_FLIGHT, NEW, Node};
use az_game::{Game, Player};
use rand::SeedableRng;
use rand::rngs::SmallRng;

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

/// A leaf gathered for evaluation: encode `position`, evaluate it, and hand the
/// result back with [`Tree::apply`].
#[derive(Clone, Debug)]
pub struct Leaf<G> {
    /// The position at the leaf (not terminal).
    pub position: G,
    node: u32,
    path_start: u32,
    path_len: u32,
}

impl<G> Leaf<G> {
    /// Arena index of the leaf node (distinct for the leaves in flight).
    pub fn node(&self) -> usize {
        self.node as usize
    }
}

enum Descent<G> {
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

/// A search tree for one game, reused across moves.
///
/// Search never calls a network: [`gather`](Tree::gather) descends with virtual
/// loss and returns leaves, [`apply`](Tree::apply) takes their evaluations.
/// Value convention and layout: crates/mcts/DESIGN.md.
#[derive(Debug)]
pub struct Tree<G: Game> {
    config: SearchConfig,
    nodes: Vec<Node>,
    root: G,
    /// Path entries of the leaves in flight (node index + chooser bit).
    paths: Vec<u32>,
    in_flight: u32,
    noise_applied: bool,
    rng: SmallRng,
    stats: TreeStats,
    /// Spare arena for re-rooting, kept to reuse its memory.
    scratch: Vec<Node>,
    /// Buffers of the synchronous driver.
    pub(crate) leaf_buf: Vec<Leaf<G>>,
    pub(crate) policy_buf: Vec<f32>,
}

impl<G: Game> Tree<G> {
    /// A tree at `root` with room for `capacity` nodes before it reallocates.
    pub fn with_capacity(root: G, config: SearchConfig, capacity: usize) -> Self {
        let mut nodes = Vec::with_capacity(capacity.max(1));
        nodes.push(Node::new(0, 1.0));
        let rng = SmallRng::seed_from_u64(config.seed);
        Tree {
            config,
            nodes,
            root,
            paths: Vec::new(),
            in_flight: 0,
            noise_applied: false,
            rng,
            stats: TreeStats::default(),
            scratch: Vec::new(),
            leaf_buf: Vec::new(),
            policy_buf: vec![0.0; G::NUM_ACTIONS],
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
            + self.leaf_buf.capacity() * size_of::<Leaf<G>>()
            + self.policy_buf.capacity() * size_of::<f32>()
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

    /// Sum of pending (virtual) visits over the whole tree; 0 whenever no leaf is in flight.
    pub fn total_pending(&self) -> u64 {
        self.nodes.iter().map(|n| u64::from(n.pending)).sum()
    }

    /// Starts over at `root`, keeping the allocated memory.
    ///
    /// # Panics
    /// If leaves are still in flight.
    pub fn reset(&mut self, root: G) {
        assert_eq!(self.in_flight, 0, "reset with leaves in flight");
        self.nodes.clear();
        self.nodes.push(Node::new(0, 1.0));
        self.paths.clear();
        self.root = root;
        self.noise_applied = false;
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
        if self.in_flight == 0 {
            self.paths.clear();
        }
        // Room for k paths of the longest game up front: a deeper tree later never
        // reallocates in the middle of a search (no-op once the capacity is there).
        self.paths.reserve(k * (G::MAX_GAME_LENGTH + 1));
        out.reserve(k);
        self.ensure_root_noise();
        let mut g = Gathered::default();
        for _ in 0..k {
            match self.descend() {
                Descent::Leaf(leaf) => {
                    out.push(leaf);
                    g.leaves += 1;
                }
                Descent::Terminal => g.terminals += 1,
                Descent::Collision => {
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

    /// One descent from the root (see [`gather`](Tree::gather)).
    fn descend(&mut self) -> Descent<G> {
        let start = self.paths.len();
        let mut position = self.root.clone();
        let mut index = 0;
        // The root's value is kept from the view of its own player to move.
        let mut chooser = position.to_move();
        self.paths.push(path_entry(0, chooser));
        loop {
            let node = self.nodes[index];
            if node.state == EXPANDED {
                let mover = position.to_move();
                let child = self.select_child(index, chooser, mover);
                let action = self.nodes[child].action as usize;
                let mv = position
                    .index_move(action)
                    .expect("tree holds only legal moves");
                position.apply_unchecked(mv);
                index = child;
                chooser = mover;
                self.paths.push(path_entry(child, chooser));
                continue;
            }
            if let Some(outcome) = position.outcome() {
                let mover = position.to_move();
                self.backup(start, mover, outcome.value_for(mover), false);
                self.paths.truncate(start);
                return Descent::Terminal;
            }
            if node.state == IN_FLIGHT {
                self.paths.truncate(start);
                return Descent::Collision;
            }
            debug_assert_eq!(node.state, NEW);
            self.nodes[index].state = IN_FLIGHT;
            for &entry in &self.paths[start..] {
                self.nodes[entry_parts(entry).0].pending += 1;
            }
            self.in_flight += 1;
            return Descent::Leaf(Leaf {
                position,
                node: index as u32,
                path_start: start as u32,
                path_len: (self.paths.len() - start) as u32,
            });
        }
    }

    /// The child of expanded node `index` with the highest PUCT score, for the
    /// player `mover` to move there; `chooser` chose the edge into `index`.
    #[inline]
    fn select_child(&self, index: usize, chooser: Player, mover: Player) -> usize {
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
        let moves = leaf.position.legal_moves();
        let mut sum = 0.0;
        for &mv in moves.iter() {
            sum += policy[leaf.position.move_index(mv)].max(0.0);
        }
        let uniform = !(sum > 0.0 && sum.is_finite());
        let scale = if uniform {
            1.0 / moves.len() as f32
        } else {
            1.0 / sum
        };
        let first = self.nodes.len();
        for &mv in moves.iter() {
            let a = leaf.position.move_index(mv);
            let prior = if uniform {
                scale
            } else {
                policy[a].max(0.0) * scale
            };
            self.nodes.push(Node::new(a as u16, prior));
        }
        let node = &mut self.nodes[index];
        node.first_child = first as u32;
        node.num_children = moves.len() as u16;
        node.state = EXPANDED;
        let start = leaf.path_start as usize;
        let end = start + leaf.path_len as usize;
        self.backup_range(start, end, leaf.position.to_move(), value, true);
        self.in_flight -= 1;
        if index == 0 {
            self.ensure_root_noise();
        }
    }

    /// Mixes Dirichlet noise into the root priors once per root, if configured.
    fn ensure_root_noise(&mut self) {
        let eps = self.config.dirichlet_epsilon;
        if eps <= 0.0 || self.noise_applied || self.nodes[0].state != EXPANDED {
            return;
        }
        self.noise_applied = true;
        let range = self.nodes[0].children();
        crate::noise::mix_dirichlet(
            &mut self.nodes[range],
            self.config.dirichlet_alpha,
            eps,
            &mut self.rng,
        );
    }

    /// Plays `mv` at the root and keeps its subtree (tree reuse).
    ///
    /// # Panics
    /// If leaves are in flight, or `mv` is illegal at the root (debug builds).
    pub fn advance(&mut self, mv: G::Move) {
        assert_eq!(self.in_flight, 0, "advance with leaves in flight");
        let old_mover = self.root.to_move();
        let action = self.root.move_index(mv);
        self.root.apply_unchecked(mv);
        self.noise_applied = false;
        self.paths.clear();
        let child = self
            .children(0)
            .find(|(_, n)| n.action as usize == action)
            .map(|(i, _)| i);
        let Some(child) = child.filter(|&c| self.nodes[c].visits > 0) else {
            self.nodes.clear();
            self.nodes.push(Node::new(0, 1.0));
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

    /// Writes the visit distribution of the root's moves over `NUM_ACTIONS` into
    /// `out` (the policy training target); all zero before the root has children.
    pub fn policy_target(&self, out: &mut [f32]) {
        out[..G::NUM_ACTIONS].fill(0.0);
        let total: u32 = self.children(0).map(|(_, n)| n.visits).sum();
        if total == 0 {
            return;
        }
        for (_, n) in self.children(0) {
            out[n.action as usize] = n.visits as f32 / total as f32;
        }
    }

    /// Per root move: visits, Q (for the root player), prior; most visited first.
    pub fn root_stats(&self) -> Vec<MoveStat<G::Move>> {
        let mut stats: Vec<MoveStat<G::Move>> = self
            .children(0)
            .map(|(_, n)| MoveStat {
                mv: self.root.index_move(n.action as usize).expect("legal move"),
                index: n.action as usize,
                visits: n.visits,
                q: n.q(),
                prior: n.prior,
            })
            .collect();
        stats.sort_by(|a, b| b.visits.cmp(&a.visits).then(b.prior.total_cmp(&a.prior)));
        stats
    }

    /// The most visited line from the root, at most `max_len` moves.
    pub fn principal_variation(&self, max_len: usize) -> Vec<G::Move> {
        let mut line = Vec::new();
        let mut position = self.root.clone();
        let mut index = 0;
        while line.len() < max_len {
            let Some(child) = self.most_visited_child(index) else {
                break;
            };
            let mv = position
                .index_move(self.nodes[child].action as usize)
                .expect("legal move");
            position.apply_unchecked(mv);
            line.push(mv);
            index = child;
        }
        line
    }

    fn most_visited_child(&self, index: usize) -> Option<usize> {
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

    /// The move to play: the most visited at temperature 0, otherwise sampled with
    /// probability proportional to `visits^(1 / temperature)`. `None` before the
    /// root has a visited child.
    pub fn choose_move(&mut self, temperature: f32) -> Option<G::Move> {
        let child = if temperature <= 0.0 {
            self.most_visited_child(0)?
        } else {
            let t = f64::from(temperature);
            let range = self.nodes[0].children();
            let nodes = &self.nodes[range.clone()];
            let weights = range.zip(nodes).map(|(i, n)| {
                (
                    i,
                    if n.visits == 0 {
                        0.0
                    } else {
                        f64::from(n.visits).powf(1.0 / t)
                    },
                )
            });
            crate::noise::sample_weighted(weights, &mut self.rng)?
        };
        self.root.index_move(self.nodes[child].action as usize)
    }
}
