//! What `az eval`, `az play`, `az analyze` and `az mistakes` are pointed at: loading a trained agent for `az eval`, `az play` and `az analyze`: a run
//! directory (its manifest and newest checkpoint) or a checkpoint file inside one.

use crate::error::BadInput;
use az_experiment::Experiment;
use az_game::Game;
use az_model::InferenceNet;
use std::path::{Path, PathBuf};

/// What a target names: the manifest and the checkpoint to load.
#[derive(Clone, Debug)]
pub struct Target {
    /// The run's experiment (its manifest.toml with `--set` overrides).
    pub exp: Experiment,
    /// The checkpoint file.
    pub checkpoint: PathBuf,
}

/// Resolves `target` (a run directory, or a `.azck` file inside one's `checkpoints/`).
///
/// # Errors
/// [`BadInput`] when it is neither, has no checkpoint, or its manifest is invalid.
pub fn resolve(target: &str, overrides: &[String]) -> Result<Target, BadInput> {
    let path = Path::new(target);
    let (run, checkpoint) = if path.is_dir() {
        let run = az_run::RunDir::new(path);
        let newest = run
            .list_checkpoints()
            .map_err(|e| BadInput(format!("{e:#}")))?
            .pop()
            .ok_or_else(|| {
                BadInput(format!(
                    "{target}: no checkpoint in {} yet",
                    run.checkpoints().display()
                ))
            })?;
        (path.to_owned(), newest.1)
    } else if path.is_file() {
        let run = path
            .parent()
            .and_then(Path::parent)
            .filter(|r| r.join("manifest.toml").is_file())
            .ok_or_else(|| {
                BadInput(format!(
                    "{target}: a checkpoint is read with the manifest.toml of its run, two folders up \
                     (runs/NAME/checkpoints/step-N.azck); none found"
                ))
            })?;
        (run.to_owned(), path.to_owned())
    } else {
        return Err(BadInput(format!(
            "{target}: no such run directory or checkpoint file"
        )));
    };
    let manifest = run.join("manifest.toml");
    let mut exp = Experiment::load(&manifest, overrides, &crate::games::names())
        .map_err(|e| BadInput(e.to_string()))?;
    // The experiment's own name (not the file's, manifest.toml) where the run recorded it.
    if let Ok(record) = az_run::RunDir::new(&run).read_record() {
        exp.name = record.experiment;
    }
    Ok(Target { exp, checkpoint })
}

/// The network of `checkpoint` for game `G`, in inference form on the experiment's device.
///
/// # Errors
/// [`BadInput`] for a missing backend or a checkpoint that cannot be used (named).
pub fn load_net<G: Game>(exp: &Experiment, checkpoint: &Path) -> Result<InferenceNet, BadInput> {
    let device = crate::backend::device(&exp.manifest.model)?;
    az_run::load_inference_net::<G>(exp, checkpoint, &device).map_err(|e| BadInput(e.to_string()))
}
