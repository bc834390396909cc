//! `az play`: a human against a trained agent in the terminal.

use crate::error::BadInput;
use crate::games::{GameVisitor, with_game};
use crate::target::{load_net, resolve};
use az_arena::Agent;
use az_game::Game;
use std::io::{BufRead, Write};

/// Arguments of `az play`.
#[derive(Debug, clap::Args)]
pub struct PlayArgs {
    /// A run directory (its newest checkpoint) or a checkpoint file in one.
    pub target: String,
    /// The human moves first (default: the agent does).
    #[arg(long)]
    pub human_first: bool,
    /// Simulations per agent move (default: the run's `mcts.simulations`).
    #[arg(long)]
    pub simulations: Option<u32>,
    /// Override a manifest value: `--set section.key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
}

struct Visit<'a> {
    args: &'a PlayArgs,
    target: crate::target::Target,
}

impl GameVisitor for Visit<'_> {
    type Output = anyhow::Result<String>;

    fn visit<G: Game>(self) -> anyhow::Result<String> {
        let exp = &self.target.exp;
        let config = az_run::agent_config(exp, self.args.simulations);
        let mut agent = Agent::with_model(
            az_run::NetModel(load_net::<G>(exp, &self.target.checkpoint)?),
            config,
        );
        let human = if self.args.human_first {
            G::new().to_move()
        } else {
            G::new().to_move().other()
        };
        let stdin = std::io::stdin();
        let mut lines = stdin.lock().lines();
        let mut p = G::new();
        let mut err = std::io::stderr();
        while !p.is_terminal() {
            writeln!(err, "\n{p}")?;
            if p.to_move() == human {
                write!(err, "your move ({}): ", G::NOTATION)?;
                err.flush()?;
                let Some(line) = lines.next() else {
                    return Ok("game abandoned (end of input)".to_owned());
                };
                let line = line?;
                match p.parse_move(line.trim()) {
                    Ok(mv) => p.apply_unchecked(mv),
                    Err(e) => writeln!(err, "{e}")?, // ask again
                }
            } else {
                let a = agent.analyze(&p)?;
                let width = az_run::terminal_columns().unwrap_or(80);
                writeln!(err, "{}", agent_line(&p, &a, width))?;
                p.apply_unchecked(a.chosen.expect("a position not over has a move"));
            }
        }
        Ok(format!("{p}\n{}", verdict(p.outcome(), human)))
    }
}

/// The agent's move, its value and as many of its most visited moves as fit in
/// `width` columns.
fn agent_line<G: Game>(p: &G, a: &az_mcts::MoveResult<G::Move>, width: usize) -> String {
    let best = a.chosen.expect("a position not over has a move");
    let mut line = format!(
        "agent plays {}, value {:+.2}; searched:",
        p.format_move(best),
        a.value
    );
    for m in a.moves.iter().take(4) {
        let part = format!(" {} {}v q{:+.2}", p.format_move(m.mv), m.visits, m.q);
        if line.chars().count() + part.chars().count() > width {
            break;
        }
        line.push_str(&part);
    }
    line
}

/// Who won, from the human's side.
fn verdict(outcome: Option<az_game::Outcome>, human: az_game::Player) -> String {
    match outcome {
        Some(az_game::Outcome::Win(p)) if p == human => format!("you win (the {p} player)"),
        Some(az_game::Outcome::Win(p)) => format!("the agent wins (the {p} player)"),
        Some(az_game::Outcome::Draw) => "draw".to_owned(),
        None => "game not finished".to_owned(),
    }
}

/// Runs `az play`.
///
/// # Errors
/// [`BadInput`] for a bad target.
pub fn run(args: &PlayArgs) -> anyhow::Result<String> {
    let target = resolve(&args.target, &args.overrides)?;
    let game = target.exp.manifest.game.name.clone();
    let out = with_game(&game, Visit { args, target })
        .map_err(|e: BadInput| anyhow::Error::from(e))??;
    Ok(out)
}
