//! Experiment manifests: a TOML file read into [`Manifest`] (serde, unknown keys
//! refused, defaults filled in), then checked into an [`Experiment`] whose every
//! value is in range. Errors name the file, the key, the bad value and what is
//! allowed. `--set section.key=value` overrides apply before both steps.
//!
//! Keys and defaults: docs/MANIFEST.md.

mod error;
mod manifest;
mod validate;

pub use error::ManifestError;
pub use manifest::{
    AdapterSpec, ClusterSection, DeviceSpec, EvalSection, FpuSpec, GameSection, InferenceSection,
    Manifest, MctsSection, ModelSection, OptimizerSpec, ReplaySection, RootSpec, RunSection,
    ScheduleSpec, SelfPlaySection, TrainSection, VirtualLossForm,
};

use std::path::{Path, PathBuf};

/// A checked experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct Experiment {
    /// Name: the manifest's file stem.
    pub name: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// The checked values.
    pub manifest: Manifest,
}

impl Experiment {
    /// Reads and checks the manifest at `path`, after applying `overrides`
    /// (`section.key=value`, the value in TOML syntax; a bare word is taken as a string).
    /// `games` lists the registered game names.
    ///
    /// # Errors
    /// [`ManifestError`] naming the file and the key.
    pub fn load(path: &Path, overrides: &[String], games: &[&str]) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, path, overrides, games)
    }

    /// Like [`load`](Experiment::load) from text; `path` names it in errors.
    ///
    /// # Errors
    /// [`ManifestError`] naming the file and the key.
    pub fn from_toml(
        text: &str,
        path: &Path,
        overrides: &[String],
        games: &[&str],
    ) -> Result<Self, ManifestError> {
        let parse_err = |e: &dyn std::fmt::Display| ManifestError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        };
        let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| parse_err(&e))?;
        for spec in overrides {
            apply_override(&mut table, spec)?;
        }
        let manifest: Manifest = table
            .try_into()
            .map_err(|e: toml::de::Error| parse_err(&e))?;
        validate::check(&manifest, path, games)?;
        let name = path.file_stem().map_or_else(
            || "experiment".to_owned(),
            |s| s.to_string_lossy().into_owned(),
        );
        Ok(Experiment {
            name,
            path: path.to_owned(),
            manifest,
        })
    }

    /// `cluster.stream`, or `az-<experiment>-games`.
    pub fn cluster_stream(&self) -> String {
        let c = &self.manifest.cluster;
        c.stream
            .clone()
            .unwrap_or_else(|| self.cluster_name("games"))
    }

    /// `cluster.bucket`, or `az-<experiment>-weights`.
    pub fn cluster_bucket(&self) -> String {
        let c = &self.manifest.cluster;
        c.bucket
            .clone()
            .unwrap_or_else(|| self.cluster_name("weights"))
    }

    /// Refuses what an `az learner` cannot honour: `run.max_evaluations` (its
    /// games come from actors, whose network evaluations it does not count, so
    /// the run would never reach the budget, nor a cosine schedule over it).
    ///
    /// # Errors
    /// [`ManifestError::Invalid`] naming the key and what bounds a learner.
    pub fn check_learner(&self) -> Result<(), ManifestError> {
        validate::check_learner(&self.manifest, &self.path)
    }

    /// `cluster.publish_every`, or `train.publish_every`.
    pub fn cluster_publish_every(&self) -> u64 {
        let m = &self.manifest;
        m.cluster.publish_every.unwrap_or(m.train.publish_every)
    }

    /// `az-<experiment>-<what>`, the name's other characters as `-`.
    fn cluster_name(&self, what: &str) -> String {
        let name: String = self
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .take(40)
            .collect();
        format!("az-{name}-{what}")
    }

    /// The manifest as TOML, every default written out (saved in the run directory).
    pub fn to_toml(&self) -> String {
        toml::to_string(&self.manifest).expect("a manifest always serialises")
    }
}

/// Applies one `section.key=value` override to the raw table.
fn apply_override(table: &mut toml::Table, spec: &str) -> Result<(), ManifestError> {
    let fail = |message: String| ManifestError::Override {
        spec: spec.to_owned(),
        message,
    };
    let (key, value) = spec
        .split_once('=')
        .ok_or_else(|| fail("expected section.key=value".to_owned()))?;
    let path: Vec<&str> = key.trim().split('.').collect();
    if path.len() != 2 || path.iter().any(|p| p.is_empty()) {
        return Err(fail(format!(
            "the key must be section.key, got {:?}",
            key.trim()
        )));
    }
    let text = value.trim();
    // A TOML value (number, bool, string, array, inline table), or else a bare word as a string.
    let parsed = format!("v = {text}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_owned()));
    let section = table
        .entry(path[0].to_owned())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let toml::Value::Table(section) = section else {
        return Err(fail(format!("`{}` is not a section", path[0])));
    };
    section.insert(path[1].to_owned(), parsed);
    Ok(())
}
