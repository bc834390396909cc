//! Finding and loading experiment manifests by name or path: a file first, then
//! `experiments/<name>.toml`, then the stock manifests built into the binary (so
//! that an installed `az` away from its source tree still has them).

use crate::error::BadInput;
use crate::games;
use az_experiment::Experiment;
use std::path::{Path, PathBuf};

/// Where `az` looks for manifests given by name.
pub const DIR: &str = "experiments";

/// The stock manifests, by name, as the binary was built with them.
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "connect4",
        include_str!("../../../experiments/connect4.toml"),
    ),
    (
        "connect4-cuda",
        include_str!("../../../experiments/connect4-cuda.toml"),
    ),
    ("othello", include_str!("../../../experiments/othello.toml")),
    (
        "tictactoe",
        include_str!("../../../experiments/tictactoe.toml"),
    ),
];

/// Where a manifest comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A file on disk.
    File(PathBuf),
    /// One of [`BUILT_IN`]: its name and text.
    BuiltIn(&'static str, &'static str),
}

impl Source {
    /// How `az list` and error messages name it.
    pub fn describe(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::BuiltIn(..) => "built into az".to_owned(),
        }
    }
}

/// The built-in manifest called `name`.
fn built_in(name: &str) -> Option<Source> {
    BUILT_IN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(n, text)| Source::BuiltIn(n, text))
}

/// `connect4` → `experiments/connect4.toml` if it is there, else the built-in
/// `connect4`; a path to a file is used as it is.
///
/// # Errors
/// [`BadInput`] listing the experiments when nothing matches.
pub fn resolve(name: &str) -> Result<Source, BadInput> {
    let direct = Path::new(name);
    if direct.is_file() {
        return Ok(Source::File(direct.to_owned()));
    }
    let by_name = Path::new(DIR).join(format!("{name}.toml"));
    if by_name.is_file() {
        return Ok(Source::File(by_name));
    }
    if let Some(source) = built_in(name) {
        return Ok(source);
    }
    let known: Vec<String> = all(Path::new(DIR)).into_iter().map(|(n, _)| n).collect();
    Err(BadInput(format!(
        "no experiment {name:?}: not a file, no {}, and none built in (experiments: {})",
        by_name.display(),
        known.join(", ")
    )))
}

/// The experiments `az` knows by name, sorted: every `*.toml` in `dir`, and
/// the built-in ones that no file there replaces.
pub fn all(dir: &Path) -> Vec<(String, Source)> {
    let mut out: Vec<(String, Source)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .filter_map(|p| {
            let name = p.file_stem()?.to_string_lossy().into_owned();
            Some((name, Source::File(p)))
        })
        .collect();
    for &(name, text) in BUILT_IN {
        if !out.iter().any(|(n, _)| n == name) {
            out.push((name.to_owned(), Source::BuiltIn(name, text)));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Resolves and loads an experiment with `--set` overrides.
///
/// # Errors
/// [`BadInput`] for a missing or invalid manifest (the message names file and key).
pub fn load(name: &str, overrides: &[String]) -> Result<Experiment, BadInput> {
    let names = games::names();
    let loaded = match resolve(name)? {
        Source::File(path) => Experiment::load(&path, overrides, &names),
        Source::BuiltIn(name, text) => {
            // Errors name it as the file it was built from.
            let path = Path::new(DIR).join(format!("{name}.toml (built into az)"));
            Experiment::from_toml(text, &path, overrides, &names).map(|mut exp| {
                exp.name = name.to_owned();
                exp
            })
        }
    };
    loaded.map_err(|e| BadInput(e.to_string()))
}
