//! `az run`: one training run of an experiment, wired from the other crates.
//!
//! Self-play workers → (flume) → replay buffer ← trainer (this thread) → new
//! weights → inference server (hot swap); checkpoints and replay chunks written
//! atomically; evaluation on its own thread; metrics to TensorBoard and a progress
//! line. Training and self-play are kept at `train.train_ratio` samples per new
//! position both ways: the trainer waits for positions, and when it falls behind
//! it stops taking finished games, so the workers block until it catches up.
//!
//! A run stops at `run.max_steps`, at the session's time limit, or when asked
//! (Ctrl-C sets [`RunOptions::stop`]); it then checkpoints and exits. A run killed
//! at any moment resumes from its newest checkpoint and replay chunks.

mod config;
mod eval;
mod metrics;
mod run_dir;

pub use config::{
    agent_config, net_config, search_config, selfplay_config, server_config, train_config,
};
pub use eval::{
    EvalReport, EvalThread, baseline, mistake_sets, opponents, policy_and_search_mistakes,
};
pub use metrics::{Metrics, Snapshot};
pub use run_dir::{
    LadderPoint, RunDir, RunRecord, fresh_run_dir, git_revision, latest_run_dir, utc_stamp,
};

use anyhow::{Context, Result, bail};
use az_arena::OpponentSpec;
use az_experiment::Experiment;
use az_game::{Game, Outcome, Player};
use az_infer::Server;
use az_record::GameRecord;
use az_replay::{ReplayBuffer, ReplayStore, TrainBatch};
use az_selfplay::SelfPlay;
use az_train::{CheckpointMeta, TrainError, Trainer};
use burn::tensor::Device;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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

const REPORT_EVERY: Duration = Duration::from_secs(3);
const LOG_EVERY: Duration = Duration::from_secs(15);
const REPLAY_FLUSH_EVERY: Duration = Duration::from_secs(60);

/// Where lines go: the log file always; the terminal through the progress bar or plainly.
struct Out {
    run: RunDir,
    bar: Option<indicatif::ProgressBar>,
}

impl Out {
    fn line(&self, line: &str) {
        // The log file is best effort: a full disk must not stop training here
        // (checkpoints report their own errors).
        let _ = self.run.log_line(line);
        match &self.bar {
            Some(bar) if !bar.is_finished() => bar.println(line),
            _ => eprintln!("{line}"),
        }
    }
}

/// Runs (or resumes) `exp` for game `G` with the network on `device`.
///
/// # Errors
/// A run directory that cannot be used (an existing run without `resume`, a
/// damaged checkpoint or replay chunk), an I/O error, a worker failure, or a
/// training step with a non-finite loss (the last checkpoint is intact).
pub fn run<G: Game>(exp: &Experiment, device: &Device, opts: &RunOptions) -> Result<RunSummary> {
    let m = &exp.manifest;
    let opponents = opponents::<G>(exp)?;
    let run = RunDir::new(&opts.run_dir);
    let started = Instant::now();
    let now_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let record = if opts.resume {
        let mut r = run.read_record()?;
        r.sessions.push(now_unix);
        r
    } else {
        if run.manifest().exists() {
            bail!(
                "{} already holds a run; continue it with --resume, or choose another --run-dir",
                run.root().display()
            );
        }
        std::fs::create_dir_all(run.root())
            .with_context(|| format!("creating {}", run.root().display()))?;
        az_record::write_atomic(&run.manifest(), exp.to_toml().as_bytes())?;
        RunRecord {
            experiment: exp.name.clone(),
            game: G::NAME.to_owned(),
            seed: m.run.seed,
            git_revision: git_revision(),
            az_version: env!("CARGO_PKG_VERSION").to_owned(),
            sessions: vec![now_unix],
        }
    };
    run.write_record(&record)?;
    let out = Out {
        run: run.clone(),
        bar: opts.progress.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            // `wide_msg` cuts the line at the terminal's width instead of wrapping it.
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {wide_msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        }),
    };
    out.line(&format!(
        "az run {} ({}) in {} — session {}, revision {}",
        record.experiment,
        G::NAME,
        run.root().display(),
        record.sessions.len(),
        record.git_revision
    ));

    // The learner: the newest readable checkpoint, or fresh weights.
    let net_cfg = net_config::<G>(exp);
    let train_cfg = train_config(exp);
    let mut trainer = None;
    let mut meta = CheckpointMeta {
        game: G::NAME.to_owned(),
        step: 0,
        replay_added: 0,
        games: 0,
        samples: 0,
        net: [0; 7],
        elapsed_seconds: 0.0,
    };
    if opts.resume {
        for (_, path) in run.list_checkpoints()?.iter().rev() {
            match Trainer::load(path, G::NAME, net_cfg, train_cfg.clone(), device) {
                Ok((t, got)) => {
                    out.line(&format!(
                        "resumed from {} (step {})",
                        path.display(),
                        got.step
                    ));
                    trainer = Some(t);
                    meta = got;
                    break;
                }
                Err(e) => out.line(&format!("skipping a checkpoint that cannot be used: {e}")),
            }
        }
    }
    let mut trainer = trainer.unwrap_or_else(|| Trainer::new(net_cfg, train_cfg, device));

    let mut buffer = ReplayBuffer::<G>::new(m.replay.capacity);
    let store = ReplayStore::open(&run.replay(), &mut buffer)?;
    if !buffer.is_empty() {
        out.line(&format!(
            "replay: {} positions from {} chunks",
            buffer.len(),
            store.chunk_count()
        ));
    }
    let mut intake = Intake {
        positions_total: meta.replay_added.max(buffer.len() as u64),
        games_total: meta.games,
        games_session: 0,
        buffer,
        store,
    };
    let elapsed_before = meta.elapsed_seconds;
    // Seconds of the run over all sessions.
    let run_seconds = || elapsed_before + started.elapsed().as_secs_f64();

    let mut writer = az_monitor::EventWriter::create(&run.events())?;
    writer.mirror_scalars(&run.scalars())?;
    let mut metrics = Metrics::new(writer, m.inference.threads);
    metrics.writer().text(
        "manifest",
        trainer.steps() as i64,
        &format!("```toml\n{}\n```", exp.to_toml()),
    )?;
    metrics.writer().flush()?;

    let (server, client) = Server::start(trainer.inference_net(device), server_config(exp));
    let publisher = server.publisher();
    let mut sp_cfg = selfplay_config(exp);
    sp_cfg.seed = sp_cfg
        .seed
        .wrapping_add((record.sessions.len() as u64 - 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let (tx, rx) = flume::bounded::<GameRecord<G>>(m.selfplay.parallel_games.max(1));
    let selfplay = SelfPlay::start::<G>(&sp_cfg, &client, &tx);
    drop((client, tx));

    // The Elo ladder goes on from its last point: those weights are kept as a checkpoint.
    let ladder_on = m.eval.every > 0 && opponents.contains(&OpponentSpec::Previous);
    let mut ladder = if ladder_on && opts.resume {
        run.read_ladder()?
    } else {
        None
    };
    let mut previous = None;
    if let Some(p) = ladder {
        match load_inference_net::<G>(exp, &run.checkpoint(p.step), device) {
            Ok(net) => {
                out.line(&format!(
                    "Elo ladder goes on from step {} (Elo {:.0})",
                    p.step, p.elo
                ));
                previous = Some((net, p.elo));
            }
            Err(e) => {
                out.line(&format!("Elo ladder starts again at 0: {e}"));
                ladder = None;
            }
        }
    }
    let mut evaluator =
        (m.eval.every > 0).then(|| EvalThread::start::<G>(exp, opponents, previous));
    let mut last_eval_step = None;
    if let Some(e) = evaluator.as_mut() {
        if ladder.is_some_and(|p| p.step == trainer.steps()) {
            last_eval_step = Some(trainer.steps()); // evaluated in the previous session
        } else {
            if ladder_on && !run.checkpoint(trainer.steps()).exists() {
                let keep = ladder_steps(ladder_on, ladder, last_eval_step);
                checkpoint(&run, &trainer, &mut intake.store, &meta, m, &keep)?;
            }
            if e.submit(
                trainer.steps(),
                run_seconds(),
                trainer.inference_net(device),
            ) {
                last_eval_step = Some(trainer.steps());
            }
        }
    }

    let t = &m.train;
    let mut rng = SmallRng::seed_from_u64(m.run.seed ^ trainer.steps());
    let mut batch = TrainBatch::default();
    let mut last_report = Instant::now();
    let mut last_log = Instant::now();
    let mut last_flush = Instant::now();
    let mut last_checkpoint = trainer.steps();
    let mut last_report_eval = None;
    let mut failure: Option<anyhow::Error> = None;
    let session_limit = opts
        .max_seconds
        .into_iter()
        .chain(m.run.max_seconds.map(|s| s as f64))
        .reduce(f64::min);

    let reason = loop {
        if opts.stop.load(Ordering::Acquire) {
            break "stopped (interrupt)".to_owned();
        }
        if let Some(limit) = session_limit
            && started.elapsed().as_secs_f64() >= limit
        {
            break format!("time limit of {limit} s");
        }
        if let Some(max) = m.run.max_steps
            && trainer.steps() >= max
        {
            break format!("run.max_steps = {max} reached");
        }
        if selfplay.is_finished() {
            failure = Some(anyhow::anyhow!("self-play stopped unexpectedly"));
            break "self-play failed".to_owned();
        }
        let ready = intake.buffer.len() >= t.min_replay.min(m.replay.capacity)
            && intake.buffer.len() >= t.batch_size;
        let target =
            t.train_ratio * intake.positions_total.saturating_sub(t.min_replay as u64) as f64;
        let deficit = target - trainer.samples() as f64;
        let behind = ready && deficit >= t.batch_size as f64;
        // Far behind: leave finished games in the (bounded) channel, so the workers
        // wait and the CPU goes to training.
        if !(behind && deficit > 4.0 * t.batch_size as f64) {
            while let Ok(r) = rx.try_recv() {
                intake.add(r, &mut metrics);
            }
        }
        if behind {
            batch.clear();
            intake.buffer.sample(t.batch_size, &mut rng, &mut batch);
            match trainer.step(&batch) {
                Ok(s) => metrics.train_step(&s),
                Err(e @ TrainError::NonFinite { .. }) => {
                    failure = Some(e.into());
                    break "non-finite loss".to_owned();
                }
                Err(e) => {
                    failure = Some(e.into());
                    break "training failed".to_owned();
                }
            }
            let step = trainer.steps();
            if step % t.publish_every == 0 {
                publisher.publish(trainer.inference_net(device));
            }
            let eval_due = m.eval.every > 0
                && step % m.eval.every == 0
                && evaluator.as_ref().is_some_and(|e| !e.busy());
            // The ladder's weights must be on disk for a resumed run to play against.
            if step % t.checkpoint_every == 0 || (eval_due && ladder_on) {
                meta.replay_added = intake.positions_total;
                meta.games = intake.games_total;
                meta.elapsed_seconds = run_seconds();
                let keep = ladder_steps(ladder_on, ladder, last_eval_step);
                if let Err(e) = checkpoint(&run, &trainer, &mut intake.store, &meta, m, &keep) {
                    failure = Some(e);
                    break "checkpoint failed".to_owned();
                }
                last_checkpoint = step;
                last_flush = Instant::now();
            }
            if eval_due
                && let Some(e) = evaluator.as_mut()
                && e.submit(step, run_seconds(), trainer.inference_net(device))
            {
                last_eval_step = Some(step);
            }
        } else {
            match rx.recv_timeout(Duration::from_millis(20)) {
                Ok(r) => intake.add(r, &mut metrics),
                Err(flume::RecvTimeoutError::Timeout) => {}
                Err(flume::RecvTimeoutError::Disconnected) => {
                    failure = Some(anyhow::anyhow!("self-play stopped unexpectedly"));
                    break "self-play failed".to_owned();
                }
            }
        }
        // Errors past this point end the loop, so the threads still get shut down.
        if let Some(r) = evaluator.as_mut().and_then(EvalThread::poll) {
            match record_ladder(&run, &mut ladder, &r).and_then(|()| metrics.eval(&r)) {
                Ok(s) => out.line(&eval_line(&r, &s)),
                Err(e) => {
                    failure = Some(e);
                    break "writing metrics failed".to_owned();
                }
            }
            last_report_eval = Some(r);
        }
        if last_report.elapsed() >= REPORT_EVERY {
            last_report = Instant::now();
            let elapsed = started.elapsed().as_secs_f64();
            let reported = metrics
                .report(
                    trainer.steps(),
                    &selfplay.stats(),
                    &server.stats(),
                    (intake.buffer.len(), intake.buffer.memory_bytes()),
                    run_seconds(),
                )
                .and_then(|()| Ok(metrics.writer().flush()?));
            if let Err(e) = reported {
                failure = Some(e);
                break "writing metrics failed".to_owned();
            }
            let line = metrics.snapshot.line(elapsed);
            if let Some(bar) = &out.bar {
                bar.set_message(line.clone());
            }
            if last_log.elapsed() >= LOG_EVERY {
                last_log = Instant::now();
                if out.bar.is_some() {
                    let _ = run.log_line(&line);
                } else {
                    out.line(&line);
                }
            }
        }
        if last_flush.elapsed() >= REPLAY_FLUSH_EVERY {
            last_flush = Instant::now();
            if let Err(e) = intake.store.flush(m.replay.capacity) {
                failure = Some(e.into());
                break "writing replay chunks failed".to_owned();
            }
        }
    };

    // The last interval's metrics, at the final step.
    if let Err(e) = metrics.report(
        trainer.steps(),
        &selfplay.stats(),
        &server.stats(),
        (intake.buffer.len(), intake.buffer.memory_bytes()),
        run_seconds(),
    ) {
        failure.get_or_insert(e);
    }

    // Shut down: workers first (draining finished games so none blocks), then the server.
    selfplay.stop();
    while !selfplay.is_finished() {
        if let Ok(r) = rx.recv_timeout(Duration::from_millis(10)) {
            intake.add(r, &mut metrics);
        }
    }
    while let Ok(r) = rx.try_recv() {
        intake.add(r, &mut metrics);
    }
    let joined = selfplay.join();
    drop(rx);
    let server_joined = server.join();
    if let Err(e) = joined {
        failure.get_or_insert(anyhow::anyhow!(e));
    }
    if let Err(e) = server_joined {
        failure.get_or_insert(anyhow::anyhow!("inference server: {e}"));
    }
    let non_finite = failure
        .as_ref()
        .is_some_and(|f| f.downcast_ref::<TrainError>().is_some());
    // Keep every finished game; checkpoint unless the training state is suspect.
    intake.store.flush(m.replay.capacity)?;
    if !non_finite && trainer.steps() > last_checkpoint {
        meta.replay_added = intake.positions_total;
        meta.games = intake.games_total;
        meta.elapsed_seconds = run_seconds();
        let keep = ladder_steps(ladder_on, ladder, last_eval_step);
        checkpoint(&run, &trainer, &mut intake.store, &meta, m, &keep)?;
    }
    if let Some(e) = evaluator.as_mut() {
        let interrupted = opts.stop.load(Ordering::Acquire);
        let mut reports: Vec<EvalReport> = e.poll().into_iter().collect();
        if !interrupted && failure.is_none() {
            // A final evaluation of the final weights, so a run ends with its result.
            reports.extend(e.wait());
            if last_eval_step != Some(trainer.steps())
                && e.submit(
                    trainer.steps(),
                    run_seconds(),
                    trainer.inference_net(device),
                )
            {
                reports.extend(e.wait());
            }
        }
        for r in reports {
            record_ladder(&run, &mut ladder, &r)?;
            let summary = metrics.eval(&r)?;
            out.line(&eval_line(&r, &summary));
            last_report_eval = Some(r);
        }
    }
    match evaluator {
        // Ctrl-C: do not wait minutes for a running evaluation (it writes nothing).
        Some(e) if opts.stop.load(Ordering::Acquire) => e.abandon(),
        e => drop(e),
    }
    metrics.writer().flush()?;
    if let Some(bar) = &out.bar {
        bar.finish_and_clear();
    }
    let seconds = started.elapsed().as_secs_f64();
    out.line(&format!(
        "stopped after {seconds:.0} s: {reason}; step {}, {} games this session",
        trainer.steps(),
        intake.games_session
    ));
    if let Some(f) = failure {
        return Err(f.context(format!("run {}", run.root().display())));
    }
    Ok(RunSummary {
        steps: trainer.steps(),
        games: intake.games_session,
        seconds,
        reason,
        last_eval: last_report_eval,
    })
}

/// The log line of an evaluation.
fn eval_line(r: &EvalReport, summary: &str) -> String {
    format!(
        "eval of step {} (weights at {:.0} s, took {:.1} s): {summary}",
        r.step, r.at_seconds, r.seconds
    )
}

/// Where finished games go: the replay window, the chunk store, the counters.
struct Intake<G: Game> {
    buffer: ReplayBuffer<G>,
    store: ReplayStore<G>,
    positions_total: u64,
    games_total: u64,
    games_session: u64,
}

impl<G: Game> Intake<G> {
    fn add(&mut self, r: GameRecord<G>, metrics: &mut Metrics) {
        self.buffer.add_game(&r);
        self.positions_total += r.len() as u64;
        self.games_total += 1;
        self.games_session += 1;
        let g = &mut metrics.game_sums;
        g.games += 1;
        match r.outcome {
            Outcome::Win(Player::First) => g.first_wins += 1,
            Outcome::Draw => g.draws += 1,
            Outcome::Win(_) => {}
        }
        self.store.push(r);
    }
}

/// The weights of the checkpoint at `path` (of a run of `exp`) in inference form on `device`.
///
/// # Errors
/// [`CheckpointError`](az_train::CheckpointError) naming the file: unreadable,
/// damaged, or of another game or network shape.
pub fn load_inference_net<G: Game>(
    exp: &Experiment,
    path: &std::path::Path,
    device: &Device,
) -> Result<az_model::InferenceNet, az_train::CheckpointError> {
    let (trainer, _) = Trainer::load(
        path,
        G::NAME,
        net_config::<G>(exp),
        train_config(exp),
        device,
    )?;
    Ok(trainer.inference_net(device))
}

/// Flushes the replay chunks, then writes the checkpoint of this step and prunes
/// old ones (but those of the steps in `keep`).
fn checkpoint<G: Game>(
    run: &RunDir,
    trainer: &Trainer,
    store: &mut ReplayStore<G>,
    meta: &CheckpointMeta,
    m: &az_experiment::Manifest,
    keep: &[u64],
) -> Result<()> {
    store.flush(m.replay.capacity)?;
    std::fs::create_dir_all(run.checkpoints())
        .with_context(|| format!("creating {}", run.checkpoints().display()))?;
    trainer.save(&run.checkpoint(trainer.steps()), meta.clone())?;
    run.prune_checkpoints(m.train.keep_checkpoints, keep)
}

/// Checkpoints the Elo ladder needs: its point's and the newest evaluation's
/// (still running, it may become the next point).
fn ladder_steps(on: bool, ladder: Option<LadderPoint>, last_eval: Option<u64>) -> Vec<u64> {
    if on {
        ladder
            .map(|p| p.step)
            .into_iter()
            .chain(last_eval)
            .collect()
    } else {
        Vec::new()
    }
}

/// Moves the Elo ladder to `r`'s point, if it has one, in memory and in `ladder.json`.
fn record_ladder(run: &RunDir, ladder: &mut Option<LadderPoint>, r: &EvalReport) -> Result<()> {
    if let Some(elo) = r.elo {
        let point = LadderPoint { step: r.step, elo };
        run.write_ladder(point)?;
        *ladder = Some(point);
    }
    Ok(())
}
