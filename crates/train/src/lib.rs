//! The az learner: [`Trainer`] takes minibatches from the replay buffer and runs
//! the AlphaZero loss (policy cross-entropy + value MSE, L2 weight decay in the
//! optimiser) on Burn; learning-rate schedules; checkpoints with the optimiser
//! state, written atomically and refused with a clear error when damaged.
//!
//! burn-train's `Learner` is built around epochs over a fixed dataset; a replay
//! window that grows while self-play runs wants a plain step function instead.

mod checkpoint;
mod config;
mod trainer;
mod weights;

pub use checkpoint::{CheckpointError, CheckpointMeta};
pub use config::{OptimizerKind, Schedule, TrainConfig};
pub use trainer::{StepStats, TrainError, Trainer, net_sizes};
pub use weights::read_weights;
