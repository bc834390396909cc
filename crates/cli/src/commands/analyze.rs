//! `az analyze`: the agent's search on positions read from stdin, one line each
//! (an empty line is the initial position). A line that is not a legal position
//! still gets its answer (an error: on stderr, or as a JSON object with `error`);
//! the exit code is 2 if any line failed.

use crate::error::BadInput;
use crate::games::{GameVisitor, with_game};
use crate::target::{load_net, resolve};
use az_arena::Agent;
use az_game::Game;
use az_mcts::MoveResult;
use std::io::{BufRead, Write};

/// Arguments of `az analyze`.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// A run directory (its newest checkpoint) or a checkpoint file in one.
    pub target: String,
    /// Simulations per position (default: the run's `mcts.simulations`; 0 = the policy alone).
    #[arg(long)]
    pub simulations: Option<u32>,
    /// Override a manifest value: `--set section.key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// One JSON object per line (the default output is text).
    #[arg(long)]
    pub json: bool,
}

/// The analysis of `p` (a position not over) as one JSON object.
pub fn analysis_json<G: Game>(text: &str, p: &G, a: &MoveResult<G::Move>) -> serde_json::Value {
    let moves: Vec<serde_json::Value> = a
        .moves
        .iter()
        .map(|m| {
            serde_json::json!({"move": p.format_move(m.mv), "visits": m.visits, "prior": m.prior, "q": m.q})
        })
        .collect();
    let mut q = p.clone();
    let pv: Vec<String> =
        a.pv.iter()
            .map_while(|&mv| {
                let s = q.format_move(mv);
                q.apply_unchecked(mv);
                Some(s)
            })
            .collect();
    serde_json::json!({
        "position": text, "best": a.chosen.map(|mv| p.format_move(mv)), "value": a.value, "moves": moves, "pv": pv,
    })
}

struct Visit<'a> {
    args: &'a AnalyzeArgs,
    target: crate::target::Target,
}

impl GameVisitor for Visit<'_> {
    type Output = anyhow::Result<()>;

    fn visit<G: Game>(self) -> anyhow::Result<()> {
        let exp = &self.target.exp;
        let config = az_run::agent_config(exp, self.args.simulations);
        let mut agent = Agent::with_model(
            az_run::NetModel(load_net::<G>(exp, &self.target.checkpoint)?),
            config,
        );
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let mut lines = 0;
        let mut failed: Vec<usize> = Vec::new();
        for (i, line) in std::io::stdin().lock().lines().enumerate() {
            let line = line?;
            let text = line.trim();
            lines += 1;
            let p = match position::<G>(i, &line) {
                Ok(p) => p,
                Err(e) => {
                    // One bad line does not stop the others; the exit code tells.
                    failed.push(i + 1);
                    if self.args.json {
                        let v = serde_json::json!({"position": text, "line": i + 1, "error": e.0});
                        writeln!(out, "{v}")?;
                    } else {
                        eprintln!("{e}");
                    }
                    out.flush()?;
                    continue;
                }
            };
            let a = agent.analyze(&p)?;
            if self.args.json {
                writeln!(out, "{}", analysis_json(text, &p, &a))?;
            } else {
                writeln!(out, "{}", analysis_text(text, &p, &a))?;
            }
            out.flush()?;
        }
        match failed.first() {
            None => Ok(()),
            Some(first) => Err(BadInput(format!(
                "{} of {lines} stdin lines could not be analyzed (the first: line {first})",
                failed.len()
            ))
            .into()),
        }
    }
}

/// The position on stdin line `index` (0-based; empty: the initial position),
/// if it is legal and not over.
fn position<G: Game>(index: usize, line: &str) -> Result<G, BadInput> {
    let p: G = super::stdin_position(index, line)?;
    if p.is_terminal() {
        return Err(BadInput(format!(
            "stdin line {}: the game is over after {:?}; nothing to analyze",
            index + 1,
            line.trim()
        )));
    }
    Ok(p)
}

/// One line of text: the best move, the value and the three most visited moves.
fn analysis_text<G: Game>(text: &str, p: &G, a: &MoveResult<G::Move>) -> String {
    let best = a.chosen.expect("a position not over has a move");
    let top: Vec<String> = a
        .moves
        .iter()
        .take(3)
        .map(|m| format!("{} {} visits q {:+.2}", p.format_move(m.mv), m.visits, m.q))
        .collect();
    let label = if text.is_empty() { "(start)" } else { text };
    format!(
        "{label}: best {} value {:+.3} ({})",
        p.format_move(best),
        a.value,
        top.join(", ")
    )
}

/// Runs `az analyze`.
///
/// # Errors
/// [`BadInput`] for a bad target or an illegal position line.
pub fn run(args: &AnalyzeArgs) -> anyhow::Result<String> {
    let target = resolve(&args.target, &args.overrides)?;
    let game = target.exp.manifest.game.name.clone();
    with_game(&game, Visit { args, target })??;
    Ok(String::new())
}
