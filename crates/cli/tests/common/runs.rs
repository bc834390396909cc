//! Short trained runs for the tests that need a checkpoint (`az export`,
//! `az serve`), and `az` run from the repository root.

use super::common::text;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// `az` with `args`, in the repository root.
pub fn az(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_az"))
        .args(args)
        .current_dir(ROOT)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("running az")
}

/// A fresh scratch directory `name` of this test process, under `prefix`.
pub fn scratch(prefix: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A 10-second run of `experiment` in `dir` that trains and checkpoints: its directory.
pub fn trained(experiment: &str, dir: &Path) -> PathBuf {
    let run = dir.join(experiment);
    let o = az(&[
        "run",
        experiment,
        "--no-progress",
        "--max-seconds",
        "10",
        "--run-dir",
        run.to_str().unwrap(),
        "--set",
        "train.min_replay=300",
        "--set",
        "train.checkpoint_every=20",
        "--set",
        "eval.opponents=[\"random\"]",
        "--set",
        "eval.games=2",
        "--set",
        "eval.mistake_positions=0",
        "--set",
        "selfplay.parallel_games=32",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let checkpoints = std::fs::read_dir(run.join("checkpoints")).map_or(0, Iterator::count);
    assert!(checkpoints > 0, "no checkpoint: {}", text(&o));
    run
}
