//! The Elo ladder and the evaluations that move it.
//!
//! With `previous` among `eval.opponents`, every evaluation plays the weights of
//! the one before it, and its Elo is that one's plus the difference. The
//! ladder's newest point is kept in `ladder.json` and its weights as a
//! checkpoint (never pruned), so a resumed run goes on from it.

use crate::RunError;
use crate::checkpoint::load_inference_net;
use crate::eval::{EvalReport, EvalThread};
use crate::metrics::Metrics;
use crate::report::{Out, eval_line};
use crate::run_dir::{LadderPoint, RunDir};
use az_arena::OpponentSpec;
use az_experiment::Experiment;
use az_game::Game;
use az_model::InferenceNet;
use burn::tensor::Device;

/// The ladder's newest point, and whether the run keeps a ladder at all.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ladder {
    on: bool,
    point: Option<LadderPoint>,
}

/// A ladder and the weights of its point, for the evaluation thread to play.
pub(crate) type Resumed = (Ladder, Option<(InferenceNet, f64)>);

impl Ladder {
    /// The ladder of a run of `exp` in `dir` against `opponents`: from
    /// `ladder.json` if `resume`, with the weights of its point; if those cannot
    /// be read, it starts again at 0 (with a log line).
    ///
    /// # Errors
    /// [`RunError::Ladder`] or [`RunError::Io`] for a `ladder.json` that cannot be read.
    pub fn open<G: Game>(
        exp: &Experiment,
        opponents: &[OpponentSpec],
        dir: &RunDir,
        resume: bool,
        device: &Device,
        out: &Out,
    ) -> Result<Resumed, RunError> {
        let on = exp.manifest.eval.every > 0 && opponents.contains(&OpponentSpec::Previous);
        let point = if on && resume {
            dir.read_ladder()?
        } else {
            None
        };
        let Some(p) = point else {
            return Ok((Ladder { on, point }, None));
        };
        match load_inference_net::<G>(exp, &dir.checkpoint(p.step), device) {
            Ok(net) => {
                out.line(&format!(
                    "Elo ladder goes on from step {} (Elo {:.0})",
                    p.step, p.elo
                ));
                Ok((Ladder { on, point }, Some((net, p.elo))))
            }
            Err(e) => {
                out.line(&format!("Elo ladder starts again at 0: {e}"));
                Ok((Ladder { on, point: None }, None))
            }
        }
    }

    /// Checkpoints the ladder needs: its point's and the newest evaluation's
    /// (`last_eval`: still running, it may become the next point).
    pub fn keep(&self, last_eval: Option<u64>) -> Vec<u64> {
        if self.on {
            self.point
                .map(|p| p.step)
                .into_iter()
                .chain(last_eval)
                .collect()
        } else {
            Vec::new()
        }
    }

    /// Moves the ladder to `r`'s point, if it has one, in memory and in `ladder.json`.
    ///
    /// # Errors
    /// [`RunError::Write`] if `ladder.json` cannot be written.
    pub fn record(&mut self, dir: &RunDir, r: &EvalReport) -> Result<(), RunError> {
        if let Some(elo) = r.elo {
            let point = LadderPoint { step: r.step, elo };
            dir.write_ladder(point)?;
            self.point = Some(point);
        }
        Ok(())
    }
}

/// The evaluation thread (if `eval.every` > 0), the ladder, and what was evaluated.
#[derive(Debug)]
pub(crate) struct EvalSchedule {
    thread: Option<EvalThread>,
    ladder: Ladder,
    every: u64,
    /// Step of the newest evaluation submitted.
    last_step: Option<u64>,
    /// The newest report.
    pub last_report: Option<EvalReport>,
}

impl EvalSchedule {
    /// Starts the evaluation thread of `exp` (unless `eval.every` is 0), its
    /// ladder going on from `resumed`.
    pub fn start<G: Game>(
        exp: &Experiment,
        opponents: Vec<OpponentSpec>,
        (ladder, previous): Resumed,
    ) -> Self {
        let every = exp.manifest.eval.every;
        EvalSchedule {
            thread: (every > 0).then(|| EvalThread::start::<G>(exp, opponents, previous)),
            ladder,
            every,
            last_step: None,
            last_report: None,
        }
    }

    /// Whether evaluations run at all.
    pub fn on(&self) -> bool {
        self.thread.is_some()
    }

    /// Whether the ladder's weights must be checkpointed before an evaluation
    /// (a resumed run plays against them).
    pub fn ladder_on(&self) -> bool {
        self.ladder.on
    }

    /// Whether the ladder's point is at `step`: evaluated in an earlier session.
    pub fn ladder_at(&self, step: u64) -> bool {
        self.ladder.point.is_some_and(|p| p.step == step)
    }

    /// Notes that the weights of `step` were evaluated already.
    pub fn evaluated(&mut self, step: u64) {
        self.last_step = Some(step);
    }

    /// Checkpoints to keep when pruning (see [`Ladder::keep`]).
    pub fn keep(&self) -> Vec<u64> {
        self.ladder.keep(self.last_step)
    }

    /// Whether `step` is one to evaluate at and the thread is free.
    pub fn due(&self, step: u64) -> bool {
        self.every > 0 && step % self.every == 0 && self.thread.as_ref().is_some_and(|e| !e.busy())
    }

    /// Starts evaluating `net`, the weights of `step` taken `seconds` into the
    /// run, unless one is running.
    pub fn submit(&mut self, step: u64, seconds: f64, net: InferenceNet) {
        if let Some(e) = self.thread.as_mut()
            && e.submit(step, seconds, net)
        {
            self.last_step = Some(step);
        }
    }

    /// Takes a finished report, if any: the ladder, the metrics, a log line.
    ///
    /// # Errors
    /// [`RunError`] if `ladder.json` or the events cannot be written.
    pub fn poll(&mut self, dir: &RunDir, metrics: &mut Metrics, out: &Out) -> Result<(), RunError> {
        match self.thread.as_mut().and_then(EvalThread::poll) {
            Some(r) => self.take(r, dir, metrics, out),
            None => Ok(()),
        }
    }

    fn take(
        &mut self,
        r: EvalReport,
        dir: &RunDir,
        metrics: &mut Metrics,
        out: &Out,
    ) -> Result<(), RunError> {
        self.ladder.record(dir, &r)?;
        let summary = metrics.eval(&r)?;
        out.line(&eval_line(&r, &summary));
        self.last_report = Some(r);
        Ok(())
    }

    /// At the end of a session: takes a finished report; unless `interrupted`
    /// or `failed`, waits for the running evaluation and evaluates `last` (the
    /// final step, its time and weights) if it was not. Then the thread ends;
    /// after an interrupt without waiting for a running evaluation.
    ///
    /// # Errors
    /// [`RunError`] if `ladder.json` or the events cannot be written.
    pub fn finish(
        mut self,
        (interrupted, failed): (bool, bool),
        last: (u64, f64, impl FnOnce() -> InferenceNet),
        dir: &RunDir,
        metrics: &mut Metrics,
        out: &Out,
    ) -> Result<Option<EvalReport>, RunError> {
        let Some(mut thread) = self.thread.take() else {
            return Ok(self.last_report);
        };
        let mut reports: Vec<EvalReport> = thread.poll().into_iter().collect();
        if !interrupted && !failed {
            // A final evaluation of the final weights, so a run ends with its result.
            reports.extend(thread.wait());
            let (step, seconds, net) = last;
            if self.last_step != Some(step) && thread.submit(step, seconds, net()) {
                reports.extend(thread.wait());
            }
        }
        let taken = reports
            .into_iter()
            .try_for_each(|r| self.take(r, dir, metrics, out));
        if interrupted {
            // Ctrl-C: do not wait minutes for a running evaluation (it writes nothing).
            thread.abandon();
        } else {
            drop(thread);
        }
        taken.map(|()| self.last_report)
    }
}
