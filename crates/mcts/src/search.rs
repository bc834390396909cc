//! The per-move search: a resumable loop of gather → evaluate → apply that ends
//! with the move result. Every caller drives it: the blocking [`Search::run`]
//! (analysis, evaluation, baselines), and self-play workers that gather from
//! many searches into one request ([`Pass`]).

use crate::cache::EvalCache;
use crate::config::SearchConfig;
use crate::evaluator::{Evaluator, EvaluatorGone};
use crate::pass::Pass;
use crate::results::MoveStat;
use crate::root::RootState;
use crate::tree::{Gathered, Leaf, Tree};
use az_game::Game;
use rand::SeedableRng;
use rand::rngs::SmallRng;

/// What one [`Search::run`] call did.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchReport {
    /// Simulations completed (evaluated leaves plus terminal positions).
    pub simulations: u32,
    /// Gather rounds.
    pub rounds: u32,
    /// Descents abandoned on a leaf already in flight.
    pub collisions: u32,
}

/// What a finished search says about its position.
#[derive(Clone, Debug, PartialEq)]
pub struct MoveResult<M> {
    /// The move to play, as the root policy chose it (`None` only when the game
    /// is over at the root).
    pub chosen: Option<M>,
    /// Root value for the player to move, in `[-1, 1]`.
    pub value: f32,
    /// The policy training target over `NUM_ACTIONS` (the root policy's).
    pub policy: Vec<f32>,
    /// Per root move: visits, prior, mean value (most visited first).
    pub moves: Vec<MoveStat<M>>,
    /// The most visited line from the root (at least the chosen move).
    pub pv: Vec<M>,
}

impl<M> Default for MoveResult<M> {
    fn default() -> Self {
        MoveResult {
            chosen: None,
            value: 0.0,
            policy: Vec::new(),
            moves: Vec::new(),
            pv: Vec::new(),
        }
    }
}

/// One game's search, move after move.
///
/// A search asks for leaves ([`gather`](Search::gather)) and takes their
/// evaluations ([`apply`](Search::apply)) until it [`is_done`](Search::is_done)
/// (`simulations` of the config reached); [`result`](Search::result) then gives
/// the move, the policy target, the root value, the per-move statistics and the
/// principal variation, and [`play`](Search::play) moves on (keeping the subtree
/// with `tree_reuse`). [`run`](Search::run) is the whole loop with a blocking
/// [`Evaluator`].
///
/// # Examples
/// ```
/// use az_game::Game;
/// use az_mcts::{Rollout, Search, SearchConfig};
/// use az_tictactoe::TicTacToe;
///
/// // X has a1 and b1: c1 wins at once.
/// let position = TicTacToe::from_moves("a1 a2 b1 b2").unwrap();
/// let config = SearchConfig { simulations: 400, searches_per_game: 4, ..SearchConfig::default() };
/// let mut search = Search::new(position, config);
/// search.run(&mut Rollout::new(1, 7)).unwrap();
/// let result = search.result();
/// assert_eq!(position.format_move(result.chosen.unwrap()), "c1");
/// assert!(result.value > 0.5);
/// ```
#[derive(Debug)]
pub struct Search<G: Game> {
    tree: Tree<G>,
    root: RootState,
    rng: SmallRng,
    /// Simulations of this move, counted when gathered (terminal ones at once).
    done: u32,
    /// Simulations this move needs.
    budget: u32,
    /// This move's simulations and whether its root explores (noise), when
    /// [`set_move_budget`](Search::set_move_budget) changed them.
    this_move: Option<(u32, bool)>,
    /// Buffers of [`run`](Search::run).
    pass: Pass<G>,
}

impl<G: Game> Search<G> {
    /// A search of `position` with room for `nodes` tree nodes before it reallocates.
    pub fn with_capacity(position: G, config: SearchConfig, nodes: usize) -> Self {
        let mut search = Search {
            root: RootState::new(&config.root, 0),
            rng: SmallRng::seed_from_u64(config.seed),
            tree: Tree::with_capacity(position, config, nodes),
            done: 0,
            budget: 0,
            this_move: None,
            pass: Pass::default(),
        };
        search.begin_move();
        search
    }

    /// A search of `position`.
    pub fn new(position: G, config: SearchConfig) -> Self {
        Self::with_capacity(position, config, 1024)
    }

    /// The position searched.
    pub fn position(&self) -> &G {
        self.tree.root()
    }

    /// The settings.
    pub fn config(&self) -> &SearchConfig {
        self.tree.config()
    }

    /// The tree, for statistics and tests.
    pub fn tree(&self) -> &Tree<G> {
        &self.tree
    }

    /// Simulations of this move so far (a reused subtree's visits included).
    pub fn simulations(&self) -> u32 {
        self.done
    }

    /// Whether the move's simulations are done and every leaf is answered.
    #[inline]
    pub fn is_done(&self) -> bool {
        self.done >= self.budget && self.tree.in_flight() == 0
    }

    /// Gathers the leaves this search wants evaluated now (at most
    /// `searches_per_game`, at most the simulations left) into `out`; terminal
    /// positions are scored at once. Nothing once [`is_done`](Search::is_done).
    #[inline]
    pub fn gather(&mut self, out: &mut Vec<Leaf<G>>) -> Gathered {
        let left = self.budget.saturating_sub(self.done) as usize;
        let want = left.min(self.tree.config.searches_per_game.max(1));
        if want == 0 {
            return Gathered::default();
        }
        self.root.prepare(&mut self.tree, &mut self.rng);
        let g = self.tree.gather_with(want, out, &mut self.root);
        self.done += g.leaves + g.terminals;
        g
    }

    /// Takes the evaluation of `leaf` (gathered by this search): `policy` over
    /// `NUM_ACTIONS`, `value` for the player to move at the leaf.
    ///
    /// # Panics
    /// As [`Tree::apply`].
    #[inline]
    pub fn apply(&mut self, leaf: &Leaf<G>, policy: &[f32], value: f32) {
        self.tree.apply(leaf, policy, value);
        if leaf.node() == 0 {
            // The root just got its children: the root policy prepares them.
            self.root.prepare(&mut self.tree, &mut self.rng);
        }
    }

    /// Runs the search to its end with `evaluator`, one request per pass.
    ///
    /// # Errors
    /// [`EvaluatorGone`] from the evaluator; the search then holds leaves that
    /// will never be answered and must be [`reset`](Search::reset).
    pub fn run<E: Evaluator<G>>(
        &mut self,
        evaluator: &mut E,
    ) -> Result<SearchReport, EvaluatorGone> {
        self.run_observed(evaluator, u32::MAX, |_| true)
    }

    /// [`run`](Search::run) that lets `observe` look at the search along the
    /// way: after each pass that leaves the move's simulations at least
    /// `every` past the last look (the first at `every`), while simulations
    /// are left. `observe` returns false to stop the search there (nothing is
    /// in flight then).
    ///
    /// # Errors
    /// As [`run`](Search::run).
    pub fn run_observed<E: Evaluator<G>>(
        &mut self,
        evaluator: &mut E,
        every: u32,
        mut observe: impl FnMut(&mut Self) -> bool,
    ) -> Result<SearchReport, EvaluatorGone> {
        let mut pass = std::mem::take(&mut self.pass);
        let mut report = SearchReport::default();
        let mut no_cache = EvalCache::off();
        let mut next = every;
        let outcome = loop {
            if self.is_done() {
                break Ok(report);
            }
            let g = pass.gather(0, self);
            report.rounds += 1;
            report.collisions += g.collisions;
            report.simulations += g.leaves + g.terminals;
            if pass.is_empty() {
                if g.terminals == 0 {
                    break Ok(report); // nothing can progress (no leaf is in flight here)
                }
            } else {
                match evaluator.evaluate(pass.leaves()) {
                    Ok(answers) => pass.apply(std::slice::from_mut(self), &answers, &mut no_cache),
                    Err(e) => break Err(e),
                }
            }
            if self.done >= next && !self.is_done() {
                next = self.done.saturating_add(every);
                if !observe(self) {
                    break Ok(report);
                }
            }
        };
        self.pass = pass;
        outcome
    }

    /// What self-play needs of a finished search, and no more: the policy
    /// target written into `policy` (`NUM_ACTIONS` entries), the chosen move
    /// (`None` only when the game is over at the root) and the root value. A
    /// root policy that samples draws again on every call.
    pub fn decide(&mut self, policy: &mut [f32]) -> (Option<G::Move>, f32) {
        let tree = &self.tree;
        self.root.policy_target(tree, policy);
        let chosen = self
            .root
            .choose(tree, &mut self.rng)
            .and_then(|child| tree.root().index_move(tree.nodes()[child].action()));
        (chosen, tree.root_value())
    }

    /// The move result into `out` (its buffers reused): [`decide`](Search::decide)'s
    /// move, policy target and value, with the per-move statistics and the
    /// principal variation.
    pub fn result_into(&mut self, out: &mut MoveResult<G::Move>) {
        out.policy.resize(G::NUM_ACTIONS, 0.0);
        (out.chosen, out.value) = self.decide(&mut out.policy);
        self.tree.root_stats_into(&mut out.moves);
        self.tree
            .principal_variation_into(G::MAX_GAME_LENGTH, &mut out.pv);
        if let (true, Some(mv)) = (out.pv.is_empty(), out.chosen) {
            out.pv.push(mv);
        }
    }

    /// The move result (see [`result_into`](Search::result_into)).
    pub fn result(&mut self) -> MoveResult<G::Move> {
        let mut out = MoveResult::default();
        self.result_into(&mut out);
        out
    }

    /// Plays `mv` and starts the next move's search: the chosen subtree is kept
    /// with `tree_reuse` (its visits count toward the next move's simulations).
    ///
    /// # Panics
    /// If leaves are in flight.
    pub fn play(&mut self, mv: G::Move) {
        assert_eq!(self.tree.in_flight(), 0, "play with leaves in flight");
        if self.tree.config.tree_reuse {
            self.tree.advance(mv);
        } else {
            let mut next = self.tree.root().clone();
            next.apply_unchecked(mv);
            self.tree.reset(next);
        }
        self.this_move = None;
        self.begin_move();
    }

    /// Sets this move's simulations and whether its root explores (root noise,
    /// forced playouts), before its first gather: the fast and full searches of
    /// playout cap randomization. [`play`](Search::play) and
    /// [`reset`](Search::reset) go back to the config's.
    ///
    /// # Panics
    /// If this move has gathered already.
    pub fn set_move_budget(&mut self, simulations: u32, explore: bool) {
        let reused = if self.tree.config.root.counts_reused_visits() {
            self.tree.root_visits().min(self.budget)
        } else {
            0
        };
        assert!(
            self.done == reused && self.tree.in_flight() == 0,
            "set_move_budget after the move's search began"
        );
        self.this_move = Some((simulations, explore));
        self.begin_move();
    }

    /// The root policy, budget and progress of a new move.
    fn begin_move(&mut self) {
        let config = &self.tree.config;
        let (simulations, explore) = self.this_move.unwrap_or((config.simulations, true));
        let simulations = simulations.max(1);
        let policy = if explore {
            config.root.clone()
        } else {
            config.root.without_exploration()
        };
        if policy.counts_reused_visits() {
            self.root = RootState::new(&policy, 0);
            self.budget = simulations;
            self.done = self.tree.root_visits().min(self.budget);
        } else {
            // Every simulation goes through a root child; an unexpanded root
            // needs its own evaluation first.
            let expansion = u32::from(!self.tree.root_expanded());
            self.root = RootState::new(&policy, simulations - expansion.min(simulations - 1));
            self.budget = simulations.max(1 + expansion);
            self.done = 0;
        }
    }

    /// Starts over at `position` (the tree's memory is kept; leaves still in
    /// flight are forgotten and must not be applied).
    pub fn reset(&mut self, position: G) {
        self.tree.reset(position);
        self.this_move = None;
        self.begin_move();
        self.pass.clear();
    }
}
