//! `az bench playouts`: random-playout speed of a game's move generator.

use super::parse_seconds;
use crate::games::GameVisitor;
use az_game::{Game, random_playout};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::time::{Duration, Instant};

/// Arguments of `az bench playouts`.
#[derive(Debug, clap::Args)]
pub struct PlayoutArgs {
    /// Game name (see `az list`).
    #[arg(long)]
    pub game: String,
    /// How long to measure, in seconds (after a short warm-up).
    #[arg(long, default_value_t = 3.0, value_parser = parse_seconds)]
    pub seconds: f64,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Result of a playout benchmark.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayoutReport {
    /// Moves played per second.
    pub moves_per_sec: f64,
    /// Games finished per second.
    pub games_per_sec: f64,
    /// Mean number of moves per game.
    pub mean_length: f64,
    /// Measured wall time.
    pub seconds: f64,
}

/// Plays random games from the start for about `seconds` and reports the rates.
pub fn playouts<G: Game>(seconds: f64, seed: u64) -> PlayoutReport {
    let start = G::new();
    let mut rng = SmallRng::seed_from_u64(seed);
    let run = |rng: &mut SmallRng, budget: Duration| {
        let (mut games, mut moves) = (0u64, 0u64);
        let t0 = Instant::now();
        // Check the clock once per 64 games so timing stays off the loop.
        while t0.elapsed() < budget {
            for _ in 0..64 {
                let (end, n) = random_playout(&start, rng);
                std::hint::black_box(end);
                moves += n as u64;
                games += 1;
            }
        }
        (games, moves, t0.elapsed().as_secs_f64())
    };
    run(&mut rng, Duration::from_secs_f64((seconds / 10.0).min(0.5)));
    let (games, moves, elapsed) = run(&mut rng, Duration::from_secs_f64(seconds));
    PlayoutReport {
        moves_per_sec: moves as f64 / elapsed,
        games_per_sec: games as f64 / elapsed,
        mean_length: moves as f64 / games as f64,
        seconds: elapsed,
    }
}

pub(super) struct Playouts<'a>(pub &'a PlayoutArgs);

impl GameVisitor for Playouts<'_> {
    type Output = String;
    fn visit<G: Game>(self) -> String {
        let r = playouts::<G>(self.0.seconds, self.0.seed);
        if self.0.json {
            serde_json::json!({
                "bench": "playouts", "game": G::NAME, "moves_per_sec": r.moves_per_sec,
                "games_per_sec": r.games_per_sec, "mean_length": r.mean_length,
                "seconds": r.seconds, "threads": 1,
            })
            .to_string()
        } else {
            format!(
                "{} random playouts, 1 thread: {:.2} M moves/s, {:.0} games/s, {:.1} moves/game ({:.1} s)",
                G::NAME,
                r.moves_per_sec / 1e6,
                r.games_per_sec,
                r.mean_length,
                r.seconds
            )
        }
    }
}
