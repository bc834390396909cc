//! Opening a run: a fresh run directory or a resumed one, its record, the
//! learner (newest readable checkpoint or fresh weights), the replay window and
//! the Elo ladder's point.

use crate::checkpoint::{Checkpoints, learner};
use crate::eval::opponents;
use crate::intake::Intake;
use crate::ladder::Ladder;
use crate::pacing::Clock;
use crate::report::Out;
use crate::run_dir::{RunDir, RunRecord, git_revision};
use crate::{Run, RunError, RunOptions};
use az_experiment::Experiment;
use az_game::Game;
use burn::tensor::Device;

impl<G: Game> Run<G> {
    /// Creates the run directory `opts.run_dir`, or resumes the run in it
    /// (`opts.resume`): a new session in its record, its newest readable
    /// checkpoint (fresh weights if none), its replay chunks, its Elo ladder.
    /// Starts no thread.
    ///
    /// # Errors
    /// [`RunError::RunDirInUse`] for a fresh run where one is;
    /// [`RunError::NotARun`] for a resume without a run record;
    /// [`RunError::Manifest`] for an opponent or an ownership head the game
    /// cannot have;
    /// [`RunError::Replay`] or [`RunError::Ladder`] for a damaged file;
    /// [`RunError::Io`] or [`RunError::Write`] naming a file that cannot be written.
    pub fn open(exp: &Experiment, device: &Device, opts: RunOptions) -> Result<Self, RunError> {
        let opponents = opponents::<G>(exp)?;
        crate::intake::check_ownership::<G>(exp)?;
        let mut clock = Clock::start();
        let dir = RunDir::new(&opts.run_dir);
        let record = if opts.resume {
            resumed_record(&dir)?
        } else {
            create::<G>(&dir, exp)?
        };
        dir.write_record(&record)?;
        let out = Out::new(dir.clone(), opts.progress);
        let model = &exp.manifest.model;
        let on = match model.device {
            az_experiment::DeviceSpec::Wgpu => format!("wgpu (adapter {})", model.adapter),
            other => format!("{other:?}").to_lowercase(),
        };
        out.line(&format!(
            "az run {} ({}) on {on} in {} — session {}, revision {}",
            record.experiment,
            G::NAME,
            dir.root().display(),
            record.sessions.len(),
            record.git_revision
        ));
        let (trainer, meta) = learner::<G>(exp, device, &dir, opts.resume, &out)?;
        clock.resumed_after(meta.elapsed_seconds);
        let intake = Intake::open(&dir, exp, &meta, &out)?;
        let (ladder, previous) =
            Ladder::open::<G>(exp, &opponents, &dir, opts.resume, device, &out)?;
        let evaluations = meta.evaluations;
        Ok(Run {
            evaluations,
            exp: exp.clone(),
            device: device.clone(),
            sessions: record.sessions.len() as u64,
            checkpoints: Checkpoints::new(dir.clone(), exp, meta),
            opts,
            dir,
            out,
            clock,
            trainer,
            intake,
            opponents,
            ladder,
            previous,
        })
    }
}

/// Seconds since the Unix epoch.
fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The record of the run in `dir`, with this session added.
///
/// # Errors
/// [`RunError::NotARun`] if `run.json` is missing or malformed.
fn resumed_record(dir: &RunDir) -> Result<RunRecord, RunError> {
    let mut r = dir.read_record()?;
    r.sessions.push(now_unix());
    Ok(r)
}

/// Creates the run directory `dir` with `exp`'s manifest; the record of its first session.
///
/// # Errors
/// [`RunError::RunDirInUse`] if `dir` holds a run; [`RunError::Io`] or
/// [`RunError::Write`] if it cannot be created.
fn create<G: Game>(dir: &RunDir, exp: &Experiment) -> Result<RunRecord, RunError> {
    if dir.manifest().exists() {
        return Err(RunError::RunDirInUse {
            path: dir.root().to_owned(),
        });
    }
    std::fs::create_dir_all(dir.root()).map_err(RunError::io("creating", dir.root()))?;
    az_record::write_atomic(&dir.manifest(), exp.to_toml().as_bytes())?;
    Ok(RunRecord {
        experiment: exp.name.clone(),
        game: G::NAME.to_owned(),
        seed: exp.manifest.run.seed,
        git_revision: git_revision(),
        az_version: env!("CARGO_PKG_VERSION").to_owned(),
        sessions: vec![now_unix()],
    })
}
