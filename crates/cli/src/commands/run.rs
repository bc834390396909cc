//! `az run`: a training run of an experiment (see az-run).

use crate::error::BadInput;
use crate::games::{GameVisitor, with_game};
use anyhow::Context;
use az_experiment::Experiment;
use az_game::Game;
use az_run::{Run, RunOptions, RunSummary, fresh_run_dir, latest_run_dir};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Where runs go unless `--run-dir` says otherwise.
pub const RUNS: &str = "runs";

/// What the progress line says (`az run --help`; README "Reading the progress line").
const PROGRESS_HELP: &str = "\
The progress line (every 3 s; in log.txt every 15 s):
  seconds, training step, loss, games | self-play positions/s, network evaluations/s,
  batch fill (mean batch / max batch), busy (share of wall time with a forward pass
  in flight), framework (the framework's share of self-play's CPU: the self-play
  workers' and inference server's threads - search, the game's rules, encoding,
  batching, channels - against those plus the network's forward passes)
  | cpu: cores used by each kind of thread over the last 3 s: play (self-play
  workers), infer (inference server), net (the network's forward passes), train
  (training steps, intake, reports), eval (evaluation), pool (the math threads of
  training and evaluation), other | replay window size | the last evaluation.
On a narrow terminal the least telling parts are left out.";

/// Arguments of `az run`.
#[derive(Debug, clap::Args)]
#[command(after_help = PROGRESS_HELP)]
pub struct RunArgs {
    /// Experiment: a name in experiments/ (`connect4`) or a manifest path.
    pub experiment: String,
    /// Run directory (default: runs/<experiment>-<UTC time>; with --resume, the newest run of the experiment).
    #[arg(long)]
    pub run_dir: Option<PathBuf>,
    /// Continue a run from its newest checkpoint and replay chunks (its own manifest.toml, plus --set).
    #[arg(long)]
    pub resume: bool,
    /// Stop this session after N seconds (checkpointing first).
    #[arg(long, value_parser = parse_limit)]
    pub max_seconds: Option<f64>,
    /// Override a manifest value: `--set section.key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Plain log lines even on a terminal (no live display).
    #[arg(long)]
    pub no_progress: bool,
}

/// A number of seconds above 0 (`--max-seconds`).
///
/// # Errors
/// The text, and what is allowed.
pub fn parse_limit(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s.is_finite() => Ok(s),
        _ => Err(format!(
            "expected a number of seconds above 0, got {text:?}"
        )),
    }
}

struct Visit<'a> {
    exp: &'a Experiment,
    device: burn::tensor::Device,
    options: RunOptions,
}

impl GameVisitor for Visit<'_> {
    type Output = anyhow::Result<RunSummary>;
    /// Opens the run and trains. Errors stay [`az_run::RunError`]s in the chain,
    /// so [`exit_code`](crate::error::exit_code) can tell bad input from failures.
    fn visit<G: Game>(self) -> anyhow::Result<RunSummary> {
        let dir = self.options.run_dir.clone();
        let run = Run::<G>::open(self.exp, &self.device, self.options)?;
        run.train()
            .with_context(|| format!("run {}", dir.display()))
    }
}

/// The experiment and run directory `args` select.
///
/// # Errors
/// [`BadInput`] for an unknown experiment, a bad `--set`, or nothing to resume.
pub fn select(args: &RunArgs, runs: &Path) -> Result<(Experiment, PathBuf), BadInput> {
    if !args.resume {
        let exp = crate::experiments::load(&args.experiment, &args.overrides)?;
        let dir = args
            .run_dir
            .clone()
            .unwrap_or_else(|| fresh_run_dir(runs, &exp.name));
        if dir.join("manifest.toml").exists() {
            return Err(BadInput(format!(
                "{} already holds a run: continue it with --resume, or choose another --run-dir",
                dir.display()
            )));
        }
        return Ok((exp, dir));
    }
    let name = Path::new(&args.experiment).file_stem().map_or_else(
        || args.experiment.clone(),
        |s| s.to_string_lossy().into_owned(),
    );
    let dir = match &args.run_dir {
        Some(d) => d.clone(),
        None => latest_run_dir(runs, &name).ok_or_else(|| {
            BadInput(format!(
                "--resume: no run of {name:?} under {}/ (start one with `az run {name}`, or give --run-dir)",
                runs.display()
            ))
        })?,
    };
    let manifest = dir.join("manifest.toml");
    if !manifest.is_file() {
        return Err(BadInput(format!(
            "--resume: {} is not a run directory (no manifest.toml)",
            dir.display()
        )));
    }
    let mut exp = Experiment::load(&manifest, &args.overrides, &crate::games::names())
        .map_err(|e| BadInput(e.to_string()))?;
    exp.name = az_run::RunDir::new(&dir)
        .read_record()
        .map(|r| r.experiment)
        .unwrap_or(name);
    Ok((exp, dir))
}

/// A flag the first Ctrl-C sets (finish cleanly: the step, a checkpoint, the
/// games handed over); the second exits at once.
pub fn stop_on_ctrl_c() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::AcqRel) {
            eprintln!("\ninterrupted again: exiting at once");
            std::process::exit(130);
        }
        eprintln!("\nstopping cleanly (Ctrl-C again to quit now)");
    });
    stop
}

/// Runs `az run`.
///
/// # Errors
/// [`BadInput`] for bad arguments or manifests; any failure of the run.
pub fn run(args: &RunArgs) -> anyhow::Result<String> {
    let (exp, dir) = select(args, Path::new(RUNS))?;
    let device = crate::backend::device(&exp.manifest.model)?;
    let options = RunOptions {
        run_dir: dir.clone(),
        resume: args.resume,
        max_seconds: args.max_seconds,
        stop: stop_on_ctrl_c(),
        progress: !args.no_progress && std::io::stderr().is_terminal(),
    };
    let game = exp.manifest.game.name.clone();
    let summary = with_game(
        &game,
        Visit {
            exp: &exp,
            device,
            options,
        },
    )??;
    let mut out = format!(
        "run {}: {} steps, {} games this session, {:.0} s ({})",
        dir.display(),
        summary.steps,
        summary.games,
        summary.seconds,
        summary.reason
    );
    if let Some(e) = &summary.last_eval {
        for (name, m, elo) in &e.matches {
            out.push_str(&format!(
                "\n  vs {name}: {} wins, {} draws, {} losses of {} (Elo difference {elo:+.0})",
                m.wins, m.draws, m.losses, m.games
            ));
        }
    }
    out.push_str(&format!(
        "\nTensorBoard: just tb {} (installs it on first use; or tensorboard --logdir DIR)",
        dir.display()
    ));
    Ok(out)
}
