//! `az eval`: a match of a trained agent against an opponent.

use crate::error::BadInput;
use crate::games::{GameVisitor, with_game};
use crate::target::{load_net, resolve};
use az_arena::{Agent, OpponentSpec, elo_difference, match_openings, play_match};
use az_game::Game;

/// Arguments of `az eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// A run directory (its newest checkpoint) or a checkpoint file in one.
    pub target: String,
    /// `random`, `perfect` (games with an oracle), `mcts:N`, or another checkpoint (.azck).
    #[arg(long)]
    pub opponent: String,
    /// Games, half with each colour.
    #[arg(long, default_value_t = 100)]
    pub games: u32,
    /// Simulations per move of the agent (default: the run's `mcts.simulations`).
    #[arg(long)]
    pub simulations: Option<u32>,
    /// Random plies at the start of each pair of games (0: from the initial
    /// position). Default: 2 against a checkpoint (two deterministic agents would
    /// replay the same two games), 0 otherwise.
    #[arg(long)]
    pub opening_plies: Option<usize>,
    /// Seed of the opponents and openings.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Override a manifest value: `--set section.key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

struct Visit<'a> {
    args: &'a EvalArgs,
    target: crate::target::Target,
    opponent: OpponentSpec,
}

impl GameVisitor for Visit<'_> {
    type Output = Result<String, BadInput>;

    fn visit<G: Game>(self) -> Result<String, BadInput> {
        let (args, exp) = (self.args, &self.target.exp);
        let config = az_run::agent_config(exp, args.simulations);
        let mut agent = Agent::with_model(
            az_run::NetModel(load_net::<G>(exp, &self.target.checkpoint)?),
            config.clone(),
        );
        let checkpoint_opponent = matches!(self.opponent, OpponentSpec::Checkpoint(_));
        let opening_plies = args
            .opening_plies
            .unwrap_or(if checkpoint_opponent { 2 } else { 0 });
        let result = match &self.opponent {
            OpponentSpec::Checkpoint(path) => {
                let other = resolve(path, &args.overrides)?;
                let net = load_net::<G>(&other.exp, &other.checkpoint)?;
                let mut other = Agent::with_model(az_run::NetModel(net), config);
                play_match::<G>(&mut agent, &mut other, args.games, opening_plies, args.seed)
            }
            OpponentSpec::Perfect if G::oracle().is_none() => {
                return Err(BadInput(format!(
                    "--opponent perfect: {} has no oracle (tictactoe and connect4 do)",
                    G::NAME
                )));
            }
            OpponentSpec::Previous => {
                return Err(BadInput(
                    "--opponent previous only means something inside a run; give a checkpoint file"
                        .to_owned(),
                ));
            }
            spec => {
                let mut player = az_run::baseline::<G>(spec, args.seed);
                play_match::<G>(
                    &mut agent,
                    player.as_mut(),
                    args.games,
                    opening_plies,
                    args.seed,
                )
            }
        };
        let elo = elo_difference(&result);
        let lost_at_start = (matches!(self.opponent, OpponentSpec::Perfect) && opening_plies > 0)
            .then(|| lost_at_start::<G>(args.games, opening_plies, args.seed));
        Ok(if args.json {
            serde_json::json!({
                "game": G::NAME, "checkpoint": self.target.checkpoint.display().to_string(),
                "opponent": self.opponent.to_string(), "wins": result.wins, "draws": result.draws,
                "losses": result.losses, "games": result.games,
                "losses_as_first": result.losses_as_first, "losses_as_second": result.losses_as_second,
                "score": result.score(), "elo": elo, "opening_plies": opening_plies,
                "lost_at_start": lost_at_start,
            })
            .to_string()
        } else {
            let mut out = format!(
                "{} vs {}: {} wins, {} draws, {} losses of {} (lost {} as first, {} as second); Elo difference {elo:+.0}",
                self.target.checkpoint.display(),
                self.opponent,
                result.wins,
                result.draws,
                result.losses,
                result.games,
                result.losses_as_first,
                result.losses_as_second
            );
            if let Some(n) = lost_at_start {
                out.push_str(&format!(
                    "\n{n} of the {} games began in a position already lost for the agent \
                     (the {opening_plies} random opening plies); the perfect player wins those",
                    result.games
                ));
            }
            out
        })
    }
}

/// How many games of a match (`games`, `opening_plies`, `seed`) start from a
/// position lost for the agent: each opening is played once by each side, so a
/// decided one is lost at the start for one of them.
fn lost_at_start<G: Game>(games: u32, opening_plies: usize, seed: u64) -> u32 {
    let Some(mut oracle) = G::oracle() else {
        return 0;
    };
    let mut lost = 0;
    for (i, start) in match_openings::<G>(games, opening_plies, seed)
        .iter()
        .enumerate()
    {
        // Game 2i: the agent moves first at `start`; game 2i + 1 (if any): second.
        match oracle.result(start) {
            -1 => lost += 1,
            1 if 2 * i as u32 + 1 < games => lost += 1,
            _ => {}
        }
    }
    lost
}

/// Runs `az eval`.
///
/// # Errors
/// [`BadInput`] for a bad target, opponent or argument.
pub fn run(args: &EvalArgs) -> Result<String, BadInput> {
    let opponent =
        OpponentSpec::parse(&args.opponent).map_err(|e| BadInput(format!("--opponent: {e}")))?;
    if args.games == 0 {
        return Err(BadInput("--games must be at least 1".to_owned()));
    }
    let target = resolve(&args.target, &args.overrides)?;
    let game = target.exp.manifest.game.name.clone();
    with_game(
        &game,
        Visit {
            args,
            target,
            opponent,
        },
    )?
}
