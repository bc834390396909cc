//! `az bench mcts`: search speed with an evaluator that needs no network.

use crate::games::GameVisitor;
use az_game::Game;
use std::time::{Duration, Instant};

/// Evaluator of `az bench mcts`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EvaluatorKind {
    /// Uniform priors, value 0: the tree alone.
    Uniform,
    /// Uniform priors, value from random playouts (--rollouts per leaf).
    Rollout,
}

/// Root algorithm of `az bench mcts` (`[mcts] root`), deterministic.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RootKind {
    /// AlphaZero's PUCT everywhere.
    Puct,
    /// Gumbel's sequential halving at the root (16 considered moves), the
    /// paper's selection below it.
    Gumbel,
}

/// Arguments of `az bench mcts`.
#[derive(Debug, clap::Args)]
pub struct MctsArgs {
    /// Game name (see `az list`).
    #[arg(long)]
    pub game: String,
    /// Simulations per move.
    #[arg(long, default_value_t = 800, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub simulations: u32,
    /// Root algorithm.
    #[arg(long, value_enum, default_value_t = RootKind::Puct)]
    pub root: RootKind,
    /// Leaf evaluator.
    #[arg(long, value_enum, default_value_t = EvaluatorKind::Uniform)]
    pub evaluator: EvaluatorKind,
    /// Random playouts per leaf with --evaluator rollout.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub rollouts: u32,
    /// Leaves gathered per round (parallel searches in the tree, kept apart by virtual loss).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub searches: u32,
    /// Moves to search (the game restarts when it ends).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub moves: u32,
    /// Keep the chosen subtree between moves instead of a fresh search (its visits
    /// count toward the next move's simulations, as in self-play).
    #[arg(long, conflicts_with = "initial")]
    pub reuse: bool,
    /// Search the initial position every move instead of playing the game forward
    /// (what OpenSpiel's benchmark does without --play).
    #[arg(long)]
    pub initial: bool,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Result of a search benchmark.
#[derive(Clone, Debug, PartialEq)]
pub struct MctsReport {
    /// Simulations per second of search time.
    pub sims_per_sec: f64,
    /// Searches (moves) timed.
    pub moves: u32,
    /// Total simulations.
    pub simulations: u64,
    /// Search time in seconds.
    pub seconds: f64,
    /// Mean nodes in the tree after a move's search.
    pub nodes_per_search: f64,
    /// Largest arena, in bytes (capacity of all buffers).
    pub tree_bytes: usize,
    /// Collisions over all moves.
    pub collisions: u64,
}

/// Plays `args.moves` moves of `G` by search and times the searches.
pub fn mcts<G: Game>(args: &MctsArgs) -> MctsReport {
    use az_mcts::{
        Evaluator, GumbelRoot, MoveResult, Rollout, RootPolicy, Search, SearchConfig, Uniform,
    };
    fn run<G: Game, E: Evaluator<G>>(args: &MctsArgs, eval: &mut E) -> MctsReport {
        let config = SearchConfig {
            simulations: args.simulations,
            searches_per_game: args.searches as usize,
            tree_reuse: args.reuse,
            seed: args.seed,
            root: match args.root {
                RootKind::Puct => RootPolicy::default(),
                RootKind::Gumbel => RootPolicy::Gumbel(GumbelRoot {
                    sample_plies: 0,
                    ..GumbelRoot::default()
                }),
            },
            ..SearchConfig::default()
        };
        let capacity = (args.simulations as usize).saturating_mul(8).min(1 << 26);
        let mut search = Search::with_capacity(G::new(), config, capacity);
        let mut result = MoveResult::default();
        // Warm-up outside the timing: page in the arena, settle the clock.
        search.run(eval).expect("a free evaluator always answers");
        search.reset(G::new());
        let (mut sims, mut nodes, mut collisions) = (0u64, 0u64, 0u64);
        let mut elapsed = Duration::ZERO;
        let mut bytes = 0;
        for _ in 0..args.moves {
            let t0 = Instant::now();
            let r = search.run(eval).expect("a free evaluator always answers");
            elapsed += t0.elapsed();
            sims += u64::from(r.simulations);
            collisions += u64::from(r.collisions);
            nodes += search.tree().node_count() as u64;
            bytes = bytes.max(search.tree().memory_bytes());
            if args.initial {
                search.reset(G::new());
                continue;
            }
            search.result_into(&mut result);
            search.play(result.chosen.expect("a searched root has a move"));
            if search.position().is_terminal() {
                search.reset(G::new());
            }
        }
        let seconds = elapsed.as_secs_f64();
        MctsReport {
            sims_per_sec: sims as f64 / seconds,
            moves: args.moves,
            simulations: sims,
            seconds,
            nodes_per_search: nodes as f64 / f64::from(args.moves),
            tree_bytes: bytes,
            collisions,
        }
    }
    match args.evaluator {
        EvaluatorKind::Uniform => run::<G, _>(args, &mut Uniform::default()),
        EvaluatorKind::Rollout => run::<G, _>(args, &mut Rollout::new(args.rollouts, args.seed)),
    }
}

pub(super) struct Mcts<'a>(pub &'a MctsArgs);

impl GameVisitor for Mcts<'_> {
    type Output = String;
    fn visit<G: Game>(self) -> String {
        let a = self.0;
        let r = mcts::<G>(a);
        let evaluator = match a.evaluator {
            EvaluatorKind::Uniform => "uniform".to_owned(),
            EvaluatorKind::Rollout => format!("rollout:{}", a.rollouts),
        };
        if a.json {
            serde_json::json!({
                "bench": "mcts", "game": G::NAME, "evaluator": evaluator,
                "root": format!("{:?}", a.root).to_lowercase(),
                "simulations": a.simulations, "searches": a.searches, "reuse": a.reuse,
                "position": if a.initial { "initial" } else { "selfplay" },
                "moves": r.moves, "sims_per_sec": r.sims_per_sec, "seconds": r.seconds,
                "total_simulations": r.simulations, "nodes_per_search": r.nodes_per_search,
                "bytes_per_node": size_of::<az_mcts::Node>(), "tree_bytes": r.tree_bytes,
                "collisions": r.collisions, "threads": 1,
            })
            .to_string()
        } else {
            format!(
                "{} mcts ({} root), {evaluator}, {} sims/move, {} per round{}: {:.0} sims/s over {} moves \
                 ({:.2} s); {:.0} nodes/search x {} B; arena {:.1} MiB; {} collisions",
                G::NAME,
                format!("{:?}", a.root).to_lowercase(),
                a.simulations,
                a.searches,
                if a.reuse { ", tree reuse" } else { "" },
                r.sims_per_sec,
                r.moves,
                r.seconds,
                r.nodes_per_search,
                size_of::<az_mcts::Node>(),
                r.tree_bytes as f64 / (1 << 20) as f64,
                r.collisions
            )
        }
    }
}
