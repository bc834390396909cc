//! The policy/value network of az on Burn: a ResNet ([`PolicyValueNet`]) for
//! training, and its inference form ([`InferenceNet`]) with batch norm folded into
//! the convolutions, which implements [`az_infer::BatchModel`].
//!
//! No backend is chosen here: every function takes a Burn [`Device`](burn::tensor::Device),
//! and only the `az` binary decides between the CPU (flex) and CUDA.

pub mod batch_norm;
pub mod board_conv;
pub use board_conv::ConvKernel;
mod inference;
mod loss;
mod net;

pub use inference::InferenceNet;
pub use loss::{Losses, losses, masked_log_softmax};
pub use net::{ConvBn, NetConfig, PolicyValueNet, ResBlock};
