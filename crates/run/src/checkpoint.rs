//! Checkpointing: the newest readable checkpoint to resume from, writing one
//! (replay chunks first), and pruning old ones but those the Elo ladder keeps.

use crate::RunError;
use crate::config::{net_config, train_config};
use crate::intake::Intake;
use crate::report::Out;
use crate::run_dir::RunDir;
use az_experiment::Experiment;
use az_game::Game;
use az_train::{CheckpointMeta, Trainer};
use burn::tensor::Device;

/// The run's checkpoints: where they go, how many are kept, and the metadata
/// of the newest one (this session's, or the one resumed from), the base of
/// the next.
#[derive(Debug)]
pub(crate) struct Checkpoints {
    dir: RunDir,
    every: u64,
    keep: usize,
    meta: CheckpointMeta,
}

impl Checkpoints {
    /// The checkpoints of `dir` after `meta`'s (resumed from, or fresh) with
    /// `exp`'s `train.checkpoint_every` and `train.keep_checkpoints`.
    pub fn new(dir: RunDir, exp: &Experiment, meta: CheckpointMeta) -> Self {
        Checkpoints {
            dir,
            every: exp.manifest.train.checkpoint_every,
            keep: exp.manifest.train.keep_checkpoints,
            meta,
        }
    }

    /// Whether step `step` is one to checkpoint at.
    pub fn due(&self, step: u64) -> bool {
        step % self.every == 0
    }

    /// Whether the newest checkpoint is out of date: steps taken since, or
    /// self-play's evaluations or positions grown since it was written. A
    /// session that stops at a step it checkpointed already must still record
    /// what it spent after, or a resumed run would spend that part of
    /// `run.max_evaluations` again.
    pub fn behind(&self, step: u64, evaluations: u64, positions: u64) -> bool {
        step > self.meta.step
            || evaluations != self.meta.evaluations
            || positions != self.meta.replay_added
    }

    /// Flushes the replay chunks, then writes the checkpoint of the trainer's
    /// step and prunes old ones (but those of the steps in `protect`).
    ///
    /// # Errors
    /// [`RunError`] naming the chunk, checkpoint or folder that cannot be written.
    pub fn save<G: Game>(
        &mut self,
        trainer: &Trainer,
        intake: &mut Intake<G>,
        (run_seconds, evaluations): (f64, u64),
        protect: &[u64],
    ) -> Result<(), RunError> {
        intake.flush()?;
        self.meta.evaluations = evaluations;
        self.meta.replay_added = intake.positions_total;
        self.meta.games = intake.games_total;
        self.meta.elapsed_seconds = run_seconds;
        self.meta.step = trainer.steps();
        let folder = self.dir.checkpoints();
        std::fs::create_dir_all(&folder).map_err(RunError::io("creating", &folder))?;
        trainer.save(&self.dir.checkpoint(self.meta.step), self.meta.clone())?;
        self.dir.prune_checkpoints(self.keep, protect)
    }
}

/// The learner to go on with: the newest checkpoint of `dir` that can be read
/// (`resume`), or fresh weights and all-zero metadata (a fresh run, or a
/// resumed one that wrote no checkpoint yet). Checkpoints that cannot be used
/// are skipped, each with a log line, as long as an older one can.
///
/// # Errors
/// [`RunError::Io`] if the checkpoints folder cannot be listed;
/// [`RunError::NoUsableCheckpoint`] if it holds checkpoints and none loads.
pub(crate) fn learner<G: Game>(
    exp: &Experiment,
    device: &Device,
    dir: &RunDir,
    resume: bool,
    out: &Out,
) -> Result<(Trainer, CheckpointMeta), RunError> {
    let net_cfg = net_config::<G>(exp);
    let train_cfg = train_config(exp);
    let checkpoints = if resume {
        dir.list_checkpoints()?
    } else {
        Vec::new()
    };
    let mut newest_error = None;
    for (_, path) in checkpoints.iter().rev() {
        match Trainer::load(path, G::NAME, net_cfg, train_cfg.clone(), device) {
            Ok((trainer, meta)) => {
                out.line(&format!(
                    "resumed from {} (step {})",
                    path.display(),
                    meta.step
                ));
                return Ok((trainer, meta));
            }
            Err(e) => {
                out.line(&format!("skipping a checkpoint that cannot be used: {e}"));
                newest_error.get_or_insert(e);
            }
        }
    }
    if let Some(newest) = newest_error {
        return Err(RunError::NoUsableCheckpoint {
            dir: dir.checkpoints(),
            count: checkpoints.len(),
            newest: Box::new(newest),
        });
    }
    let fresh = CheckpointMeta::fresh(G::NAME);
    // The first weights come from the backend's generator: seeded by the run's
    // seed, so runs with the same seed start from the same network.
    device.seed(exp.manifest.run.seed);
    Ok((Trainer::new(net_cfg, train_cfg, device), fresh))
}

/// The weights of the checkpoint at `path` (of a run of `exp`) in inference form on `device`.
///
/// # Errors
/// [`CheckpointError`](az_train::CheckpointError) naming the file: unreadable,
/// damaged, or of another game or network shape.
pub fn load_inference_net<G: Game>(
    exp: &Experiment,
    path: &std::path::Path,
    device: &Device,
) -> Result<az_model::InferenceNet, az_train::CheckpointError> {
    let (trainer, _) = Trainer::load(
        path,
        G::NAME,
        net_config::<G>(exp),
        train_config(exp),
        device,
    )?;
    Ok(trainer.inference_net(device))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::Path;

    /// Held by the tests that draw from the backend's (process-wide) generator,
    /// so that a seeded draw is not interleaved with another test's.
    pub(crate) static BACKEND_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// The first network of a fresh run with `seed`: its policy and value on one
    /// fixed position (the checkpoint bytes also hold Burn's random parameter ids).
    fn fresh_weights(seed: u64, name: &str) -> Vec<f32> {
        let exp = tictactoe(&format!("[run]\nseed = {seed}\n"));
        let root = std::env::temp_dir().join(format!("az-seed-{name}-{}", std::process::id()));
        let dir = RunDir::new(&root);
        let out = Out::new(dir.clone(), false);
        let (trainer, meta) =
            learner::<az_tictactoe::TicTacToe>(&exp, &Device::flex(), &dir, false, &out).unwrap();
        assert_eq!(meta.step, 0);
        let _ = std::fs::remove_dir_all(&root);
        let mut net = crate::net_model::NetModel(trainer.inference_net(&Device::flex()));
        let inputs: Vec<f32> = (0..27).map(|i| (i % 5) as f32 / 4.0).collect();
        let (mut out, mut value) = (vec![0.0; 9], [0.0]);
        az_infer::BatchModel::forward(&mut net, 1, &inputs, &[1.0; 9], &mut out, &mut value);
        out.push(value[0]);
        out
    }

    fn tictactoe(extra: &str) -> Experiment {
        let text = format!("[game]\nname = \"tictactoe\"\n{extra}");
        Experiment::from_toml(&text, Path::new("t.toml"), &[], &["tictactoe"]).unwrap()
    }

    #[test]
    fn resume_skips_a_damaged_newest_checkpoint_and_refuses_when_none_loads() {
        type T = az_tictactoe::TicTacToe;
        let _rng = BACKEND_RNG.lock();
        let root = std::env::temp_dir().join(format!("az-resume-{}", std::process::id()));
        let dir = RunDir::new(&root);
        let out = Out::new(dir.clone(), false);
        let (small, device) = (tictactoe("[model]\nchannels = 8\n"), Device::flex());
        let (trainer, mut meta) = learner::<T>(&small, &device, &dir, false, &out).unwrap();
        std::fs::create_dir_all(dir.checkpoints()).unwrap();
        meta.games = 5;
        trainer.save(&dir.checkpoint(5), meta).unwrap();
        // A newer checkpoint cut short: skipped, the older one resumes.
        std::fs::write(dir.checkpoint(9), b"AZCK, cut short").unwrap();
        let (_, resumed) = learner::<T>(&small, &device, &dir, true, &out).unwrap();
        assert_eq!(resumed.games, 5, "resumed from step-5's checkpoint");
        // Another network (the manifest's [model] changed): none loads, so the
        // resume stops rather than start afresh and prune the run's checkpoints.
        let wide = tictactoe("[model]\nchannels = 16\n");
        let before = dir.list_checkpoints().unwrap();
        let Err(e) = learner::<T>(&wide, &device, &dir, true, &out) else {
            panic!("resumed from a checkpoint of another network");
        };
        assert!(e.is_bad_input(), "{e}");
        let text = e.to_string();
        assert!(
            text.contains("none of its 2 checkpoints") && text.contains("step-000000009.azck"),
            "{text}"
        );
        assert_eq!(dir.list_checkpoints().unwrap(), before, "left as they were");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_checkpoint_is_behind_when_steps_evaluations_or_positions_grew() {
        let exp = tictactoe("");
        let mut meta = CheckpointMeta::fresh("tictactoe");
        (meta.step, meta.evaluations, meta.replay_added) = (10, 500, 40);
        let dir = RunDir::new(std::env::temp_dir().join("az-behind-unused"));
        let c = Checkpoints::new(dir, &exp, meta);
        assert!(!c.behind(10, 500, 40), "nothing happened since");
        assert!(c.behind(11, 500, 40), "a step");
        assert!(c.behind(10, 650, 40), "evaluations spent at the same step");
        assert!(c.behind(10, 500, 49), "positions added at the same step");
    }

    #[test]
    fn a_fresh_network_is_drawn_from_the_runs_seed() {
        let _rng = BACKEND_RNG.lock();
        let (a, b, c) = (
            fresh_weights(5, "a"),
            fresh_weights(5, "b"),
            fresh_weights(6, "c"),
        );
        assert!(a == b, "the same seed gave different first weights");
        assert!(a != c, "seeds 5 and 6 gave the same first weights");
    }
}
