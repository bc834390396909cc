//! Finding and loading experiment manifests by name or path.

use crate::error::BadInput;
use crate::games;
use az_experiment::Experiment;
use std::path::{Path, PathBuf};

/// Where `az` looks for manifests given by name.
pub const DIR: &str = "experiments";

/// `connect4` → `experiments/connect4.toml`; a path to a file is used as it is.
///
/// # Errors
/// [`BadInput`] listing the experiments when nothing matches.
pub fn resolve(name: &str) -> Result<PathBuf, BadInput> {
    let direct = Path::new(name);
    if direct.is_file() {
        return Ok(direct.to_owned());
    }
    let by_name = Path::new(DIR).join(format!("{name}.toml"));
    if by_name.is_file() {
        return Ok(by_name);
    }
    let known = crate::commands::list::experiments(Path::new(DIR));
    Err(BadInput(format!(
        "no experiment {name:?}: not a file, and no {} (experiments: {})",
        by_name.display(),
        if known.is_empty() {
            "none found".to_owned()
        } else {
            known.join(", ")
        }
    )))
}

/// Resolves and loads an experiment with `--set` overrides.
///
/// # Errors
/// [`BadInput`] for a missing or invalid manifest (the message names file and key).
pub fn load(name: &str, overrides: &[String]) -> Result<Experiment, BadInput> {
    let path = resolve(name)?;
    Experiment::load(&path, overrides, &games::names()).map_err(|e| BadInput(e.to_string()))
}
