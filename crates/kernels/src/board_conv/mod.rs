//! "Same" convolutions (odd square kernel, stride 1) for small boards on flex.
//!
//! [`conv`] runs az's own kernels ([`kernel`]) through a Burn backend extension
//! for flex, with or without autodiff: one im2col and one gemm per chunk of
//! several boards instead of per board, and a handwritten backward pass. The
//! caller checks [`supports_conv`] first and runs Burn's `conv2d` otherwise.
//! [`tower`] runs a whole residual tower for inference on host slices.

mod extension;
pub mod kernel;
pub mod tower;

pub use extension::{conv, supports_conv};

use burn::tensor::Tensor;

/// Whether the resident [`tower::Tower`] can run convolutions with `weight`: an
/// `f32` tensor on flex, an odd square kernel.
pub fn supports_tower(weight: &Tensor<4>) -> bool {
    let [_, _, k, k2] = weight.dims();
    crate::on_flex_f32(weight) && k == k2 && k % 2 == 1
}
