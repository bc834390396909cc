//! `az solve <game>`: exact values of positions read from stdin, for games with an oracle.

use crate::error::BadInput;
use crate::games::{GameVisitor, with_game};
use az_game::Game;
use std::io::{BufRead, Write};

/// Arguments of `az solve`.
#[derive(Debug, clap::Args)]
pub struct SolveArgs {
    /// Game name (one with an oracle: tictactoe, connect4).
    pub game: String,
    /// One JSON object per line: `{"position", "score", "best_moves"}`.
    #[arg(long)]
    pub json: bool,
}

struct Solve<'a> {
    args: &'a SolveArgs,
    input: &'a mut dyn BufRead,
    output: &'a mut dyn Write,
}

impl GameVisitor for Solve<'_> {
    type Output = anyhow::Result<()>;

    fn visit<G: Game>(self) -> anyhow::Result<()> {
        let Some(mut oracle) = G::oracle() else {
            return Err(BadInput(format!(
                "{} has no oracle; az solve knows tictactoe and connect4",
                G::NAME
            ))
            .into());
        };
        for (i, line) in self.input.lines().enumerate() {
            let line = line?;
            let Some(p) = super::stdin_position::<G>(i, &line)? else {
                continue;
            };
            let text = line.trim();
            let (score, best) = if p.is_terminal() {
                (oracle.terminal_score(&p), Vec::new())
            } else {
                let scores = oracle.move_scores(&p);
                let top = scores.iter().map(|s| s.1).max().unwrap_or(0);
                let best: Vec<String> = scores
                    .iter()
                    .filter(|s| s.1 == top)
                    .map(|s| p.format_move(s.0))
                    .collect();
                (top, best)
            };
            if self.args.json {
                let v = serde_json::json!({"position": text, "score": score, "best_moves": best});
                writeln!(self.output, "{v}")?;
            } else {
                writeln!(self.output, "{text} {score} {}", best.join(","))?;
            }
            self.output.flush()?;
        }
        Ok(())
    }
}

/// Runs `az solve`, reading stdin and writing stdout as it goes.
///
/// # Errors
/// [`BadInput`] for an unknown game, a game without an oracle, or a line that is
/// not a legal sequence of moves (naming the line and the move).
pub fn run(args: &SolveArgs) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut output = stdout.lock();
    with_game(
        &args.game,
        Solve {
            args,
            input: &mut input,
            output: &mut output,
        },
    )??;
    Ok(String::new())
}
