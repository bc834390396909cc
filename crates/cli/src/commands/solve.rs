//! `az solve <game>`: exact values of positions read from stdin, for games with an
//! oracle (an empty line is the initial position); or, with `--sample <phase>`,
//! test positions for mistake rates solved ahead of time (the lines of
//! [`az_game::Oracle::known_positions`]); or, with `--write-book`, connect4's
//! opening book.
//!
//! A line's moves are solved on `--threads` threads, each with its own oracle
//! (its own table); a line that takes more than a second says on stderr which
//! moves are being solved, every few seconds.

use crate::error::BadInput;
use crate::games::{GameVisitor, with_game};
use az_arena::{Phase, PositionSampler, position_line};
use az_game::{Game, Oracle};
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

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
    /// Read nothing; solve every connect4 position up to --plies stones and
    /// write them to FILE as an opening book (the one shipped is
    /// games/connect4/positions/book.bin; progress on stderr).
    #[arg(long, value_name = "FILE", conflicts_with = "sample")]
    pub write_book: Option<std::path::PathBuf>,
    /// With --write-book: the book's last ply (see docs/PERFORMANCE.md for how
    /// long 5 took).
    #[arg(long, default_value_t = 5, requires = "write_book")]
    pub plies: usize,
    /// Threads solving a line's moves (or the book's positions), each with its
    /// own oracle (connect4: a 64 MB table each, 256 MB when writing the book).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub threads: u32,
    /// Seconds a line may take before progress is reported on stderr.
    #[arg(long, default_value_t = 1.0, hide = true)]
    pub progress_after: f64,
}

struct Solve<'a> {
    args: &'a SolveArgs,
    input: &'a mut dyn BufRead,
    output: &'a mut dyn Write,
    progress: &'a mut dyn Write,
}

impl GameVisitor for Solve<'_> {
    type Output = anyhow::Result<()>;

    fn visit<G: Game>(self) -> anyhow::Result<()> {
        let Some(oracle) = G::oracle() else {
            return Err(BadInput(format!(
                "{} has no oracle; az solve knows tictactoe and connect4",
                G::NAME
            ))
            .into());
        };
        let mut oracles = vec![oracle];
        if let Some(phase) = &self.args.sample {
            let phase = Phase::from_name(phase).expect("clap checks the phase");
            return sample::<G>(oracles[0].as_mut(), phase, self.args, self.output);
        }
        while oracles.len() < self.args.threads as usize {
            oracles.push(G::oracle().expect("the game has an oracle"));
        }
        let progress_after = Duration::from_secs_f64(self.args.progress_after.max(0.0));
        for (i, line) in self.input.lines().enumerate() {
            let line = line?;
            let p: G = super::stdin_position(i, &line)?;
            let text = line.trim();
            let (score, best) = if p.is_terminal() {
                (oracles[0].terminal_score(&p), Vec::new())
            } else {
                let label = format!("line {} `{text}`", i + 1);
                let scores = move_scores(&mut oracles, &p, &label, progress_after, self.progress)?;
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

/// Every legal move of `p` (not over) with the score it gets the player to
/// move, solved on one thread per oracle; once the line has taken
/// `progress_after`, says on `progress` every few seconds how far it is.
fn move_scores<G: Game>(
    oracles: &mut [Box<dyn Oracle<G>>],
    p: &G,
    label: &str,
    progress_after: Duration,
    progress: &mut dyn Write,
) -> anyhow::Result<Vec<(G::Move, i32)>> {
    let moves: Vec<G::Move> = p.legal_moves().to_vec();
    let me = p.to_move();
    let next = AtomicUsize::new(0);
    let mut scores: Vec<Option<i32>> = vec![None; moves.len()];
    let t0 = Instant::now();
    let mut reported = false;
    std::thread::scope(|s| -> anyhow::Result<()> {
        let (tx, rx) = mpsc::channel::<(usize, i32)>();
        for oracle in oracles.iter_mut().take(moves.len()) {
            let (tx, next, moves) = (tx.clone(), &next, &moves);
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&mv) = moves.get(i) else { break };
                    let mut child = p.clone();
                    child.apply_unchecked(mv);
                    let v = oracle.score(&child);
                    let v = if child.to_move() == me { v } else { -v };
                    if tx.send((i, v)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut last: Option<Instant> = None;
        let mut done = 0;
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok((i, v)) => {
                    scores[i] = Some(v);
                    done += 1;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if done < moves.len()
                && t0.elapsed() >= progress_after
                && last.is_none_or(|t| t.elapsed() >= Duration::from_secs(3))
            {
                last = Some(Instant::now());
                reported = true;
                let started = next.load(Ordering::Relaxed).min(moves.len());
                let solving: Vec<String> = (0..started)
                    .filter(|&i| scores[i].is_none())
                    .map(|i| p.format_move(moves[i]))
                    .collect();
                writeln!(
                    progress,
                    "az solve: {label}: {done} of {} moves solved, solving {}, {:.1} s",
                    moves.len(),
                    solving.join(" "),
                    t0.elapsed().as_secs_f64()
                )?;
            }
        }
        Ok(())
    })?;
    if reported {
        writeln!(
            progress,
            "az solve: {label}: solved in {:.1} s",
            t0.elapsed().as_secs_f64()
        )?;
    }
    Ok(moves
        .into_iter()
        .zip(scores)
        .map(|(m, v)| (m, v.expect("every move is solved")))
        .collect())
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
    if let Some(path) = &args.write_book {
        return write_book(args, path);
    }
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
            progress: &mut std::io::stderr(),
        },
    )??;
    Ok(String::new())
}

/// Table of each thread's search when writing the book: 2^25 entries, 256 MB.
const BOOK_TABLE: usize = 1 << 25;

/// `az solve connect4 --write-book FILE --plies N`: solves the book and writes
/// it atomically, with progress on stderr every 10 s.
fn write_book(args: &SolveArgs, path: &std::path::Path) -> anyhow::Result<String> {
    if args.game != az_connect4::Connect4::NAME {
        return Err(BadInput(format!(
            "--write-book is for connect4 (its opening book), not {}",
            args.game
        ))
        .into());
    }
    if args.plies > 12 {
        return Err(BadInput(format!(
            "--plies {}: a book past 12 plies would take years to solve here",
            args.plies
        ))
        .into());
    }
    let t0 = std::time::Instant::now();
    let mut last = t0;
    let mut solvers: Vec<az_connect4::Solver> = (0..args.threads)
        .map(|_| az_connect4::Solver::without_book(BOOK_TABLE))
        .collect();
    let book = az_connect4::book::generate(args.plies, &mut solvers, &mut |p| {
        if last.elapsed().as_secs_f64() >= 10.0 || p.solved == p.total {
            last = std::time::Instant::now();
            eprintln!(
                "az solve: book ply {}: {} of {} positions solved, {}",
                args.plies,
                p.solved,
                p.total,
                minutes(t0.elapsed().as_secs_f64())
            );
        }
    });
    let bytes = book.to_bytes();
    az_record::write_atomic(path, &bytes)?;
    Ok(format!(
        "wrote {}: {} positions up to ply {}, {} bytes, in {} ({} positions searched)",
        path.display(),
        book.len(),
        book.plies(),
        bytes.len(),
        minutes(t0.elapsed().as_secs_f64()),
        solvers.iter().map(az_connect4::Solver::nodes).sum::<u64>()
    ))
}

fn minutes(secs: f64) -> String {
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else {
        format!("{} min {:02} s", (secs / 60.0) as u64, secs as u64 % 60)
    }
}
