//! `az run`: one training run of an experiment, wired from the other crates.
//!
//! Self-play workers → (flume) → replay buffer ← trainer (this thread) → new
//! weights → inference server (hot swap); checkpoints and replay chunks written
//! atomically; evaluation on its own thread; metrics to TensorBoard and a progress
//! line. Training and self-play are kept at `train.train_ratio` samples per new
//! position both ways: the trainer waits for positions, and when it falls behind
//! it stops taking finished games, so the workers block until it catches up.
//!
//! # The `Run` type
//!
//! [`Run::open`] creates a run directory, or resumes one (`RunOptions::resume`):
//! the run record, the newest readable checkpoint (or fresh weights), the replay
//! chunks, the Elo ladder's point. Everything a user can get wrong is found here,
//! before a thread starts. [`Run::train`] then runs one session: the inference
//! server and self-play workers, the evaluation thread, the training loop, and
//! the shutdown; it returns a [`RunSummary`].
//!
//! A session stops at `run.max_steps`, at its time limit, or when asked (Ctrl-C
//! sets [`RunOptions::stop`]); it then checkpoints and exits. Finished games are
//! written to replay chunks every `replay.flush_seconds`, checkpoint or not, so
//! a run killed at any moment resumes from its newest checkpoint (or fresh
//! weights, if it had none yet) with the games of all but the last few seconds.
//!
//! # Modules
//!
//! - `open`: creating or resuming the run directory, its record, the learner
//!   and replay window to go on with;
//! - `session`: [`Run::train`], the training loop, one pass of it at a time;
//! - `pacing`: the train ratio (when to train, when to stop taking games), the
//!   session's limits and clock;
//! - `intake`: finished games into the replay window, the chunk files (on their
//!   own flush clock) and the run's counters;
//! - `checkpoint`: choosing the checkpoint to resume from, writing one, pruning;
//! - `ladder`: the Elo ladder and the evaluations that move it;
//! - `report`: log lines, the progress line, the metrics every few seconds;
//! - `shutdown`: workers first (draining finished games), then the server; the
//!   last chunk, the final checkpoint and the final evaluation;
//! - `error`: [`RunError`]; `eval`: the evaluation thread; `metrics`: what is
//!   written to TensorBoard; `run_dir`: the files of a run; `config`: the
//!   manifest mapped onto each engine's settings.
//!
//! # Errors
//!
//! [`RunError`], whose [`is_bad_input`](RunError::is_bad_input) separates what
//! the user can fix (a run directory in use, a damaged or mismatched checkpoint
//! or replay chunk, a manifest error) from failures of the machine.

mod actor;
mod checkpoint;
mod config;
mod cpu;
mod error;
mod eval;
mod intake;
mod ladder;
mod metrics;
mod net_model;
mod open;
mod pacing;
mod remote;
mod report;
mod run_dir;
mod session;
mod shutdown;

pub use actor::{ActorOptions, ActorSummary, act};
pub use checkpoint::load_inference_net;
pub use config::{
    agent_config, eval_agent_config, net_config, search_config, selfplay_config, server_config,
    train_config,
};
pub use cpu::{CpuClock, CpuUse, Role};
pub use error::RunError;
pub use eval::{
    EvalReport, EvalThread, NetMistakes, baseline, mistake_sets, net_mistakes, opponents,
};
pub use metrics::{Metrics, SelfPlayRates, Snapshot};
pub use net_model::NetModel;
pub use report::terminal_columns;
pub use run_dir::{
    LadderPoint, RunDir, RunRecord, fresh_run_dir, git_revision, latest_run_dir, utc_stamp,
};

use az_arena::OpponentSpec;
use az_experiment::Experiment;
use az_game::Game;
use az_train::Trainer;
use burn::tensor::Device;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The run directory (created, or resumed).
    pub run_dir: std::path::PathBuf,
    /// Continue the run in `run_dir` from its newest checkpoint and replay chunks.
    pub resume: bool,
    /// Stop this session after so many seconds (besides `run.max_seconds`).
    pub max_seconds: Option<f64>,
    /// Set to stop cleanly (Ctrl-C): the current step ends, a checkpoint is written.
    pub stop: Arc<AtomicBool>,
    /// Show a live progress display (on a terminal); otherwise plain log lines.
    pub progress: bool,
}

/// How a run ended.
#[derive(Clone, Debug)]
pub struct RunSummary {
    /// Training steps done (all sessions).
    pub steps: u64,
    /// Self-play games of this session.
    pub games: u64,
    /// Seconds of this session.
    pub seconds: f64,
    /// Why it stopped.
    pub reason: String,
    /// The newest evaluation.
    pub last_eval: Option<EvalReport>,
}

/// A training run of game `G`, opened and ready for a session of training.
///
/// # Examples
/// ```no_run
/// use az_run::{Run, RunError, RunOptions, RunSummary};
///
/// fn train<G: az_game::Game>(
///     exp: &az_experiment::Experiment,
///     device: &burn::tensor::Device,
///     opts: RunOptions,
/// ) -> Result<RunSummary, RunError> {
///     let run = Run::<G>::open(exp, device, opts)?;
///     run.train()
/// }
/// ```
pub struct Run<G: Game> {
    exp: Experiment,
    device: Device,
    opts: RunOptions,
    dir: RunDir,
    /// Sessions of the run, this one included.
    sessions: u64,
    out: report::Out,
    clock: pacing::Clock,
    trainer: Trainer,
    checkpoints: checkpoint::Checkpoints,
    intake: intake::Intake<G>,
    /// `eval.opponents`, for the evaluation thread.
    opponents: Vec<OpponentSpec>,
    ladder: ladder::Ladder,
    /// The weights and Elo of the ladder's point, for the evaluation thread.
    previous: Option<(az_model::InferenceNet, f64)>,
    /// Network evaluations of self-play over all sessions (this process's
    /// workers; a learner's actors are not counted).
    evaluations: u64,
}

impl<G: Game> Run<G> {
    /// The run directory.
    pub fn dir(&self) -> &RunDir {
        &self.dir
    }

    /// Training steps done (all sessions).
    pub fn steps(&self) -> u64 {
        self.trainer.steps()
    }

    /// Positions in the replay window.
    pub fn replay_positions(&self) -> usize {
        self.intake.buffer.len()
    }
}

impl<G: Game> std::fmt::Debug for Run<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("game", &G::NAME)
            .field("dir", &self.dir.root())
            .field("session", &self.sessions)
            .field("steps", &self.trainer.steps())
            .finish_non_exhaustive()
    }
}
