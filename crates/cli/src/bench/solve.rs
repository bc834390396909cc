//! `az bench solve`: the connect4 oracle's speed on random positions of a ply range
//! (each from an empty table; the opening book answers its plies at once unless
//! `--no-book`).

use az_connect4::{Connect4, Solver};
use az_game::Game;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use std::time::Instant;

/// Arguments of `az bench solve`.
#[derive(Debug, clap::Args)]
pub struct SolveArgs {
    /// Smallest ply (stones on the board) of the positions.
    #[arg(long, default_value_t = 14)]
    pub from_ply: usize,
    /// Largest ply of the positions.
    #[arg(long, default_value_t = 20)]
    pub to_ply: usize,
    /// Number of positions (random games, seeded, never over).
    #[arg(long, default_value_t = 50)]
    pub positions: usize,
    /// Only the result (win / draw / loss), as mistake rates need, not the exact score.
    #[arg(long)]
    pub weak: bool,
    /// Search every position (connect4's opening book answers the positions of
    /// its plies at once, and bounds those one ply past it).
    #[arg(long)]
    pub no_book: bool,
    /// Seed of the random games.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs the bench and formats the report.
pub fn run(args: &SolveArgs) -> Result<String, crate::error::BadInput> {
    if args.to_ply > 41 {
        return Err(crate::error::BadInput(format!(
            "--to-ply {} is past the last move (41 at most)",
            args.to_ply
        )));
    }
    if args.from_ply > args.to_ply {
        return Err(crate::error::BadInput(format!(
            "--from-ply {} is above --to-ply {}",
            args.from_ply, args.to_ply
        )));
    }
    let mut rng = SmallRng::seed_from_u64(args.seed);
    let (mut solver, book) = if args.no_book {
        (Solver::without_book(1 << 23), 0)
    } else {
        (Solver::default(), az_connect4::book::shipped().plies())
    };
    let mut times = Vec::new();
    let mut nodes = 0;
    while times.len() < args.positions {
        let ply = rng.random_range(args.from_ply..=args.to_ply);
        let mut p = Connect4::new();
        while p.ply() < ply && !p.is_terminal() {
            let moves = p.legal_moves();
            p.apply_unchecked(moves[rng.random_range(0..moves.len())]);
        }
        if p.is_terminal() {
            continue;
        }
        // Each position from an empty table, so positions do not help each other.
        solver.clear();
        let n0 = solver.nodes();
        let t0 = Instant::now();
        let _ = if args.weak {
            solver.solve_result(&p)
        } else {
            solver.solve(&p)
        };
        times.push(t0.elapsed().as_secs_f64());
        nodes += solver.nodes() - n0;
    }
    let total: f64 = times.iter().sum();
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let max = times[times.len() - 1];
    let mean = total / times.len() as f64;
    let nps = nodes as f64 / total.max(1e-9);
    Ok(if args.json {
        serde_json::json!({
            "bench": "solve", "game": "connect4", "from_ply": args.from_ply, "to_ply": args.to_ply,
            "positions": args.positions, "weak": args.weak, "book_plies": book, "mean_seconds": mean,
            "median_seconds": median, "max_seconds": max, "nodes_per_sec": nps,
        })
        .to_string()
    } else {
        format!(
            "connect4 solver, {} positions at plies {}..={} ({}, {}): mean {:.4} s, median {:.4} s, max {:.3} s, {:.2} M nodes/s",
            args.positions,
            args.from_ply,
            args.to_ply,
            if args.weak {
                "result only"
            } else {
                "exact score"
            },
            if book == 0 {
                "no book".to_string()
            } else {
                format!("book of {book} plies")
            },
            mean,
            median,
            max,
            nps / 1e6
        )
    })
}
