//! `az solve <game>`: exact values of positions read from stdin, for games with an
//! oracle; or, with `--sample <phase>`, test positions for mistake rates solved
//! ahead of time (the lines of [`az_game::Oracle::known_positions`]).

use crate::error::BadInput;
use crate::games::{GameVisitor, with_game};
use az_arena::{Phase, PositionSampler, position_line};
use az_game::{Game, Oracle};
use std::io::{BufRead, Write};

/// Arguments of `az solve`.
#[derive(Debug, clap::Args)]
pub struct SolveArgs {
    /// Game name (one with an oracle: tictactoe, connect4).
    pub game: String,
    /// One JSON object per line: `{"position", "score", "best_moves"}`.
    #[arg(long)]
    pub json: bool,
    /// Read nothing; print test positions of this phase from random games, each
    /// with the moves that are not mistakes: `<phase> <moves> <good moves...>`.
    #[arg(long, value_name = "PHASE", value_parser = ["opening", "middle", "end"])]
    pub sample: Option<String>,
    /// With --sample: how many distinct positions.
    #[arg(long, default_value_t = 100, requires = "sample")]
    pub count: usize,
    /// With --sample: seed of the random games.
    #[arg(long, default_value_t = 1, requires = "sample")]
    pub seed: u64,
    /// With --sample: only positions with at least this many plies (the phase's
    /// earliest positions can take the solver minutes each).
    #[arg(long, default_value_t = 0, requires = "sample")]
    pub min_ply: usize,
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
        if let Some(phase) = &self.args.sample {
            let phase = Phase::from_name(phase).expect("clap checks the phase");
            return sample::<G>(oracle.as_mut(), phase, self.args, self.output);
        }
        for (i, line) in self.input.lines().enumerate() {
            let line = line?;
            let p: G = super::stdin_position(i, &line)?;
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

/// Prints `args.count` distinct test positions of `phase` (fewer if random games
/// rarely reach new ones), each as soon as it is solved.
fn sample<G: Game>(
    oracle: &mut dyn Oracle<G>,
    phase: Phase,
    args: &SolveArgs,
    output: &mut dyn Write,
) -> anyhow::Result<()> {
    let (first, to) = phase.plies::<G>();
    let from = first.max(args.min_ply);
    if from >= to {
        return Err(BadInput(format!(
            "--min-ply {}: the {} of {} is plies {first} to {}",
            args.min_ply,
            phase.name(),
            G::NAME,
            to - 1
        ))
        .into());
    }
    let mut sampler = PositionSampler::new(args.seed, from..to);
    let mut found = 0;
    while found < args.count && sampler.tries < args.count.saturating_mul(1000) {
        if let Some(t) = sampler.try_one(oracle) {
            writeln!(output, "{}", position_line::<G>(phase, &t.moves, &t.good))?;
            output.flush()?;
            found += 1;
        }
    }
    Ok(())
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
