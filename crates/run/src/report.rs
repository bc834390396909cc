//! Reporting: log lines (the log file and the terminal), the progress line, and
//! the metrics written every few seconds ([`Metrics`] holds what they say).

use crate::eval::EvalReport;
use crate::metrics::{Metrics, Snapshot};
use crate::run_dir::RunDir;
use az_experiment::Experiment;
use az_infer::ServerStats;
use az_monitor::{EventError, EventWriter};
use az_selfplay::WorkerStats;
use std::time::{Duration, Instant};

/// Metrics are written this often.
const REPORT_EVERY: Duration = Duration::from_secs(3);
/// The progress line goes to the log this often.
const LOG_EVERY: Duration = Duration::from_secs(15);

/// Where lines go: the log file always; the terminal through the progress bar or plainly.
#[derive(Debug)]
pub(crate) struct Out {
    dir: RunDir,
    bar: Option<indicatif::ProgressBar>,
}

impl Out {
    /// Lines of the run in `dir`, with a live progress display if `progress`.
    pub fn new(dir: RunDir, progress: bool) -> Self {
        let bar = progress.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            // The line is fitted to the terminal (`Snapshot::line`); `wide_msg`
            // still cuts it rather than wrap if the terminal narrows meanwhile.
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {wide_msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Out { dir, bar }
    }

    /// Writes `line` to the log and the terminal.
    pub fn line(&self, line: &str) {
        // The log file is best effort: a full disk must not stop training here
        // (checkpoints report their own errors).
        let _ = self.dir.log_line(line);
        match &self.bar {
            Some(bar) if !bar.is_finished() => bar.println(line),
            _ => eprintln!("{line}"),
        }
    }

    /// Shows the progress line, fitted to the terminal; every [`LOG_EVERY`]
    /// (`log`) it goes to the log too, whole.
    fn progress(&self, snapshot: &Snapshot, elapsed: f64, log: bool) {
        let whole = snapshot.line(elapsed, None);
        if let Some(bar) = &self.bar {
            // The spinner and a space take 2 columns.
            let width = terminal_columns().map(|w| w.saturating_sub(2));
            bar.set_message(snapshot.line(elapsed, width));
            if log {
                let _ = self.dir.log_line(&whole);
            }
        } else if log {
            self.line(&whole);
        }
    }

    /// Removes the progress display.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The width of the terminal on stderr, if stderr is one.
pub fn terminal_columns() -> Option<usize> {
    console::Term::stderr()
        .size_checked()
        .map(|(_, cols)| usize::from(cols))
}

/// What a report is made of.
pub(crate) struct ReportInput {
    /// Training steps done.
    pub step: u64,
    /// The local self-play workers' and inference server's counters (none
    /// for a learner: its games come from actors).
    pub local: Option<(WorkerStats, ServerStats)>,
    /// Games taken this session.
    pub games: u64,
    /// Positions in the replay window and their bytes.
    pub replay: (usize, usize),
    /// Seconds of the session and of the run.
    pub seconds: (f64, f64),
    /// Self-play's network evaluations over all sessions.
    pub evaluations: u64,
}

/// The reporting clock.
#[derive(Debug)]
pub(crate) struct Reporter {
    last_report: Instant,
    last_log: Instant,
}

impl Reporter {
    /// Reports from now on.
    pub fn new() -> Self {
        Reporter {
            last_report: Instant::now(),
            last_log: Instant::now(),
        }
    }

    /// Whether a report is due.
    pub fn due(&self) -> bool {
        self.last_report.elapsed() >= REPORT_EVERY
    }

    /// Writes the interval's metrics and shows the progress line.
    ///
    /// # Errors
    /// [`EventError`] if the events cannot be written.
    pub fn report(
        &mut self,
        metrics: &mut Metrics,
        out: &Out,
        input: &ReportInput,
    ) -> Result<(), EventError> {
        self.last_report = Instant::now();
        write_metrics(metrics, input)?;
        metrics.writer().flush()?;
        let log = self.last_log.elapsed() >= LOG_EVERY;
        if log {
            self.last_log = Instant::now();
        }
        out.progress(&metrics.snapshot, input.seconds.0, log);
        Ok(())
    }
}

/// Writes the interval's metrics (without flushing them).
///
/// # Errors
/// [`EventError`] if the events cannot be written.
pub(crate) fn write_metrics(metrics: &mut Metrics, i: &ReportInput) -> Result<(), EventError> {
    metrics
        .writer()
        .scalar("selfplay/evaluations", i.step as i64, i.evaluations as f64)?;
    let local = i.local.as_ref().map(|(w, s)| (w, s));
    metrics.report(i.step, local, i.games, i.replay, i.seconds.1)
}

/// The run's metrics: TensorBoard events in `dir` (mirrored to `scalars.jsonl`),
/// starting with the manifest of `exp` as text at step `step`.
///
/// # Errors
/// [`EventError`] if the events cannot be written.
pub(crate) fn open_metrics(
    dir: &RunDir,
    exp: &Experiment,
    step: u64,
) -> Result<Metrics, EventError> {
    let mut writer = EventWriter::create(&dir.events())?;
    writer.mirror_scalars(&dir.scalars())?;
    let mut metrics = Metrics::new(writer, exp.manifest.inference.threads);
    let manifest = format!("```toml\n{}\n```", exp.to_toml());
    metrics.writer().text("manifest", step as i64, &manifest)?;
    metrics.writer().flush()?;
    Ok(metrics)
}

/// The log line of an evaluation.
pub(crate) fn eval_line(r: &EvalReport, summary: &str) -> String {
    format!(
        "eval of step {} (weights at {:.0} s, took {:.1} s): {summary}",
        r.step, r.at_seconds, r.seconds
    )
}
