//! A session of training: [`Run::train`] starts the inference server, the
//! self-play workers and the evaluation thread ([`Run::learn`]: takes games from
//! a transport instead), then runs the loop one pass at a time (limits, pacing,
//! a training step or a wait for games, evaluation reports, metrics, the replay
//! flush clock) until something stops it.

use crate::config::{selfplay_config, server_config};
use crate::ladder::EvalSchedule;
use crate::metrics::Metrics;
use crate::net_model::NetModel;
use crate::pacing::{Limits, Pacing};
use crate::remote::Remote;
use crate::report::{ReportInput, Reporter, open_metrics};
use crate::{Run, RunError, RunSummary};
use az_game::Game;
use az_infer::{Publisher, Server};
use az_monitor::EventError;
use az_record::GameRecord;
use az_record::remote::LearnerChannels;
use az_replay::TrainBatch;
use az_selfplay::SelfPlay;
use az_train::TrainError;
use flume::{Receiver, RecvTimeoutError};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::time::Duration;

/// The threads that play: the inference server and the self-play workers.
pub(crate) struct Workers<G: Game> {
    pub server: Server<NetModel>,
    pub publisher: Publisher<NetModel>,
    pub selfplay: SelfPlay,
    /// Finished games (bounded: the workers wait while the trainer leaves them).
    pub games: Receiver<GameRecord<G>>,
}

/// Where a session's games come from and where its weights go.
pub(crate) enum Feed<G: Game> {
    /// `az run`: this process's inference server and self-play workers.
    Local(Workers<G>),
    /// `az learner`: actors' games through a transport.
    Remote(Remote),
}

/// Why the loop ended: the reason for the log line, and the failure, if any.
pub(crate) struct Stop {
    pub reason: String,
    pub failure: Option<RunError>,
}

impl Stop {
    fn ok(reason: String) -> Self {
        Stop {
            reason,
            failure: None,
        }
    }

    fn failed(reason: &str, e: RunError) -> Self {
        Stop {
            reason: reason.to_owned(),
            failure: Some(e),
        }
    }

    /// What turns an error into a stop for `reason`.
    fn on(reason: &'static str) -> impl FnOnce(RunError) -> Stop {
        move |e| Stop::failed(reason, e)
    }

    fn self_play() -> Self {
        let e = RunError::SelfPlay("self-play stopped unexpectedly".to_owned());
        Stop::failed("self-play failed", e)
    }
}

/// A session under way.
pub(crate) struct Session<G: Game> {
    pub run: Run<G>,
    pub feed: Feed<G>,
    pub metrics: Metrics,
    pub evals: EvalSchedule,
    pub limits: Limits,
    reporter: Reporter,
    pacing: Pacing,
    batch: TrainBatch,
    rng: SmallRng,
    /// Self-play's network evaluations before this session (all sessions').
    evaluations_before: u64,
}

impl<G: Game> Run<G> {
    /// Trains until the session ends (`run.max_steps`, the time limit, a stop
    /// asked for), then shuts down and checkpoints.
    ///
    /// # Errors
    /// [`RunError::SelfPlay`] if the workers or the server failed,
    /// [`RunError::Train`] for a training step with a non-finite loss (the
    /// last checkpoint is intact), or an error writing a checkpoint, a replay
    /// chunk or the metrics. The threads are shut down and every finished game
    /// written first.
    pub fn train(self) -> Result<RunSummary, RunError> {
        Session::start(self, |run| Feed::Local(run.start_workers()))?.run()
    }

    /// Trains on games from remote actors (`az learner`): like
    /// [`train`](Run::train), but games arrive through `channels` and are
    /// acknowledged once written to a replay chunk; a game delivered twice is
    /// trained on once. The weights go to the actors at the start and every
    /// `cluster.publish_every` steps.
    ///
    /// # Errors
    /// As [`train`](Run::train); also [`RunError::Link`] if the transport
    /// stops. A delivery that cannot be trained on (another game's, damaged) is
    /// logged, counted (`cluster/rejected`) and acknowledged, not fatal.
    pub fn learn(self, channels: LearnerChannels) -> Result<RunSummary, RunError> {
        let every = self.exp.cluster_publish_every();
        let feed = |_: &Run<G>| Feed::Remote(Remote::new(channels, every));
        let mut session = Session::start(self, feed)?;
        if let Feed::Remote(r) = &mut session.feed
            && let Err(e) = r.publish::<G>(&session.run.trainer)
        {
            return session.shutdown(Stop::failed("publishing weights failed", e));
        }
        session.run()
    }

    /// Writes the checkpoint of the current step, keeping those of `keep`.
    pub(crate) fn checkpoint(&mut self, keep: &[u64]) -> Result<(), RunError> {
        let at = (self.clock.run(), self.evaluations);
        self.checkpoints
            .save(&self.trainer, &mut self.intake, at, keep)
    }

    /// Starts the inference server on the current weights and the workers.
    fn start_workers(&self) -> Workers<G> {
        let exp = &self.exp;
        let net = self.trainer.inference_net(&self.device);
        let (server, client) = Server::start(NetModel(net), server_config(exp));
        let publisher = server.publisher();
        let mut config = selfplay_config(exp);
        // Each session plays other games than the one before.
        let salt = (self.sessions - 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        config.seed = config.seed.wrapping_add(salt);
        let (tx, games) = flume::bounded(exp.manifest.selfplay.parallel_games.max(1));
        let selfplay = SelfPlay::start::<G>(&config, &client, &tx);
        Workers {
            server,
            publisher,
            selfplay,
            games,
        }
    }
}

impl<G: Game> Session<G> {
    /// Opens the metrics and starts the threads.
    ///
    /// # Errors
    /// [`RunError::Metrics`] if the events cannot be written (no thread started).
    fn start(mut run: Run<G>, feed: impl FnOnce(&Run<G>) -> Feed<G>) -> Result<Self, RunError> {
        let metrics = open_metrics(&run.dir, &run.exp, run.trainer.steps())?;
        let feed = feed(&run);
        let opponents = std::mem::take(&mut run.opponents);
        let resumed = (run.ladder, run.previous.take());
        let evals = EvalSchedule::start::<G>(&run.exp, opponents, resumed);
        let m = &run.exp.manifest;
        Ok(Session {
            limits: Limits::new(m, run.opts.max_seconds, run.opts.stop.clone()),
            pacing: Pacing::new(m),
            rng: SmallRng::seed_from_u64(m.run.seed ^ run.trainer.steps()),
            batch: TrainBatch::default(),
            reporter: Reporter::new(),
            evaluations_before: run.evaluations,
            run,
            feed,
            metrics,
            evals,
        })
    }

    /// The session's loop and its end.
    fn run(mut self) -> Result<RunSummary, RunError> {
        let stop = match self.first_evaluation() {
            Ok(()) => self.run_loop(),
            Err(e) => Stop::failed("checkpoint failed", e),
        };
        self.shutdown(stop)
    }

    /// The session's first evaluation, of the weights it starts from (unless the
    /// ladder's point is at them: evaluated in the previous session).
    fn first_evaluation(&mut self) -> Result<(), RunError> {
        if !self.evals.on() {
            return Ok(());
        }
        let step = self.run.trainer.steps();
        if self.evals.ladder_at(step) {
            self.evals.evaluated(step);
            return Ok(());
        }
        // The ladder's weights must be on disk for a resumed run to play against.
        if self.evals.ladder_on() && !self.run.dir.checkpoint(step).exists() {
            self.run.checkpoint(&self.evals.keep())?;
        }
        let net = self.run.trainer.inference_net(&self.run.device);
        self.evals.submit(step, self.run.clock.run(), net);
        Ok(())
    }

    fn run_loop(&mut self) -> Stop {
        loop {
            if let Err(stop) = self.pass() {
                return stop;
            }
        }
    }

    /// One pass of the loop.
    fn pass(&mut self) -> Result<(), Stop> {
        let run = &mut self.run;
        if let Feed::Local(w) = &self.feed {
            run.evaluations = self.evaluations_before + w.selfplay.evaluations();
        }
        if let Some(reason) = self
            .limits
            .reached(&run.clock, run.trainer.steps(), run.evaluations)
        {
            return Err(Stop::ok(reason));
        }
        let step = run.trainer.steps();
        let window = run.intake.buffer.len();
        let pace = self
            .pacing
            .pace(window, run.intake.positions_total, run.trainer.samples());
        match &mut self.feed {
            Feed::Local(w) if w.selfplay.is_finished() => return Err(Stop::self_play()),
            Feed::Local(w) if pace.take_games => {
                run.intake.take_waiting(&w.games, &mut self.metrics);
            }
            // A learner takes every game as it arrives: one left in the stream
            // only grows stale, and holding it back frees no CPU for training
            // on another machine. train_ratio is then an upper bound.
            Feed::Remote(r) => r
                .take_waiting(&mut run.intake, &mut self.metrics, step)
                .map_err(Stop::on("taking games failed"))?,
            _ => {}
        }
        if pace.train {
            self.train_step()?;
        } else {
            self.wait_for_game()?;
        }
        // Errors past this point end the loop, so the threads still get shut down.
        let run = &mut self.run;
        self.evals
            .poll(&run.dir, &mut self.metrics, &run.out)
            .map_err(Stop::on("writing metrics failed"))?;
        if self.reporter.due() {
            self.report()
                .map_err(|e| Stop::failed("writing metrics failed", e.into()))?;
        }
        self.run
            .intake
            .flush_if_due()
            .map_err(Stop::on("writing replay chunks failed"))?;
        if let Feed::Remote(r) = &mut self.feed {
            for line in r.take_rejections() {
                self.run.out.line(&line);
            }
            r.settle(&mut self.run.intake)
                .map_err(Stop::on("the cluster link failed"))?;
        }
        Ok(())
    }

    /// Waits a little for a finished game.
    fn wait_for_game(&mut self) -> Result<(), Stop> {
        let wait = Duration::from_millis(20);
        let (intake, metrics) = (&mut self.run.intake, &mut self.metrics);
        match &mut self.feed {
            Feed::Local(w) => match w.games.recv_timeout(wait) {
                Ok(r) => intake.add(r, metrics),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err(Stop::self_play()),
            },
            Feed::Remote(r) => {
                let step = self.run.trainer.steps();
                r.wait(intake, metrics, step, wait)
                    .map_err(Stop::on("taking games failed"))?;
            }
        }
        Ok(())
    }

    /// One training step on a batch from the window; then, as due, new weights
    /// to the server, a checkpoint, an evaluation.
    fn train_step(&mut self) -> Result<(), Stop> {
        let run = &mut self.run;
        let m = &run.exp.manifest;
        self.batch.clear();
        run.intake
            .buffer
            .sample(m.train.batch_size, &mut self.rng, &mut self.batch);
        if let Some(budget) = m.run.max_evaluations {
            run.trainer
                .set_budget_spent(run.evaluations as f64 / budget as f64);
        }
        match run.trainer.step(&self.batch) {
            Ok(s) => self.metrics.train_step(&s),
            Err(e) => {
                let e = RunError::from(e);
                let reason = match e {
                    RunError::Train(TrainError::NonFinite { .. }) => "non-finite loss",
                    _ => "training failed",
                };
                return Err(Stop::failed(reason, e));
            }
        }
        let step = run.trainer.steps();
        match &mut self.feed {
            Feed::Local(w) if step % m.train.publish_every == 0 => {
                w.publisher
                    .publish(NetModel(run.trainer.inference_net(&run.device)));
            }
            Feed::Remote(r) if step % r.publish_every == 0 => r
                .publish::<G>(&run.trainer)
                .map_err(Stop::on("publishing weights failed"))?,
            _ => {}
        }
        let eval_due = self.evals.due(step);
        // The ladder's weights must be on disk for a resumed run to play against.
        if run.checkpoints.due(step) || (eval_due && self.evals.ladder_on()) {
            let keep = self.evals.keep();
            run.checkpoint(&keep)
                .map_err(Stop::on("checkpoint failed"))?;
        }
        if eval_due {
            let net = run.trainer.inference_net(&run.device);
            self.evals.submit(step, run.clock.run(), net);
        }
        Ok(())
    }

    /// Writes the interval's metrics and shows the progress line.
    fn report(&mut self) -> Result<(), EventError> {
        let input = self.report_input();
        if let Feed::Remote(r) = &mut self.feed {
            let line = r.report(self.metrics.writer(), input.step)?;
            self.metrics.snapshot.cluster = Some(line);
        }
        self.reporter
            .report(&mut self.metrics, &self.run.out, &input)
    }

    /// What the metrics report now.
    pub(crate) fn report_input(&self) -> ReportInput {
        let run = &self.run;
        let local = match &self.feed {
            Feed::Local(w) => Some((w.selfplay.stats(), w.server.stats())),
            Feed::Remote(_) => None,
        };
        ReportInput {
            step: run.trainer.steps(),
            local,
            games: run.intake.games_session,
            replay: run.intake.window(),
            seconds: (run.clock.session(), run.clock.run()),
            evaluations: run.evaluations,
        }
    }
}
