//! What a run reports: TensorBoard scalars and histograms, and the progress line.

use crate::cpu::{CpuClock, CpuUse, Role};
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
    /// Sum of the ownership losses and the steps that had one.
    ownership: (f64, u64),
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

/// Self-play's numbers over the last interval.
#[derive(Clone, Debug, Default)]
pub struct SelfPlayRates {
    /// Positions per second of self-play.
    pub positions_per_sec: f64,
    /// Network evaluations per second.
    pub evals_per_sec: f64,
    /// Mean batch / max batch.
    pub batch_fill: f64,
    /// Share of wall time with a forward pass in flight.
    pub device_busy: f64,
}

/// The last values shown on the progress line.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Training steps.
    pub step: u64,
    /// Games finished in the run.
    pub games: u64,
    /// Self-play's rates; `None` until a first interval is measured.
    pub selfplay: Option<SelfPlayRates>,
    /// Training loss (mean of the last interval).
    pub loss: Option<f64>,
    /// Positions in the replay window.
    pub replay: usize,
    /// Cores used by each kind of thread (last interval), where measurable.
    pub cpu: Option<CpuUse>,
    /// Short summary of the last evaluation.
    pub last_eval: Option<String>,
    /// A learner's: actors, ingest rate, staleness (instead of self-play's numbers).
    pub cluster: Option<String>,
}

/// A piece of the progress line: `keep` orders what stays when the line must be
/// cut to fit (higher stays longer); `group` starts a new `|` section.
struct Part {
    keep: u8,
    group: bool,
    text: String,
}

impl Snapshot {
    /// One line for the terminal and the log: at most `width` characters (all of
    /// it with `None`), dropping the least telling pieces first.
    pub fn line(&self, elapsed: f64, width: Option<usize>) -> String {
        let part = |keep, group, text: String| Part { keep, group, text };
        let loss = self
            .loss
            .map_or_else(|| "-".to_owned(), |l| format!("{l:.3}"));
        let mut parts = vec![
            part(9, false, format!("{elapsed:>5.0}s")),
            part(9, false, format!("step {}", self.step)),
            part(8, false, format!("loss {loss}")),
            part(7, false, format!("games {}", self.games)),
        ];
        match (&self.cluster, &self.selfplay) {
            (Some(c), _) => parts.push(part(6, true, c.clone())),
            (None, None) => parts.push(part(6, true, "self-play starting".to_owned())),
            (None, Some(r)) => parts.extend([
                part(6, true, format!("{:.0} pos/s", r.positions_per_sec)),
                part(5, false, format!("{:.0} evals/s", r.evals_per_sec)),
                part(2, false, format!("fill {:.2}", r.batch_fill)),
                part(3, false, format!("busy {:.0}%", 100.0 * r.device_busy)),
            ]),
        }
        let framework = self.cpu.as_ref().and_then(CpuUse::framework_share);
        if let (None, Some(_), Some(f)) = (&self.cluster, &self.selfplay, framework) {
            parts.push(part(4, false, format!("framework {:.0}%", 100.0 * f)));
        }
        if let Some(cpu) = &self.cpu {
            parts.push(part(3, true, format!("cpu {}", cpu.summary())));
        }
        parts.push(part(1, true, format!("replay {}", self.replay)));
        if let Some(e) = &self.last_eval {
            parts.push(part(5, true, e.clone()));
        }
        fit(parts, width)
    }
}

/// Joins `parts`, dropping the lowest `keep` first (the last of equals first)
/// until the line has at most `width` characters.
fn fit(mut parts: Vec<Part>, width: Option<usize>) -> String {
    let join = |parts: &[Part]| {
        let mut s = String::new();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                s.push_str(if p.group { " | " } else { " " });
            }
            s.push_str(&p.text);
        }
        s
    };
    loop {
        let line = join(&parts);
        let fits = width.is_none_or(|w| line.chars().count() <= w);
        if fits || parts.len() <= 1 {
            return match width {
                Some(w) if !fits => line.chars().take(w).collect(),
                _ => line,
            };
        }
        let drop = (0..parts.len())
            .rev()
            .min_by_key(|&i| parts[i].keep)
            .expect("parts is not empty");
        // A group's first piece dropped: the next piece starts the group.
        if parts[drop].group && drop + 1 < parts.len() {
            parts[drop + 1].group = true;
        }
        parts.remove(drop);
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
    /// When the session's metrics began: its local counters started at zero then.
    started: Instant,
    server_threads: usize,
    /// Threads' CPU time, and when it was last read.
    cpu: (CpuClock, Instant),
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
            started: Instant::now(),
            server_threads,
            cpu: (CpuClock::new(), Instant::now()),
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
        if let Some(o) = s.ownership_loss {
            t.ownership.0 += f64::from(o);
            t.ownership.1 += 1;
        }
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
        } else if let Some((workers, server)) = local {
            // The session's first interval: self-play's counters began at zero
            // with the metrics, so a session shorter than one interval is seen too.
            let zero: LocalStats = Default::default();
            self.local_interval(
                st,
                now - self.started,
                (workers, &zero.0),
                (server, &zero.1),
            )?;
        }
        if local.is_none() {
            // A learner's games come from actors: their results alone.
            write_results(&mut self.writer, st, &std::mem::take(&mut self.game_sums))?;
        }
        self.snapshot.cpu = self.cpu.0.sample(now - self.cpu.1);
        self.cpu.1 = now;
        if let Some(cpu) = &self.snapshot.cpu {
            for role in Role::ALL {
                let tag = format!("cpu/{}", role.name());
                self.writer.scalar(&tag, st, cpu.of(role))?;
            }
            if let Some(f) = cpu.framework_share() {
                self.writer.scalar("time/framework_share", st, f)?;
            }
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
        self.snapshot.selfplay = Some(SelfPlayRates {
            positions_per_sec: dw.moves as f64 / secs,
            evals_per_sec: ds.positions as f64 / secs,
            batch_fill: ds.batch_fill(),
            device_busy: ds.busy_share(dt),
        });
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
        if let Some(m) = &r.mistakes {
            let search = &m.search;
            for (i, phase) in Phase::ALL.iter().enumerate() {
                let p = phase.name();
                w.scalar(
                    &format!("mistakes/positions/{p}"),
                    st,
                    search.positions[i] as f64,
                )?;
                if search.positions[i] > 0 {
                    w.scalar(&format!("mistakes/policy/{p}"), st, m.policy.rates[i])?;
                    w.scalar(&format!("mistakes/value/{p}"), st, m.value.rates[i])?;
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
    if t.ownership.1 > 0 {
        w.scalar("loss/ownership", st, t.ownership.0 / t.ownership.1 as f64)?;
    }
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
    if dw.moves > 0 {
        // Playout cap randomization's fast searches (0 without it).
        let fast = dw.fast_moves as f64 / dw.moves as f64;
        w.scalar("selfplay/fast_move_share", st, fast)?;
    }
    w.scalar("selfplay/games", st, total.games as f64)?;
    if dw.games > 0 {
        w.scalar("selfplay/game_length", st, dw.mean_game_length())?;
    }
    if dw.games > 0 && total.random_plies > 0 {
        // Random openings: their moves per game (searched moves are not in them).
        let r = dw.random_plies as f64 / dw.games as f64;
        w.scalar("selfplay/random_plies", st, r)?;
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        Snapshot {
            step: 1200,
            games: 2143,
            selfplay: Some(SelfPlayRates {
                positions_per_sec: 1110.0,
                evals_per_sec: 21695.0,
                batch_fill: 0.89,
                device_busy: 0.41,
            }),
            loss: Some(1.223),
            replay: 17307,
            cpu: Some(CpuUse {
                cores: [0.08, 0.1, 0.6, 0.3, 0.5, 0.2, 0.0],
            }),
            last_eval: Some("random +94=6-0, perfect +0=100-0, mid mistakes 0%".to_owned()),
            cluster: None,
        }
    }

    #[test]
    fn the_whole_line_says_everything_once() {
        let line = snapshot().line(15.0, None);
        for piece in [
            "15s",
            "step 1200",
            "loss 1.223",
            "games 2143",
            "1110 pos/s",
            "21695 evals/s",
            "fill 0.89",
            "busy 41%",
            "framework 23%",
            "cpu play 0.1 infer 0.1 net 0.6 train 0.3 eval 0.5 pool 0.2",
            "replay 17307",
            "perfect +0=100-0",
        ] {
            assert_eq!(line.matches(piece).count(), 1, "{piece:?} in {line}");
        }
    }

    #[test]
    fn before_the_first_interval_no_zeros_are_shown() {
        let s = Snapshot {
            selfplay: None,
            cpu: None,
            last_eval: None,
            loss: None,
            ..snapshot()
        };
        let line = s.line(3.0, None);
        assert!(line.contains("self-play starting"), "{line}");
        assert!(!line.contains("pos/s") && !line.contains("0.0%"), "{line}");
    }

    #[test]
    fn the_line_fits_the_terminal_and_keeps_what_tells_most() {
        let s = snapshot();
        let whole = s.line(15.0, None).chars().count();
        for width in [20, 40, 60, 80, 100, 120, whole] {
            let line = s.line(15.0, Some(width));
            assert!(line.chars().count() <= width, "{width}: {line}");
            assert!(line.starts_with("   15s step 1200"), "{width}: {line}");
            assert!(
                !line.ends_with(' ') && !line.ends_with('|'),
                "{width}: {line}"
            );
        }
        let line = s.line(15.0, Some(80));
        assert!(line.contains("pos/s") && line.contains("loss"), "{line}");
        assert!(!line.contains("replay"), "replay goes first: {line}");
        let line = s.line(15.0, Some(120));
        assert!(line.contains("perfect +0=100-0"), "{line}");
        assert_eq!(s.line(15.0, Some(whole)), s.line(15.0, None));
    }
}
