//! The policy/value network of az on Burn: a ResNet ([`PolicyValueNet`]) for
//! training, and its inference form ([`InferenceNet`]) with batch norm folded into
//! the convolutions. The model knows nothing of the inference server or the
//! search: az-run wraps [`InferenceNet`] as the server's model (`az_run::NetModel`),
//! so the learner side (az-train) never builds the self-play engine.
//!
//! No backend is chosen here: every function takes a Burn [`Device`](burn::tensor::Device),
//! and only the `az` binary decides between the CPU (flex) and CUDA.
//!
//! # Feature flags
//! - `flex` (off by default): az's own kernels for Burn's CPU backend flex, from
//!   the az-kernels crate: board convolutions and the fused training batch norm
//!   ([`board_conv::conv`], [`batch_norm::forward_relu`]) with handwritten
//!   backward passes, and the resident inference tower of [`InferenceNet`]. It
//!   turns on Burn's `flex` backend, so only the binary enables it (az-cli's
//!   `flex` feature). Without it [`ConvKernel::Board`] means Burn's generic
//!   operations, on every device.

pub mod batch_norm;
pub mod board_conv;
pub use board_conv::ConvKernel;
mod inference;
mod loss;
mod net;

pub use inference::{InferenceNet, NamedTensor};
pub use loss::{Losses, losses, masked_log_softmax, ownership_loss};
pub use net::{ConvBn, NetConfig, PolicyValueNet, ResBlock};
