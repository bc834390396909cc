//! `az`: the command line of the az framework. See `az --help`.

use az_cli::bench;
use az_cli::commands::{
    analyze, cluster, eval, export, list, mistakes, new_game, perft, play, run, serve, solve,
};
use az_cli::error::{EXIT_BAD_INPUT, exit_code};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// AlphaZero-style reinforcement learning on board games.
#[derive(Debug, Parser)]
#[command(name = "az", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the registered games and the experiment manifests.
    List(list::ListArgs),
    /// Train: self-play, replay, learning, evaluation, checkpoints, TensorBoard.
    Run(run::RunArgs),
    /// Self-play for a learner elsewhere: games to a NATS JetStream stream, weights from it.
    Actor(cluster::ActorArgs),
    /// Training on the games of `az actor`s, through NATS JetStream (otherwise as `az run`).
    Learner(cluster::LearnerArgs),
    /// A match of a trained agent (run directory or checkpoint) against an opponent.
    Eval(eval::EvalArgs),
    /// A trained network as a file for other tools (safetensors, architecture in its metadata).
    Export(export::ExportArgs),
    /// A trained agent's mistake rates per game phase against the game's oracle.
    Mistakes(mistakes::MistakesArgs),
    /// Play against a trained agent in the terminal.
    Play(play::PlayArgs),
    /// Play and analyse in the browser: an HTTP server and its page (loopback by default).
    Serve(serve::ServeArgs),
    /// The agent's search on positions read from stdin (one per line).
    Analyze(analyze::AnalyzeArgs),
    /// Exact values of positions read from stdin (one per line, in the game's notation).
    Solve(solve::SolveArgs),
    /// Count the move sequences of a given length (checks a move generator).
    Perft(perft::PerftArgs),
    /// Speed measurements.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Create games/NAME, a new game crate that builds, is registered and passes the kit.
    NewGame(new_game::NewGameArgs),
}

fn dispatch(cli: Cli) -> anyhow::Result<String> {
    Ok(match cli.command {
        Command::List(args) => list::run(&args, std::path::Path::new("experiments")),
        Command::Run(args) => run::run(&args)?,
        Command::Actor(args) => cluster::actor(&args)?,
        Command::Learner(args) => cluster::learner(&args)?,
        Command::Perft(args) => perft::run(&args)?,
        Command::Solve(args) => solve::run(&args)?,
        Command::Eval(args) => eval::run(&args)?,
        Command::Export(args) => export::run(&args)?,
        Command::Mistakes(args) => mistakes::run(&args)?,
        Command::Play(args) => play::run(&args)?,
        Command::Analyze(args) => analyze::run(&args)?,
        Command::Serve(args) => serve::run(&args)?,
        Command::Bench(cmd) => bench::run(&cmd)?,
        Command::NewGame(args) => new_game::run(&args)?,
    })
}

fn main() -> ExitCode {
    az_cli::allocator::keep_freed_memory();
    az_cli::backend::default_device_is_the_cpu();
    az_cli::backend::name_the_math_threads();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout with code 0, usage errors with 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_BAD_INPUT } else { 0 });
        }
    };
    let result = dispatch(cli);
    az_cli::backend::finish();
    match result {
        Ok(out) => {
            if !out.is_empty() {
                println!("{out}");
            }
            ExitCode::SUCCESS
        }
        Err(err)
            if err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            // The reader went away (`az analyze ... | head`): not an error of ours.
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit_code(&err))
        }
    }
}
