//! What a run reports: TensorBoard scalars and histograms, and the progress line.

use crate::eval::EvalReport;
use az_arena::Phase;
use az_infer::ServerStats;
use az_monitor::{EventError, EventWriter, Histogram};
use az_selfplay::{TimeSplit, WorkerStats};
use az_train::StepStats;
use std::time::Instant;

/// Sums of training statistics between two reports.
#[derive(Clone, Debug, Default)]
struct TrainSums {
    steps: u64,
    policy: f64,
    value: f64,
    loss: f64,
    entropy: f64,
    accuracy: f64,
    lr: f64,
}

/// Counts of self-play results between two reports.
#[derive(Clone, Debug, Default)]
pub struct GameSums {
    /// Games.
    pub games: u64,
    /// Won by the first player.
    pub first_wins: u64,
    /// Drawn.
    pub draws: u64,
}

/// The last values shown on the progress line.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Training steps.
    pub step: u64,
    /// Games finished in the run.
    pub games: u64,
    /// Positions per second of self-play (last interval).
    pub positions_per_sec: f64,
    /// Network evaluations per second (last interval).
    pub evals_per_sec: f64,
    /// Mean batch / max batch (last interval).
    pub batch_fill: f64,
    /// Share of wall time with a forward pass in flight (last interval).
    pub device_busy: f64,
    /// Training loss (mean of the last interval).
    pub loss: Option<f64>,
    /// Positions in the replay window.
    pub replay: usize,
    /// Framework share of the inference server's time (last interval).
    pub framework_share: f64,
    /// Short summary of the last evaluation.
    pub last_eval: Option<String>,
    /// A learner's: actors, ingest rate, staleness (instead of self-play's numbers).
    pub cluster: Option<String>,
}

impl Snapshot {
    /// One line for the terminal and the log.
    pub fn line(&self, elapsed: f64) -> String {
        let loss = self
            .loss
            .map_or_else(|| "-".to_owned(), |l| format!("{l:.3}"));
        // Most telling first: a narrow terminal cuts the end of the line.
        let selfplay = self.cluster.clone().unwrap_or_else(|| {
            format!(
                "{:.0} pos/s {:.0} evals/s fill {:.2} busy {:.0}% framework {:.1}%",
                self.positions_per_sec,
                self.evals_per_sec,
                self.batch_fill,
                100.0 * self.device_busy,
                100.0 * self.framework_share,
            )
        });
        let mut s = format!(
            "{:>5.0}s step {} loss {loss} games {} | {selfplay} | replay {}",
            elapsed, self.step, self.games, self.replay,
        );
        if let Some(e) = &self.last_eval {
            s.push_str(" | ");
            s.push_str(e);
        }
        s
    }
}

/// The self-play workers' and inference server's counters (`az run`).
type LocalStats = (WorkerStats, ServerStats);

/// Writes a run's metrics.
#[derive(Debug)]
pub struct Metrics {
    writer: EventWriter,
    train: TrainSums,
    /// Self-play results since the last report.
    pub game_sums: GameSums,
    /// When the last interval began, the local counters then, and the step.
    last: Option<(Instant, Option<LocalStats>, u64)>,
    server_threads: usize,
    /// What the progress line shows.
    pub snapshot: Snapshot,
}

impl Metrics {
    /// Metrics into `writer`; the server has `server_threads` threads.
    pub fn new(writer: EventWriter, server_threads: usize) -> Self {
        Metrics {
            writer,
            train: TrainSums::default(),
            game_sums: GameSums::default(),
            last: None,
            server_threads,
            snapshot: Snapshot::default(),
        }
    }

    /// The event writer, for text and flushing.
    pub fn writer(&mut self) -> &mut EventWriter {
        &mut self.writer
    }

    /// Adds one training step to the current interval.
    pub fn train_step(&mut self, s: &StepStats) {
        let t = &mut self.train;
        t.steps += 1;
        t.policy += f64::from(s.policy_loss);
        t.value += f64::from(s.value_loss);
        t.loss += f64::from(s.loss);
        t.entropy += f64::from(s.entropy);
        t.accuracy += f64::from(s.value_accuracy);
        t.lr = s.learning_rate;
    }

    /// Writes the interval's scalars at training step `step` and starts a new
    /// interval. `local`: the self-play workers' and server's counters, if they
    /// run in this process; `games`: games taken this session.
    ///
    /// # Errors
    /// [`EventError`] if the event file cannot be written.
    pub fn report(
        &mut self,
        step: u64,
        local: Option<(&WorkerStats, &ServerStats)>,
        games: u64,
        replay: (usize, usize),
        elapsed: f64,
    ) -> Result<(), EventError> {
        let now = Instant::now();
        let st = step as i64;
        self.snapshot.step = step;
        self.snapshot.games = games;
        self.snapshot.replay = replay.0;
        let train = std::mem::take(&mut self.train);
        if let Some(loss) = write_train(&mut self.writer, st, &train)? {
            self.snapshot.loss = Some(loss);
        }
        if let Some((t0, before, step0)) = self.last.take() {
            let secs = (now - t0).as_secs_f64().max(1e-9);
            self.writer
                .scalar("train/steps_per_sec", st, (step - step0) as f64 / secs)?;
            if let (Some((workers, server)), Some((w0, s0))) = (local, &before) {
                self.local_interval(st, now - t0, (workers, w0), (server, s0))?;
            }
        }
        if local.is_none() {
            // A learner's games come from actors: their results alone.
            write_results(&mut self.writer, st, &std::mem::take(&mut self.game_sums))?;
        }
        let w = &mut self.writer;
        w.scalar("replay/positions", st, replay.0 as f64)?;
        w.scalar("replay/memory_mb", st, replay.1 as f64 / 1e6)?;
        w.scalar("run/elapsed_seconds", st, elapsed)?;
        let local = local.map(|(w, s)| (w.clone(), s.clone()));
        self.last = Some((now, local, step));
        Ok(())
    }

    /// Self-play and the inference server over an interval of `dt`.
    fn local_interval(
        &mut self,
        st: i64,
        dt: std::time::Duration,
        (workers, w0): (&WorkerStats, &WorkerStats),
        (server, s0): (&ServerStats, &ServerStats),
    ) -> Result<(), EventError> {
        let secs = dt.as_secs_f64().max(1e-9);
        let dw = workers.since(w0);
        let ds = server.since(s0);
        let split = TimeSplit::new(&dw, &ds, self.server_threads, dt);
        let games = std::mem::take(&mut self.game_sums);
        let w = &mut self.writer;
        write_selfplay(w, st, secs, (workers, &dw), &games)?;
        write_inference(w, st, secs, (&dw, &ds), &split)?;
        let s = &mut self.snapshot;
        s.positions_per_sec = dw.moves as f64 / secs;
        s.evals_per_sec = ds.positions as f64 / secs;
        s.batch_fill = ds.batch_fill();
        s.device_busy = ds.busy_share(dt);
        s.framework_share = split.framework_share;
        Ok(())
    }

    /// Writes an evaluation's results at its step; returns a short summary.
    ///
    /// # Errors
    /// [`EventError`] if the event file cannot be written.
    pub fn eval(&mut self, r: &EvalReport) -> Result<String, EventError> {
        let st = r.step as i64;
        let w = &mut self.writer;
        let mut parts = Vec::new();
        // When the evaluated weights were taken (plots put the results there).
        w.scalar("eval/weights_at_seconds", st, r.at_seconds)?;
        for (name, m, elo) in &r.matches {
            let n = f64::from(m.games.max(1));
            w.scalar(&format!("eval/{name}/score"), st, m.score())?;
            w.scalar(&format!("eval/{name}/wins"), st, f64::from(m.wins) / n)?;
            w.scalar(&format!("eval/{name}/draws"), st, f64::from(m.draws) / n)?;
            w.scalar(&format!("eval/{name}/losses"), st, f64::from(m.losses) / n)?;
            w.scalar(&format!("eval/{name}/elo_difference"), st, *elo)?;
            parts.push(format!("{name} +{}={}-{}", m.wins, m.draws, m.losses));
        }
        if let Some(elo) = r.elo {
            w.scalar("eval/elo", st, elo)?;
            parts.push(format!("elo {elo:.0}"));
        }
        if let Some((policy, search)) = &r.mistakes {
            for (i, phase) in Phase::ALL.iter().enumerate() {
                let p = phase.name();
                w.scalar(
                    &format!("mistakes/positions/{p}"),
                    st,
                    policy.positions[i] as f64,
                )?;
                if policy.positions[i] > 0 {
                    w.scalar(&format!("mistakes/policy/{p}"), st, policy.rates[i])?;
                    w.scalar(&format!("mistakes/search/{p}"), st, search.rates[i])?;
                }
            }
            if search.positions[1] > 0 {
                parts.push(format!("mid mistakes {:.0}%", 100.0 * search.rates[1]));
            }
        }
        w.flush()?;
        let summary = parts.join(", ");
        self.snapshot.last_eval = Some(summary.clone());
        Ok(summary)
    }
}

/// The interval's training means; the mean loss, if a step was taken.
fn write_train(w: &mut EventWriter, st: i64, t: &TrainSums) -> Result<Option<f64>, EventError> {
    if t.steps == 0 {
        return Ok(None);
    }
    let n = t.steps as f64;
    w.scalar("loss/total", st, t.loss / n)?;
    w.scalar("loss/policy", st, t.policy / n)?;
    w.scalar("loss/value", st, t.value / n)?;
    w.scalar("train/learning_rate", st, t.lr)?;
    w.scalar("train/policy_entropy", st, t.entropy / n)?;
    w.scalar("train/value_accuracy", st, t.accuracy / n)?;
    Ok(Some(t.loss / n))
}

/// Self-play over an interval of `secs`: `(total, interval)` counters and results.
fn write_selfplay(
    w: &mut EventWriter,
    st: i64,
    secs: f64,
    (total, dw): (&WorkerStats, &WorkerStats),
    g: &GameSums,
) -> Result<(), EventError> {
    w.scalar("selfplay/games_per_sec", st, dw.games as f64 / secs)?;
    w.scalar("selfplay/positions_per_sec", st, dw.moves as f64 / secs)?;
    w.scalar("selfplay/games", st, total.games as f64)?;
    if dw.games > 0 {
        w.scalar("selfplay/game_length", st, dw.mean_game_length())?;
    }
    write_results(w, st, g)?;
    if dw.resign_checks > 0 {
        let r = dw.false_resignations as f64 / dw.resign_checks as f64;
        w.scalar("selfplay/false_resignations", st, r)?;
    }
    Ok(())
}

/// The share of games won by the first player and drawn.
fn write_results(w: &mut EventWriter, st: i64, g: &GameSums) -> Result<(), EventError> {
    if g.games > 0 {
        let n = g.games as f64;
        w.scalar("selfplay/first_player_wins", st, g.first_wins as f64 / n)?;
        w.scalar("selfplay/draws", st, g.draws as f64 / n)?;
    }
    Ok(())
}

/// The inference server and the time split over an interval of `secs`.
fn write_inference(
    w: &mut EventWriter,
    st: i64,
    secs: f64,
    (dw, ds): (&WorkerStats, &ServerStats),
    split: &TimeSplit,
) -> Result<(), EventError> {
    w.scalar("inference/evals_per_sec", st, ds.positions as f64 / secs)?;
    w.scalar("inference/batch_fill", st, ds.batch_fill())?;
    // The share of wall time with a forward pass in flight (AlphaZero.jl users
    // report 35-50 % GPU utilisation, AlphaZero.jl#41).
    let wall = std::time::Duration::from_secs_f64(secs);
    w.scalar("inference/device_busy", st, ds.busy_share(wall))?;
    w.scalar("inference/cache_hit_rate", st, dw.cache_hit_rate())?;
    let batch_sizes = Histogram::from_counts(&ds.histogram);
    w.histogram("inference/batch_size", st, &batch_sizes)?;
    for (name, share) in &split.shares {
        w.scalar(&format!("time/{name}"), st, *share)?;
    }
    w.scalar("time/framework_share", st, split.framework_share)
}
