//! The training loop's step: sample batch → loss → optimiser.

use crate::checkpoint::{self, CheckpointError, CheckpointMeta};
use crate::{OptimizerKind, TrainConfig};
use az_model::{InferenceNet, NetConfig, PolicyValueNet, losses, ownership_loss};
use az_replay::TrainBatch;
use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Tensor, TensorData};
use std::path::Path;

/// What one training step measured.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct StepStats {
    /// Steps done, this one included.
    pub step: u64,
    /// Learning rate used.
    pub learning_rate: f64,
    /// Policy cross-entropy.
    pub policy_loss: f32,
    /// Value mean squared error.
    pub value_loss: f32,
    /// Ownership mean squared error, for a network with an ownership head.
    pub ownership_loss: Option<f32>,
    /// The optimised loss, `policy + value_loss_weight · value
    /// (+ ownership_loss_weight · ownership)` (weight decay is in the optimiser).
    pub loss: f32,
    /// Mean entropy of the network's policy.
    pub entropy: f32,
    /// Share of decided games (value target ±1) whose predicted value has the right sign.
    pub value_accuracy: f32,
}

/// A training step could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The loss is NaN or infinite: the step was not applied.
    #[error(
        "training step {step}: the loss is not finite (policy {policy}, value {value}{}); the step \
         was not applied and the last checkpoint is intact — lower train.learning_rate and resume",
        ownership_text(.ownership)
    )]
    NonFinite {
        /// The step that failed.
        step: u64,
        /// Policy loss.
        policy: f32,
        /// Value loss.
        value: f32,
        /// Ownership loss, for a network with an ownership head.
        ownership: Option<f32>,
    },
    /// The batch does not fit the network.
    #[error("training batch of {got} values per position, the network takes {expected}")]
    Shape {
        /// Values per position in the batch.
        got: usize,
        /// Values per position of the network.
        expected: usize,
    },
    /// The network has an ownership head but the batch has no (or too few)
    /// ownership targets.
    #[error(
        "training batch of {got} ownership values per position, the network's ownership head \
         takes {expected}"
    )]
    Owners {
        /// Ownership values per position in the batch.
        got: usize,
        /// Cells of the board.
        expected: usize,
    },
}

fn ownership_text(ownership: &Option<f32>) -> String {
    ownership.map_or(String::new(), |o| format!(", ownership {o}"))
}

/// The learner: the network on an autodiff device and its optimiser.
pub struct Trainer {
    net_config: NetConfig,
    config: TrainConfig,
    device: Device,
    net: Option<PolicyValueNet>,
    optim: ModuleOptimizer,
    steps: u64,
    samples: u64,
    /// Share of the run's budget other than steps spent (the cosine schedule).
    budget_spent: f64,
}

impl std::fmt::Debug for Trainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("net", &self.net_config)
            .field("steps", &self.steps)
            .finish()
    }
}

fn optimizer(config: &TrainConfig) -> ModuleOptimizer {
    match config.optimizer {
        OptimizerKind::AdamW => AdamWConfig::new()
            .with_epsilon(1e-8)
            .with_weight_decay(config.weight_decay as f32)
            .init(),
        OptimizerKind::Sgd { momentum } => SgdConfig::new()
            .with_momentum(Some(MomentumConfig {
                momentum,
                dampening: 0.0,
                nesterov: false,
            }))
            .with_weight_decay(
                (config.weight_decay > 0.0)
                    .then(|| WeightDecayConfig::new(config.weight_decay as f32)),
            )
            .init(),
    }
}

impl Trainer {
    /// A fresh network and optimiser on `device` (gradients are recorded on its
    /// autodiff form).
    pub fn new(net_config: NetConfig, config: TrainConfig, device: &Device) -> Self {
        let device = device.clone().autodiff();
        let net = PolicyValueNet::new(&net_config, &device);
        Trainer {
            optim: optimizer(&config),
            net_config,
            config,
            device,
            net: Some(net),
            steps: 0,
            samples: 0,
            budget_spent: 0.0,
        }
    }

    /// Reports the share (0 to 1) of the run's budget other than steps spent
    /// so far, for the cosine schedule ([`Schedule::Cosine`](crate::Schedule::Cosine));
    /// the next steps use it (clamped there). Other schedules ignore it.
    pub fn set_budget_spent(&mut self, share: f64) {
        self.budget_spent = share;
    }

    /// Steps done.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Samples trained on.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// The settings.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The network sizes.
    pub fn net_config(&self) -> NetConfig {
        self.net_config
    }

    /// The network being trained.
    pub fn net(&self) -> &PolicyValueNet {
        self.net
            .as_ref()
            .expect("the network is only moved out during a step")
    }

    /// The current weights in inference form on `device`.
    pub fn inference_net(&self, device: &Device) -> InferenceNet {
        InferenceNet::new(self.net(), self.net_config, device)
    }

    fn tensor2(&self, data: &[f32], n: usize, width: usize) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(data[..n * width].to_vec(), [n, width]),
            &self.device,
        )
    }

    /// One optimiser step on `batch`.
    ///
    /// # Errors
    /// [`TrainError::NonFinite`] (nothing changed) or [`TrainError::Shape`].
    pub fn step(&mut self, batch: &TrainBatch) -> Result<StepStats, TrainError> {
        let c = self.net_config;
        let (n, a, len) = (batch.n, c.actions, c.planes * c.cells());
        if batch.inputs.len() != n * len {
            return Err(TrainError::Shape {
                got: batch.inputs.len() / n.max(1),
                expected: len,
            });
        }
        if c.ownership && batch.owners.len() != n * c.cells() {
            return Err(TrainError::Owners {
                got: batch.owners.len() / n.max(1),
                expected: c.cells(),
            });
        }
        let x = Tensor::from_data(
            TensorData::new(batch.inputs.clone(), [n, c.planes, c.height, c.width]),
            &self.device,
        );
        let mask = self.tensor2(&batch.masks, n, a);
        let target_policy = self.tensor2(&batch.policies, n, a);
        let target_value =
            Tensor::<1>::from_data(TensorData::new(batch.values.clone(), [n]), &self.device);

        let net = self
            .net
            .take()
            .expect("the network is only moved out during a step");
        let tower = net.tower(x, self.config.conv);
        let owned = net.ownership(tower.clone());
        let (logits, value) = net.heads(tower, self.config.conv);
        let mut l = losses(logits, mask, value.clone(), target_policy, target_value);
        let owned = owned.map(|o| ownership_loss(o, self.tensor2(&batch.owners, n, c.cells())));
        // A fast search's position (playout cap randomization) has an all-zero
        // policy target: the policy loss is the mean over the positions with one.
        let with_target = batch
            .policies
            .chunks(a.max(1))
            .filter(|p| p.iter().any(|&x| x > 0.0))
            .count();
        if with_target > 0 && with_target < n {
            l.policy = l.policy * (n as f32 / with_target as f32);
        }
        let policy_loss: f32 = l.policy.clone().into_scalar();
        let value_loss: f32 = l.value.clone().into_scalar();
        let owned_loss: Option<f32> = owned.as_ref().map(|o| o.clone().into_scalar());
        if !(policy_loss.is_finite()
            && value_loss.is_finite()
            && owned_loss.is_none_or(f32::is_finite))
        {
            self.net = Some(net);
            return Err(TrainError::NonFinite {
                step: self.steps + 1,
                policy: policy_loss,
                value: value_loss,
                ownership: owned_loss,
            });
        }
        let entropy: f32 = l.entropy.clone().into_scalar();
        let predicted = value
            .clone()
            .detach()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        let lr = self.config.learning_rate_at(self.steps, self.budget_spent);
        let value_weight = self.config.value_loss_weight as f32;
        let owned_weight = self.config.ownership_loss_weight as f32;
        let total = match owned {
            Some(o) => l.total(value_weight) + o * owned_weight,
            None => l.total(value_weight),
        };
        let grads = GradientsParams::from_grads(total.backward(), &net);
        self.net = Some(self.optim.step(lr, net, grads));
        self.steps += 1;
        self.samples += n as u64;

        let decided: Vec<(f32, f32)> = predicted
            .iter()
            .zip(&batch.values)
            .filter(|(_, z)| **z != 0.0)
            .map(|(v, z)| (*v, *z))
            .collect();
        let right = decided
            .iter()
            .filter(|(v, z)| v.signum() == z.signum())
            .count();
        Ok(StepStats {
            step: self.steps,
            learning_rate: lr,
            policy_loss,
            value_loss,
            ownership_loss: owned_loss,
            loss: policy_loss
                + value_weight * value_loss
                + owned_loss.map_or(0.0, |o| owned_weight * o),
            entropy,
            value_accuracy: if decided.is_empty() {
                0.0
            } else {
                right as f32 / decided.len() as f32
            },
        })
    }

    fn net_sizes(&self) -> Vec<usize> {
        net_sizes(self.net_config)
    }

    /// Writes a checkpoint to `path` atomically. `meta`'s step, samples and
    /// network sizes are filled in from the trainer.
    ///
    /// # Errors
    /// [`CheckpointError::Io`] naming the file.
    pub fn save(&self, path: &Path, meta: CheckpointMeta) -> Result<(), CheckpointError> {
        let bytes = self.encode(meta, true, path)?;
        az_record::write_atomic(path, &bytes).map_err(|e| CheckpointError::Io {
            path: e.path,
            source: e.source,
        })
    }

    /// The current weights as a weights file for self-play elsewhere: the
    /// checkpoint format without optimiser state (read by
    /// [`read_weights`](crate::read_weights)).
    ///
    /// # Errors
    /// [`CheckpointError::Corrupt`] if Burn cannot serialise the network.
    pub fn weights(&self, game: &str) -> Result<Vec<u8>, CheckpointError> {
        self.encode(CheckpointMeta::fresh(game), false, Path::new("weights"))
    }

    /// The checkpoint bytes of the current state (`optim`: with the optimiser's).
    fn encode(
        &self,
        mut meta: CheckpointMeta,
        optim: bool,
        path: &Path,
    ) -> Result<Vec<u8>, CheckpointError> {
        meta.step = self.steps;
        meta.samples = self.samples;
        meta.net = self.net_sizes();
        let corrupt = |e: &dyn std::fmt::Display| CheckpointError::Corrupt {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        // Batch norm's running statistics keep the last update pending until a sync;
        // `valid()` syncs them, so the record holds the values inference uses.
        let _ = self.net().valid();
        let net = self
            .net()
            .clone()
            .into_record()
            .into_bytes()
            .map_err(|e| corrupt(&e))?;
        let optim = match optim {
            true => Some(self.optim.into_bytes().map_err(|e| corrupt(&e))?),
            false => None,
        };
        let optim: &[u8] = optim.as_deref().unwrap_or(&[]);
        Ok(checkpoint::encode(&meta, &net, optim))
    }

    /// Reads a checkpoint written by [`save`](Trainer::save) for game `game` and
    /// network `net_config`, on `device` (or a weights file of
    /// [`weights`](Trainer::weights): a fresh optimiser on its weights).
    ///
    /// # Errors
    /// [`CheckpointError`] naming the file: unreadable, truncated or damaged
    /// (checksum), or of another game or network shape. Never panics on bad bytes.
    pub fn load(
        path: &Path,
        game: &str,
        net_config: NetConfig,
        config: TrainConfig,
        device: &Device,
    ) -> Result<(Trainer, CheckpointMeta), CheckpointError> {
        let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
            path: path.to_owned(),
            source,
        })?;
        let sections = checkpoint::decode(&bytes, path)?;
        let mut trainer = Trainer::new(net_config, config, device);
        let meta = sections.meta;
        if meta.game != game || meta.net != trainer.net_sizes() {
            return Err(CheckpointError::Mismatch {
                path: path.to_owned(),
                found: format!("{} with network {:?}", meta.game, meta.net),
                expected: format!("{game} with network {:?}", trainer.net_sizes()),
            });
        }
        let corrupt = |what: &str, e: &dyn std::fmt::Display| CheckpointError::Corrupt {
            path: path.to_owned(),
            reason: format!("{what}: {e}"),
        };
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(sections.net))
            .map_err(|e| corrupt("network", &e))?;
        let net = trainer.net.take().expect("fresh trainer has its network");
        trainer.net = Some(
            net.try_load_record(record)
                .map_err(|e| corrupt("network", &e))?,
        );
        // A weights file (`Trainer::weights`) has no optimiser section: the
        // optimiser starts fresh on those weights.
        if !sections.optim.is_empty() {
            let optim = optimizer(&trainer.config);
            trainer.optim = optim
                .from_bytes(Bytes::from_bytes_vec(sections.optim))
                .map_err(|e| corrupt("optimiser", &e))?;
        }
        trainer.steps = meta.step;
        trainer.samples = meta.samples;
        Ok((trainer, meta))
    }
}

/// Network sizes as checkpoints record them: planes, height, width, actions,
/// blocks, channels, value_hidden, then value_channels where it is not 1 (so
/// that networks with AlphaGo Zero's single value plane, all of them before
/// the value head had more, keep the seven sizes they were written with), then
/// a 1 for an ownership head (none before it: value_channels is written then).
pub fn net_sizes(c: NetConfig) -> Vec<usize> {
    let mut sizes = vec![
        c.planes,
        c.height,
        c.width,
        c.actions,
        c.blocks,
        c.channels,
        c.value_hidden,
    ];
    if c.value_channels != 1 || c.ownership {
        sizes.push(c.value_channels);
    }
    if c.ownership {
        sizes.push(1);
    }
    sizes
}
