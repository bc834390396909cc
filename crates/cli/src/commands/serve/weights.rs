//! The network `az serve` plays with: a checkpoint file, or a run directory's
//! newest checkpoint, looked for again at most every few seconds so that the
//! page follows a running `az run`.

use crate::error::BadInput;
use crate::target::{Target, load_net};
use az_experiment::Experiment;
use az_game::Game;
use az_model::InferenceNet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often a followed run directory is listed again.
const LOOK_AGAIN: Duration = Duration::from_secs(3);

/// The loaded network and where it came from.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The checkpoint file.
    pub checkpoint: PathBuf,
    /// Its training step (from the file name; 0 if it has none).
    pub step: u64,
    /// The network.
    pub net: InferenceNet,
}

/// The network, and the run directory it follows (if any).
#[derive(Debug)]
pub struct Weights {
    /// The run's experiment.
    pub exp: Experiment,
    /// The run directory.
    pub run_dir: PathBuf,
    follow: bool,
    current: Mutex<(Loaded, Instant)>,
}

impl Weights {
    /// Loads `target` for game `G`; `given` is what the user typed (a directory
    /// is followed).
    ///
    /// # Errors
    /// [`BadInput`] for a checkpoint that cannot be used (another game's, a
    /// truncated file: named).
    pub fn open<G: Game>(given: &str, target: Target) -> Result<Self, BadInput> {
        let follow = Path::new(given).is_dir();
        let run_dir = target
            .checkpoint
            .parent()
            .and_then(Path::parent)
            .map_or_else(|| PathBuf::from(given), Path::to_owned);
        let net = load_net::<G>(&target.exp, &target.checkpoint)?;
        let loaded = Loaded {
            step: step_of(&target.checkpoint),
            checkpoint: target.checkpoint,
            net,
        };
        Ok(Weights {
            exp: target.exp,
            run_dir,
            follow,
            current: Mutex::new((loaded, Instant::now())),
        })
    }

    /// The network to play with now: in a followed run, its newest checkpoint
    /// (one that cannot be read yet keeps the one before).
    pub fn current<G: Game>(&self) -> Loaded {
        let mut guard = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let (loaded, checked) = &mut *guard;
        if self.follow && checked.elapsed() >= LOOK_AGAIN {
            *checked = Instant::now();
            let newest = az_run::RunDir::new(&self.run_dir)
                .list_checkpoints()
                .ok()
                .and_then(|mut all| all.pop());
            if let Some((step, path)) = newest.filter(|(_, p)| *p != loaded.checkpoint) {
                match load_net::<G>(&self.exp, &path) {
                    Ok(net) => {
                        *loaded = Loaded {
                            checkpoint: path,
                            step,
                            net,
                        }
                    }
                    Err(e) => eprintln!("az serve: keeping step {}: {e}", loaded.step),
                }
            }
        }
        loaded.clone()
    }

    /// One line: the checkpoint and whether the run is followed.
    pub fn describe(&self) -> String {
        let guard = self.current.lock().unwrap_or_else(|p| p.into_inner());
        format!(
            "{}{}",
            guard.0.checkpoint.display(),
            if self.follow {
                ", following the run's newest checkpoint"
            } else {
                ""
            }
        )
    }
}

/// The step in a checkpoint's name (`step-000001200.azck`), or 0.
fn step_of(path: &Path) -> u64 {
    path.file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.strip_prefix("step-"))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
