//! Evaluation during a run, on its own thread: matches against the manifest's
//! opponents, the Elo ladder against the previous evaluation, and mistake rates
//! against the game's oracle. The trainer hands over a snapshot of the weights and
//! goes on; the report comes back on a channel.

use crate::NetModel;
use crate::config::{agent_config, eval_agent_config};
use az_arena::{
    Agent, MatchResult, MistakeRates, OpponentSpec, PerfectPlayer, PhasePositions, Player,
    RandomPlayer, ValuePlayer, elo_difference, mistake_rates, parse_position_lines,
    phase_positions, play_match,
};
use az_experiment::{Experiment, ManifestError};
use az_game::Game;
use az_infer::ModelEvaluator;
use az_mcts::SearchConfig;
use az_model::InferenceNet;
use flume::{Receiver, Sender};
use std::thread::JoinHandle;
use std::time::Instant;

/// Results of one evaluation.
#[derive(Clone, Debug)]
pub struct EvalReport {
    /// Training step of the weights evaluated.
    pub step: u64,
    /// Seconds into the run (all sessions) when those weights were taken.
    pub at_seconds: f64,
    /// Per opponent: its name, the result, the Elo difference it implies.
    pub matches: Matches,
    /// Ladder Elo: the previous evaluation's plus the difference against it (0 at
    /// the first evaluation); `None` without `previous` among the opponents.
    pub elo: Option<f64>,
    /// Mistake rates of the network's heads alone and of the full search.
    pub mistakes: Option<NetMistakes>,
    /// Seconds it took.
    pub seconds: f64,
}

/// Mixed into the run's seed for evaluation games and mistake positions.
const EVAL_SEED: u64 = 0x0e7a_1000;

/// Solving time allowed per game phase when the mistake positions are chosen.
const PHASE_BUDGET: std::time::Duration = std::time::Duration::from_secs(60);

struct Job {
    step: u64,
    at_seconds: f64,
    net: InferenceNet,
}

/// The evaluation thread.
#[derive(Debug)]
pub struct EvalThread {
    jobs: Option<Sender<Job>>,
    reports: Receiver<EvalReport>,
    handle: Option<JoinHandle<()>>,
    busy: bool,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Job({})", self.step)
    }
}

/// The opponents of `exp`, checked against game `G`.
///
/// # Errors
/// [`ManifestError::Invalid`] for `perfect` in a game without an oracle.
pub fn opponents<G: Game>(exp: &Experiment) -> Result<Vec<OpponentSpec>, ManifestError> {
    let mut out = Vec::new();
    for (i, o) in exp.manifest.eval.opponents.iter().enumerate() {
        let invalid = |allowed: &str| ManifestError::Invalid {
            path: exp.path.clone(),
            key: format!("eval.opponents[{i}]"),
            value: format!("{o:?}"),
            allowed: allowed.to_owned(),
        };
        let spec = OpponentSpec::parse(o).map_err(|e| invalid(&e.to_string()))?;
        if spec == OpponentSpec::Perfect && G::oracle().is_none() {
            return Err(invalid(&format!(
                "an opponent {} has: {} has no oracle, so no \"perfect\"",
                G::NAME,
                G::NAME
            )));
        }
        out.push(spec);
    }
    Ok(out)
}

impl EvalThread {
    /// Starts the thread for game `G` with `exp`'s opponents (checked by
    /// [`opponents`]). `previous`: the weights and Elo the ladder goes on from (a
    /// resumed run), or `None` to start it at 0.
    pub fn start<G: Game>(
        exp: &Experiment,
        opponents: Vec<OpponentSpec>,
        previous: Option<(InferenceNet, f64)>,
    ) -> EvalThread {
        let (jobs, job_rx) = flume::unbounded::<Job>();
        let (report_tx, reports) = flume::unbounded();
        let exp = exp.clone();
        let handle = std::thread::Builder::new()
            .name("az-eval".to_owned())
            .spawn(move || eval_loop::<G>(&exp, &opponents, previous, &job_rx, &report_tx))
            .expect("spawning the evaluation thread");
        EvalThread {
            jobs: Some(jobs),
            reports,
            handle: Some(handle),
            busy: false,
        }
    }

    /// Whether an evaluation is running.
    pub fn busy(&self) -> bool {
        self.busy
    }

    /// Starts evaluating `net` (the weights of `step`, taken `at_seconds` into the
    /// run); false if one is still running.
    pub fn submit(&mut self, step: u64, at_seconds: f64, net: InferenceNet) -> bool {
        if self.busy {
            return false;
        }
        let sent = self.jobs.as_ref().is_some_and(|j| {
            j.send(Job {
                step,
                at_seconds,
                net,
            })
            .is_ok()
        });
        self.busy = sent;
        sent
    }

    /// A finished report, if any.
    pub fn poll(&mut self) -> Option<EvalReport> {
        let r = self.reports.try_recv().ok();
        if r.is_some() {
            self.busy = false;
        }
        r
    }

    /// Stops taking jobs and lets a running evaluation end on its own, without
    /// waiting for it (it only sends a report, which nobody reads any more).
    pub fn abandon(mut self) {
        self.jobs = None;
        drop(self.handle.take());
    }

    /// Waits for the running evaluation, if any, and returns its report.
    pub fn wait(&mut self) -> Option<EvalReport> {
        if !self.busy {
            return None;
        }
        let r = self.reports.recv().ok();
        self.busy = false;
        r
    }
}

impl Drop for EvalThread {
    fn drop(&mut self) {
        self.jobs = None; // the thread ends after its current job
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn eval_loop<G: Game>(
    exp: &Experiment,
    opponents: &[OpponentSpec],
    mut previous: Option<(InferenceNet, f64)>,
    jobs: &Receiver<Job>,
    reports: &Sender<EvalReport>,
) {
    let games = exp.manifest.eval.games as u32;
    let seed = exp.manifest.run.seed ^ EVAL_SEED;
    let config = eval_agent_config(exp);
    let mut sets: Option<Vec<PhasePositions<G>>> = None;
    for job in jobs.iter() {
        let t0 = Instant::now();
        let mut agent = Agent::with_model(NetModel(job.net.clone()), config.clone());
        let round_seed = seed ^ job.step.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let round = Round {
            games,
            seed: round_seed,
            config: &config,
        };
        let (matches, elo) = round.matches::<G>(&mut agent, opponents, previous.as_ref());
        // The positions are chosen once per run.
        if sets.is_none() && exp.manifest.eval.mistake_positions > 0 {
            sets = mistake_sets::<G>(exp, exp.manifest.eval.mistake_positions);
        }
        let mistakes = sets
            .as_ref()
            .map(|sets| net_mistakes(exp, &job.net, &mut agent, sets));
        previous = Some((job.net, elo.unwrap_or(0.0)));
        let report = EvalReport {
            step: job.step,
            at_seconds: job.at_seconds,
            matches,
            elo,
            mistakes,
            seconds: t0.elapsed().as_secs_f64(),
        };
        if reports.send(report).is_err() {
            return;
        }
    }
}

/// One evaluation's matches: games per opponent, their seed, the agents' search.
struct Round<'a> {
    games: u32,
    seed: u64,
    config: &'a SearchConfig,
}

/// Per opponent: its name, the result, the Elo difference it implies.
pub type Matches = Vec<(String, MatchResult, f64)>;

impl Round<'_> {
    /// `agent` against each opponent, and the ladder's Elo (`previous`'s plus the
    /// difference against it; 0 at the first evaluation; `None` without `previous`).
    fn matches<G: Game>(
        &self,
        agent: &mut Agent<ModelEvaluator<NetModel>>,
        opponents: &[OpponentSpec],
        previous: Option<&(InferenceNet, f64)>,
    ) -> (Matches, Option<f64>) {
        let mut matches = Vec::new();
        let mut elo = None;
        for spec in opponents {
            let (result, name) = match spec {
                OpponentSpec::Previous => {
                    let Some((net, prev_elo)) = previous else {
                        elo = Some(0.0);
                        continue;
                    };
                    let mut other = Agent::with_model(NetModel(net.clone()), self.config.clone());
                    let r = play_match::<G>(agent, &mut other, self.games, 2, self.seed);
                    elo = Some(prev_elo + elo_difference(&r));
                    (r, "previous".to_owned())
                }
                OpponentSpec::Checkpoint(_) => continue, // not in manifests (validated)
                other => {
                    let mut player = baseline::<G>(other, self.seed);
                    let r = play_match::<G>(agent, player.as_mut(), self.games, 0, self.seed);
                    (r, other.to_string())
                }
            };
            matches.push((name, result, elo_difference(&result)));
        }
        (matches, elo)
    }
}

/// The test positions of `exp`'s mistake rates, up to `per_phase` per phase
/// (the same in every evaluation of a run with that seed), or `None` if `G` has
/// no oracle. The oracle (connect4's holds a 42 MB table) lives only while they
/// are chosen.
pub fn mistake_sets<G: Game>(exp: &Experiment, per_phase: usize) -> Option<Vec<PhasePositions<G>>> {
    let mut oracle = G::oracle()?;
    // The game's own tests check that its known positions parse.
    let known = parse_position_lines::<G>(oracle.known_positions()).unwrap_or_default();
    Some(phase_positions::<G>(
        oracle.as_mut(),
        known,
        per_phase,
        exp.manifest.run.seed ^ EVAL_SEED,
        PHASE_BUDGET,
    ))
}

/// Mistake rates of one network on the test positions, three ways.
#[derive(Copy, Clone, Debug)]
pub struct NetMistakes {
    /// The policy head alone: its most probable move.
    pub policy: MistakeRates,
    /// The value head alone: the move after which it rates the position best
    /// ([`ValuePlayer`]).
    pub value: MistakeRates,
    /// The search with the same weights.
    pub search: MistakeRates,
}

/// Mistake rates on `sets` of `net`'s policy and value heads alone and of
/// `search` (an agent searching with the same weights).
pub fn net_mistakes<G: Game>(
    exp: &Experiment,
    net: &InferenceNet,
    search: &mut Agent<ModelEvaluator<NetModel>>,
    sets: &[PhasePositions<G>],
) -> NetMistakes {
    let mut policy = Agent::with_model(NetModel(net.clone()), agent_config(exp, Some(0)));
    let mut value = ValuePlayer::new(NetModel(net.clone()));
    NetMistakes {
        policy: mistake_rates(&mut policy, sets),
        value: mistake_rates(&mut value, sets),
        search: mistake_rates(search, sets),
    }
}

/// A player for a baseline opponent (`random`, `perfect`, `mcts:N`).
///
/// # Panics
/// For `previous` or a checkpoint, which need a network, or `perfect` in a game
/// without an oracle (checked by [`opponents`]).
pub fn baseline<G: Game>(spec: &OpponentSpec, seed: u64) -> Box<dyn Player<G>> {
    match spec {
        OpponentSpec::Random => Box::new(RandomPlayer::new(seed)),
        OpponentSpec::Mcts(n) => Box::new(az_arena::MctsPlayer::new(*n, seed)),
        OpponentSpec::Perfect => Box::new(PerfectPlayer::new(
            G::oracle().expect("perfect opponents are checked to have an oracle"),
            seed,
        )),
        OpponentSpec::Previous | OpponentSpec::Checkpoint(_) => {
            panic!("{spec} is not a baseline")
        }
    }
}
