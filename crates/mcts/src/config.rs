//! Search settings: plain structs with `Default`; real choices are enums.

use crate::root::RootPolicy;

/// Value given to a child that has never been visited (first-play urgency).
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Fpu {
    /// A fixed value, from the view of the player choosing (AlphaZero's pseudocode: 0).
    Absolute(f32),
    /// The parent's current value minus this reduction (lc0-style, without the
    /// visited-policy scaling).
    Reduction(f32),
}

/// How pending (in-flight) visits steer other descents of the same round away.
///
/// With `n` pending visits on an edge of `N` visits and value sum `W` (from the
/// chooser's view), and magnitude `v`:
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum VirtualLoss {
    /// Pending visits count as lost games: `Q = (W - v·n) / (N + v·n)`, and as
    /// `v·n` visits in the exploration term.
    Loss(f32),
    /// Pending visits count only as `v·n` visits in the exploration term; `Q`
    /// stays `W / N` (lc0's default).
    Visits(f32),
}

impl VirtualLoss {
    /// The magnitude `v`.
    pub fn magnitude(self) -> f32 {
        match self {
            VirtualLoss::Loss(v) | VirtualLoss::Visits(v) => v,
        }
    }
}

/// Settings of one search: its budget, how many leaves it gathers at once, the
/// selection rule below the root, and the root's own algorithm.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchConfig {
    /// Simulations per move (0 and 1 both evaluate the root alone: the move is
    /// then the policy's argmax).
    pub simulations: u32,
    /// Leaves one tree gathers at once per pass (virtual loss keeps them apart):
    /// the manifest's `selfplay.searches_per_game`. At least 1.
    pub searches_per_game: usize,
    /// `c_init` of AlphaZero's exploration rate `c(N) = ln((1 + N + c_base) / c_base) + c_init`.
    pub c_init: f32,
    /// `c_base` of the exploration rate; `f32::INFINITY` keeps `c(N) = c_init`.
    pub c_base: f32,
    /// First-play urgency: the `Q` of unvisited children.
    pub fpu: Fpu,
    /// Form and magnitude of virtual loss.
    pub virtual_loss: VirtualLoss,
    /// A gather round stops after this many collisions (descents that reach a
    /// leaf already waiting for its evaluation); at least 1.
    pub collision_limit: u32,
    /// The root's algorithm: root noise, move choice, policy target.
    pub root: RootPolicy,
    /// Keep the chosen move's subtree for the next move ([`Search::play`](crate::Search::play)).
    pub tree_reuse: bool,
    /// Seed of the search's random numbers (root noise, move sampling).
    pub seed: u64,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            simulations: 100,
            searches_per_game: 1,
            c_init: 1.25,
            c_base: 19652.0,
            fpu: Fpu::Absolute(0.0),
            virtual_loss: VirtualLoss::Loss(1.0),
            collision_limit: 1,
            root: RootPolicy::default(),
            tree_reuse: true,
            seed: 0,
        }
    }
}

/// Temperature of the final move choice by ply: 1 (sample by visits) for the first
/// `moves` plies, then 0 (most visited).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub struct TemperatureSchedule {
    /// Plies played with temperature 1.
    pub moves: usize,
}

impl TemperatureSchedule {
    /// The temperature at `ply`.
    pub fn at(self, ply: usize) -> f32 {
        if ply < self.moves { 1.0 } else { 0.0 }
    }
}
