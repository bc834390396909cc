//! The benchmark harness behind `az bench ...`: speed measurements printed as
//! text or one JSON line (kept apart from the subcommands in `commands/`).

mod mcts;
mod model;
mod parallelism;
mod playouts;
mod selfplay;
mod solve;

pub use mcts::{EvaluatorKind, MctsArgs, MctsReport};
pub use model::{ModelArgs, inference_rate, training_rate};
pub use playouts::{PlayoutArgs, PlayoutReport};
pub use selfplay::{SelfPlayArgs, SelfPlayReport};

use crate::games::with_game;

/// `az bench` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Random playouts from the initial position, one thread: legal moves + apply +
    /// terminal check per move.
    Playouts(PlayoutArgs),
    /// Search speed with an evaluator that needs no network, one thread: from the
    /// initial position the game is played forward by the search's best move, a
    /// fresh search each move (or a reused tree with --reuse).
    Mcts(MctsArgs),
    /// Self-play with the experiment's network and parallel settings, beside the
    /// same model measured alone at the same batch size: the framework's efficiency.
    Selfplay(SelfPlayArgs),
    /// The experiment's network alone: inference positions/s and training samples/s.
    Model(ModelArgs),
    /// The connect4 oracle on random positions of a ply range: seconds per position.
    Solve(solve::SolveArgs),
    /// What searching K leaves per pass (virtual loss) costs in strength against the
    /// sequential search at the same simulations: games and visit divergence.
    Parallelism(parallelism::ParallelismArgs),
}

pub(crate) fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 3600.0 => Ok(s),
        _ => Err(format!(
            "seconds must be a number above 0 and at most 3600, got {text:?}"
        )),
    }
}

/// Runs an `az bench` subcommand and returns what it prints.
///
/// # Errors
/// [`BadInput`](crate::error::BadInput) for an unknown game or experiment.
pub fn run(cmd: &BenchCommand) -> anyhow::Result<String> {
    match cmd {
        BenchCommand::Playouts(args) => Ok(with_game(&args.game, playouts::Playouts(args))?),
        BenchCommand::Mcts(args) => Ok(with_game(&args.game, mcts::Mcts(args))?),
        BenchCommand::Selfplay(args) => selfplay::run(args),
        BenchCommand::Model(args) => model::run(args),
        BenchCommand::Solve(args) => Ok(solve::run(args)?),
        BenchCommand::Parallelism(args) => Ok(parallelism::run(args)?),
    }
}
