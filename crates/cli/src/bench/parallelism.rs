//! `az bench parallelism`: what virtual loss costs in strength. At a fixed number
//! of simulations, the trained agent searching with K leaves per pass
//! plays the same agent searching sequentially (K = 1), and their visit
//! distributions are compared on the same positions.

use crate::error::BadInput;
use crate::games::{GameVisitor, with_game};
use crate::target::{load_net, resolve};
use az_arena::{Agent, play_match};
use az_game::Game;
use az_mcts::Evaluator;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// Arguments of `az bench parallelism`.
#[derive(Debug, clap::Args)]
pub struct ParallelismArgs {
    /// A run directory (its newest checkpoint) or a checkpoint file in one.
    pub target: String,
    /// Searches per game (leaves gathered at once per tree) to compare with the
    /// sequential search (comma separated).
    #[arg(long, alias = "leaves", value_delimiter = ',', default_value = "4,16")]
    pub searches: Vec<usize>,
    /// Simulations per move, the same for every K (default: the run's).
    #[arg(long)]
    pub simulations: Option<u32>,
    /// Games per K against the sequential search (pairs share a random opening of 2 plies).
    #[arg(long, default_value_t = 40)]
    pub games: u32,
    /// Positions (from random games) on which the visit distributions are compared.
    #[arg(long, default_value_t = 200)]
    pub positions: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

struct Visit<'a> {
    args: &'a ParallelismArgs,
    target: crate::target::Target,
}

fn visits<G: Game, E: Evaluator<G>>(agent: &mut Agent<E>, p: &G) -> (Vec<f64>, usize) {
    let a = agent
        .analyze(p)
        .expect("a network in this process always answers");
    let mut v = vec![0.0; G::NUM_ACTIONS];
    let total: u32 = a.moves.iter().map(|m| m.visits).sum();
    for m in &a.moves {
        v[m.index] = f64::from(m.visits) / f64::from(total.max(1));
    }
    (
        v,
        p.move_index(a.chosen.expect("a position not over has a move")),
    )
}

impl GameVisitor for Visit<'_> {
    type Output = Result<String, BadInput>;

    fn visit<G: Game>(self) -> Result<String, BadInput> {
        let (args, exp) = (self.args, &self.target.exp);
        let net = load_net::<G>(exp, &self.target.checkpoint)?;
        let base_config = az_run::agent_config(exp, args.simulations);
        let mut config = base_config.clone();
        config.searches_per_game = 1;
        let mut sequential = Agent::with_model(az_run::NetModel(net.clone()), config);
        let mut rng = SmallRng::seed_from_u64(7);
        let mut positions = Vec::new();
        while positions.len() < args.positions {
            let plies = rng.random_range(2..G::MAX_GAME_LENGTH / 2);
            let mut p = G::new();
            while p.ply() < plies && !p.is_terminal() {
                let m = p.legal_moves();
                p.apply_unchecked(m[rng.random_range(0..m.len())]);
            }
            if !p.is_terminal() {
                positions.push(p);
            }
        }
        let reference: Vec<(Vec<f64>, usize)> = positions
            .iter()
            .map(|p| visits(&mut sequential, p))
            .collect();
        let mut rows = Vec::new();
        for &k in &args.searches {
            let mut config = base_config.clone();
            config.searches_per_game = k.max(1);
            let mut parallel = Agent::with_model(az_run::NetModel(net.clone()), config);
            let mut tv = 0.0;
            let mut changed = 0;
            for (p, (ref_v, ref_best)) in positions.iter().zip(&reference) {
                let (v, best) = visits(&mut parallel, p);
                tv += 0.5 * v.iter().zip(ref_v).map(|(a, b)| (a - b).abs()).sum::<f64>();
                changed += usize::from(best != *ref_best);
            }
            let r = play_match::<G>(&mut parallel, &mut sequential, args.games, 2, 11);
            rows.push(serde_json::json!({
                "searches_per_game": k,
                "wins": r.wins, "draws": r.draws, "losses": r.losses, "games": r.games,
                "score": r.score(), "elo": az_arena::elo_difference(&r),
                "mean_total_variation": tv / positions.len() as f64,
                "best_move_changed": changed as f64 / positions.len() as f64,
            }));
        }
        let sims = base_config.simulations;
        Ok(if args.json {
            serde_json::json!({
                "bench": "parallelism", "game": G::NAME,
                "checkpoint": self.target.checkpoint.display().to_string(),
                "simulations": sims, "positions": positions.len(), "against_searches_per_game_1": rows,
            })
            .to_string()
        } else {
            let mut s = format!(
                "{} at {sims} simulations, K searches per game vs K = 1 ({} positions, {} games each):",
                G::NAME,
                positions.len(),
                args.games
            );
            for r in rows {
                s.push_str(&format!(
                    "\n  K = {:>2}: score {:.3} (+{}={}-{}), Elo {:+.0}; visit distributions differ by {:.3} (total variation), best move differs in {:.1}%",
                    r["searches_per_game"], r["score"].as_f64().unwrap_or(0.0), r["wins"], r["draws"], r["losses"],
                    r["elo"].as_f64().unwrap_or(0.0), r["mean_total_variation"].as_f64().unwrap_or(0.0),
                    100.0 * r["best_move_changed"].as_f64().unwrap_or(0.0)
                ));
            }
            s
        })
    }
}

/// Runs the bench.
///
/// # Errors
/// [`BadInput`] for a bad target.
pub fn run(args: &ParallelismArgs) -> Result<String, BadInput> {
    let target = resolve(&args.target, &[])?;
    let game = target.exp.manifest.game.name.clone();
    with_game(&game, Visit { args, target })?
}
