//! The end of a session: the last interval's metrics; the workers first (their
//! finished games drained so none blocks), then the inference server; every
//! finished game to a chunk; the final checkpoint (unless the training state is
//! suspect); the final evaluation; the last log line.

use crate::intake::Intake;
use crate::metrics::Metrics;
use crate::report::write_metrics;
use crate::session::{Feed, Session, Stop, Workers};
use crate::{RunError, RunSummary};
use az_game::Game;
use std::time::Duration;

impl<G: Game> Workers<G> {
    /// Stops the workers, taking their last games into `intake`, then the server.
    ///
    /// # Errors
    /// [`RunError::SelfPlay`] if a worker or the server panicked.
    fn stop(self, intake: &mut Intake<G>, metrics: &mut Metrics) -> Result<(), RunError> {
        self.selfplay.stop();
        while !self.selfplay.is_finished() {
            if let Ok(r) = self.games.recv_timeout(Duration::from_millis(10)) {
                intake.add(r, metrics);
            }
        }
        intake.take_waiting(&self.games, metrics);
        let joined = self.selfplay.join();
        drop(self.games);
        let server = self.server.join();
        joined.map_err(RunError::SelfPlay)?;
        server.map_err(|e| RunError::SelfPlay(format!("inference server: {e}")))?;
        Ok(())
    }
}

impl<G: Game> Session<G> {
    /// Ends the session that `stop` stopped.
    ///
    /// # Errors
    /// `stop`'s failure, else the first error of the shutdown (a failed final
    /// flush or checkpoint does not replace the failure that stopped the run).
    pub(crate) fn shutdown(mut self, stop: Stop) -> Result<RunSummary, RunError> {
        let Stop {
            reason,
            mut failure,
        } = stop;
        if let Err(e) = self.last_metrics() {
            failure.get_or_insert(e.into());
        }
        let mut remote = match self.feed {
            Feed::Local(workers) => {
                if let Err(e) = workers.stop(&mut self.run.intake, &mut self.metrics) {
                    failure.get_or_insert(e);
                }
                None
            }
            Feed::Remote(r) => Some(r),
        };
        let run = &mut self.run;
        // Keep every finished game (acknowledging a learner's once written);
        // checkpoint unless the training state is suspect. An error here does
        // not hide the one that stopped the run.
        if let Err(e) = run.intake.flush() {
            failure.get_or_insert(e);
        }
        if let Some(Err(e)) = remote.as_mut().map(|r| r.settle(&mut run.intake)) {
            failure.get_or_insert(e);
        }
        let suspect = matches!(failure, Some(RunError::Train(_)));
        let step = run.trainer.steps();
        if !suspect
            && run
                .checkpoints
                .behind(step, run.evaluations, run.intake.positions_total)
            && let Err(e) = run.checkpoint(&self.evals.keep())
        {
            failure.get_or_insert(e);
        }
        let ends = (self.limits.interrupted(), failure.is_some());
        let last = (step, run.clock.run(), || {
            run.trainer.inference_net(&run.device)
        });
        let last_eval = self
            .evals
            .finish(ends, last, &run.dir, &mut self.metrics, &run.out)?;
        self.metrics.writer().flush()?;
        run.out.finish();
        let seconds = run.clock.session();
        let games = run.intake.games_session;
        run.out.line(&format!(
            "stopped after {seconds:.0} s: {reason}; step {step}, {games} games this session"
        ));
        match failure {
            Some(f) => Err(f),
            None => Ok(RunSummary {
                steps: step,
                games,
                seconds,
                reason,
                last_eval,
            }),
        }
    }

    /// The last interval's metrics, at the final step.
    fn last_metrics(&mut self) -> Result<(), az_monitor::EventError> {
        let input = self.report_input();
        write_metrics(&mut self.metrics, &input)
    }
}
