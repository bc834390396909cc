//! The run directory: manifest, run record, checkpoints, replay chunks,
//! TensorBoard events and the log.
//!
//! ```text
//! runs/<name>-<YYYYmmdd-HHMMSS>/
//!   manifest.toml      the resolved experiment, every default written out
//!   run.json           experiment name, seed, git revision, az version, sessions
//!   log.txt            the progress lines and events of every session
//!   checkpoints/step-000001200.azck
//!   replay/chunk-0000000007.azr
//!   events/events.out.tfevents.*
//!   scalars.jsonl      every TensorBoard scalar again, one JSON object per line
//!   ladder.json        the newest point of the Elo ladder (step, Elo), so a
//!                      resumed run plays on against those weights
//! ```

use crate::RunError;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What `run.json` records.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Experiment name.
    pub experiment: String,
    /// Game.
    pub game: String,
    /// `[run] seed`.
    pub seed: u64,
    /// `git describe --always --dirty` where the run started, if known.
    pub git_revision: String,
    /// az version.
    pub az_version: String,
    /// Unix time of each session's start (a resumed run adds one).
    pub sessions: Vec<u64>,
}

/// The newest evaluation on the Elo ladder: its step (whose checkpoint is kept)
/// and its Elo.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LadderPoint {
    /// Training step of the weights evaluated.
    pub step: u64,
    /// Their ladder Elo.
    pub elo: f64,
}

/// Paths of one run.
#[derive(Clone, Debug)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// The run at `root` (not created).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RunDir { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `manifest.toml`.
    pub fn manifest(&self) -> PathBuf {
        self.root.join("manifest.toml")
    }

    /// `run.json`.
    pub fn record(&self) -> PathBuf {
        self.root.join("run.json")
    }

    /// `checkpoints/`.
    pub fn checkpoints(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    /// `replay/`.
    pub fn replay(&self) -> PathBuf {
        self.root.join("replay")
    }

    /// `events/`.
    pub fn events(&self) -> PathBuf {
        self.root.join("events")
    }

    /// `scalars.jsonl`.
    pub fn scalars(&self) -> PathBuf {
        self.root.join("scalars.jsonl")
    }

    /// `log.txt`.
    pub fn log(&self) -> PathBuf {
        self.root.join("log.txt")
    }

    /// `ladder.json`.
    pub fn ladder(&self) -> PathBuf {
        self.root.join("ladder.json")
    }

    /// Reads `ladder.json`; `None` if there is none yet.
    ///
    /// # Errors
    /// [`RunError::Io`] if unreadable, [`RunError::Ladder`] if malformed.
    pub fn read_ladder(&self) -> Result<Option<LadderPoint>, RunError> {
        let path = self.ladder();
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(RunError::io("reading", &path))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| RunError::Ladder {
                path,
                reason: e.to_string(),
            })
    }

    /// Writes `ladder.json` atomically.
    ///
    /// # Errors
    /// [`RunError::Write`] if it cannot be written.
    pub fn write_ladder(&self, point: LadderPoint) -> Result<(), RunError> {
        let text = serde_json::to_string(&point).expect("a ladder point serialises");
        Ok(az_record::write_atomic(&self.ladder(), text.as_bytes())?)
    }

    /// The checkpoint file of `step`.
    pub fn checkpoint(&self, step: u64) -> PathBuf {
        self.checkpoints().join(format!("step-{step:09}.azck"))
    }

    /// Checkpoints on disk, oldest first, with their steps.
    ///
    /// # Errors
    /// [`RunError::Io`] if the folder exists but cannot be read.
    pub fn list_checkpoints(&self) -> Result<Vec<(u64, PathBuf)>, RunError> {
        let dir = self.checkpoints();
        if !dir.exists() {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(RunError::io("reading", &dir))? {
            let path = entry.map_err(RunError::io("reading", &dir))?.path();
            let step = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("step-"))
                .and_then(|n| n.strip_suffix(".azck"))
                .and_then(|n| n.parse::<u64>().ok());
            if let Some(step) = step {
                found.push((step, path));
            }
        }
        found.sort();
        Ok(found)
    }

    /// Deletes all but the newest `keep` checkpoints (at least one is kept) and
    /// those of the steps in `protect`.
    ///
    /// # Errors
    /// [`RunError::Io`] if a file cannot be deleted.
    pub fn prune_checkpoints(&self, keep: usize, protect: &[u64]) -> Result<(), RunError> {
        let all = self.list_checkpoints()?;
        let extra = all.len().saturating_sub(keep.max(1));
        for (step, path) in &all[..extra] {
            if !protect.contains(step) {
                std::fs::remove_file(path).map_err(RunError::io("deleting", path))?;
            }
        }
        Ok(())
    }

    /// Reads `run.json`.
    ///
    /// # Errors
    /// [`RunError::NotARun`] naming the file if it is missing, unreadable or malformed.
    pub fn read_record(&self) -> Result<RunRecord, RunError> {
        let path = self.record();
        let not_a_run = |reason: String| RunError::NotARun {
            path: path.clone(),
            reason,
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| not_a_run(format!("cannot read the run record: {e}")))?;
        serde_json::from_str(&text).map_err(|e| not_a_run(format!("not a run record: {e}")))
    }

    /// Writes `run.json` atomically.
    ///
    /// # Errors
    /// [`RunError::Write`] if it cannot be written.
    pub fn write_record(&self, record: &RunRecord) -> Result<(), RunError> {
        let text = serde_json::to_string_pretty(record).expect("a run record serialises");
        Ok(az_record::write_atomic(&self.record(), text.as_bytes())?)
    }

    /// Appends `line` to the log.
    ///
    /// # Errors
    /// [`RunError::Io`] if the log cannot be written.
    pub fn log_line(&self, line: &str) -> Result<(), RunError> {
        let path = self.log();
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(RunError::io("opening", &path))?;
        writeln!(f, "{line}").map_err(RunError::io("writing", path))
    }
}

/// `git describe --always --dirty` of the current directory, or `unknown`.
pub fn git_revision() -> String {
    std::process::Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// `runs/<name>-<UTC time>`, with a suffix if that exists already.
pub fn fresh_run_dir(runs: &Path, name: &str) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let stamp = utc_stamp(secs);
    let mut path = runs.join(format!("{name}-{stamp}"));
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = runs.join(format!("{name}-{stamp}-{n}"));
    }
    path
}

/// The newest run of experiment `name` under `runs` (by directory name).
pub fn latest_run_dir(runs: &Path, name: &str) -> Option<PathBuf> {
    let prefix = format!("{name}-");
    let mut found: Vec<PathBuf> = std::fs::read_dir(runs)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.join("manifest.toml").exists()
                && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.strip_prefix(&prefix)
                        .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
                })
        })
        .collect();
    found.sort();
    found.pop()
}

/// `YYYYmmdd-HHMMSS` of a Unix time (UTC; civil-from-days).
pub fn utc_stamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(1_795_000_000), "20261118-110640");
        assert_eq!(utc_stamp(951_782_400), "20000229-000000");
    }

    #[test]
    fn checkpoints_sorted_and_pruned() {
        let root = std::env::temp_dir().join(format!("az-rundir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let run = RunDir::new(&root);
        std::fs::create_dir_all(run.checkpoints()).unwrap();
        for s in [30, 5, 200, 100] {
            std::fs::write(run.checkpoint(s), b"x").unwrap();
        }
        std::fs::write(run.checkpoints().join("notes.txt"), b"x").unwrap();
        let steps: Vec<u64> = run
            .list_checkpoints()
            .unwrap()
            .iter()
            .map(|c| c.0)
            .collect();
        assert_eq!(steps, [5, 30, 100, 200]);
        run.prune_checkpoints(3, &[]).unwrap();
        run.prune_checkpoints(2, &[30]).unwrap();
        let steps: Vec<u64> = run
            .list_checkpoints()
            .unwrap()
            .iter()
            .map(|c| c.0)
            .collect();
        assert_eq!(steps, [30, 100, 200]);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn ladder_round_trip_and_bad_file() {
        let root = std::env::temp_dir().join(format!("az-ladder-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let run = RunDir::new(&root);
        assert_eq!(run.read_ladder().unwrap(), None);
        let p = LadderPoint {
            step: 1200,
            elo: 431.5,
        };
        run.write_ladder(p).unwrap();
        assert_eq!(run.read_ladder().unwrap(), Some(p));
        std::fs::write(run.ladder(), b"{\"step\": 12").unwrap();
        let e = format!("{:#}", run.read_ladder().unwrap_err());
        assert!(e.contains("ladder.json") && e.contains("step"), "{e}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
