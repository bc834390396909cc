//! [`RunError`]: what can stop a run, as kinds a caller can match.

use az_experiment::ManifestError;
use az_monitor::EventError;
use az_record::WriteError;
use az_replay::ReplayError;
use az_train::{CheckpointError, TrainError};
use std::path::PathBuf;

/// Why a run could not be opened or ended in failure. Every variant names the
/// file or the field at fault; [`is_bad_input`](RunError::is_bad_input) tells the
/// user's mistakes and damaged files from failures of the machine.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A fresh run asked for in a directory that holds one already.
    #[error("{path} already holds a run; continue it with --resume, or choose another --run-dir")]
    RunDirInUse {
        /// The run directory.
        path: PathBuf,
    },
    /// `--resume` of a directory whose run record (`run.json`) is missing or malformed.
    #[error("{path}: not a run to resume: {reason}")]
    NotARun {
        /// The run record.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// `--resume` of a directory whose checkpoints all fail to load (another
    /// network shape, another game, or damaged): going on from fresh weights
    /// would prune them, so the run stops and leaves them as they are.
    #[error(
        "{dir}: none of its {count} checkpoints can be resumed (the newest: {newest}); they are left as they are: resume with the manifest and build that wrote them, or start a new --run-dir"
    )]
    NoUsableCheckpoint {
        /// The checkpoints folder.
        dir: PathBuf,
        /// How many checkpoints it holds.
        count: usize,
        /// Why the newest cannot be loaded (boxed: it is the largest variant).
        newest: Box<CheckpointError>,
    },
    /// `ladder.json` that is not a ladder point.
    #[error("{path}: not a ladder point {{\"step\", \"elo\"}}: {reason}")]
    Ladder {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The experiment does not fit the game (an opponent it cannot have).
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A checkpoint that cannot be written, or read where one is needed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A replay chunk that cannot be read or written.
    #[error(transparent)]
    Replay(#[from] ReplayError),
    /// A folder or file of the run that cannot be created, read or deleted.
    #[error("{action} {path}")]
    Io {
        /// What was being done: `creating`, `reading`, `deleting`, `writing`.
        action: &'static str,
        /// The folder or file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file of the run (manifest, run record, ladder) that cannot be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// TensorBoard events or `scalars.jsonl` that cannot be written.
    #[error(transparent)]
    Metrics(#[from] EventError),
    /// The link to the cluster closed (the transport says why).
    #[error("the cluster link closed: {0}")]
    Link(String),
    /// The self-play workers or the inference server stopped or panicked.
    #[error("{0}")]
    SelfPlay(String),
    /// A training step failed: a NaN or infinite loss (`TrainError::NonFinite`:
    /// the step was not applied and no checkpoint is written after it), or a
    /// batch that does not fit the network.
    #[error(transparent)]
    Train(#[from] TrainError),
}

impl RunError {
    /// Whether the user can fix it by what they pass or keep: a run directory
    /// in use or not a run, a manifest error, a damaged or mismatched
    /// checkpoint, replay chunk or ladder file. (`az` exits with 2 for these.)
    pub fn is_bad_input(&self) -> bool {
        match self {
            RunError::RunDirInUse { .. }
            | RunError::NotARun { .. }
            | RunError::NoUsableCheckpoint { .. }
            | RunError::Ladder { .. }
            | RunError::Manifest(_) => true,
            RunError::Checkpoint(e) => matches!(
                e,
                CheckpointError::Corrupt { .. } | CheckpointError::Mismatch { .. }
            ),
            RunError::Replay(e) => matches!(e, ReplayError::Corrupt { .. }),
            RunError::Io { .. }
            | RunError::Write(_)
            | RunError::Metrics(_)
            | RunError::SelfPlay(_)
            | RunError::Link(_)
            | RunError::Train(_) => false,
        }
    }

    /// An [`Io`](RunError::Io) error: `action` (`reading`, …) on `path`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> RunError {
        let path = path.into();
        move |source| RunError::Io {
            action,
            path,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_kinds() {
        let path = PathBuf::from("runs/x/replay/chunk-0000000003.azr");
        let corrupt = RunError::Replay(ReplayError::Corrupt {
            path: path.clone(),
            reason: "checksum mismatch".to_owned(),
        });
        assert!(corrupt.is_bad_input());
        assert!(corrupt.to_string().contains("chunk-0000000003.azr"));
        let io = RunError::Replay(ReplayError::Io {
            path,
            source: std::io::Error::other("disk full"),
        });
        assert!(!io.is_bad_input());
        let in_use = RunError::RunDirInUse {
            path: PathBuf::from("runs/x"),
        };
        assert!(in_use.is_bad_input());
        assert!(in_use.to_string().contains("--resume"), "{in_use}");
        let nan = RunError::from(TrainError::NonFinite {
            step: 7,
            policy: f32::NAN,
            value: 0.5,
            ownership: None,
        });
        assert!(matches!(
            nan,
            RunError::Train(TrainError::NonFinite { step: 7, .. })
        ));
        assert!(!nan.is_bad_input());
        assert!(nan.to_string().contains("train.learning_rate"), "{nan}");
    }
}
