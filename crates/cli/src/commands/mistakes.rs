//! `az mistakes`: a trained agent's mistake rates per game phase against the
//! game's oracle, on the positions its run's evaluations use.

use crate::error::BadInput;
use crate::games::{GameVisitor, with_game};
use crate::target::{Target, load_net, resolve};
use az_arena::Agent;
use az_game::Game;

/// Arguments of `az mistakes`.
#[derive(Debug, clap::Args)]
pub struct MistakesArgs {
    /// A run directory (its newest checkpoint) or a checkpoint file in one.
    pub target: String,
    /// Simulations per move of the search (default: the run's `mcts.simulations`).
    #[arg(long)]
    pub simulations: Option<u32>,
    /// Positions per phase (default: the run's `eval.mistake_positions`).
    #[arg(long)]
    pub positions: Option<usize>,
    /// Override a manifest value: `--set section.key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

struct Visit<'a> {
    args: &'a MistakesArgs,
    target: Target,
}

impl GameVisitor for Visit<'_> {
    type Output = Result<String, BadInput>;

    fn visit<G: Game>(self) -> Result<String, BadInput> {
        let (args, exp) = (self.args, &self.target.exp);
        let per_phase = args
            .positions
            .unwrap_or(exp.manifest.eval.mistake_positions);
        if per_phase == 0 {
            return Err(BadInput("--positions must be at least 1".to_owned()));
        }
        let sets = az_run::mistake_sets::<G>(exp, per_phase).ok_or_else(|| {
            BadInput(format!(
                "{} has no oracle to count mistakes against (tictactoe and connect4 do)",
                G::NAME
            ))
        })?;
        let net = load_net::<G>(exp, &self.target.checkpoint)?;
        let config = az_run::agent_config(exp, args.simulations);
        let simulations = config.simulations;
        let mut agent = Agent::with_model(az_run::NetModel(net.clone()), config);
        let m = az_run::net_mistakes(exp, &net, &mut agent, &sets);
        let checkpoint = self.target.checkpoint.display().to_string();
        let phases = sets.iter().enumerate().map(|(i, s)| (s.phase.name(), i));
        Ok(if args.json {
            let phases: Vec<serde_json::Value> = phases
                .map(|(name, i)| {
                    serde_json::json!({
                        "phase": name, "positions": m.search.positions[i],
                        "policy": finite(m.policy.rates[i]), "value": finite(m.value.rates[i]),
                        "search": finite(m.search.rates[i]),
                    })
                })
                .collect();
            serde_json::json!({
                "game": G::NAME, "checkpoint": checkpoint, "simulations": simulations,
                "phases": phases,
            })
            .to_string()
        } else {
            let mut out = format!(
                "{checkpoint}: mistakes (a move that worsens the exact result), policy alone / value alone (one ply) / search with {simulations} simulations"
            );
            for (name, i) in phases {
                out.push_str(&format!(
                    "\n  {name:8} {:5.1} % / {:5.1} % / {:5.1} %  ({} positions)",
                    100.0 * m.policy.rates[i],
                    100.0 * m.value.rates[i],
                    100.0 * m.search.rates[i],
                    m.search.positions[i]
                ));
            }
            out
        })
    }
}

/// A rate for JSON: `null` for a phase without positions (NaN).
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Runs `az mistakes`.
///
/// # Errors
/// [`BadInput`] for a bad target or argument, or a game without an oracle.
pub fn run(args: &MistakesArgs) -> Result<String, BadInput> {
    let target = resolve(&args.target, &args.overrides)?;
    let game = target.exp.manifest.game.name.clone();
    with_game(&game, Visit { args, target })?
}
